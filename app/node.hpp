// Start-up wiring of one node: actors, cluster, HTTP and HTTPS, until a signal stops it.
#pragma once

#include "app/options.hpp"

namespace watercooler {

// Runs the node; returns the process exit code (0 stopped by a signal, 1 failure, 2 config).
int run_node(const options& opts);

} // namespace watercooler
