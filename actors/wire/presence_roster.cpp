// Who is present on a node, as nodes tell each other.
#include "actors/wire/presence_roster.hpp"

#include <algorithm>

namespace watercooler {

bool is_client_id(std::string_view text) {
  if (text.size() < 16 || text.size() > 64)
    return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
  });
}

} // namespace watercooler
