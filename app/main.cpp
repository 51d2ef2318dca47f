// watercooler: parses the command line and runs a node or an inspector; their result is the
// exit code (a node's stop watchdog alone may exit sooner: node.cpp, watch_the_stop).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "actors/log.hpp"
#include "app/certificate.hpp"
#include "app/inspect.hpp"
#include "app/node.hpp"
#include "app/options.hpp"
#include "app/version.hpp"
#include "web/http/front.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed =
    watercooler::parse_options(args, [](const char* v) -> const char* { return std::getenv(v); });
  if (!parsed) {
    watercooler::log_line(parsed.error);
    return 2;
  }
  const auto& opts = *parsed;
  if (opts.help) {
    std::cout << watercooler::help_text(watercooler::default_state_dir(),
                                        watercooler::default_max_connections());
    return 0;
  }
  if (opts.version) {
    std::cout << watercooler::version_text() << '\n';
    return 0;
  }
  if (opts.man) { // the build writes build/watercooler.1 with it
    std::cout << watercooler::man_page(WATERCOOLER_VERSION);
    return 0;
  }
  if (!opts.inspect.empty())
    return watercooler::run_inspect(opts);
  return watercooler::run_node(opts);
}
