// EPMD codec: byte-exact vectors written from the ERTS spec and captured from OTP 25's epmd,
// every truncation, garbage and oversize lengths.
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>

#include <doctest/doctest.h>

#include "actors/wire/epmd.hpp"

namespace epmd = watercooler::epmd;

namespace {

std::string bytes(std::initializer_list<int> xs) {
  std::string out;
  for (int x : xs)
    out.push_back(static_cast<char>(x));
  return out;
}

epmd::node_info node1() {
  epmd::node_info x;
  x.port = 5555;
  x.name = "node1";
  return x;
}

// 2-byte length 18, then 'x', PortNo 5555, 'M', tcp, 6, 5, Nlen 5, "node1", Elen 0.
const std::string alive2_node1 =
  bytes({0x00, 0x12, 0x78, 0x15, 0xb3, 0x4d, 0x00, 0x00, 0x06, 0x00,
         0x05, 0x00, 0x05, 'n',  'o',  'd',  'e',  '1',  0x00, 0x00});

// What OTP 25's epmd answered to PORT_PLEASE2_REQ "node1" after the ALIVE2_REQ above.
const std::string port2_node1 = bytes({0x77, 0x00, 0x15, 0xb3, 0x4d, 0x00, 0x00, 0x06, 0x00, 0x05,
                                       0x00, 0x05, 'n', 'o', 'd', 'e', '1', 0x00, 0x00});

// Every strict prefix of a complete message needs more bytes.
template <class Decode>
void check_every_prefix_needs_more(const std::string& full, Decode decode) {
  for (size_t n = 0; n < full.size(); ++n) {
    CAPTURE(n);
    auto r = decode(std::string_view{full.data(), n});
    CHECK(r.status == epmd::decode_status::need_more);
  }
}

template <class T>
std::string reason_of(const epmd::decode_result<T>& r) {
  CHECK(r.status == epmd::decode_status::malformed);
  return r.reason;
}

} // namespace

TEST_CASE("epmd encodes requests byte for byte") {
  SUBCASE("ALIVE2_REQ") {
    CHECK(epmd::encode(epmd::alive2_req{node1()}) == alive2_node1);
  }
  SUBCASE("ALIVE2_REQ with extra") {
    auto x = node1();
    x.extra = "ab";
    x.node_type = epmd::node_type_hidden;
    CHECK(epmd::encode(epmd::alive2_req{x})
          == bytes({0x00, 0x14, 0x78, 0x15, 0xb3, 0x48, 0x00, 0x00, 0x06, 0x00, 0x05,
                    0x00, 0x05, 'n',  'o',  'd',  'e',  '1',  0x00, 0x02, 'a',  'b'}));
  }
  SUBCASE("PORT_PLEASE2_REQ") {
    CHECK(epmd::encode(epmd::port_please2_req{"node1"})
          == bytes({0x00, 0x06, 0x7a, 'n', 'o', 'd', 'e', '1'}));
  }
  SUBCASE("NAMES_REQ") {
    CHECK(epmd::encode(epmd::names_req{}) == bytes({0x00, 0x01, 0x6e}));
    CHECK(epmd::encode(epmd::request{epmd::names_req{}}) == bytes({0x00, 0x01, 0x6e}));
  }
  SUBCASE("names longer than 255 bytes are not encodable") {
    auto x = node1();
    x.name = std::string(256, 'a');
    CHECK(epmd::encode(epmd::alive2_req{x}).empty());
    CHECK(epmd::encode(epmd::port_please2_req{std::string(256, 'a')}).empty());
    x.name = "a";
    x.extra = std::string(256, 'e');
    CHECK(epmd::encode(epmd::alive2_req{x}).empty());
  }
}

TEST_CASE("epmd encodes responses byte for byte") {
  SUBCASE("ALIVE2_X_RESP as OTP 25 sends it") {
    CHECK(epmd::encode(epmd::alive2_resp{0, 0x6b07cc8e, true})
          == bytes({0x76, 0x00, 0x6b, 0x07, 0xcc, 0x8e}));
  }
  SUBCASE("ALIVE2_RESP for nodes below version 6") {
    CHECK(epmd::encode(epmd::alive2_resp{0, 2, false}) == bytes({0x79, 0x00, 0x00, 0x02}));
  }
  SUBCASE("rejected name, as OTP 25 sends it") {
    CHECK(epmd::encode(epmd::alive2_resp{1, 99, true})
          == bytes({0x76, 0x01, 0x00, 0x00, 0x00, 0x63}));
  }
  SUBCASE("PORT2_RESP found and not found") {
    CHECK(epmd::encode(epmd::port2_resp{0, node1()}) == port2_node1);
    CHECK(epmd::encode(epmd::port2_resp{1, {}}) == bytes({0x77, 0x01}));
  }
  SUBCASE("NAMES_RESP") {
    epmd::names_resp x{4369, {{"node2", 5557}, {"node1", 5555}}};
    CHECK(epmd::encode(x)
          == bytes({0x00, 0x00, 0x11, 0x11})
               + "name node2 at port 5557\nname node1 at port 5555\n");
  }
}

TEST_CASE("epmd decodes requests") {
  using epmd::decode_request;
  using epmd::decode_status;
  SUBCASE("ALIVE2_REQ") {
    auto r = decode_request(alive2_node1);
    REQUIRE(r.status == decode_status::complete);
    CHECK(r.consumed == alive2_node1.size());
    auto* x = std::get_if<epmd::alive2_req>(&r.value);
    REQUIRE(x != nullptr);
    CHECK(x->node == node1());
  }
  SUBCASE("PORT_PLEASE2_REQ, also NUL-terminated") {
    auto r = decode_request(bytes({0x00, 0x06, 0x7a, 'n', 'o', 'd', 'e', '1'}));
    REQUIRE(r.status == decode_status::complete);
    CHECK(std::get<epmd::port_please2_req>(r.value).name == "node1");
    r = decode_request(bytes({0x00, 0x07, 0x7a, 'n', 'o', 'd', 'e', '1', 0x00}));
    REQUIRE(r.status == decode_status::complete);
    CHECK(std::get<epmd::port_please2_req>(r.value).name == "node1");
  }
  SUBCASE("NAMES_REQ") {
    auto r = decode_request(bytes({0x00, 0x01, 0x6e}));
    REQUIRE(r.status == decode_status::complete);
    CHECK(std::holds_alternative<epmd::names_req>(r.value));
    CHECK(r.consumed == 3);
  }
  SUBCASE("one request at a time from a stream") {
    auto stream = alive2_node1 + bytes({0x00, 0x01, 0x6e});
    auto r = decode_request(stream);
    REQUIRE(r.status == decode_status::complete);
    CHECK(r.consumed == alive2_node1.size());
    r = decode_request(std::string_view{stream}.substr(r.consumed));
    REQUIRE(r.status == decode_status::complete);
    CHECK(std::holds_alternative<epmd::names_req>(r.value));
  }
  SUBCASE("every truncation needs more bytes") {
    check_every_prefix_needs_more(alive2_node1, decode_request);
    check_every_prefix_needs_more(bytes({0x00, 0x06, 0x7a, 'n', 'o', 'd', 'e', '1'}),
                                  decode_request);
    check_every_prefix_needs_more(bytes({0x00, 0x01, 0x6e}), decode_request);
  }
}

TEST_CASE("epmd rejects malformed requests") {
  using epmd::decode_request;
  SUBCASE("unknown tag and empty request") {
    CHECK(reason_of(decode_request(bytes({0x00, 0x01, 0x71}))) == "unknown request tag 113 ('q')");
    CHECK(reason_of(decode_request(bytes({0x00, 0x01, 0x00}))) == "unknown request tag 0");
    CHECK(reason_of(decode_request(bytes({0x00, 0x00}))) == "empty request");
  }
  SUBCASE("oversize lengths are rejected before their bytes arrive") {
    CHECK(reason_of(decode_request(bytes({0xff, 0xff}))) == "request length 65535 exceeds 1021");
    CHECK(reason_of(decode_request(bytes({0x03, 0xfe}))) == "request length 1022 exceeds 1021");
    CHECK(decode_request(bytes({0x03, 0xfd})).status == epmd::decode_status::need_more);
  }
  SUBCASE("ALIVE2_REQ fields that do not fit the length") {
    auto x = alive2_node1;
    x[12] = 0x06; // Nlen 6 swallows the first byte of Elen
    CHECK(reason_of(decode_request(x)) == "ALIVE2_REQ is shorter than its fields");
    x = alive2_node1;
    x[11] = 0x01; // Nlen 261
    CHECK(reason_of(decode_request(x)) == "ALIVE2_REQ: Nlen 261 exceeds 255");
    x = alive2_node1;
    x[1] = 0x13;
    x.push_back('!');
    CHECK(reason_of(decode_request(x)) == "ALIVE2_REQ has 1 bytes after Extra");
    x = alive2_node1;
    x[1] = 0x04; // body ends inside the fixed fields
    CHECK(reason_of(decode_request(x)) == "ALIVE2_REQ is shorter than its fields");
  }
  SUBCASE("bad node names") {
    auto empty = bytes(
      {0x00, 0x0d, 0x78, 0x15, 0xb3, 0x4d, 0x00, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00});
    CHECK(reason_of(decode_request(empty)) == "ALIVE2_REQ: empty node name");
    auto nul = alive2_node1;
    nul[15] = '\0';
    CHECK(reason_of(decode_request(nul)) == "ALIVE2_REQ: node name contains a NUL byte");
    CHECK(reason_of(decode_request(bytes({0x00, 0x01, 0x7a})))
          == "PORT_PLEASE2_REQ: empty node name");
    CHECK(reason_of(decode_request(bytes({0x00, 0x03, 0x7a, 'a', '\n'})))
          == "PORT_PLEASE2_REQ: node name contains a newline");
    auto longer = bytes({0x01, 0x01, 0x7a}) + std::string(256, 'a');
    CHECK(reason_of(decode_request(longer)) == "PORT_PLEASE2_REQ: node name longer than 255 bytes");
  }
  SUBCASE("NAMES_REQ with trailing bytes") {
    CHECK(reason_of(decode_request(bytes({0x00, 0x02, 0x6e, 0x00})))
          == "NAMES_REQ has 1 bytes after its tag");
  }
}

TEST_CASE("epmd decodes ALIVE2 responses") {
  using epmd::decode_alive2_resp;
  SUBCASE("ALIVE2_X_RESP, as OTP 25 answers a version 6 node") {
    auto wire = bytes({0x76, 0x00, 0x6b, 0x07, 0xcc, 0x8e});
    auto r = decode_alive2_resp(wire);
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.result == 0);
    CHECK(r.value.creation == 0x6b07cc8e);
    CHECK(r.value.extended);
    CHECK(r.consumed == 6);
    check_every_prefix_needs_more(wire, decode_alive2_resp);
  }
  SUBCASE("ALIVE2_RESP") {
    auto wire = bytes({0x79, 0x00, 0x00, 0x02});
    auto r = decode_alive2_resp(wire + "tail");
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.creation == 2);
    CHECK_FALSE(r.value.extended);
    CHECK(r.consumed == 4);
    check_every_prefix_needs_more(wire, decode_alive2_resp);
  }
  SUBCASE("name already registered") {
    auto r = decode_alive2_resp(bytes({0x76, 0x01, 0x00, 0x00, 0x00, 0x63}));
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.result == 1);
  }
  SUBCASE("wrong tag") {
    CHECK(reason_of(decode_alive2_resp(bytes({0x77, 0x01})))
          == "expected ALIVE2_RESP or ALIVE2_X_RESP, got tag 119 ('w')");
  }
}

TEST_CASE("epmd decodes PORT2 responses") {
  using epmd::decode_port2_resp;
  SUBCASE("found, as OTP 25 answers") {
    auto r = decode_port2_resp(port2_node1);
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.result == 0);
    CHECK(r.value.node == node1());
    CHECK(r.consumed == port2_node1.size());
    check_every_prefix_needs_more(port2_node1, decode_port2_resp);
  }
  SUBCASE("not found is two bytes") {
    auto r = decode_port2_resp(bytes({0x77, 0x01}));
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.result == 1);
    CHECK(r.consumed == 2);
  }
  SUBCASE("garbage and oversize lengths") {
    CHECK(reason_of(decode_port2_resp(bytes({0x79}))) == "expected PORT2_RESP, got tag 121 ('y')");
    auto x = port2_node1.substr(0, 12);
    x[10] = 0x10; // Nlen 4101: rejected without waiting for 4101 bytes
    CHECK(reason_of(decode_port2_resp(x)) == "PORT2_RESP: Nlen 4101 exceeds 255");
    x = port2_node1;
    x[17] = 0x01; // Elen 256
    CHECK(reason_of(decode_port2_resp(x)) == "PORT2_RESP: Elen 256 exceeds 255");
  }
}

TEST_CASE("epmd decodes NAMES responses") {
  using epmd::decode_names_resp;
  // What OTP 25's epmd -port 43791 answered with two nodes registered.
  auto wire =
    bytes({0x00, 0x00, 0xab, 0x0f}) + "name node2 at port 5557\nname node1 at port 5555\n";
  SUBCASE("complete at a line boundary") {
    auto r = decode_names_resp(wire);
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.epmd_port == 43791);
    REQUIRE(r.value.names.size() == 2);
    CHECK(r.value.names[0] == std::make_pair(std::string{"node2"}, uint16_t{5557}));
    CHECK(r.value.names[1] == std::make_pair(std::string{"node1"}, uint16_t{5555}));
    CHECK(r.consumed == wire.size());
  }
  SUBCASE("no nodes") {
    auto r = decode_names_resp(bytes({0x00, 0x00, 0x11, 0x11}));
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.names.empty());
  }
  SUBCASE("a partial line needs more bytes") {
    for (size_t n = 0; n < wire.size(); ++n) {
      CAPTURE(n);
      auto r = decode_names_resp(std::string_view{wire.data(), n});
      bool at_boundary = n == 4 || n == 4 + 24;
      CHECK(r.status
            == (at_boundary ? epmd::decode_status::complete : epmd::decode_status::need_more));
    }
  }
  SUBCASE("garbage lines") {
    auto head = bytes({0x00, 0x00, 0x11, 0x11});
    CHECK(reason_of(decode_names_resp(head + "hello\n"))
          == "NAMES line does not start with 'name '");
    CHECK(reason_of(decode_names_resp(head + "name x at port\n"))
          == "NAMES line has no ' at port '");
    CHECK(reason_of(decode_names_resp(head + "name x at port 12a\n"))
          == "NAMES line has no valid port");
    CHECK(reason_of(decode_names_resp(head + "name x at port 70000\n"))
          == "NAMES line has port 70000 above 65535");
    CHECK(reason_of(decode_names_resp(head + "name  at port 1\n"))
          == "NAMES line: empty node name");
    CHECK(reason_of(decode_names_resp(head + std::string(400, 'a')))
          == "NAMES line longer than 275 bytes");
  }
  SUBCASE("round trip, also with ' at port ' inside a name") {
    epmd::names_resp x{1, {{"a at port 3", 7}, {std::string(255, 'z'), 65535}}};
    auto r = decode_names_resp(epmd::encode(x));
    REQUIRE(r.status == epmd::decode_status::complete);
    CHECK(r.value.names == x.names);
  }
}

TEST_CASE("epmd decoders survive random and mutated input") {
  // A cheap stand-in for the fuzzer: any outcome is fine as long as nothing reads out of bounds
  // (run under ASan) and `consumed` stays within the input.
  std::mt19937 rng{4369};
  const std::string seeds[] = {alive2_node1, port2_node1, bytes({0x00, 0x01, 0x6e}),
                               bytes({0x76, 0x00, 0x6b, 0x07, 0xcc, 0x8e}),
                               bytes({0x00, 0x00, 0x11, 0x11}) + "name a at port 1\n"};
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(rng() % 64);
      for (auto& c : input)
        c = static_cast<char>(rng());
    } else {
      input = seeds[rng() % std::size(seeds)];
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
        input[rng() % input.size()] = static_cast<char>(rng());
      input.resize(rng() % (input.size() + 1));
    }
    auto within = [&](const auto& r) {
      return r.status != epmd::decode_status::complete || r.consumed <= input.size();
    };
    REQUIRE(within(epmd::decode_request(input)));
    REQUIRE(within(epmd::decode_alive2_resp(input)));
    REQUIRE(within(epmd::decode_port2_resp(input)));
    REQUIRE(within(epmd::decode_names_resp(input)));
  }
}
