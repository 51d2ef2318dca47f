// The keep-alive loop's pool: idle and silent connections give their threads up to waiting ones.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web/http_server.hpp"

namespace watercooler {

namespace {

// A client connection to 127.0.0.1:port; closed at scope exit.
struct client {
  int fd = -1;

  explicit client(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~client() {
    ::close(fd);
  }

  // Sends GET / and returns the response's bytes up to its body "hi", or what came before the
  // server closed or 20 s passed (a bound for a broken build, not a measure).
  std::string get() {
    std::string request = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (response.find("\r\n\r\nhi") == std::string::npos
           && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      char buf[1024];
      if (::poll(&p, 1, 100) <= 0)
        continue;
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      response.append(buf, static_cast<size_t>(n));
    }
    return response;
  }
};

// True once the server has closed one of `a` and `b` (within 20 s).
bool one_closed_by_server(const client& a, const client& b) {
  pollfd p[2] = {{a.fd, POLLIN, 0}, {b.fd, POLLIN, 0}};
  if (::poll(p, 2, 20000) <= 0)
    return false;
  char byte;
  for (const auto& each : p)
    if ((each.revents & (POLLIN | POLLHUP)) != 0 && ::recv(each.fd, &byte, 1, 0) == 0)
      return true;
  return false;
}

} // namespace

TEST_CASE("idle and silent connections give their threads up to a connection that waits") {
  http_server server;
  server.set_threads(2);
  server.set_keep_alive_timeout(3600); // without giving up, the third client would wait an hour
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hi", "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });

  SUBCASE("idle after a request: closed when another connection needs the thread") {
    client first(port), second(port);
    CHECK(first.get().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(second.get().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    // Both threads now wait for the next request of an idle connection.
    client third(port);
    CHECK(third.get().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(one_closed_by_server(first, second));
  }
  SUBCASE("silent since accepted: closed when another connection needs the thread") {
    client first(port), second(port); // they take both threads and never send a request
    client third(port);
    CHECK(third.get().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(one_closed_by_server(first, second));
  }
  SUBCASE("a connection in use keeps its thread") {
    client first(port);
    CHECK(first.get().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    // With nobody waiting, the idle connection stays open and serves its next requests.
    for (int i = 0; i < 3; ++i)
      CHECK(first.get().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  }

  server.stop();
  thread.join();
}

} // namespace watercooler
