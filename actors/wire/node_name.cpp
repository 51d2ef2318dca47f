// Parses and checks `alive@host` node names; the texts end up on stderr, so they say what to fix.
#include "actors/wire/node_name.hpp"

#include <cstdio>
#include <utility>

namespace watercooler {

namespace {

bool is_alive_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

bool is_host_char(char c) {
  return is_alive_char(c) || c == '.' || c == ':';
}

// Shows an offending character readably, also when it is a control or non-ASCII byte.
std::string describe(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte == ' ')
    return "a space";
  if (byte > 0x20 && byte < 0x7f)
    return std::string{"'"} + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "byte 0x%02x", byte);
  return buf;
}

// Whether the part before '@' is fine, else its problem.
outcome<void> check_alive(std::string_view alive) {
  using result = outcome<void>;
  if (alive.empty())
    return result::fail("the name before '@' is empty");
  if (alive.size() > max_alive_length)
    return result::fail("the name before '@' is longer than " + std::to_string(max_alive_length)
                        + " characters");
  for (char c : alive)
    if (!is_alive_char(c))
      return result::fail("the name before '@' may only contain letters, digits, '_' and '-', not "
                          + describe(c));
  return result::ok();
}

outcome<void> check_host(std::string_view host) {
  using result = outcome<void>;
  if (host.empty())
    return result::fail("the host after '@' is empty");
  if (host.size() > max_host_length)
    return result::fail("the host after '@' is longer than " + std::to_string(max_host_length)
                        + " characters");
  for (char c : host)
    if (!is_host_char(c))
      return result::fail(
        "the host after '@' may only contain letters, digits, '-', '.' and ':', not "
        + describe(c));
  return result::ok();
}

} // namespace

std::string node_name::to_string() const {
  return alive + '@' + host;
}

bool operator==(const node_name& x, const node_name& y) {
  return x.alive == y.alive && x.host == y.host;
}

bool operator!=(const node_name& x, const node_name& y) {
  return !(x == y);
}

outcome<void> check_alive_name(std::string_view alive) {
  auto checked = check_alive(alive);
  if (checked)
    return checked;
  // Reuse the node-name wording without the "before '@'" that only fits a full name.
  auto problem = std::move(checked.error);
  auto pos = problem.find(" before '@'");
  if (pos != std::string::npos)
    problem.erase(pos, 11);
  return outcome<void>::fail("node name '" + std::string{alive} + "': " + problem);
}

outcome<node_name> parse_node_name(std::string_view text) {
  auto quoted = "node name '" + std::string{text} + "'";
  auto at = text.find('@');
  if (at == std::string_view::npos)
    return outcome<node_name>::fail(quoted + " must look like name@host");
  if (text.find('@', at + 1) != std::string_view::npos)
    return outcome<node_name>::fail(quoted + " must look like name@host, with exactly one '@'");
  auto alive = text.substr(0, at);
  auto host = text.substr(at + 1);
  if (auto checked = check_alive(alive); !checked)
    return outcome<node_name>::fail(quoted + ": " + checked.error);
  if (auto checked = check_host(host); !checked)
    return outcome<node_name>::fail(quoted + ": " + checked.error);
  return outcome<node_name>::ok(node_name{std::string{alive}, std::string{host}});
}

bool is_node_name(std::string_view text) {
  return static_cast<bool>(parse_node_name(text));
}

} // namespace watercooler
