// --inspect NODE: asks a running node, and the nodes it is connected to, what they run.
#pragma once

#include "app/options.hpp"

namespace watercooler {

// Prints the report; returns the exit code (0 ok, 1 node unreachable or not answering).
int run_inspect(const options& opts);

} // namespace watercooler
