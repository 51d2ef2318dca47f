// Requests a hostile or careless client sends: each is refused clearly and the node serves on;
// after every case a normal publish still reaches the listeners opened before it.
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const char* const form_type = "application/x-www-form-urlencoded";

int publish_from(uint16_t port, const std::string& origin, const std::string& text) {
  auto client = http_client(port);
  httplib::Headers headers{{"Origin", origin}};
  auto res = client->Post("/publish", headers, "message=" + form_encode(text), form_type);
  return res ? res->status : -1;
}

// One node with `args`, and a plain and a TLS listener opened before any abuse.
struct abused_node {
  sandbox sb;
  node_process& node;
  std::unique_ptr<sse_stream> plain;
  std::unique_ptr<sse_stream> tls;
  int round = 0;

  explicit abused_node(std::vector<std::string> args) : node(sb.start_ready(std::move(args))) {
    plain = std::make_unique<sse_stream>(node.port());
    tls = std::make_unique<sse_stream>(node.secure_port(), true);
    REQUIRE(plain->status() == 200);
    REQUIRE(tls->status() == 200);
  }

  uint16_t port() const {
    return node.port();
  }

  // A normal publish reaches both listeners, and nothing else came before it (no partial or
  // refused message got through).
  void still_serves(const char* after) {
    CAPTURE(after);
    INFO(node.describe());
    auto text = "still here after " + std::string(after) + " #" + std::to_string(++round);
    REQUIRE(publish(port(), text) == 303);
    for (auto* listener : {plain.get(), tls.get()}) {
      auto seen =
        listener->read_until([&](const std::string& data) { return data == text; }, in(15s));
      CHECK(seen == std::vector<std::string>{text});
    }
  }
};

// The status of an HTTP response, 0 if `response` does not start with a status line.
int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
    return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// Sends `head` and then `more` over and over (the flood), until the node answers and closes;
// returns what it answered. The flood stops at `limit` bytes: a node that reads forever fails.
std::string flood(uint16_t port, const std::string& head, const std::string& more,
                  std::size_t limit, bool tls = false) {
  auto deadline = in(30s);
  auto conn = connection::open(port, tls, deadline);
  REQUIRE(conn != nullptr);
  std::string response;
  bool writing = conn->write_all(head, deadline);
  for (std::size_t sent = head.size(); writing && sent < limit; sent += more.size()) {
    if (conn->read_some(response, in(1ms)) != connection::read_status::timeout)
      break; // answered or closed
    writing = conn->write_all(more, deadline);
  }
  while (conn->read_some(response, deadline) == connection::read_status::data) {
  }
  return response;
}

// Sends `head`, then `drip` a byte at a time every 200 ms, until the node answers or closes;
// returns what it answered (empty if it never did within a minute).
std::string trickle(uint16_t port, const std::string& head, const std::string& drip,
                    bool tls = false) {
  auto deadline = in(60s);
  auto conn = connection::open(port, tls, deadline);
  REQUIRE(conn != nullptr);
  std::string response;
  REQUIRE(conn->write_all(head, deadline));
  for (std::size_t i = 0; clock::now() < deadline; i = (i + 1) % drip.size()) {
    auto status = conn->read_some(response, in(200ms));
    if (status != connection::read_status::timeout)
      break;
    if (!conn->write_all(drip.substr(i, 1), deadline))
      break;
  }
  while (conn->read_some(response, deadline) == connection::read_status::data) {
  }
  return response;
}

} // namespace

TEST_CASE("a publish from a foreign page is refused with 403 and reaches nobody") {
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  node.require_ready();
  INFO(describe({&node}));
  sse_stream listener(node.port());
  auto own = "http://127.0.0.1:" + std::to_string(node.port());
  CHECK(publish_from(node.port(), "http://evil.example", "forged") == 403);
  CHECK(publish_from(node.port(), "null", "forged too") == 403);
  CHECK(publish_from(node.port(), "http://127.0.0.1:1", "other port") == 403);
  CHECK(publish_from(node.port(), own, "from our page") == 303);
  auto seen =
    listener.read_until([](const std::string& data) { return data == "from our page"; }, in(10s));
  CHECK(seen == std::vector<std::string>{"from our page"});
}

TEST_CASE("headers over the limit get 431 and the node serves on") {
  abused_node n({"--max-header", "4096"});
  INFO(n.node.describe());

  SUBCASE("one header line over 8192 bytes") {
    auto response = raw_exchange(
      n.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n",
      in(20s));
    INFO(response);
    CHECK(status_of(response) == 431);
    CHECK(body_of(response)
          == "request header too large: at most 4096 bytes in all, 8192 a line\n");
    n.still_serves("one long header line");
  }
  SUBCASE("many short header lines over --max-header in all") {
    std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 100; ++i)
      head += "X-Line-" + std::to_string(i) + ": " + std::string(50, 'b') + "\r\n";
    auto response = raw_exchange(n.port(), head + "\r\n", in(20s));
    INFO(response);
    CHECK(status_of(response) == 431);
    n.still_serves("many header lines");
  }
  SUBCASE("an endless stream of header lines is cut off") {
    auto response = flood(n.port(), "GET / HTTP/1.1\r\nHost: x\r\n",
                          "X-Flood: " + std::string(1000, 'c') + "\r\n", 64 << 20);
    INFO(response.substr(0, 400));
    CHECK(status_of(response) == 431);
    n.still_serves("a header flood");
  }
  SUBCASE("a request line over 8192 bytes gets 414") {
    auto response = raw_exchange(
      n.port(), "GET /" + std::string(9000, 'd') + " HTTP/1.1\r\nHost: x\r\n\r\n", in(20s));
    INFO(response);
    CHECK(status_of(response) == 414);
    CHECK(body_of(response) == "request line too long: at most 8192 bytes\n");
    // Answered before httplib parsed anything, and counted all the same.
    CHECK(metric(n.port(), R"(watercooler_http_requests_total{route="other",status="414"})") == 1);
    n.still_serves("a long request line");
  }
  SUBCASE("an endless request line is cut off with 414") {
    auto response = flood(n.port(), "GET /", std::string(1000, 'e'), 64 << 20);
    INFO(response.substr(0, 400));
    CHECK(status_of(response) == 414);
    n.still_serves("an endless request line");
  }
  SUBCASE("over HTTPS the same limits hold") {
    auto response = raw_exchange(
      n.node.secure_port(),
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n", in(20s), true);
    INFO(response);
    CHECK(status_of(response) == 431);
    response = flood(n.node.secure_port(), "GET / HTTP/1.1\r\nHost: x\r\n",
                     "X-Flood: " + std::string(1000, 'c') + "\r\n", 64 << 20, true);
    INFO(response.substr(0, 400));
    CHECK(status_of(response) == 431);
    n.still_serves("a header flood over HTTPS");
  }
}

TEST_CASE("malformed requests get 400 and the node serves on") {
  abused_node n({});
  INFO(n.node.describe());
  struct bad_case {
    const char* what;
    std::string request;
  };
  const std::vector<bad_case> cases{
    {"a request line of garbage", "GARBAGE\r\n\r\n"},
    {"a request line without a path", "GET\r\nHost: x\r\n\r\n"},
    {"an unknown HTTP version", "GET / FOO/1.1\r\nHost: x\r\n\r\n"},
    {"binary bytes", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15)},
    {"a chunked body with a bad chunk size",
     "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     "Transfer-Encoding: chunked\r\n\r\nzz\r\nmessage=hi\r\n0\r\n\r\n"},
    {"two Content-Length headers",
     "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     "Content-Length: 10\r\nContent-Length: 99\r\n\r\nmessage=hi"},
    {"Content-Length and chunked at once",
     "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     "Transfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\na\r\nmessage=hi\r\n0\r\n\r\n"},
    {"a chunked body that ends early",
     "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n40\r\nmessage=partial"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto deadline = in(20s);
    auto conn = connection::open(n.port(), false, deadline);
    REQUIRE(conn != nullptr);
    REQUIRE(conn->write_all(c.request, deadline));
    // The last case stops sending: the node must not wait for the rest forever.
    std::string response;
    while (conn->read_some(response, deadline) == connection::read_status::data) {
    }
    INFO(response);
    CHECK(status_of(response) >= 400);
    CHECK(status_of(response) < 500);
    CHECK(response.find("\r\n\r\n") != std::string::npos);
    n.still_serves(c.what);
  }
}

TEST_CASE("a slow client is cut off with 408 after --read-timeout and the node serves on") {
  abused_node n({"--read-timeout", "2"});
  INFO(n.node.describe());

  SUBCASE("request line sent a byte at a time") {
    auto response = trickle(n.port(), "G", "ET /?slowly HTTP/1.1\r\nHost: x\r\n");
    INFO(response);
    CHECK(status_of(response) == 408);
    CHECK(body_of(response) == "request timeout: a request must arrive within 2 s\n");
    CHECK(metric(n.port(), R"(watercooler_http_requests_total{route="other",status="408"})") == 1);
    n.still_serves("a slow request line");
  }
  SUBCASE("headers sent a byte at a time (slowloris)") {
    auto response = trickle(n.port(), "GET / HTTP/1.1\r\nHost: x\r\n", "X-Slow: yes\r\n");
    INFO(response);
    CHECK(status_of(response) == 408);
    n.still_serves("slow headers");
  }
  SUBCASE("a publish body sent a byte at a time is cut and published nowhere") {
    auto response = trickle(n.port(),
                            "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            "application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                            "message=",
                            "slow");
    INFO(response);
    CHECK(status_of(response) == 408);
    n.still_serves("a slow body"); // and the listeners got no part of the slow one
  }
  SUBCASE("over HTTPS too (slowloris on TLS)") {
    auto response =
      trickle(n.node.secure_port(), "GET / HTTP/1.1\r\nHost: x\r\n", "X-Slow: yes\r\n", true);
    INFO(response);
    CHECK(status_of(response) == 408);
    n.still_serves("slow headers over HTTPS");
  }
}

TEST_CASE("bodies and messages over the limits get 413 and reach nobody") {
  abused_node n({"--max-body", "1000", "--max-message", "100"});
  INFO(n.node.describe());
  auto client = http_client(n.port());

  SUBCASE("a body over --max-body, with Content-Length") {
    auto res = client->Post("/publish", "message=" + std::string(1100, 'a'), form_type);
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(res->body == "message too large: at most 1000 bytes\n");
    n.still_serves("a large body");
  }
  SUBCASE("a chunked body over --max-body") {
    auto response = raw_exchange(
      n.port(),
      "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Transfer-Encoding: chunked\r\n\r\n44c\r\nmessage="
        + std::string(1092, 'b') + "\r\n0\r\n\r\n",
      in(20s));
    INFO(response);
    CHECK(status_of(response) == 413);
    n.still_serves("a large chunked body");
  }
  SUBCASE("a message over --max-message characters") {
    auto res = client->Post("/publish", "message=" + std::string(101, 'x'), form_type);
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(res->body == "message too long: at most 100 characters\n");
    n.still_serves("a long message");
  }
  SUBCASE("characters are counted, not bytes") {
    std::string text;
    for (int i = 0; i < 100; ++i)
      text += "\xe2\x82\xac"; // a hundred euro signs: 300 bytes of UTF-8
    CHECK(publish(n.port(), text) == 303);
    CHECK(n.plain->wait_for(text, in(15s)));
    CHECK(n.tls->wait_for(text, in(15s)));
    CHECK(publish(n.port(), text + "!") == 413);
    n.still_serves("a hundred-character message");
  }
}

TEST_CASE("streams over --max-streams per address get 429 until one closes") {
  // The plain and the TLS listener of abused_node hold two of the three.
  abused_node n({"--max-streams", "3"});
  INFO(n.node.describe());
  auto third = std::make_unique<sse_stream>(n.port());
  REQUIRE(third->status() == 200);
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    sse_stream refused(tls ? n.node.secure_port() : n.port(), tls);
    CHECK(refused.status() == 429);
    CHECK(refused.header("Retry-After") == "10");
    CHECK(refused.header("Connection") == "close"); // holds no pool thread for keep-alive
  }
  auto res = http_client(n.port())->Get("/listen");
  REQUIRE(res);
  CHECK(res->status == 429);
  CHECK(res->body == "too many event streams from your address: at most 3\n");

  SUBCASE("a plain stream that closes gives its place back") {
    third.reset();
  }
  SUBCASE("a TLS stream that closes gives its place back") {
    n.tls.reset();
    n.tls = std::move(third);
  }
  // The node notices the close within moments; a new stream is then let in.
  int status = 0;
  for (auto deadline = in(20s); clock::now() < deadline && status != 200;) {
    sse_stream again(n.port());
    status = again.status();
    if (status == 200)
      break;
    std::this_thread::sleep_for(200ms);
  }
  CHECK(status == 200);
  n.still_serves("streams over the limit");
}

TEST_CASE("publishes over --publish-rate per address get 429 with Retry-After") {
  abused_node n({"--publish-rate", "1", "--publish-burst", "3"});
  INFO(n.node.describe());
  auto client = http_client(n.port());
  // Ten at once: the burst of three passes; a token comes back each second, so some of the other
  // seven are refused however slowly this machine runs them.
  std::vector<std::string> passed;
  std::vector<httplib::Result> refused;
  for (int i = 0; i < 10; ++i) {
    auto text = "quick " + std::to_string(i);
    auto res = client->Post("/publish", "message=" + form_encode(text), form_type);
    REQUIRE(res);
    CAPTURE(res->status);
    REQUIRE((res->status == 303 || res->status == 429));
    if (res->status == 303)
      passed.push_back(text);
    else
      refused.push_back(std::move(res));
    if (i == 2)
      CHECK(passed.size() == 3);
  }
  REQUIRE_FALSE(refused.empty());
  CHECK(refused.front()->get_header_value("Retry-After") == "1");
  CHECK(refused.front()->get_header_value("Connection") == "close");
  CHECK(refused.front()->body.rfind("too many messages from your address: at most 1 a second", 0)
        == 0);
  // Exactly the accepted ones were delivered.
  for (auto* listener : {n.plain.get(), n.tls.get()}) {
    auto last = passed.back();
    auto seen =
      listener->read_until([&](const std::string& data) { return data == last; }, in(15s));
    CHECK(seen == passed);
  }
  // After Retry-After a token is back: the normal publish of still_serves passes.
  std::this_thread::sleep_for(1100ms);
  n.still_serves("a publish flood");
}

TEST_CASE("every response carries the security headers") {
  abused_node n({"--max-header", "4096"});
  INFO(n.node.describe());
  auto check_headers = [](const std::string& head) {
    CAPTURE(head);
    auto has = [&](const std::string& line) {
      return head.find(line + "\r\n") != std::string::npos;
    };
    CHECK(has("X-Content-Type-Options: nosniff"));
    CHECK(has("X-Frame-Options: SAMEORIGIN"));
    CHECK(has("Referrer-Policy: same-origin"));
    CHECK(head.find("Content-Security-Policy: default-src 'self';") != std::string::npos);
    CHECK(head.find("frame-ancestors 'self'") != std::string::npos);
  };
  struct request_case {
    const char* what;
    std::string request;
    int status;
  };
  const std::string form = "Content-Type: application/x-www-form-urlencoded\r\n";
  const std::vector<request_case> cases{
    {"the home page", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
    {"a static file", "GET /main.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
    {"the 404 page", "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
    {"/metrics", "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
    {"the publish redirect",
     "POST /publish HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + form
       + "Content-Length: 10\r\n\r\nmessage=hi",
     303},
    {"a refused publish",
     "POST /publish HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + form
       + "Content-Length: 8\r\n\r\nmessage=",
     400},
    {"a wrong method", "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405},
    {"a malformed request", "GARBAGE\r\n\r\n", 400},
    {"headers over the limit",
     "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n", 431},
    {"a request line over the limit", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    for (bool tls : {false, true}) {
      CAPTURE(tls);
      auto response = raw_exchange(tls ? n.node.secure_port() : n.port(), c.request, in(20s), tls);
      CHECK(status_of(response) == c.status);
      check_headers(response.substr(0, response.find("\r\n\r\n") + 2));
    }
  }
  for (auto* listener : {n.plain.get(), n.tls.get()}) { // the two publishes of "hi"
    int count = 0;
    auto seen = listener->read_until([&](const std::string&) { return ++count == 2; }, in(15s));
    CHECK(seen == std::vector<std::string>{"hi", "hi"});
  }
  n.still_serves("the header checks");
}

} // namespace watercooler::integration
