// One line on stderr, written at once: lines from the node's threads never mix.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>

namespace watercooler {

// "watercooler: " and `parts`, streamed, then a newline, in a single write.
template <class... Ts>
void log_line(const Ts&... parts) {
  std::ostringstream out;
  out << "watercooler: ";
  (out << ... << parts);
  out << '\n';
  auto text = out.str();
  std::fwrite(text.data(), 1, text.size(), stderr); // stdio locks the stream for the call
  std::fflush(stderr);
}

} // namespace watercooler
