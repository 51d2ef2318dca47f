// Unit tests of the HTTP/2 session against an in-memory nghttp2 client: what its requests become
// as HTTP/1.1, what answers become as frames, the limits, the goodbyes and the event-stream
// channels. The two sessions trade bytes in a loop; time is a value.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nghttp2/nghttp2.h>

#include "web/http/h2_session.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;
using fields = std::vector<std::pair<std::string, std::string>>;

// What the client saw of one stream.
struct seen_stream {
  fields headers; // the response's, in order
  std::string body;
  bool ended = false;          // END_STREAM came
  std::optional<uint32_t> rst; // the server reset it, with this code
  bool closed = false;
};

// A request body the client sends up to `stop` (then the request stays unfinished).
struct upload {
  std::string bytes;
  std::size_t stop = std::string::npos;
  std::size_t at = 0;
};

// An nghttp2 client session in memory.
class test_client {
public:
  explicit test_client(std::vector<nghttp2_settings_entry> settings = {},
                       bool auto_window_update = true) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
    nghttp2_option* options = nullptr;
    nghttp2_option_new(&options);
    nghttp2_option_set_no_auto_window_update(options, auto_window_update ? 0 : 1);
    nghttp2_session_client_new2(&session, cbs, this, options);
    nghttp2_option_del(options);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  }
  ~test_client() {
    nghttp2_session_del(session);
  }
  test_client(const test_client&) = delete;
  test_client& operator=(const test_client&) = delete;

  // A request; without a body it ends with its HEADERS.
  int32_t request(const std::string& method, const std::string& path, const fields& extra = {},
                  upload* body = nullptr) {
    fields all{
      {":method", method}, {":scheme", "https"}, {":authority", authority}, {":path", path}};
    all.insert(all.end(), extra.begin(), extra.end());
    std::vector<nghttp2_nv> nva;
    for (auto& [name, value] : all)
      nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                     reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    nghttp2_data_provider provider{};
    provider.source.ptr = body;
    provider.read_callback = read_upload;
    auto id = nghttp2_submit_request(session, nullptr, nva.data(), nva.size(),
                                     body != nullptr ? &provider : nullptr, nullptr);
    REQUIRE(id > 0);
    return id;
  }
  int32_t get(const std::string& path, const fields& extra = {}) {
    return request("GET", path, extra);
  }
  int32_t post(const std::string& path, const std::string& body, const fields& extra = {}) {
    uploads_.push_back({body});
    return request("POST", path, extra, &uploads_.back());
  }

  // Frames the client has to send.
  std::string output() {
    std::string out;
    const uint8_t* data = nullptr;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session, &data)) > 0)
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    REQUIRE(n == 0);
    return out;
  }
  void input(const std::string& bytes) {
    auto n = nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(bytes.data()),
                                      bytes.size());
    REQUIRE(n == static_cast<ssize_t>(bytes.size()));
  }

  // The value of response field `name` on `stream` (empty if it did not come).
  std::string field(int32_t stream, const std::string& name) {
    for (const auto& [n, v] : streams[stream].headers)
      if (n == name)
        return v;
    return {};
  }

  nghttp2_session* session = nullptr;
  std::map<int32_t, seen_stream> streams;
  std::string authority = "example.org"; // of the requests to come
  std::optional<uint32_t> goaway_code;
  int32_t goaway_last_stream = -1;

private:
  static test_client& of(void* user) {
    return *static_cast<test_client*>(user);
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    of(user).streams[frame->hd.stream_id].headers.emplace_back(
      std::string(reinterpret_cast<const char*>(name), namelen),
      std::string(reinterpret_cast<const char*>(value), valuelen));
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                     void* user) {
    of(user).streams[id].body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = of(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self.goaway_code = frame->goaway.error_code;
      self.goaway_last_stream = frame->goaway.last_stream_id;
    } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
      self.streams[frame->hd.stream_id].rst = frame->rst_stream.error_code;
    } else if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
               && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      self.streams[frame->hd.stream_id].ended = true;
    }
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t id, uint32_t, void* user) {
    of(user).streams[id].closed = true;
    return 0;
  }
  static ssize_t read_upload(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                             uint32_t* flags, nghttp2_data_source* source, void*) {
    auto& body = *static_cast<upload*>(source->ptr);
    auto n = std::min({length, body.bytes.size() - body.at, body.stop - body.at});
    if (n == 0 && body.at == body.stop)
      return NGHTTP2_ERR_DEFERRED;
    std::copy_n(body.bytes.data() + body.at, n, buf);
    body.at += n;
    if (body.at == body.bytes.size())
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  std::list<upload> uploads_; // stable addresses for the data providers
};

// The connection's side: records what the session hands over.
struct recorder : h2_session::handler {
  struct refusal {
    int32_t stream;
    request_refusal why;
    std::string method, target;
  };
  std::map<int32_t, std::string> requests;
  std::vector<refusal> refusals;

  void request(int32_t stream, std::string http1_request) override {
    requests[stream] = std::move(http1_request);
  }
  std::string refused(int32_t stream, const request_refusal& why, const std::string& method,
                      const std::string& target) override {
    refusals.push_back({stream, why, method, target});
    auto body = why.reason + "\n";
    return "HTTP/1.1 " + std::to_string(why.status) + " Refused\r\nContent-Type: text/plain\r\n"
           + "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n"
           + body;
  }
};

// A server session and a client that talk through memory.
struct conversation {
  recorder handler;
  h2_session server;
  test_client client;
  h2_session::clock::time_point now = h2_session::clock::time_point{} + 1h;
  bool server_ok = true;

  explicit conversation(h2_limits limits = {}, std::vector<nghttp2_settings_entry> settings = {},
                        bool auto_window_update = true)
      : server(handler, limits), client(std::move(settings), auto_window_update) {}

  // Trades bytes until neither side has anything more to say.
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      auto to_server = client.output();
      if (!to_server.empty())
        server_ok = server.receive(to_server.data(), to_server.size(), now) && server_ok;
      std::string to_client;
      server.send(to_client, 1 << 20);
      if (!to_client.empty())
        client.input(to_client);
      if (to_server.empty() && to_client.empty())
        return;
    }
    FAIL("the sessions never stopped talking");
  }
};

const h2_limits small{1024, 100, 10, 4};

const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                           "Connection: keep-alive\r\nKeep-Alive: timeout=5, max=5\r\n"
                           "X-Frame-Options: DENY\r\nContent-Length: 5\r\n\r\nhello";

} // namespace

TEST_CASE("an HTTP/2 request reaches the handler as the HTTP/1.1 request it means") {
  conversation c(small);
  SUBCASE("a GET: Host from :authority, the fields as they came, no Content-Length") {
    auto id = c.client.get("/main.css?x=1", {{"accept", "text/css"}, {"user-agent", "t"}});
    c.pump();
    REQUIRE(c.handler.requests.count(id) == 1);
    CHECK(c.handler.requests[id]
          == "GET /main.css?x=1 HTTP/1.1\r\nHost: example.org\r\naccept: text/css\r\n"
             "user-agent: t\r\n\r\n");
    CHECK(c.server.in_flight() == 1);
  }
  SUBCASE("a host field is kept and :authority not added") {
    auto id = c.client.get("/", {{"host", "other.example"}});
    c.pump();
    CHECK(c.handler.requests[id] == "GET / HTTP/1.1\r\nhost: other.example\r\n\r\n");
  }
  SUBCASE("cookie fields, split for HPACK, are one Cookie line again (RFC 9113 8.2.3)") {
    auto id = c.client.get("/", {{"cookie", "a=1"}, {"accept", "*/*"}, {"cookie", "b=2"}});
    c.pump();
    CHECK(c.handler.requests[id]
          == "GET / HTTP/1.1\r\nHost: example.org\r\naccept: */*\r\ncookie: a=1; b=2\r\n\r\n");
  }
  SUBCASE("a POST: Content-Length from the DATA frames, then the body") {
    auto id = c.client.post("/publish", "message=hi",
                            {{"content-type", "application/x-www-form-urlencoded"}});
    c.pump();
    CHECK(c.handler.requests[id]
          == "POST /publish HTTP/1.1\r\nHost: example.org\r\ncontent-type: "
             "application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nmessage=hi");
  }
  SUBCASE("the client's content-length is replaced by the length that came") {
    auto id = c.client.post("/publish", "message=hi", {{"content-length", "10"}});
    c.pump();
    CHECK(c.handler.requests[id]
          == "POST /publish HTTP/1.1\r\nHost: example.org\r\nContent-Length: 10\r\n\r\n"
             "message=hi");
  }
  SUBCASE("an empty POST has Content-Length: 0") {
    auto id = c.client.post("/publish", "");
    c.pump();
    CHECK(c.handler.requests[id]
          == "POST /publish HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0\r\n\r\n");
  }
  SUBCASE("a body of exactly --max-body is taken") {
    auto id = c.client.post("/publish", std::string(small.max_body, 'x'));
    c.pump();
    CHECK(c.handler.requests.count(id) == 1);
    CHECK(c.handler.refusals.empty());
  }
  SUBCASE("streams of one connection are requests of their own") {
    auto a = c.client.get("/a");
    auto b = c.client.post("/b", "body");
    c.pump();
    CHECK(c.handler.requests.size() == 2);
    CHECK(c.handler.requests[a].rfind("GET /a ", 0) == 0);
    CHECK(c.handler.requests[b].rfind("POST /b ", 0) == 0);
    CHECK(c.server.in_flight() == 2);
  }
  CHECK(c.handler.refusals.empty());
  CHECK(c.server_ok);
}

TEST_CASE("a request is handed over only with its whole header list") {
  conversation c(small);
  // Long, but not part of the HTTP/1.1 request: the host field is.
  c.client.authority = std::string(2000, 'a');
  auto id = c.client.get(
    "/", {{"host", "example.org"}, {"x-padding", std::string(100, 'p')}, {"x-last", "yes"}});
  c.pump();
  REQUIRE(c.handler.requests.count(id) == 1);
  CHECK(c.handler.requests[id]
        == "GET / HTTP/1.1\r\nhost: example.org\r\nx-padding: " + std::string(100, 'p')
             + "\r\nx-last: yes\r\n\r\n");
}

TEST_CASE("an answer goes back as HEADERS and DATA without HTTP/1.1's connection fields") {
  conversation c(small);
  auto id = c.client.get("/");
  c.pump();
  REQUIRE(c.server.in_flight() == 1);
  c.server.respond(id, answer);
  c.pump();
  CHECK(c.server.in_flight() == 0);
  auto& seen = c.client.streams[id];
  CHECK(seen.headers
        == fields{{":status", "200"},
                  {"content-type", "text/plain; charset=utf-8"},
                  {"x-frame-options", "DENY"},
                  {"content-length", "5"}});
  CHECK(seen.body == "hello");
  CHECK(seen.ended);
  CHECK(seen.closed);
  CHECK_FALSE(seen.rst); // the request had ended
  CHECK(c.server.open_streams() == 0);
  SUBCASE("an answer without a body ends with its HEADERS") {
    auto next = c.client.get("/none");
    c.pump();
    c.server.respond(next, "HTTP/1.1 303 See Other\r\nLocation: /\r\nContent-Length: 0\r\n\r\n");
    c.pump();
    CHECK(c.client.streams[next].headers
          == fields{{":status", "303"}, {"location", "/"}, {"content-length", "0"}});
    CHECK(c.client.streams[next].body.empty());
    CHECK(c.client.streams[next].ended);
  }
  SUBCASE("an answer to a stream the client reset is dropped") {
    auto next = c.client.get("/gone");
    c.pump();
    nghttp2_submit_rst_stream(c.client.session, NGHTTP2_FLAG_NONE, next, NGHTTP2_CANCEL);
    c.pump();
    CHECK(c.server.open_streams() == 0);
    c.server.respond(next, answer);
    c.pump();
    CHECK(c.server.in_flight() == 0);
    CHECK(c.client.streams[next].headers.empty());
  }
}

TEST_CASE("a request over the limits is refused with the HTTP/1.1 reader's answer") {
  conversation c(small);
  SUBCASE("a header list over --max-header, seen at the request's end: 431") {
    auto id = c.client.get("/", {{"x-big", std::string(1100, 'a')}});
    c.pump();
    REQUIRE(c.handler.refusals.size() == 1);
    auto& r = c.handler.refusals[0];
    CHECK(r.stream == id);
    CHECK(r.why.status == 431);
    CHECK(r.why.reason == "request header too large: at most 1024 bytes in all, 8192 a line");
    CHECK(r.method == "GET");
    CHECK(r.target == "/");
    CHECK(c.client.field(id, ":status") == "431");
    CHECK(c.client.streams[id].body == r.why.reason + "\n");
  }
  SUBCASE("a header list far over --max-header, refused without waiting for the body: 431") {
    fields many;
    for (int i = 0; i < 40; ++i)
      many.emplace_back("x-field-" + std::to_string(i), std::string(100, 'b'));
    upload body{"message=hi", 0}; // never sent
    auto id = c.client.request("POST", "/", many, &body);
    c.pump();
    REQUIRE(c.handler.refusals.size() == 1);
    CHECK(c.handler.refusals[0].why.status == 431);
    CHECK(c.client.field(id, ":status") == "431");
  }
  SUBCASE("an :authority over --max-header, before :path: 431 for that target") {
    c.client.authority = std::string(3000, 'a');
    auto id = c.client.get("/page");
    c.pump();
    REQUIRE(c.handler.refusals.size() == 1);
    CHECK(c.handler.refusals[0].why.status == 431);
    CHECK(c.handler.refusals[0].target == "/page");
    CHECK(c.client.field(id, ":status") == "431");
  }
  SUBCASE("a body over --max-body: 413") {
    auto id = c.client.post("/publish", std::string(small.max_body + 1, 'x'));
    c.pump();
    REQUIRE(c.handler.refusals.size() == 1);
    auto& r = c.handler.refusals[0];
    CHECK(r.why.status == 413);
    CHECK(r.why.reason == "message too large: at most 100 bytes");
    CHECK(r.method == "POST");
    CHECK(r.target == "/publish");
    CHECK(c.client.field(id, ":status") == "413");
  }
  SUBCASE("a body over --max-body is refused before it ends: 413") {
    upload body{std::string(small.max_body + 50, 'x'), small.max_body + 1}; // the rest never comes
    auto id = c.client.request("POST", "/publish", {}, &body);
    c.pump();
    REQUIRE(c.handler.refusals.size() == 1);
    CHECK(c.handler.refusals[0].why.status == 413);
    CHECK(c.client.field(id, ":status") == "413");
    CHECK(c.server.open_streams() == 0);
  }
  SUBCASE("a request line over --max-header: 414") {
    auto id = c.client.get("/" + std::string(1500, 'p'));
    c.pump();
    REQUIRE(c.handler.refusals.size() == 1);
    CHECK(c.handler.refusals[0].why.status == 414);
    CHECK(c.handler.refusals[0].why.reason == "request line too long: at most 1024 bytes");
    CHECK(c.client.field(id, ":status") == "414");
  }
  CHECK(c.handler.requests.empty());
  CHECK(c.server.in_flight() == 0);
  CHECK(c.server_ok); // a refused stream is no reason to end the connection
}

TEST_CASE("a request not whole before its deadline is refused with 408") {
  conversation c(small);
  upload body{"message=hi", 8}; // the rest never comes
  auto begun = c.now;
  auto id = c.client.request("POST", "/publish", {}, &body);
  c.pump();
  CHECK(c.server.oldest_request() == begun);
  c.now += 5s;
  c.server.time_out_requests(begun - 1s, 10);
  c.pump();
  CHECK(c.handler.refusals.empty());
  c.server.time_out_requests(begun, 10);
  c.pump();
  REQUIRE(c.handler.refusals.size() == 1);
  CHECK(c.handler.refusals[0].why.status == 408);
  CHECK(c.handler.refusals[0].why.reason == "request timeout: a request must arrive within 10 s");
  CHECK(c.handler.refusals[0].target == "/publish");
  CHECK(c.client.field(id, ":status") == "408");
  CHECK(c.client.streams[id].ended);
  CHECK(c.client.streams[id].rst == NGHTTP2_NO_ERROR); // stop sending: RFC 9113 8.1
  CHECK(c.server.open_streams() == 0); // the stream is no reason to keep the connection
  CHECK(c.server.oldest_request() == h2_session::clock::time_point::max());
  CHECK(c.handler.requests.empty());
}

TEST_CASE("a client that keeps resetting streams gets GOAWAY with ENHANCE_YOUR_CALM") {
  conversation c(small); // 4 resets per 10 s
  auto open_and_reset = [&] {
    auto id = c.client.get("/");
    c.pump();
    nghttp2_submit_rst_stream(c.client.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    c.pump();
  };
  for (uint32_t i = 0; i < small.max_resets; ++i)
    open_and_reset();
  CHECK_FALSE(c.client.goaway_code);
  CHECK_FALSE(c.server.reset_flood());
  SUBCASE("one more at once is a flood") {
    open_and_reset();
    CHECK(c.client.goaway_code == NGHTTP2_ENHANCE_YOUR_CALM);
    CHECK(c.server.reset_flood());
    CHECK_FALSE(c.server.alive());
  }
  SUBCASE("the bucket refills in 10 s") {
    c.now += 10s;
    for (uint32_t i = 0; i < small.max_resets; ++i)
      open_and_reset();
    CHECK_FALSE(c.client.goaway_code);
    CHECK_FALSE(c.server.reset_flood());
    CHECK(c.server.alive());
  }
}

TEST_CASE("go_away sends GOAWAY and the streams open then still finish") {
  conversation c(small);
  auto id = c.client.get("/");
  c.pump();
  c.server.go_away();
  c.pump();
  CHECK(c.client.goaway_code == NGHTTP2_NO_ERROR);
  CHECK(c.client.goaway_last_stream == id);
  CHECK(c.server.alive()); // the stream is still open
  c.server.respond(id, answer);
  c.pump();
  CHECK(c.client.streams[id].body == "hello");
  CHECK(c.client.streams[id].ended);
  CHECK_FALSE(c.server.alive()); // nothing more to say: close
}

TEST_CASE("an event stream's channel sends what is written as DATA") {
  int wakes = 0;
  std::vector<transport::event> events; // outlives the session, which closes the channel
  // The client's stream windows start closed, and it opens them itself.
  conversation c(small, {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}}, false);
  auto id = c.client.get("/listen");
  c.pump();
  auto channel = c.server.respond_with_channel(
    id, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 0\r\n\r\n", [&] {
      ++wakes;
      return true;
    });
  REQUIRE(channel.get() != nullptr);
  CHECK(c.server.in_flight() == 0);
  channel->on_event([&](transport::event e) { events.push_back(e); });
  c.pump();
  // The head waits for the session's first bytes: it has joined the room by then.
  CHECK(c.client.streams[id].headers.empty());
  auto write = [&](const std::string& text) {
    iovec piece{const_cast<char*>(text.data()), text.size()};
    return channel->write(&piece, 1);
  };
  auto open_window = [&](int32_t size) {
    nghttp2_submit_window_update(c.client.session, NGHTTP2_FLAG_NONE, 0, size);
    nghttp2_submit_window_update(c.client.session, NGHTTP2_FLAG_NONE, id, size);
  };

  SUBCASE("written bytes go out once the connection resumes the stream, end() ends it") {
    open_window(1 << 20);
    c.pump();
    CHECK(write("data: one\n\n") == 11);
    CHECK(write("data: two\n\n") == 11);
    CHECK(wakes == 1); // one wake until the connection has looked
    c.server.resume(id);
    c.pump();
    CHECK(c.client.streams[id].headers
          == fields{{":status", "200"}, {"content-type", "text/event-stream"}});
    CHECK(c.client.streams[id].body == "data: one\n\ndata: two\n\n");
    CHECK_FALSE(c.client.streams[id].ended);
    channel->end();
    CHECK(wakes == 2);
    c.server.resume(id);
    c.pump();
    CHECK(c.client.streams[id].ended);
    CHECK(c.server.open_streams() == 0);
    CHECK(events == std::vector<transport::event>{transport::event::closed});
  }
  SUBCASE("a closed window leaves the channel full; writable once the client opens it") {
    std::string chunk(h2_channel::high_water, 'x');
    CHECK(write(chunk) == static_cast<long>(h2_channel::high_water));
    c.server.resume(id);
    c.pump();
    CHECK(c.client.streams[id].body.empty());
    CHECK(write("more") == 0); // full: wait for writable
    CHECK(channel->pending() == h2_channel::high_water);
    CHECK(events.empty());
    open_window(1 << 20);
    c.pump();
    CHECK((c.client.streams[id].body == chunk));
    CHECK(events == std::vector<transport::event>{transport::event::writable});
    CHECK(write("more") == 4);
  }
  SUBCASE("a client's reset ends the channel and tells its session") {
    nghttp2_submit_rst_stream(c.client.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    c.pump();
    CHECK(channel->gone());
    CHECK(write("data: late\n\n") == -1);
    CHECK(events == std::vector<transport::event>{transport::event::closed});
    CHECK(c.server.open_streams() == 0);
    c.server.resume(id); // a wake that comes late finds nothing
    c.pump();
  }
}

TEST_CASE("a channel to a stream that is gone is none") {
  conversation c(small);
  auto id = c.client.get("/listen");
  c.pump();
  nghttp2_submit_rst_stream(c.client.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  c.pump();
  auto channel = c.server.respond_with_channel(id, "HTTP/1.1 200 OK\r\n\r\n", [] { return true; });
  CHECK(channel.get() == nullptr);
  CHECK(c.server.in_flight() == 0);
}

TEST_CASE("destroying the session closes every channel") {
  std::shared_ptr<h2_channel> channel;
  std::vector<transport::event> events;
  {
    conversation c(small);
    auto id = c.client.get("/listen");
    c.pump();
    channel = c.server.respond_with_channel(id, "HTTP/1.1 200 OK\r\n\r\n", [] { return true; });
    REQUIRE(channel.get() != nullptr);
    channel->on_event([&](transport::event e) { events.push_back(e); });
  }
  CHECK(channel->gone());
  CHECK(events == std::vector<transport::event>{transport::event::closed});
}

} // namespace watercooler
