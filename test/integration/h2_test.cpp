// HTTP/2 on the HTTPS port: every route through curl --http2 answers as over HTTP/1.1; event
// streams where frames matter through h2_client.py (Python h2): a hundred on one connection, one
// that stops reading, resuming, rapid reset, SIGTERM.
#include <algorithm>
#include <cctype>
#include <csignal>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test/eventually.hpp"
#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string python = "/usr/bin/python3"; // Debian's, with python3-h2
const std::string h2_script = WATERCOOLER_SOURCE_DIR "/test/integration/h2_client.py";
const std::string curl = "/usr/bin/curl";
const std::string nghttp = "/usr/bin/nghttp";
const std::string form_type = "application/x-www-form-urlencoded";
const std::string farewell = "retry: 1000\n: node stopping\n\n";

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string lower(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// One request as both protocols send it.
struct request {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body; // sent (with a form type unless a header says otherwise) if not empty
};

struct answer {
  std::string version; // "2", "1.1"
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers; // names in lower case
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == lower(std::string(name)))
        return v;
    return {};
  }
};

// The request through curl --http2 on the HTTPS port (which must choose h2 by ALPN).
answer over_h2(const sandbox& sb, uint16_t port, const request& r) {
  static int count = 0;
  auto head_file = sb.dir().file("curl-head-" + std::to_string(++count));
  auto body_file = sb.dir().file("curl-body-" + std::to_string(count));
  std::vector<std::string> args{
    curl, "-sk", "--http2", "--max-time", "15", "-w", "%{http_version}", "-D", head_file};
  if (r.method == "HEAD") // --head writes the head where the body would go: there is none
    args.insert(args.end(), {"--head", "-o", "/dev/null"});
  else
    args.insert(args.end(), {"-o", body_file});
  if (r.method != "GET" && r.method != "POST" && r.method != "HEAD")
    args.insert(args.end(), {"-X", r.method});
  for (const auto& [name, value] : r.headers)
    args.insert(args.end(), {"-H", name + ": " + value});
  if (!r.body.empty())
    args.insert(args.end(), {"--data-binary", r.body});
  args.push_back("https://127.0.0.1:" + std::to_string(port) + r.path);
  auto run = run_process(args, {}, sb.dir(), 30s);
  INFO(r.method, " ", r.path, ": curl said ", run.err);
  REQUIRE(run.exit_code == 0);
  answer a;
  a.version = run.out;
  a.body = read_file(body_file);
  std::istringstream head(read_file(head_file));
  std::string line;
  std::getline(head, line); // "HTTP/2 200 "
  a.status = std::atoi(line.c_str() + line.find(' ') + 1);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto colon = line.find(':');
    if (colon != std::string::npos)
      a.headers.emplace_back(lower(line.substr(0, colon)), line.substr(colon + 2));
  }
  return a;
}

// The same request over HTTP/1.1 on the same port.
answer over_h1(uint16_t port, const request& r) {
  httplib::Request req;
  req.method = r.method;
  req.path = r.path;
  for (const auto& [name, value] : r.headers)
    req.set_header(name, value);
  req.body = r.body;
  if (!r.body.empty() && !req.has_header("Content-Type"))
    req.set_header("Content-Type", form_type);
  auto res = https_client(port)->send(req);
  INFO(r.method, " ", r.path, " over HTTP/1.1");
  REQUIRE(res);
  answer a{"1.1", res->status, {}, res->body};
  for (const auto& [name, value] : res->headers)
    a.headers.emplace_back(lower(name), value);
  return a;
}

void check_security_headers(const answer& a) {
  CHECK(a.header("X-Content-Type-Options") == "nosniff");
  CHECK(a.header("X-Frame-Options") == "SAMEORIGIN");
  CHECK(a.header("Referrer-Policy") == "same-origin");
  CHECK(a.header("Content-Security-Policy").rfind("default-src 'self';", 0) == 0);
  CHECK(contains(a.header("Content-Security-Policy"), "frame-ancestors 'self'"));
}

// h2_client.py as a child process (killed and reaped by PID whatever happens); its output, both
// streams, in a log in the sandbox.
class h2_client {
public:
  h2_client(const sandbox& sb, std::vector<std::string> args) {
    static int count = 0;
    log_path_ = sb.dir().file("h2_client-" + std::to_string(++count) + ".log");
    args.insert(args.begin(), {python, h2_script});
    process_.spawn(args, {}, log_path_);
  }

  std::string log() const {
    return read_file(log_path_);
  }

  // REQUIREs that every stream has its response head: what is published from now on is theirs.
  void require_ready() {
    bool ready = eventually([&] {
      auto text = log();
      return text.rfind("ready\n", 0) == 0 || contains(text, "\nready\n") || !process_.running();
    });
    INFO("h2_client.py: ", log());
    REQUIRE(ready);
    REQUIRE(process_.running());
  }

  // What the client printed as its result, once it has exited 0.
  nlohmann::json result(clock::time_point deadline) {
    auto code = process_.wait_exit(deadline);
    auto text = log();
    INFO("h2_client.py: ", text);
    CHECK(code == 0);
    auto start = text.rfind("result ");
    REQUIRE(start != std::string::npos);
    auto end = text.find('\n', start);
    return nlohmann::json::parse(text.substr(start + 7, end - start - 7));
  }

private:
  std::string log_path_;
  child_process process_;
};

// The data of a stream's events (the h2_client.py result), probes of require_flow left out.
std::vector<std::string> texts(const nlohmann::json& stream) {
  std::vector<std::string> out;
  for (const auto& event : stream.at("events")) {
    auto data = event.at("data").get<std::string>();
    if (!sse_stream::is_probe(data))
      out.push_back(data);
  }
  return out;
}

// True once a line of the node's log matches `pattern`.
bool logged(const node_process& node, const std::regex& pattern) {
  return eventually([&] { return node.logged(pattern); });
}

} // namespace

TEST_CASE("every route answers over HTTP/2 as over HTTP/1.1") {
  sandbox sb;
  auto& node = sb.start_ready(
    {"--max-header", "4096", "--max-body", "1000", "--publish-rate", "1", "--publish-burst", "20"});
  INFO(node.describe());
  auto port = node.secure_port();
  const std::vector<std::pair<std::string, std::string>> accept_json{
    {"Accept", "application/json"}};

  struct route_case {
    const char* what;
    request r;
    int status;
    const char* type; // the start of its Content-Type
    bool same_body;   // the same bytes over both protocols
  };
  const std::vector<route_case> cases{
    {"the page", {"GET", "/", {}, ""}, 200, "text/html", true},
    {"the page's head", {"HEAD", "/", {}, ""}, 200, "text/html", false},
    {"the style sheet", {"GET", "/main.css?v=1", {}, ""}, 200, "text/css", true},
    {"the script", {"GET", "/main.js", {}, ""}, 200, "application/javascript", true},
    {"the 404 page", {"GET", "/nope", {}, ""}, 404, "text/html", true},
    {"GET /publish", {"GET", "/publish", {}, ""}, 405, "text/plain", true},
    {"DELETE /", {"DELETE", "/", {}, ""}, 405, "text/plain", true},
    {"a publish", {"POST", "/publish", {}, "message=over+h2"}, 303, "text/html", true},
    {"a publish asking for JSON",
     {"POST", "/publish", accept_json, "message=json"},
     200,
     "application/json",
     false},
    {"an empty message", {"POST", "/publish", {}, "message="}, 400, "text/plain", true},
    {"a text/plain body",
     {"POST", "/publish", {{"Content-Type", "text/plain"}}, "message=hi"},
     415,
     "text/plain",
     true},
    {"a body over --max-body",
     {"POST", "/publish", {}, "message=" + std::string(1100, 'a')},
     413,
     "text/plain",
     true},
    {"a header over --max-header",
     {"GET", "/", {{"X-Big", std::string(9000, 'b')}}, ""},
     431,
     "text/plain",
     true},
    {"/metrics", {"GET", "/metrics", {}, ""}, 200, "text/plain", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    auto h2 = over_h2(sb, port, c.r);
    auto h1 = over_h1(port, c.r);
    CHECK(h2.version == "2");
    CHECK(h2.status == c.status);
    CHECK(h1.status == c.status);
    CHECK(h2.header("Content-Type").rfind(c.type, 0) == 0);
    CHECK(h2.header("Content-Type") == h1.header("Content-Type"));
    CHECK(h2.header("Location") == h1.header("Location"));
    CHECK(h2.header("Allow") == h1.header("Allow"));
    if (c.same_body)
      CHECK(h2.body == h1.body);
    CHECK(h2.header("Connection").empty()); // no connection-specific fields on HTTP/2
    check_security_headers(h2);
    if (c.status == 200 && c.r.path == "/" && c.r.method == "GET") {
      CHECK(contains(h2.body, "<h1>Watercooler</h1>"));
      CHECK(contains(h2.body, "<h2>Node: nonode@nohost</h2>"));
    }
    if (c.same_body || c.r.method == "HEAD")
      CHECK(h2.header("Content-Length") == h1.header("Content-Length"));
    if (c.status == 303)
      CHECK(h2.header("Location") == "/");
    if (c.status == 200 && c.r.path == "/publish")
      CHECK(nlohmann::json::parse(h2.body).at("id").is_string());
    if (c.r.path == "/metrics")
      CHECK(contains(h2.body, "\nwatercooler_h2_reset_floods_total 0\n"));
  }

  // Publishes over --publish-rate: one connection, one request after another. A token comes back
  // each second, so some are refused however slowly this machine runs them.
  std::vector<std::string> args{curl,
                                "-sk",
                                "--http2",
                                "--max-time",
                                "30",
                                "-w",
                                "%{http_version} %{response_code}\\n",
                                "--data-binary",
                                "message=flood"};
  for (int i = 0; i < 40; ++i)
    args.insert(args.end(),
                {"-o", "/dev/null", "https://127.0.0.1:" + std::to_string(port) + "/publish"});
  auto run = run_process(args, {}, sb.dir(), 60s);
  INFO("curl: ", run.out, run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.out, "2 303\n"));
  CHECK(contains(run.out, "2 429\n"));
  auto refused = over_h2(sb, port, {"POST", "/publish", {}, "message=flood"});
  if (refused.status == 429) { // unless a token came back meanwhile
    CHECK(refused.header("Retry-After") == "1");
    CHECK(refused.body.rfind("too many messages from your address: at most 1 a second", 0) == 0);
    check_security_headers(refused);
  }

  // The request log: "HH:MM:SS.mmm [info] 127.0.0.1 GET / Sent 200 in 412µs (HTTP/2)".
  CHECK(logged(node, std::regex(R"(^\d\d:\d\d:\d\d\.\d{3} \[info\] 127\.0\.0\.1 GET / Sent 200 )"
                                R"(in \S+ \(HTTP/2\)$)")));
  CHECK(
    logged(node, std::regex(R"(\[info\] 127\.0\.0\.1 POST /publish Sent 303 in \S+ \(HTTP/2\)$)")));
  CHECK(
    logged(node, std::regex(R"(\[info\] 127\.0\.0\.1 POST /publish Sent 429 in \S+ \(HTTP/2\)$)")));
  CHECK(logged(node, std::regex(R"(\[info\] 127\.0\.0\.1 GET /nope Sent 404 in \S+ \(HTTP/2\)$)")));
  // Refused before routing, and logged all the same.
  CHECK(logged(node, std::regex(R"(\[info\] 127\.0\.0\.1 GET / Sent 431 in \S+ \(HTTP/2\)$)")));
  // HTTP/1.1 lines as always.
  CHECK(logged(node, std::regex(R"(\[info\] 127\.0\.0\.1 GET /nope Sent 404 in \S+$)")));
}

TEST_CASE(
  "a hundred event streams on one HTTP/2 connection each get every message once, in order") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb, {"--max-streams", "0", "--publish-rate", "0"});
  INFO(describe({&first, &second}));
  {
    sse_stream watch(first.port());
    require_flow(second, watch, in(30s));
  }
  h2_client client(sb, {"listen", "--port", std::to_string(first.secure_port()), "--streams", "100",
                        "--until", "m20"});
  client.require_ready();
  std::vector<std::string> sent;
  for (int i = 1; i <= 20; ++i) {
    sent.push_back("m" + std::to_string(i));
    REQUIRE(publish(second.port(), sent.back()) == 303);
  }
  auto result = client.result(in(30s));
  const auto& streams = result.at("streams");
  REQUIRE(streams.size() == 100);
  for (const auto& stream : streams) {
    CAPTURE(stream.at("id"));
    CHECK(stream.at("status") == 200);
    CHECK(texts(stream) == sent);
  }
  CHECK(result.at("goaway").is_null());
}

TEST_CASE(
  "an HTTP/2 stream that stops reading gets the gap and ends, its connection's others go on") {
  sandbox sb;
  auto& node = sb.start_ready({"--publish-rate", "0", "--stream-queue", "4"});
  INFO(node.describe());
  // Stream 1 reads nothing after its first KiB (its window) until the others have every message.
  h2_client client(sb, {"listen", "--port", std::to_string(node.secure_port()), "--streams", "3",
                        "--slow", "1", "--window", "1024", "--until", "last"});
  client.require_ready();
  // Messages of a KiB: what the slow stream's window and its 64 KiB channel hold is some 64 of
  // them, then 4 wait in its queue; the next one puts it over --stream-queue.
  std::vector<std::string> sent;
  for (int i = 1; i <= 100; ++i) {
    sent.push_back("m" + std::to_string(i) + " " + std::string(1000, 'x'));
    REQUIRE(publish(node.port(), sent.back()) == 303);
  }
  sent.push_back("last");
  REQUIRE(publish(node.port(), "last") == 303);
  auto result = client.result(in(30s));
  const auto& streams = result.at("streams");
  REQUIRE(streams.size() == 3);
  for (std::size_t i = 1; i < 3; ++i) {
    CAPTURE(i);
    CHECK(texts(streams[i]) == sent);
    CHECK(streams[i].at("ended").is_null()); // still open when the client stopped
  }
  const auto& slow = streams[0];
  auto got = texts(slow);
  INFO("the slow stream got ", got.size(), " events");
  REQUIRE(got.size() >= 2);
  REQUIRE(got.size() < 100);
  // What it had before it fell behind, in order, then the gap event once, then its end.
  CHECK(got.back() == R"({"reason":"slow client"})");
  CHECK(slow.at("events").back().at("event") == "gap");
  got.pop_back();
  CHECK(std::vector<std::string>(sent.begin(), sent.begin() + static_cast<long>(got.size()))
        == got);
  CHECK(slow.at("ended") == "end_stream");
  CHECK(metric(node.port(), "watercooler_sessions_fell_behind_total") == 1);
}

TEST_CASE("HTTP/2 streams count in --max-streams: the one over gets 429, the others go on") {
  sandbox sb;
  auto& node = sb.start_ready({"--max-streams", "2", "--publish-rate", "0"});
  INFO(node.describe());
  h2_client client(sb, {"listen", "--port", std::to_string(node.secure_port()), "--streams", "3",
                        "--until", "hi"});
  client.require_ready();
  REQUIRE(publish(node.port(), "hi") == 303);
  auto result = client.result(in(20s));
  int refused = 0;
  for (const auto& stream : result.at("streams")) {
    CAPTURE(stream.at("id"));
    if (stream.at("status") == 429) {
      ++refused;
      CHECK(stream.at("ended") == "end_stream");
      CHECK(stream.at("tail") == "too many event streams from your address: at most 2\n");
    } else {
      CHECK(stream.at("status") == 200);
      CHECK(texts(stream) == std::vector<std::string>{"hi"});
    }
  }
  CHECK(refused == 1);
  CHECK(result.at("goaway").is_null()); // the connection itself goes on
}

TEST_CASE("an HTTP/2 stream resumed with Last-Event-ID gets exactly the messages it missed") {
  sandbox sb;
  auto& node = sb.start_ready({"--publish-rate", "0"});
  INFO(node.describe());
  auto port = std::to_string(node.secure_port());
  std::string last_id;
  {
    h2_client before(sb, {"listen", "--port", port, "--until", "seen"});
    before.require_ready();
    REQUIRE(publish(node.port(), "seen") == 303);
    auto stream = before.result(in(20s)).at("streams").at(0);
    CHECK(texts(stream) == std::vector<std::string>{"seen"});
    last_id = stream.at("events").back().at("id");
  } // the browser loses its connection
  REQUIRE(!last_id.empty());
  for (const char* text : {"missed 1", "missed 2", "missed 3"})
    REQUIRE(publish(node.port(), text) == 303);
  h2_client resumed(
    sb, {"listen", "--port", port, "--header", "last-event-id: " + last_id, "--until", "live"});
  resumed.require_ready();
  REQUIRE(publish(node.port(), "live") == 303);
  auto stream = resumed.result(in(20s)).at("streams").at(0);
  CHECK(texts(stream) == std::vector<std::string>{"missed 1", "missed 2", "missed 3", "live"});
}

TEST_CASE(
  "a client resetting HTTP/2 streams over --h2-max-resets gets GOAWAY and the node serves on") {
  sandbox sb;
  auto& node = sb.start_ready({"--h2-max-resets", "50"});
  INFO(node.describe());
  auto port = std::to_string(node.secure_port());
  auto reset_flood = [&](int count) {
    auto run = run_process(
      {python, h2_script, "reset-flood", "--port", port, "--count", std::to_string(count)}, {},
      sb.dir(), 30s);
    INFO("h2_client.py: ", run.out, run.err);
    REQUIRE(run.exit_code == 0);
    REQUIRE(run.out.rfind("result ", 0) == 0);
    return nlohmann::json::parse(run.out.substr(7));
  };
  // Within the limit: the request after the resets is answered on the same connection.
  auto calm = reset_flood(40);
  CHECK(calm.at("goaway").is_null());
  CHECK(calm.at("last_status") == 200);
  // Over it: GOAWAY with ENHANCE_YOUR_CALM (0xb), and the connection ends.
  auto flood = reset_flood(100);
  REQUIRE(flood.at("goaway").is_object());
  CHECK(flood.at("goaway").at("error") == 11);
  CHECK(flood.at("last_status").is_null());
  CHECK(flood.at("closed") == true);
  CHECK(eventually([&] { return metric(node.port(), "watercooler_h2_reset_floods_total") == 1; }));
  CHECK(contains(node.log(), "over --h2-max-resets"));

  // A new HTTP/2 connection, HTTPS and HTTP are served.
  auto run = run_process({nghttp, "-nv", "https://127.0.0.1:" + port + "/"}, {}, sb.dir(), 30s);
  INFO("nghttp: ", run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "The negotiated protocol: h2"));
  CHECK(contains(run.out, ":status: 200"));
  auto res = https_client(node.secure_port())->Get("/");
  REQUIRE(res);
  CHECK(res->status == 200);
  res = http_client(node.port())->Get("/");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("SIGTERM ends each HTTP/2 stream with retry, sends GOAWAY and exits 0") {
  sandbox sb;
  auto& node = sb.start_ready({});
  INFO(node.describe());
  // Reads until every stream has ended.
  h2_client client(sb, {"listen", "--port", std::to_string(node.secure_port()), "--streams", "3"});
  client.require_ready();
  REQUIRE(publish(node.port(), "before the stop") == 303);
  REQUIRE(::kill(node.pid(), SIGTERM) == 0);
  auto result = client.result(in(20s));
  REQUIRE(result.at("goaway").is_object());
  CHECK(result.at("goaway").at("error") == 0); // NO_ERROR: a graceful stop
  const auto& streams = result.at("streams");
  REQUIRE(streams.size() == 3);
  for (const auto& stream : streams) {
    CAPTURE(stream.at("id"));
    CHECK(texts(stream) == std::vector<std::string>{"before the stop"});
    CHECK(stream.at("ended") == "end_stream");
    auto tail = stream.at("tail").get<std::string>();
    CHECK(tail.size() >= farewell.size());
    CHECK(tail.substr(tail.size() - std::min(tail.size(), farewell.size())) == farewell);
  }
  CHECK(node.wait_exit(in(20s)) == 0);
}

} // namespace watercooler::integration
