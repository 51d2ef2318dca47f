#!/usr/bin/env python3
"""Validates a Prometheus text exposition with the reference client's parser (Debian's
python3-prometheus-client) and prints each sample as `name{k="v",...} value`, labels sorted."""
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
try:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            name = sample.name + ("{" + labels + "}" if labels else "")
            print(f"{name} {sample.value!r}")
except Exception as error:  # the parser raises ValueError and friends on bad input
    print(f"invalid exposition: {error}", file=sys.stderr)
    sys.exit(1)
