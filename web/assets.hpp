// The files of assets/, compiled into the binary by cmake/embed_files.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace watercooler {

struct asset {
  std::string_view name; // file name in assets/, e.g. "main.css"
  std::string_view bytes;
};

const std::vector<asset>& embedded_assets();

} // namespace watercooler
