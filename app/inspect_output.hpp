// Renders --inspect reports: an aligned table for people, a stable JSON document for scripts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "actors/wire/report.hpp"

namespace watercooler {

// One block per node, the inspected node first, blocks separated by a blank line. Ages are
// measured against each node's own now_ms, so clock skew between machines does not matter.
std::string render_inspect_table(const std::vector<node_report>& nodes);

// {"schema": "watercooler.inspect/1", "nodes": [...]}, 2-space indent, ending with a newline.
std::string render_inspect_json(const std::vector<node_report>& nodes);

// Every field render_inspect_json emits, as a Markdown table (type and meaning), for the README.
extern const char* const inspect_json_schema_markdown;

// "0 B", "1023 B", "1.0 KiB", "1.5 MiB"
std::string format_bytes(uint64_t bytes);

// "0s", "59s", "1m 0s", "1h 2m", "3d 4h": the two largest units; negative counts as 0.
std::string format_duration_ms(int64_t ms);

} // namespace watercooler
