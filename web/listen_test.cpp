// The web layer in-process: GET /listen streams (text and JSON) handed to session brokers join
// and leave the room; the page's security headers.
#include <chrono>
#include <thread>

#include <arpa/inet.h>
#include <caf/io/all.hpp>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/room.hpp"
#include "test/eventually.hpp"
#include "web/actions.hpp"
#include "web/http/front.hpp"
#include "web/routes.hpp"
#include "web/stream/chat_event.hpp"
#include "web/stream/sse.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

// A node's web layer on a free loopback port, without the cluster.
struct web_node {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::actor room_actor;
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  router routes;
  std::unique_ptr<http_front> front;
  int port = 0;

  static caf::actor_system_config& with_middleman(caf::actor_system_config& c) {
    c.load<caf::io::middleman>();
    return c;
  }

  // `max_streams` per address: 0, no limit, as most tests open many streams from 127.0.0.1.
  std::shared_ptr<address_slots> streams;

  explicit web_node(stream_limits limits = {}, std::size_t max_streams = 0)
      : sys(with_middleman(cfg)), streams(std::make_shared<address_slots>(max_streams)) {
    room_actor = sys.spawn(room, "nonode@nohost", 1, metrics, history_limits{});
    auto context = std::make_shared<web_context>();
    context->system = &sys;
    context->room = room_actor;
    context->metrics = metrics;
    context->poller = std::make_shared<stream_poller>();
    context->limits = limits;
    context->publish_rate = std::make_shared<rate_limiter>(0, 0); // tests publish in bursts
    context->streams = streams;
    context->node = "nonode@nohost";
    context->home_page_html = render_page("home_page.html", context->node);
    context->not_found_html = render_page("not_found_page.html", context->node);
    install_routes(routes, context);
    routes.set_logger([](const httplib::Request&, const httplib::Response&) {});
    front = std::make_unique<http_front>(routes, front_settings{}, metrics);
    front->set_refusal_logger([](const httplib::Request&, const httplib::Response&) {});
    std::string error;
    port = front->listen("127.0.0.1", 0, nullptr, error);
    REQUIRE_MESSAGE(port != 0, error);
    REQUIRE_MESSAGE(front->start(error), error);
  }

  ~web_node() {
    front->stop();
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
// `receive_buffer` > 0 makes the client's socket buffer that small.
int open_stream(int port, std::string& head, const std::string& path = "/listen",
                int receive_buffer = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) // before connect, so the window stays small
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
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

// Appends to `received` what arrives on `fd` within `wait_ms`; false once the peer closed.
bool receive_some(int fd, std::string& received, int wait_ms = 500) {
  pollfd p{fd, POLLIN, 0};
  char buf[4096];
  if (::poll(&p, 1, wait_ms) <= 0)
    return true;
  auto n = ::recv(fd, buf, sizeof(buf), 0);
  if (n <= 0)
    return false;
  received.append(buf, static_cast<size_t>(n));
  return true;
}

// Receives into `received` until it holds `wanted`, the peer closes or `timeout` passes.
bool receive_until(int fd, std::string& received, const std::string& wanted,
                   std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received.find(wanted) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    if (!receive_some(fd, received))
      break;
  return received.find(wanted) != std::string::npos;
}

// The events of a stream, through the parser, until `done` says enough or five seconds pass.
template <class Done>
std::vector<sse_message> read_events(int fd, std::string body, Done done) {
  // Chunked framing is stripped loosely: a chunk-size line is never an SSE field line.
  sse_parser parser;
  std::vector<sse_message> events;
  std::string pending;
  auto feed = [&](const std::string& bytes) {
    pending += bytes;
    std::size_t at;
    while ((at = pending.find("\r\n")) != std::string::npos) {
      auto size = std::stoul(pending.substr(0, at), nullptr, 16);
      if (pending.size() < at + 2 + size + 2)
        return;
      for (auto& e : parser.feed(pending.substr(at + 2, size)))
        events.push_back(std::move(e));
      pending.erase(0, at + 2 + size + 2);
    }
  };
  feed(body);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done(events) && std::chrono::steady_clock::now() < deadline) {
    std::string bytes;
    if (!receive_some(fd, bytes))
      break;
    feed(bytes);
  }
  return events;
}

int publish_form(int port, const std::string& body, const httplib::Headers& headers = {},
                 std::string* answer = nullptr) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/publish", headers, body, "application/x-www-form-urlencoded");
  if (!res)
    return -1;
  if (answer)
    *answer = res->body;
  return res->status;
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
  CHECK(head.find("X-Content-Type-Options: nosniff\r\n") != std::string::npos);
  CHECK(head.find("X-Frame-Options: SAMEORIGIN\r\n") != std::string::npos);
  httplib::Client client("127.0.0.1", node.port);
  auto res =
    client.Post("/publish", "message=line+one%0Aline+two", "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 303);
  // The body is chunked: the event is inside one chunk.
  std::string body = head.substr(head.find("\r\n\r\n") + 4);
  CHECK(receive_until(fd, body, sse_event("line one\nline two"), 5s));
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
  CHECK(eventually([&] { return node.sessions() == 0; })); // the sessions see the closes
}

} // namespace watercooler

namespace watercooler {

TEST_CASE("a stream gives its place in its address's count back when it closes") {
  web_node node({}, 2);
  std::vector<int> fds;
  for (int i = 0; i < 2; ++i) {
    std::string head;
    int fd = open_stream(node.port, head);
    REQUIRE(fd >= 0);
    CHECK(head.rfind("HTTP/1.1 200 ", 0) == 0);
    fds.push_back(fd);
  }
  CHECK(node.streams->open("127.0.0.1") == 2);
  std::string refused;
  int fd = open_stream(node.port, refused);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(refused.rfind("HTTP/1.1 429 ", 0) == 0);
  CHECK(refused.find("\r\nRetry-After: 10\r\n") != std::string::npos);
  for (int open : fds)
    ::close(open);
  CHECK(eventually([&] { return node.streams->open("127.0.0.1") == 0; }));
  std::string again;
  fd = open_stream(node.port, again);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(again.rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("a json listen stream replays the recent history, then the live messages") {
  web_node node;
  for (int i = 1; i <= 3; ++i)
    CHECK(publish_form(node.port, "message=old+" + std::to_string(i) + "&name=ann") == 303);
  std::string head;
  int fd = open_stream(node.port, head, "/listen?format=json");
  REQUIRE(fd >= 0);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(publish_form(node.port, "message=%22live%22%0Aline&name=+Bob+") == 303);
  auto events = read_events(fd, head.substr(head.find("\r\n\r\n") + 4),
                            [](const std::vector<sse_message>& e) { return e.size() >= 4; });
  REQUIRE(events.size() == 4);
  std::vector<std::string> texts;
  for (const auto& event : events) {
    auto json = nlohmann::json::parse(event.data);
    CHECK(json.at("origin") == "nonode@nohost");
    // The event's id is the stream's position: every origin's last message on it.
    CHECK(event.last_event_id.rfind("nonode@nohost~1~", 0) == 0);
    CHECK(json.at("published_ms").is_number_integer());
    texts.push_back(json.at("text"));
  }
  CHECK(texts == std::vector<std::string>{"old 1", "old 2", "old 3", "\"live\"\nline"});
  CHECK(nlohmann::json::parse(events[0].data).at("author") == "ann");
  CHECK(nlohmann::json::parse(events[3].data).at("author") == "Bob");
  CHECK(nlohmann::json::parse(events[0].data).at("id") == "nonode@nohost/1/1");
  CHECK(events[0].last_event_id == "nonode@nohost~1~1");
  CHECK(events[3].last_event_id == "nonode@nohost~1~4");
  ::close(fd);
}

TEST_CASE("a json listen stream replays at most the last fifty messages") {
  web_node node;
  for (int i = 1; i <= 60; ++i)
    REQUIRE(publish_form(node.port, "message=m" + std::to_string(i)) == 303);
  std::string head;
  int fd = open_stream(node.port, head, "/listen?format=json");
  REQUIRE(fd >= 0);
  CHECK(publish_form(node.port, "message=live") == 303);
  auto events = read_events(fd, head.substr(head.find("\r\n\r\n") + 4),
                            [](const std::vector<sse_message>& e) { return e.size() >= 51; });
  REQUIRE(events.size() == 51);
  CHECK(nlohmann::json::parse(events.front().data).at("text") == "m11");
  CHECK(nlohmann::json::parse(events[49].data).at("text") == "m60");
  CHECK(nlohmann::json::parse(events.back().data).at("text") == "live");
  ::close(fd);
}

TEST_CASE("the plain listen stream replays nothing and stays the tutorial's text") {
  web_node node;
  CHECK(publish_form(node.port, "message=before&name=ann") == 303);
  std::string head;
  int fd = open_stream(node.port, head);
  REQUIRE(fd >= 0);
  CHECK(publish_form(node.port, "message=after&name=ann") == 303);
  auto events = read_events(fd, head.substr(head.find("\r\n\r\n") + 4),
                            [](const std::vector<sse_message>& e) { return !e.empty(); });
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "after");
  CHECK(events[0].last_event_id == "nonode@nohost~1~2"); // only the id is added
  ::close(fd);
}

TEST_CASE("an unknown listen format is a 400 with a reason") {
  web_node node;
  httplib::Client client("127.0.0.1", node.port);
  for (const char* path : {"/listen?format=xml", "/listen?format=", "/listen?format=JSON"}) {
    CAPTURE(path);
    auto res = client.Get(path);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body == "unknown format: use format=json, or no format for text\n");
  }
}

TEST_CASE("a listen stream's client id and name are checked, with a reason for each") {
  web_node node;
  httplib::Client client("127.0.0.1", node.port);
  const std::string id = "abcdefghijklmnop";
  const std::pair<std::string, std::string> cases[] = {
    {"/listen?format=json&client=abc", "bad client: 16 to 64 characters of A-Z, a-z, 0-9, _ and -"},
    {"/listen?format=json&client=abcdefghijklmno%2F", "bad client: 16 to 64 characters of A-Z, "
                                                      "a-z, 0-9, _ and -"},
    {"/listen?format=json&client=" + id + "&name=%FF", "invalid UTF-8 in name"},
    {"/listen?format=json&client=" + id + "&name=a%0Db",
     "the name must not contain control characters"},
  };
  for (const auto& [path, reason] : cases) {
    CAPTURE(path);
    auto res = client.Get(path);
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body == reason + "\n");
  }
}

TEST_CASE("publish takes an optional display name and refuses a bad one") {
  web_node node;
  std::string answer;
  CHECK(publish_form(node.port, "message=hi&name=" + std::string(65, 'x'), {}, &answer) == 400);
  CHECK(answer == "name too long: at most 64 characters\n");
  CHECK(publish_form(node.port, "message=hi&name=a%0Ab", {}, &answer) == 400);
  CHECK(answer == "the name must not contain control characters\n");
  CHECK(publish_form(node.port, "message=&name=ann", {}, &answer) == 400);
  CHECK(answer == "empty message\n");
  SUBCASE("a script asking for JSON learns the message's id") {
    CHECK(publish_form(node.port, "message=hi&name=ann", {{"Accept", "application/json"}}, &answer)
          == 200);
    CHECK(nlohmann::json::parse(answer) == nlohmann::json{{"id", "nonode@nohost/1/1"}});
  }
}

TEST_CASE("pages carry a content security policy without inline script") {
  web_node node;
  httplib::Client client("127.0.0.1", node.port);
  for (const char* path : {"/", "/nope"}) {
    CAPTURE(path);
    auto res = client.Get(path);
    REQUIRE(res);
    auto csp = res->get_header_value("Content-Security-Policy");
    CHECK(csp.find("script-src 'self'") != std::string::npos);
    CHECK(csp.find("frame-src 'self'") != std::string::npos);
    CHECK(csp.find("worker-src 'self'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
  }
  for (const char* path : {"/main.js", "/stream_worker.js", "/stream_core.js"}) {
    CAPTURE(path);
    auto res = client.Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/javascript; charset=utf-8");
    CHECK(res->get_header_value("X-Content-Type-Options") == "nosniff");
  }
}

} // namespace watercooler

namespace watercooler {

TEST_CASE("a publish body over the limit gets 413 and the connection closes unread") {
  web_node node;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(node.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  // Keep-alive, and the body after the head, as browsers send it: the unread body must not be
  // taken for a next request.
  std::string body = "message=" + std::string(70000, 'x');
  std::string head = "POST /publish HTTP/1.1\r\nHost: test\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: "
                     + std::to_string(body.size()) + "\r\n\r\n";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  std::string response;
  bool body_sent = false;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!body_sent && response.find("too large") != std::string::npos) {
      ::send(fd, body.data(), body.size(), MSG_NOSIGNAL);
      body_sent = true;
    }
    if (!receive_some(fd, response))
      break; // closed
  }
  ::close(fd);
  CHECK(response.rfind("HTTP/1.1 413 ", 0) == 0);
  CHECK(response.find("message too large") != std::string::npos);
  CHECK(response.find("HTTP/1.1 414") == std::string::npos);
  CHECK(response.find("HTTP/1.1", 1) == std::string::npos); // one response only
}

} // namespace watercooler

namespace watercooler {

namespace {} // namespace

TEST_CASE("a client that stops reading gets a gap and the end of its stream, and resumes") {
  web_node node(stream_limits{1000, 64 * 1024});
  std::string fast_head;
  std::string slow_head;
  int fast = open_stream(node.port, fast_head);
  int slow = open_stream(node.port, slow_head, "/listen", 4096);
  REQUIRE(fast >= 0);
  REQUIRE(slow >= 0);
  REQUIRE(eventually([&] { return node.sessions() == 2; }));
  // Publish one message at a time, each read by the fast client before the next: the slow one
  // reads nothing until the node has given up on it (its kernel buffers hold a few MB first).
  std::vector<std::string> published;
  std::vector<sse_message> fast_events;
  std::string fast_body = fast_head.substr(fast_head.find("\r\n\r\n") + 4);
  for (int i = 1; i <= 200 && node.metrics->fell_behind == 0; ++i) {
    auto text = std::to_string(i) + ":" + std::string(60000, 'x');
    caf::anon_send(node.room_actor, publish_atom::value, std::string("ann"), text);
    published.push_back(text);
    auto got = read_events(fast, fast_body, [&](const std::vector<sse_message>& e) {
      return !e.empty() && e.back().data.size() == text.size();
    });
    fast_body.clear();
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == text);
  }
  CHECK(node.metrics->fell_behind == 1);
  CHECK(eventually([&] { return node.sessions() == 1; })); // the fast one stays
  // The slow client reads on: messages in order from the first, then the gap, then the end.
  bool ended = false;
  auto slow_events = read_events(slow, slow_head.substr(slow_head.find("\r\n\r\n") + 4),
                                 [&](const std::vector<sse_message>& e) {
                                   ended = !e.empty() && e.back().type == "gap";
                                   return ended;
                                 });
  REQUIRE(ended);
  CHECK(slow_events.back().data == R"({"reason":"slow client"})");
  INFO("published " << published.size() << ", slow got " << slow_events.size());
  slow_events.pop_back();
  REQUIRE(!slow_events.empty());
  REQUIRE(slow_events.size() < published.size());
  for (size_t i = 0; i < slow_events.size(); ++i)
    CHECK(slow_events[i].data == published[i]);
  char byte;
  CHECK(::recv(slow, &byte, 1, 0) == 0); // the node closed it
  ::close(slow);
  // Resuming where it stopped reading gives it exactly the rest.
  std::string head;
  int resumed =
    open_stream(node.port, head, "/listen?last_event_id=" + slow_events.back().last_event_id);
  REQUIRE(resumed >= 0);
  auto rest_count = published.size() - slow_events.size();
  auto rest =
    read_events(resumed, head.substr(head.find("\r\n\r\n") + 4),
                [&](const std::vector<sse_message>& e) { return e.size() >= rest_count; });
  INFO("resumed with " << rest.size() << " of " << rest_count);
  REQUIRE(rest.size() == rest_count);
  for (size_t i = 0; i < rest.size(); ++i)
    CHECK(rest[i].data == published[slow_events.size() + i]);
  ::close(resumed);
  ::close(fast);
}

TEST_CASE("every byte a stream gets is counted in the metrics, heartbeats included") {
  web_node node;
  std::string head;
  int fd = open_stream(node.port, head);
  REQUIRE(fd >= 0);
  caf::anon_send(node.room_actor, heartbeat_atom::value, uint64_t{1});
  std::string received = head;
  REQUIRE(receive_until(fd, received, heartbeat_comment, 10s));
  caf::anon_send(node.room_actor, heartbeat_atom::value, uint64_t{0}); // no more beats
  node.sessions(); // the room has taken that in: no heartbeat comes after what it sent
  CHECK(eventually([&] {
    receive_some(fd, received, 0);
    return node.metrics->bytes_sent == received.size();
  }));
  ::close(fd);
}

} // namespace watercooler
