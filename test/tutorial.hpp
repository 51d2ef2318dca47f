// The repository's sys.config, the tutorial's file verbatim, for tests that parse it.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace watercooler {

inline const std::string& tutorial_sys_config() {
  static const std::string text = [] {
    std::ifstream in(WATERCOOLER_SOURCE_DIR "/sys.config", std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }();
  return text;
}

} // namespace watercooler
