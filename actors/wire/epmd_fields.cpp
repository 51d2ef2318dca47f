// EPMD's fields: all integers are big-endian; names and extras carry a 16-bit length before them.
#include "actors/wire/epmd_fields.hpp"

namespace watercooler::epmd {

bool reader::u8(uint8_t& x) {
  if (remaining() < 1)
    return false;
  x = byte(pos_++);
  return true;
}

bool reader::u16(uint16_t& x) {
  if (remaining() < 2)
    return false;
  x = static_cast<uint16_t>((byte(pos_) << 8) | byte(pos_ + 1));
  pos_ += 2;
  return true;
}

bool reader::u32(uint32_t& x) {
  if (remaining() < 4)
    return false;
  x = (uint32_t{byte(pos_)} << 24) | (uint32_t{byte(pos_ + 1)} << 16)
      | (uint32_t{byte(pos_ + 2)} << 8) | uint32_t{byte(pos_ + 3)};
  pos_ += 4;
  return true;
}

bool reader::text(size_t n, std::string& x) {
  if (remaining() < n)
    return false;
  x.assign(bytes_.data() + pos_, n);
  pos_ += n;
  return true;
}

void put_u8(std::string& out, uint8_t x) {
  out.push_back(static_cast<char>(x));
}

void put_u16(std::string& out, uint16_t x) {
  put_u8(out, static_cast<uint8_t>(x >> 8));
  put_u8(out, static_cast<uint8_t>(x));
}

void put_u32(std::string& out, uint32_t x) {
  put_u16(out, static_cast<uint16_t>(x >> 16));
  put_u16(out, static_cast<uint16_t>(x));
}

std::string with_length(const std::string& body) {
  std::string out;
  put_u16(out, static_cast<uint16_t>(body.size()));
  return out + body;
}

bool encodable(const node_info& x) {
  return x.name.size() <= max_symbol_length && x.extra.size() <= max_symbol_length;
}

void put_node(std::string& out, const node_info& x) {
  put_u16(out, x.port);
  put_u8(out, x.node_type);
  put_u8(out, x.protocol);
  put_u16(out, x.highest);
  put_u16(out, x.lowest);
  put_u16(out, static_cast<uint16_t>(x.name.size()));
  out += x.name;
  put_u16(out, static_cast<uint16_t>(x.extra.size()));
  out += x.extra;
}

decode_result<node_info> read_node(reader& in) {
  node_info x;
  uint16_t nlen = 0;
  if (!in.u16(x.port) || !in.u8(x.node_type) || !in.u8(x.protocol) || !in.u16(x.highest)
      || !in.u16(x.lowest) || !in.u16(nlen))
    return need_more<node_info>();
  if (nlen > max_symbol_length)
    return malformed<node_info>("Nlen " + std::to_string(nlen) + " exceeds "
                                + std::to_string(max_symbol_length));
  uint16_t elen = 0;
  if (!in.text(nlen, x.name) || !in.u16(elen))
    return need_more<node_info>();
  if (elen > max_symbol_length)
    return malformed<node_info>("Elen " + std::to_string(elen) + " exceeds "
                                + std::to_string(max_symbol_length));
  if (!in.text(elen, x.extra))
    return need_more<node_info>();
  return complete(std::move(x), in.pos());
}

outcome<void> check_name(std::string_view name) {
  if (name.empty())
    return outcome<void>::fail("empty node name");
  if (name.size() > max_symbol_length)
    return outcome<void>::fail("node name longer than " + std::to_string(max_symbol_length)
                               + " bytes");
  if (name.find('\0') != std::string_view::npos)
    return outcome<void>::fail("node name contains a NUL byte");
  if (name.find('\n') != std::string_view::npos)
    return outcome<void>::fail("node name contains a newline");
  return outcome<void>::ok();
}

std::string describe_tag(uint8_t tag) {
  auto text = std::to_string(tag);
  if (tag >= 0x21 && tag < 0x7f)
    text += std::string{" ('"} + static_cast<char>(tag) + "')";
  return text;
}

} // namespace watercooler::epmd
