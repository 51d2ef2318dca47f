// Log text for messages and errors from other nodes, without CAF's stringification of them.
#include "actors/wire/message_text.hpp"

#include <cstdint>

namespace watercooler {

namespace {

constexpr std::size_t max_shown_bytes = 40;

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text.substr(0, max_shown_bytes)) {
    auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f || c == '"' || c == '\\' ? '?' : c;
  }
  return out + (text.size() > max_shown_bytes ? "...\"" : "\"");
}

template <class T>
bool append_integer(std::string& out, const caf::message& msg, std::size_t i) {
  if (!msg.match_element<T>(i))
    return false;
  out += std::to_string(msg.get_as<T>(i));
  return true;
}

// The elements of `msg`, separated by ", ".
std::string elements(caf::actor_system& system, const caf::message& msg) {
  std::string out;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (i > 0)
      out += ", ";
    if (msg.match_element<caf::atom_value>(i))
      out += "'" + caf::to_string(msg.get_as<caf::atom_value>(i)) + "'"; // any 64 bits decode
    else if (msg.match_element<std::string>(i))
      out += quoted(msg.get_as<std::string>(i));
    else if (!append_integer<int64_t>(out, msg, i) && !append_integer<uint64_t>(out, msg, i)
             && !append_integer<int32_t>(out, msg, i) && !append_integer<uint32_t>(out, msg, i)
             && !append_integer<int16_t>(out, msg, i) && !append_integer<uint16_t>(out, msg, i))
      out += system.types().portable_name(msg.type(i));
  }
  return out;
}

} // namespace

std::string message_text(caf::actor_system& system, const caf::message& msg) {
  return "(" + elements(system, msg) + ")";
}

std::string error_text(caf::actor_system& system, const caf::error& err) {
  if (!err)
    return "none"; // code 0 holds no category or context to read
  const auto& context = err.context();
  std::string out;
  if (err.category() == caf::atom("system"))
    out = "system_error(" + caf::to_string(static_cast<caf::sec>(err.code())); // "???" if unknown
  else
    out = "error(" + caf::to_string(err.category()) + ", " + std::to_string(err.code());
  if (!context.empty())
    out += ", " + elements(system, context);
  return out + ")";
}

} // namespace watercooler
