// The Erlang Port Mapper Daemon protocol (ERTS "Distribution Protocol"): byte codec only, no I/O.
// Decoders read peer input: they never read out of bounds and report garbage as `malformed`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace watercooler::epmd {

inline constexpr uint16_t default_port = 4369;

inline constexpr uint8_t alive2_req_tag = 120;       // 'x'
inline constexpr uint8_t alive2_resp_tag = 121;      // 'y', Creation u16
inline constexpr uint8_t alive2_x_resp_tag = 118;    // 'v', Creation u32 (OTP 23+)
inline constexpr uint8_t port_please2_req_tag = 122; // 'z'
inline constexpr uint8_t port2_resp_tag = 119;       // 'w'
inline constexpr uint8_t names_req_tag = 110;        // 'n'

inline constexpr uint8_t node_type_normal = 77;
inline constexpr uint8_t node_type_hidden = 72;
inline constexpr uint8_t protocol_tcp_ipv4 = 0;
inline constexpr uint16_t highest_version = 6;
inline constexpr uint16_t lowest_version = 5;

inline constexpr size_t max_symbol_length = 255;   // node name and extra, as epmd's MAXSYMLEN
inline constexpr size_t max_request_length = 1021; // epmd rejects Length + 2 >= INBUF_SIZE (1024)

// What ALIVE2_REQ registers and PORT2_RESP returns.
struct node_info {
  uint16_t port = 0;
  uint8_t node_type = node_type_normal;
  uint8_t protocol = protocol_tcp_ipv4;
  uint16_t highest = highest_version;
  uint16_t lowest = lowest_version;
  std::string name;
  std::string extra;
};

bool operator==(const node_info& x, const node_info& y);

/* ALIVE2_REQ: 120 PortNo NodeType Protocol HighestVersion LowestVersion Nlen NodeName Elen Extra */
struct alive2_req {
  node_info node;
};

/* PORT_PLEASE2_REQ: 122 NodeName */
struct port_please2_req {
  std::string name;
};

/* NAMES_REQ: 110 */
struct names_req {};

using request = std::variant<alive2_req, port_please2_req, names_req>;

/* ALIVE2_RESP: 121 Result Creation(u16) | ALIVE2_X_RESP: 118 Result Creation(u32) */
struct alive2_resp {
  uint8_t result = 0; // 0 = registered
  uint32_t creation = 0;
  bool extended = true; // ALIVE2_X_RESP, sent when the node's HighestVersion >= 6
};

/* PORT2_RESP: 119 Result [PortNo NodeType Protocol HighestVersion LowestVersion Nlen NodeName
   Elen Extra] (the node fields only if Result = 0) */
struct port2_resp {
  uint8_t result = 0; // 0 = found, else only these two bytes are sent
  node_info node;
};

/* NAMES_RESP: EPMDPortNo(u32) then "name <alive> at port <port>\n" per node, until close */
struct names_resp {
  uint32_t epmd_port = 0;
  std::vector<std::pair<std::string, uint16_t>> names;
};

enum class decode_status { need_more, complete, malformed };

template <class T>
struct decode_result {
  decode_status status = decode_status::need_more;
  T value{};           // if complete
  size_t consumed = 0; // if complete: bytes of the input that made up `value`
  std::string reason;  // if malformed
};

// Requests carry the 2-byte length prefix. Names and extras longer than `max_symbol_length`
// bytes are not encodable: the encoders then return an empty string.
std::string encode(const alive2_req& x);
std::string encode(const port_please2_req& x);
std::string encode(const names_req& x);
std::string encode(const request& x);

// Responses have no length prefix.
std::string encode(const alive2_resp& x);
std::string encode(const port2_resp& x);
std::string encode(const names_resp& x);

// Server side: a length-prefixed request; an unknown tag is malformed.
decode_result<request> decode_request(std::string_view bytes);

// Client side.
decode_result<alive2_resp> decode_alive2_resp(std::string_view bytes);
decode_result<port2_resp> decode_port2_resp(std::string_view bytes);

// The NAMES answer ends when epmd closes the connection: `complete` means the bytes so far end
// on a line boundary; call it again once the peer has closed, and treat `need_more` as truncated.
decode_result<names_resp> decode_names_resp(std::string_view bytes);

} // namespace watercooler::epmd
