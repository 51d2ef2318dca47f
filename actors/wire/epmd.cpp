// EPMD's messages, built from and read as the fields of epmd_fields.hpp; every request has a
// 2-byte length prefix, no response has.
#include "actors/wire/epmd.hpp"

#include "actors/outcome.hpp"
#include "actors/wire/epmd_fields.hpp"

namespace watercooler::epmd {

namespace {

decode_result<request> decode_alive2_body(std::string_view body, size_t consumed) {
  reader in{body.substr(1)};
  auto node = read_node(in);
  if (node.status == decode_status::need_more) // the length said the request ends here
    return malformed<request>("ALIVE2_REQ is shorter than its fields");
  if (node.status == decode_status::malformed)
    return malformed<request>("ALIVE2_REQ: " + node.reason);
  if (in.remaining() != 0)
    return malformed<request>("ALIVE2_REQ has " + std::to_string(in.remaining())
                              + " bytes after Extra");
  if (auto checked = check_name(node.value.name); !checked)
    return malformed<request>("ALIVE2_REQ: " + checked.error);
  return complete<request>(alive2_req{std::move(node.value)}, consumed);
}

decode_result<request> decode_port_please2_body(std::string_view body, size_t consumed) {
  auto name = body.substr(1);
  if (!name.empty() && name.back() == '\0') // old clients send a C string; epmd accepts it
    name.remove_suffix(1);
  if (auto checked = check_name(name); !checked)
    return malformed<request>("PORT_PLEASE2_REQ: " + checked.error);
  return complete<request>(port_please2_req{std::string{name}}, consumed);
}

// One "name <alive> at port <port>" line, without its '\n'.
outcome<std::pair<std::string, uint16_t>> parse_names_line(std::string_view line) {
  using result = outcome<std::pair<std::string, uint16_t>>;
  constexpr std::string_view prefix = "name ";
  constexpr std::string_view infix = " at port ";
  if (line.substr(0, prefix.size()) != prefix)
    return result::fail("NAMES line does not start with 'name '");
  auto at = line.rfind(infix);
  if (at == std::string_view::npos || at < prefix.size())
    return result::fail("NAMES line has no ' at port '");
  auto name = line.substr(prefix.size(), at - prefix.size());
  if (auto checked = check_name(name); !checked)
    return result::fail("NAMES line: " + checked.error);
  auto digits = line.substr(at + infix.size());
  if (digits.empty() || digits.size() > 5)
    return result::fail("NAMES line has no valid port");
  uint32_t port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return result::fail("NAMES line has no valid port");
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535)
    return result::fail("NAMES line has port " + std::to_string(port) + " above 65535");
  return result::ok({std::string{name}, static_cast<uint16_t>(port)});
}

} // namespace

bool operator==(const node_info& x, const node_info& y) {
  return x.port == y.port && x.node_type == y.node_type && x.protocol == y.protocol
         && x.highest == y.highest && x.lowest == y.lowest && x.name == y.name
         && x.extra == y.extra;
}

std::string encode(const alive2_req& x) {
  if (!encodable(x.node))
    return {};
  std::string body;
  put_u8(body, alive2_req_tag);
  put_node(body, x.node);
  return with_length(body);
}

std::string encode(const port_please2_req& x) {
  if (x.name.size() > max_symbol_length)
    return {};
  std::string body;
  put_u8(body, port_please2_req_tag);
  body += x.name;
  return with_length(body);
}

std::string encode(const names_req&) {
  return with_length(std::string(1, static_cast<char>(names_req_tag)));
}

std::string encode(const request& x) {
  return std::visit([](const auto& req) { return encode(req); }, x);
}

std::string encode(const alive2_resp& x) {
  std::string out;
  if (x.extended) {
    put_u8(out, alive2_x_resp_tag);
    put_u8(out, x.result);
    put_u32(out, x.creation);
  } else {
    put_u8(out, alive2_resp_tag);
    put_u8(out, x.result);
    put_u16(out, static_cast<uint16_t>(x.creation));
  }
  return out;
}

std::string encode(const port2_resp& x) {
  std::string out;
  put_u8(out, port2_resp_tag);
  put_u8(out, x.result);
  if (x.result == 0) {
    if (!encodable(x.node))
      return {};
    put_node(out, x.node);
  }
  return out;
}

std::string encode(const names_resp& x) {
  std::string out;
  put_u32(out, x.epmd_port);
  for (const auto& [name, port] : x.names)
    out += "name " + name + " at port " + std::to_string(port) + "\n";
  return out;
}

decode_result<request> decode_request(std::string_view bytes) {
  reader in{bytes};
  uint16_t length = 0;
  if (!in.u16(length))
    return need_more<request>();
  if (length == 0)
    return malformed<request>("empty request");
  if (length > max_request_length)
    return malformed<request>("request length " + std::to_string(length) + " exceeds "
                              + std::to_string(max_request_length));
  if (in.remaining() < length)
    return need_more<request>();
  auto body = bytes.substr(2, length);
  auto consumed = size_t{2} + length;
  auto tag = static_cast<uint8_t>(body[0]);
  switch (tag) {
    case alive2_req_tag:
      return decode_alive2_body(body, consumed);
    case port_please2_req_tag:
      return decode_port_please2_body(body, consumed);
    case names_req_tag:
      if (body.size() != 1)
        return malformed<request>("NAMES_REQ has " + std::to_string(body.size() - 1)
                                  + " bytes after its tag");
      return complete<request>(names_req{}, consumed);
    default:
      return malformed<request>("unknown request tag " + describe_tag(tag));
  }
}

decode_result<alive2_resp> decode_alive2_resp(std::string_view bytes) {
  reader in{bytes};
  uint8_t tag = 0;
  if (!in.u8(tag))
    return need_more<alive2_resp>();
  alive2_resp x;
  if (tag == alive2_x_resp_tag) {
    if (!in.u8(x.result) || !in.u32(x.creation))
      return need_more<alive2_resp>();
    x.extended = true;
  } else if (tag == alive2_resp_tag) {
    uint16_t creation = 0;
    if (!in.u8(x.result) || !in.u16(creation))
      return need_more<alive2_resp>();
    x.creation = creation;
    x.extended = false;
  } else {
    return malformed<alive2_resp>("expected ALIVE2_RESP or ALIVE2_X_RESP, got tag "
                                  + describe_tag(tag));
  }
  return complete(x, in.pos());
}

decode_result<port2_resp> decode_port2_resp(std::string_view bytes) {
  reader in{bytes};
  uint8_t tag = 0;
  if (!in.u8(tag))
    return need_more<port2_resp>();
  if (tag != port2_resp_tag)
    return malformed<port2_resp>("expected PORT2_RESP, got tag " + describe_tag(tag));
  port2_resp x;
  if (!in.u8(x.result))
    return need_more<port2_resp>();
  if (x.result != 0)
    return complete(std::move(x), in.pos());
  auto node = read_node(in);
  if (node.status == decode_status::need_more)
    return need_more<port2_resp>();
  if (node.status == decode_status::malformed)
    return malformed<port2_resp>("PORT2_RESP: " + node.reason);
  if (auto checked = check_name(node.value.name); !checked)
    return malformed<port2_resp>("PORT2_RESP: " + checked.error);
  x.node = std::move(node.value);
  auto consumed = in.pos();
  return complete(std::move(x), consumed);
}

decode_result<names_resp> decode_names_resp(std::string_view bytes) {
  // Longest valid line: "name " + 255 + " at port " + 5 digits + '\n'.
  constexpr size_t max_line = 5 + max_symbol_length + 9 + 5 + 1;
  reader in{bytes};
  names_resp x;
  if (!in.u32(x.epmd_port))
    return need_more<names_resp>();
  auto pos = in.pos();
  while (pos < bytes.size()) {
    auto end = bytes.find('\n', pos);
    if (end == std::string_view::npos) {
      if (bytes.size() - pos >= max_line)
        return malformed<names_resp>("NAMES line longer than " + std::to_string(max_line)
                                     + " bytes");
      return need_more<names_resp>();
    }
    if (end + 1 - pos > max_line)
      return malformed<names_resp>("NAMES line longer than " + std::to_string(max_line) + " bytes");
    auto entry = parse_names_line(bytes.substr(pos, end - pos));
    if (!entry)
      return malformed<names_resp>(entry.error);
    x.names.push_back(std::move(*entry));
    pos = end + 1;
  }
  return complete(std::move(x), pos);
}

} // namespace watercooler::epmd
