// Fuzzes the port-mapper (EPMD) decoders on the same bytes: each either waits, rejects or decodes
// a value that re-encodes to the bytes it consumed; no prefix of those bytes decodes already.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "actors/wire/epmd.hpp"

namespace epmd = watercooler::epmd;

namespace {

[[noreturn]] void fail(const char* decoder, const char* what) {
  std::fprintf(stderr, "epmd_fuzz: %s: %s\n", decoder, what);
  std::abort();
}

bool same_request(const epmd::request& a, const epmd::request& b) {
  if (a.index() != b.index())
    return false;
  if (auto* x = std::get_if<epmd::alive2_req>(&a))
    return x->node == std::get<epmd::alive2_req>(b).node;
  if (auto* x = std::get_if<epmd::port_please2_req>(&a))
    return x->name == std::get<epmd::port_please2_req>(b).name;
  return true;
}

// The status of a result and its bounds; `consumed` of a complete result within the input.
template <class T>
bool check_result(const char* decoder, const epmd::decode_result<T>& r, std::string_view bytes) {
  if (r.status == epmd::decode_status::malformed && r.reason.empty())
    fail(decoder, "a malformed input needs a reason");
  if (r.status != epmd::decode_status::complete)
    return false;
  if (r.consumed > bytes.size())
    fail(decoder, "consumed more bytes than given");
  return true;
}

// A strict prefix of a complete message may wait for more, never decode or be rejected.
template <class Decode>
void check_prefixes(const char* decoder, std::string_view bytes, std::size_t consumed,
                    Decode decode) {
  // Every prefix of short messages, a few of long ones.
  const std::size_t step = consumed > 64 ? consumed / 16 : 1;
  for (std::size_t n = 0; n < consumed; n += step)
    if (decode(bytes.substr(0, n)).status != epmd::decode_status::need_more)
      fail(decoder, "a strict prefix of a message must need more bytes");
}

void request(std::string_view bytes) {
  const auto r = epmd::decode_request(bytes);
  if (!check_result("decode_request", r, bytes))
    return;
  check_prefixes("decode_request", bytes, r.consumed, epmd::decode_request);
  const auto encoded = epmd::encode(r.value);
  const auto consumed = bytes.substr(0, r.consumed);
  // Old clients end PORT_PLEASE2_REQ's name with a NUL, which is not encoded back.
  const bool nul_ended = std::holds_alternative<epmd::port_please2_req>(r.value)
                         && consumed.back() == '\0' && encoded.size() + 1 == consumed.size();
  if (encoded != consumed && !nul_ended)
    fail("decode_request", "a request must encode back to its bytes");
  const auto again = epmd::decode_request(encoded);
  if (again.status != epmd::decode_status::complete || !same_request(again.value, r.value))
    fail("decode_request", "an encoded request must decode to itself");
}

void alive2_resp(std::string_view bytes) {
  const auto r = epmd::decode_alive2_resp(bytes);
  if (!check_result("decode_alive2_resp", r, bytes))
    return;
  check_prefixes("decode_alive2_resp", bytes, r.consumed, epmd::decode_alive2_resp);
  if (epmd::encode(r.value) != bytes.substr(0, r.consumed))
    fail("decode_alive2_resp", "an answer must encode back to its bytes");
}

void port2_resp(std::string_view bytes) {
  const auto r = epmd::decode_port2_resp(bytes);
  if (!check_result("decode_port2_resp", r, bytes))
    return;
  check_prefixes("decode_port2_resp", bytes, r.consumed, epmd::decode_port2_resp);
  if (epmd::encode(r.value) != bytes.substr(0, r.consumed))
    fail("decode_port2_resp", "an answer must encode back to its bytes");
}

void names_resp(std::string_view bytes) {
  const auto r = epmd::decode_names_resp(bytes);
  if (!check_result("decode_names_resp", r, bytes))
    return;
  // Complete means "ends on a line"; what follows is waited for.
  if (r.consumed != bytes.size())
    fail("decode_names_resp", "a complete NAMES answer must be all the bytes");
  const auto encoded = epmd::encode(r.value);
  const auto again = epmd::decode_names_resp(encoded);
  if (again.status != epmd::decode_status::complete || again.value.names != r.value.names
      || again.value.epmd_port != r.value.epmd_port)
    fail("decode_names_resp", "an encoded NAMES answer must decode to itself");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  request(bytes);
  alive2_resp(bytes);
  port2_resp(bytes);
  names_resp(bytes);
  return 0;
}
