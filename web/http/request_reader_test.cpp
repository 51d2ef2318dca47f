// Unit tests of the request reader: where requests end, in whatever pieces they arrive, and
// which ones are refused before httplib sees them.
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "web/http/request_reader.hpp"

namespace watercooler {

namespace {

using state = request_reader::state;

const request_reader::limits small{1024, 100};

// Feeds `bytes` in pieces of `step` bytes (0: at once); returns the bytes not used.
std::string feed(request_reader& reader, const std::string& bytes, std::size_t step = 0) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto n = step == 0 ? bytes.size() - at : std::min(step, bytes.size() - at);
    auto used = reader.feed(std::string_view(bytes).substr(at, n));
    at += used;
    if (used < n)
      break;
  }
  return bytes.substr(at);
}

// The refusal of `bytes`, fed at once; status 0 if it was not refused.
request_refusal refusal_of(const std::string& bytes, request_reader::limits l = small) {
  request_reader reader(l);
  feed(reader, bytes);
  return reader.current() == state::refused ? reader.refusal() : request_refusal{};
}

const std::string get = "GET /main.css?x=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";
const std::string post_length = "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n"
                                "message=hi";
const std::string post_chunked = "POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                                 "chunked\r\n\r\n8;ext=1\r\nmessage=\r\n2\r\nhi\r\n0\r\n\r\n";

} // namespace

TEST_CASE("a request split at every byte boundary is read whole, and nothing more") {
  for (const auto& request : {get, post_length, post_chunked}) {
    CAPTURE(request);
    for (std::size_t split = 0; split <= request.size(); ++split) {
      CAPTURE(split);
      request_reader reader(small);
      auto first = request.substr(0, split);
      auto second = request.substr(split) + "GET /next";
      CHECK(reader.feed(first) == first.size());
      if (split == 0)
        CHECK(reader.current() == state::idle);
      else if (split < request.size())
        CHECK((reader.current() == state::head || reader.current() == state::body));
      auto used = reader.feed(second);
      CHECK(used == request.size() - split); // stops where the next request begins
      REQUIRE(reader.current() == state::complete);
      CHECK(reader.take() == request);
      CHECK(reader.current() == state::idle);
    }
  }
  SUBCASE("a byte at a time") {
    request_reader reader(small);
    CHECK(feed(reader, post_chunked, 1).empty());
    CHECK(reader.current() == state::complete);
    CHECK(reader.take() == post_chunked);
  }
}

TEST_CASE("pipelined requests are read one after another, in order") {
  request_reader reader(small);
  std::string bytes = get + post_length + post_chunked;
  std::vector<std::string> read;
  while (!bytes.empty()) {
    bytes = feed(reader, bytes);
    REQUIRE(reader.current() == state::complete);
    read.push_back(reader.take());
  }
  CHECK(read == std::vector<std::string>{get, post_length, post_chunked});
}

TEST_CASE("the reader tells when a request has begun and when it is whole") {
  request_reader reader(small);
  CHECK(reader.current() == state::idle);
  reader.feed("G");
  CHECK(reader.current() == state::head);
  reader.feed("ET / HTTP/1.1\r\nHost: x\r\n");
  CHECK(reader.current() == state::head);
  CHECK(reader.method() == "GET");
  CHECK(reader.target() == "/");
  reader.feed("\r\n");
  CHECK(reader.current() == state::complete);
  SUBCASE("a body keeps it open until its last byte") {
    request_reader r(small);
    r.feed(post_length.substr(0, post_length.size() - 1));
    CHECK(r.current() == state::body);
    r.feed("i");
    CHECK(r.current() == state::complete);
  }
  SUBCASE("empty lines before a request line are skipped") {
    request_reader r(small);
    r.feed("\r\n\r\n" + get);
    CHECK(r.current() == state::complete);
    CHECK(r.take() == get);
  }
}

TEST_CASE("expect 100-continue is answered by the front and not passed on") {
  request_reader reader(small);
  reader.feed(
    "POST /publish HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  CHECK(reader.current() == state::body);
  CHECK(reader.take_continue());
  CHECK_FALSE(reader.take_continue()); // once
  reader.feed("hi");
  CHECK(reader.take() == "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  SUBCASE("not without a body") {
    request_reader r(small);
    r.feed("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
    CHECK(r.current() == state::complete);
    CHECK_FALSE(r.take_continue());
  }
}

TEST_CASE("chunk trailers are dropped: httplib reads none") {
  request_reader reader(small);
  reader.feed(
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n");
  REQUIRE(reader.current() == state::complete);
  CHECK(reader.take()
        == "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
}

TEST_CASE("each limit refuses with its status and says the limit") {
  SUBCASE("a request line over 8192 bytes: 414") {
    auto r = refusal_of("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", {32768, 100});
    CHECK(r.status == 414);
    CHECK(r.reason == "request line too long: at most 8192 bytes");
  }
  SUBCASE("a request line over --max-header: 414") {
    auto r = refusal_of("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n\r\n");
    CHECK(r.status == 414);
    CHECK(r.reason == "request line too long: at most 1024 bytes");
  }
  SUBCASE("an endless request line is refused before it ends") {
    request_reader reader({32768, 100});
    auto used = reader.feed("GET /" + std::string(20000, 'a'));
    CHECK(reader.current() == state::refused);
    CHECK(used <= 20005);
  }
  SUBCASE("a header line over 8192 bytes: 431") {
    auto r =
      refusal_of("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", {32768, 100});
    CHECK(r.status == 431);
    CHECK(r.reason == "request header too large: at most 32768 bytes in all, 8192 a line");
  }
  SUBCASE("header lines over --max-header in all: 431") {
    std::string head = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 40; ++i)
      head += "X-" + std::to_string(i) + ": " + std::string(30, 'b') + "\r\n";
    CHECK(refusal_of(head + "\r\n").status == 431);
  }
  SUBCASE("a body over --max-body by Content-Length: 413 before it comes") {
    auto r = refusal_of("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
    CHECK(r.status == 413);
    CHECK(r.reason == "message too large: at most 100 bytes");
  }
  SUBCASE("a chunked body over --max-body: 413 at the chunk that crosses it") {
    CHECK(refusal_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n"
                     + std::string(80, 'c') + "\r\n15\r\n")
            .status
          == 413);
  }
  SUBCASE("a small body in many chunks with long extensions: 413 when the framing grows") {
    std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 100; ++i)
      request += "1;" + std::string(200, 'e') + "\r\nx\r\n";
    CHECK(refusal_of(request).status == 413);
  }
  SUBCASE("a body of exactly --max-body is read") {
    request_reader reader(small);
    reader.feed("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'd'));
    CHECK(reader.current() == state::complete);
  }
}

TEST_CASE("each malformed line gets 400") {
  const std::vector<std::pair<const char*, std::string>> cases{
    {"a header line without a colon", "GET / HTTP/1.1\r\nthis line has no colon\r\n\r\n"},
    {"a field name that is not a token", "GET / HTTP/1.1\r\nBad Header(Name): x\r\n\r\n"},
    {"whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n"},
    {"an empty field name", "GET / HTTP/1.1\r\n: x\r\n\r\n"},
    {"a folded line", "GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n"},
    {"a control character in a value", std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27)},
    {"a line ending in LF alone", "GET / HTTP/1.1\nHost: x\n\n"},
    {"a request line of garbage", "GARBAGE\r\n\r\n"},
    {"a request line without a version", "GET /\r\n\r\n"},
    {"two spaces in the request line", "GET  / HTTP/1.1\r\n\r\n"},
    {"a method that is not a token", "G(T / HTTP/1.1\r\n\r\n"},
    {"an unknown version", "GET / FOO/1.1\r\n\r\n"},
    {"HTTP/2.0 in an HTTP/1 request line", "GET / HTTP/2.0\r\n\r\n"},
    {"a TLS hello on the plain port",
     std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15)},
    {"two Content-Length headers",
     "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"},
    {"Content-Length and chunked",
     "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {"a Content-Length that is no number", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"},
    {"a transfer coding other than chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"},
    {"chunked in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {"a bad chunk size",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n"},
    {"a chunk without its CRLF",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n"},
    {"a chunk size that overflows",
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n"},
  };
  for (const auto& [what, bytes] : cases) {
    CAPTURE(what);
    auto r = refusal_of(bytes);
    CHECK(r.status == 400);
    CHECK_FALSE(r.reason.empty());
  }
}

TEST_CASE("well-formed oddities are read") {
  for (const std::string request :
       {"GET / HTTP/1.0\r\n\r\n", "GET /x HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /caf\xc3\xa9 HTTP/1.1\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi",
        "POST / HTTP/1.1\r\nTRANSFER-ENCODING: Chunked\r\n\r\n0\r\n\r\n"}) {
    CAPTURE(request);
    request_reader reader(small);
    CHECK(feed(reader, request).empty());
    CHECK(reader.current() == state::complete);
  }
}

} // namespace watercooler
