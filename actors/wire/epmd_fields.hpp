// The fields EPMD messages are made of: big-endian integers, the node record, node names. Only
// for the codec (epmd.cpp); what others use is in epmd.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "actors/outcome.hpp"
#include "actors/wire/epmd.hpp"

namespace watercooler::epmd {

// Bounds-checked cursor over peer bytes: every read says whether the bytes were there.
class reader {
public:
  explicit reader(std::string_view bytes) : bytes_(bytes) {}

  bool u8(uint8_t& x);
  bool u16(uint16_t& x);
  bool u32(uint32_t& x);
  bool text(size_t n, std::string& x);

  size_t pos() const {
    return pos_;
  }
  size_t remaining() const {
    return bytes_.size() - pos_;
  }

private:
  uint8_t byte(size_t i) const {
    return static_cast<uint8_t>(bytes_[i]);
  }

  std::string_view bytes_;
  size_t pos_ = 0;
};

void put_u8(std::string& out, uint8_t x);
void put_u16(std::string& out, uint16_t x);
void put_u32(std::string& out, uint32_t x);

// `body` behind its 2-byte length, as every request is sent.
std::string with_length(const std::string& body);

// Name and extra fit their 16-bit length fields and epmd's limit.
bool encodable(const node_info& x);

/* PortNo NodeType Protocol HighestVersion LowestVersion Nlen NodeName Elen Extra */
void put_node(std::string& out, const node_info& x);

// The node fields of ALIVE2_REQ / PORT2_RESP: need_more while they are not all there yet,
// malformed as soon as a length field is too long (before waiting for the bytes it announces).
decode_result<node_info> read_node(reader& in);

// A node name must be 1..255 bytes without NUL (epmd's check) and without '\n' (it would break
// the line-based NAMES answer); else what is wrong.
outcome<void> check_name(std::string_view name);

// "118 ('v')": a tag as a number, and as a character when it prints as one.
std::string describe_tag(uint8_t tag);

template <class T>
decode_result<T> need_more() {
  return {};
}

template <class T>
decode_result<T> malformed(std::string reason) {
  decode_result<T> r;
  r.status = decode_status::malformed;
  r.reason = std::move(reason);
  return r;
}

template <class T>
decode_result<T> complete(T value, size_t consumed) {
  decode_result<T> r;
  r.status = decode_status::complete;
  r.value = std::move(value);
  r.consumed = consumed;
  return r;
}

} // namespace watercooler::epmd
