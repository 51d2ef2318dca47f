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

// "host:443" is "host" for https, as browsers leave the default port out of Origin.
std::string without_default_port(std::string authority, std::string_view scheme) {
  std::string port = scheme == "https" ? ":443" : ":80";
  if (authority.size() > port.size()
      && authority.compare(authority.size() - port.size(), port.size(), port) == 0)
    authority.resize(authority.size() - port.size());
  return authority;
}

} // namespace

bool same_origin(std::string_view origin, std::string_view host, std::string_view scheme) {
  if (origin.empty())
    return true;
  std::string_view authority;
  std::string_view origin_scheme;
  for (std::string_view prefix : {"http://", "https://"})
    if (origin.substr(0, prefix.size()) == prefix) {
      authority = origin.substr(prefix.size());
      origin_scheme = prefix.substr(0, prefix.size() - 3);
    }
  // An origin is scheme://host[:port], nothing after it.
  if (authority.empty() || authority.find('/') != std::string_view::npos || host.empty())
    return false;
  if (scheme.empty())
    return lower(authority) == lower(host);
  return origin_scheme == scheme
         && without_default_port(lower(authority), scheme)
              == without_default_port(lower(host), scheme);
}

} // namespace watercooler
