// The front's event loop: keep-alive, pipelining, deadlines, connection limits and TLS, with a
// router of a few plain handlers and real sockets on 127.0.0.1.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/certificate.hpp"
#include "test/eventually.hpp"
#include "web/http/front.hpp"
#include "web/http/tls_context.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// A front on a free port of 127.0.0.1 (and a TLS one beside it when asked for).
struct test_front {
  router routes;
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  std::unique_ptr<http_front> front;
  int port = 0;
  int tls_port = 0;
  std::string tls_dir;

  explicit test_front(front_settings settings, bool with_tls = false) {
    routes.Get("/a", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("answer a", "text/plain");
    });
    routes.Get("/b", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("answer b", "text/plain");
    });
    routes.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("echo " + req.body, "text/plain");
    });
    routes.set_logger([](const httplib::Request&, const httplib::Response&) {});
    front = std::make_unique<http_front>(routes, settings, metrics);
    front->set_refusal_logger([](const httplib::Request&, const httplib::Response&) {});
    std::string error;
    port = front->listen("127.0.0.1", 0, nullptr, error);
    REQUIRE_MESSAGE(port != 0, error);
    if (with_tls) {
      char dir[] = "/tmp/front-test-XXXXXX";
      REQUIRE(::mkdtemp(dir) != nullptr);
      tls_dir = dir;
      auto files = ensure_self_signed_certificate(tls_dir);
      REQUIRE(files);
      const auto& paths = *files;
      auto tls = server_tls(paths.certificate_path, paths.key_path, error);
      REQUIRE_MESSAGE(tls != nullptr, error);
      tls_port = front->listen("127.0.0.1", 0, tls, error);
      REQUIRE_MESSAGE(tls_port != 0, error);
    }
    REQUIRE_MESSAGE(front->start(error), error);
  }
  ~test_front() {
    front->stop();
    if (!tls_dir.empty())
      std::system(("rm -rf " + tls_dir).c_str());
  }
};

// A client connection from `source` (any address of 127.0.0.0/8); closed at scope exit.
struct client {
  int fd = -1;

  explicit client(int port, const char* source = "127.0.0.1") {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
  }
  ~client() {
    ::close(fd);
  }

  void send(const std::string& bytes) {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL)
            == static_cast<ssize_t>(bytes.size()));
  }

  // Reads until `received` holds `count` complete responses (by Content-Length), the server
  // closes, or `timeout` passes (a bound for a broken build, not a measure).
  std::string responses(int count, std::chrono::milliseconds timeout = 10s) {
    auto deadline = steady::now() + timeout;
    while (complete() < count && steady::now() < deadline && !closed) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        closed = true;
      else
        received.append(buf, static_cast<size_t>(n));
    }
    return received;
  }

  // True once the server closed the connection (within `timeout`).
  bool closed_by_server(std::chrono::milliseconds timeout = 10s) {
    responses(1000, timeout);
    return closed;
  }

  // Complete responses in `received`.
  int complete() const {
    int n = 0;
    std::size_t at = 0;
    for (;;) {
      auto head_end = received.find("\r\n\r\n", at);
      if (head_end == std::string::npos)
        return n;
      auto length_at = received.find("Content-Length: ", at);
      std::size_t length = 0;
      if (length_at != std::string::npos && length_at < head_end)
        length = std::stoul(received.substr(length_at + 16));
      if (received.size() < head_end + 4 + length)
        return n;
      ++n;
      at = head_end + 4 + length;
    }
  }

  std::string received;
  bool closed = false;
};

const std::string get_a = "GET /a HTTP/1.1\r\nHost: t\r\n\r\n";
const std::string get_b = "GET /b HTTP/1.1\r\nHost: t\r\n\r\n";

int status_of(const std::string& response) {
  return response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
}

} // namespace

TEST_CASE("idle keep-alive connections stay open however many others come and go") {
  front_settings settings;
  settings.threads = 2;
  settings.keep_alive_timeout = 60s;
  test_front t(settings);
  std::vector<std::unique_ptr<client>> idle;
  for (int i = 0; i < 40; ++i) { // many more than there are workers
    idle.push_back(std::make_unique<client>(t.port));
    idle.back()->send(get_a);
    REQUIRE(idle.back()->responses(1).find("answer a") != std::string::npos);
  }
  for (int i = 0; i < 40; ++i) {
    client passing(t.port);
    passing.send(get_b);
    CHECK(passing.responses(1).find("answer b") != std::string::npos);
  }
  // The passing ones close asynchronously.
  CHECK(eventually([&] { return t.metrics->connections.load() == 40; }));
  for (auto& c : idle) { // all still open, and each still served
    c->received.clear();
    c->send(get_b);
    CHECK(c->responses(1).find("answer b") != std::string::npos);
    CHECK_FALSE(c->closed);
  }
}

TEST_CASE("an idle connection closes after the keep-alive timeout, not a request that began") {
  front_settings settings;
  settings.keep_alive_timeout = 1s;
  test_front t(settings);
  SUBCASE("idle: closed") {
    client c(t.port);
    c.send(get_a);
    REQUIRE(c.responses(1).find("answer a") != std::string::npos);
    CHECK(c.closed_by_server());
    CHECK(c.complete() == 1);
  }
  SUBCASE("a byte of the next request came: that request is answered") {
    client c(t.port), idle(t.port);
    for (auto* each : {&c, &idle}) {
      each->send(get_a);
      REQUIRE(each->responses(1).find("answer a") != std::string::npos);
    }
    c.send("G");
    // Once the idle one is closed, the keep-alive timeout has passed for `c` too.
    REQUIRE(idle.closed_by_server());
    c.send(get_b.substr(1));
    CHECK(c.responses(2).find("answer b") != std::string::npos);
    CHECK_FALSE(c.closed);
  }
}

TEST_CASE("pipelined requests are answered in order on one connection") {
  test_front t(front_settings{});
  client c(t.port);
  c.send(get_b + get_a + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
         + get_b);
  auto all = c.responses(4);
  REQUIRE(c.complete() == 4);
  auto b1 = all.find("answer b");
  auto a = all.find("answer a");
  auto echo = all.find("echo hello");
  auto b2 = all.find("answer b", b1 + 1);
  CHECK(b1 < a);
  CHECK(a < echo);
  CHECK(echo < b2);
  CHECK(b2 != std::string::npos);
  CHECK_FALSE(c.closed);
}

TEST_CASE("a request that does not arrive within the read timeout gets 408 and the close") {
  front_settings settings;
  settings.read_timeout = 1s;
  test_front t(settings);
  client c(t.port);
  c.send("GET /a HTTP/1.1\r\nHost: t\r\n");
  CHECK(c.closed_by_server());
  CHECK(status_of(c.received) == 408);
  CHECK(c.received.find("request timeout: a request must arrive within 1 s\n")
        != std::string::npos);
}

TEST_CASE("connections over the per-address limit get 429, other addresses are served") {
  front_settings settings;
  settings.max_per_address = 3;
  test_front t(settings);
  std::vector<std::unique_ptr<client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<client>(t.port));
    held.back()->send(get_a);
    REQUIRE(held.back()->responses(1).find("answer a") != std::string::npos);
  }
  client over(t.port);
  CHECK(over.closed_by_server());
  CHECK(status_of(over.received) == 429);
  CHECK(t.metrics->refused_per_address.load() == 1);
  client elsewhere(t.port, "127.0.0.2");
  elsewhere.send(get_b);
  CHECK(elsewhere.responses(1).find("answer b") != std::string::npos);
  held.pop_back(); // gives its place back once the front has seen the close
  REQUIRE(eventually([&] { return t.metrics->connections.load() <= 3; }));
  client again(t.port);
  again.send(get_b);
  CHECK(again.responses(1).find("answer b") != std::string::npos);
}

TEST_CASE("connections over the limit in all get 503") {
  front_settings settings;
  settings.max_connections = 2;
  test_front t(settings);
  client one(t.port), two(t.port, "127.0.0.2");
  one.send(get_a);
  two.send(get_a);
  REQUIRE(one.responses(1).find("answer a") != std::string::npos);
  REQUIRE(two.responses(1).find("answer a") != std::string::npos);
  client three(t.port, "127.0.0.3");
  CHECK(three.closed_by_server());
  CHECK(status_of(three.received) == 503);
  CHECK(t.metrics->refused_in_all.load() == 1);
}

TEST_CASE("TLS handshakes wait on the loop: silent clients hold up no one") {
  front_settings settings;
  settings.threads = 1;
  test_front t(settings, true);
  std::vector<std::unique_ptr<client>> silent;
  for (int i = 0; i < 20; ++i) // never start their handshakes
    silent.push_back(std::make_unique<client>(t.tls_port));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  client c(t.tls_port);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  SSL_set_fd(ssl.get(), c.fd);
  REQUIRE(SSL_connect(ssl.get()) == 1); // blocking socket: waits for the node
  REQUIRE(SSL_write(ssl.get(), get_a.data(), static_cast<int>(get_a.size())) > 0);
  std::string response;
  char buf[4096];
  int n;
  while (response.find("answer a") == std::string::npos
         && (n = SSL_read(ssl.get(), buf, sizeof(buf))) > 0)
    response.append(buf, static_cast<size_t>(n));
  CHECK(status_of(response) == 200);
  CHECK(response.find("answer a") != std::string::npos);
  ERR_clear_error();
}

} // namespace watercooler
