// What a browser's EventSource makes of an event's text: the oracle of the SSE writer's tests
// and fuzz target, written apart from the writer it checks.
#pragma once

#include <string>
#include <string_view>

namespace watercooler {

// The data a browser shows for `text`: every CRLF, CR and LF becomes "\n".
inline std::string as_browser_data(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

} // namespace watercooler
