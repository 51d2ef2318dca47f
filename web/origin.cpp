// Compares authorities only: http://h:p and https://h:p of the same Host are the same page,
// since the node serves both; an unusual default port is spelled out by browsers either way.
#include "web/origin.hpp"

#include <cctype>
#include <string>

namespace watercooler {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

bool same_origin(std::string_view origin, std::string_view host) {
  if (origin.empty())
    return true;
  std::string_view authority;
  for (std::string_view scheme : {"http://", "https://"})
    if (origin.substr(0, scheme.size()) == scheme)
      authority = origin.substr(scheme.size());
  // An origin is scheme://host[:port], nothing after it.
  if (authority.empty() || authority.find('/') != std::string_view::npos || host.empty())
    return false;
  return lower(authority) == lower(host);
}

} // namespace watercooler
