// GET /listen in-process: streams handed to session brokers join and leave the room.
#include <chrono>
#include <thread>

#include <arpa/inet.h>
#include <caf/io/all.hpp>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/room.hpp"
#include "web/actions.hpp"
#include "web/http_server.hpp"
#include "web/routes.hpp"
#include "web/sse.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

// A node's web layer on a free loopback port, without the cluster.
struct web_node {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::actor room_actor;
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  http_server server;
  std::thread thread;
  int port = 0;

  static caf::actor_system_config& with_middleman(caf::actor_system_config& c) {
    c.load<caf::io::middleman>();
    return c;
  }

  web_node() : sys(with_middleman(cfg)) {
    room_actor = sys.spawn(room, "nonode@nohost", 1, metrics);
    auto context = std::make_shared<web_context>();
    context->system = &sys;
    context->room = room_actor;
    context->metrics = metrics;
    context->node = "nonode@nohost";
    context->home_page_html = render_page("home_page.html", context->node);
    context->not_found_html = render_page("not_found_page.html", context->node);
    install_routes(server, context);
    server.set_logger([](const httplib::Request&, const httplib::Response&) {});
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }

  ~web_node() {
    server.stop();
    thread.join();
    caf::anon_send_exit(room_actor, caf::exit_reason::user_shutdown);
  }

  uint64_t sessions() {
    caf::scoped_actor self{sys};
    uint64_t n = 0;
    self->request(room_actor, 5s, stats_atom::value)
      .receive([&](uint64_t s, uint64_t, uint64_t, uint64_t) { n = s; },
               [&](const caf::error&) { FAIL("the room did not answer"); });
    return n;
  }
};

// Opens GET /listen and reads the response head; -1 if that fails within five seconds.
int open_stream(int port, std::string& head) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  std::string request = "GET /listen HTTP/1.1\r\nHost: test\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  head.clear();
  while (head.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    char buf[1024];
    ssize_t n = ::poll(&p, 1, 5000) > 0 ? ::recv(fd, buf, sizeof(buf), 0) : -1;
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    head.append(buf, static_cast<size_t>(n));
  }
  return fd;
}

} // namespace

TEST_CASE("a listen stream gets an event stream head and the published messages") {
  web_node node;
  std::string head;
  int fd = open_stream(node.port, head);
  REQUIRE(fd >= 0);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(head.find("Cache-Control: no-cache\r\n") != std::string::npos);
  CHECK(head.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  httplib::Client client("127.0.0.1", node.port);
  auto res =
    client.Post("/publish", "message=line+one%0Aline+two", "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 303);
  // The body is chunked: the event is inside one chunk.
  std::string body = head.substr(head.find("\r\n\r\n") + 4);
  auto event = sse_event("line one\nline two");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (body.find(event) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    char buf[1024];
    if (::poll(&p, 1, 500) > 0) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      body.append(buf, static_cast<size_t>(n));
    }
  }
  CHECK(body.find(event) != std::string::npos);
  ::close(fd);
}

TEST_CASE("after a thousand opened and closed streams the room holds no stale sessions") {
  web_node node;
  constexpr int batch = 100;
  int opened = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<int> fds;
    for (int i = 0; i < batch; ++i) {
      std::string head;
      int fd = open_stream(node.port, head);
      if (fd >= 0) {
        fds.push_back(fd);
        ++opened;
      }
    }
    if (round == 0)
      CHECK(node.sessions() == static_cast<uint64_t>(batch));
    for (int fd : fds)
      ::close(fd);
  }
  CHECK(opened == 1000);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  uint64_t left = node.sessions();
  while (left != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms); // polling for the brokers to see the closes
    left = node.sessions();
  }
  CHECK(left == 0);
}

} // namespace watercooler
