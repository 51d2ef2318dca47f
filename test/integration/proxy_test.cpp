// Behind a real nginx (Debian's nginx-light) with deploy/nginx.conf: the page, publishing, a
// stream fed by both nodes and its resumption, and per-address limits that see the client
// named by the trusted proxy, never one named by anybody else.
#include <algorithm>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const char* const nginx_binary = "/usr/sbin/nginx";

// `text` with `from` replaced by `to`; REQUIREs that it is there (the example may not drift).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "deploy/nginx.conf has no '" << from << "'");
  return text.replace(at, from.size(), to);
}

// nginx in the foreground, one process, with every path in a temp dir and the example config
// listening on 127.0.0.1:port in front of `upstreams`; killed by its PID at scope exit.
class nginx_process {
public:
  nginx_process(uint16_t first_upstream, uint16_t second_upstream) {
    REQUIRE_MESSAGE(::access(nginx_binary, X_OK) == 0,
                    nginx_binary << " is missing: scripts/setup installs nginx-light");
    auto site = read_file(std::string(WATERCOOLER_SOURCE_DIR) + "/deploy/nginx.conf");
    site = replaced(site, "server 127.0.0.1:8081;",
                    "server 127.0.0.1:" + std::to_string(first_upstream) + ";");
    site = replaced(site, "server 127.0.0.1:8082;",
                    "server 127.0.0.1:" + std::to_string(second_upstream) + ";");
    site = replaced(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(port) + ";");
    dir_.write("watercooler.conf", site);
    std::string temps;
    for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
      temps += std::string("  ") + kind + "_temp_path " + dir_.file(kind) + ";\n";
    auto conf = dir_.write("nginx.conf", "error_log " + dir_.file("error.log")
                                           + " info;\n"
                                             "events { worker_connections 512; }\n"
                                             "http {\n  access_log "
                                           + dir_.file("access.log") + ";\n" + temps + "  include "
                                           + dir_.file("watercooler.conf") + ";\n}\n");
    process_.spawn({nginx_binary, "-p", dir_.path(), "-c", conf, "-g",
                    "daemon off; master_process off; pid " + dir_.file("nginx.pid") + ";"},
                   {}, dir_.file("output.log"));
    auto deadline = in(10s);
    while (clock::now() < deadline && process_.running())
      if (auto res = http_client(port)->Get("/"); res && res->status == 200)
        return;
      else
        std::this_thread::sleep_for(50ms); // not listening yet
    FAIL("nginx did not come up on port " << port << ": " << log());
  }
  std::string log() const {
    return read_file(dir_.file("output.log")) + read_file(dir_.file("error.log"));
  }

  const uint16_t port = free_port();

private:
  temp_dir dir_;
  child_process process_; // stopped (SIGKILL, by PID) before dir_ goes
};

// POST /publish `text` to 127.0.0.1:port, from the loopback address `source`, with `headers`;
// the status, 0 if no answer came.
int publish_from(uint16_t port, const char* source, const std::string& text,
                 const std::string& headers = "") {
  auto deadline = in(10s);
  auto conn = connection::open(port, false, deadline, 0, source);
  REQUIRE_MESSAGE(conn != nullptr, "cannot connect from " << source << " to port " << port);
  auto body = "message=" + form_encode(text);
  REQUIRE(conn->write_all("POST /publish HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                            + "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                              "Content-Length: "
                            + std::to_string(body.size()) + "\r\nConnection: close\r\n" + headers
                            + "\r\n" + body,
                          deadline));
  std::string answer;
  while (conn->read_some(answer, deadline) == connection::read_status::data)
    if (answer.find("\r\n") != std::string::npos)
      break;
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(answer.c_str() + 9) : 0;
}

// Publishes from `source` until the answer is 429 (at most `tries` times); whether it came.
bool publish_until_refused(uint16_t port, const char* source, int tries,
                           const std::function<std::string(int)>& headers) {
  for (int i = 0; i < tries; ++i)
    if (publish_from(port, source, "flood " + std::to_string(i), headers(i)) == 429)
      return true;
  return false;
}

} // namespace

TEST_CASE("two nodes behind nginx serve the page, publish and one stream of both") {
  sandbox sb;
  auto [node1, node2] = start_two_nodes(sb, {"--trust-proxy", "127.0.0.1"});
  nginx_process nginx(node1.port(), node2.port());
  INFO(describe({&node1, &node2}), "\nnginx: ", nginx.log());

  SUBCASE("the page, and a publish answered 303") {
    auto page = http_client(nginx.port)->Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(std::regex_search(page->body, std::regex("node[12]@127\\.0\\.0\\.1")));
    CHECK(publish_from(nginx.port, "127.0.0.1", "through nginx") == 303);
  }

  SUBCASE("the Origin check sees the browser's host through the proxy") {
    auto own = "Origin: http://127.0.0.1:" + std::to_string(nginx.port) + "\r\n";
    CHECK(publish_from(nginx.port, "127.0.0.1", "own page", own) == 303);
    CHECK(publish_from(nginx.port, "127.0.0.1", "evil", "Origin: http://evil.example\r\n") == 403);
    // the same forged headers straight from a client are not believed
    CHECK(publish_from(node1.port(), "127.0.0.2", "forged",
                       own + "X-Forwarded-Host: 127.0.0.1:" + std::to_string(nginx.port) + "\r\n")
          == 403);
  }

  SUBCASE("a stream through nginx hears both nodes and resumes with Last-Event-ID") {
    std::string last_id;
    {
      sse_stream stream(nginx.port);
      REQUIRE(stream.status() == 200);
      require_flow(node1, stream, in(20s));
      require_flow(node2, stream, in(20s));
      REQUIRE(publish_from(nginx.port, "127.0.0.1", "before the break") == 303);
      while (auto event = stream.next_event(in(10s))) {
        if (event->data != "before the break")
          continue;
        last_id = event->last_event_id;
        break;
      }
      REQUIRE_FALSE(last_id.empty());
    }
    REQUIRE(publish(node1.port(), "missed on node1") == 303);
    REQUIRE(publish(node2.port(), "missed on node2") == 303);
    // wherever nginx sends it, the stream picks up after the last event it had
    sse_stream resumed(nginx.port, false, 10s, "/listen", 0, "Last-Event-ID: " + last_id + "\r\n");
    REQUIRE(resumed.status() == 200);
    std::vector<std::string> missed;
    auto seen = resumed.read_until(
      [&](const std::string& data) {
        if (data.rfind("missed on ", 0) == 0)
          missed.push_back(data);
        return missed.size() == 2;
      },
      in(10s));
    CAPTURE(seen.size());
    CHECK(missed.size() == 2);
    CHECK(std::find(seen.begin(), seen.end(), "before the break") == seen.end());
  }
}

TEST_CASE("per-address limits count the client a trusted proxy names, never a forged one") {
  sandbox sb;
  auto& node = sb.start_ready({"--trust-proxy", "127.0.0.1", "--publish-rate", "1",
                               "--publish-burst", "1", "--max-streams", "1"});
  nginx_process nginx(node.port(), node.port()); // one node: one set of buckets
  INFO(node.describe(), "\nnginx: ", nginx.log());
  auto none = [](int) { return std::string(); };

  SUBCASE("through nginx: per client, as X-Forwarded-For names it") {
    REQUIRE(publish_until_refused(nginx.port, "127.0.0.2", 20, none));
    // another client behind the same proxy has its own allowance
    CHECK(publish_from(nginx.port, "127.0.0.3", "another client") == 303);
    CHECK(node.logged(std::regex(R"(\] 127\.0\.0\.2 POST /publish Sent 429)")));
    CHECK(node.logged(std::regex(R"(\] 127\.0\.0\.3 POST /publish Sent 303)")));
  }

  SUBCASE("--max-streams through nginx: per client, as X-Forwarded-For names it") {
    sse_stream first(nginx.port, false, 10s, "/listen", 0, "", "127.0.0.2");
    REQUIRE(first.status() == 200);
    sse_stream second(nginx.port, false, 10s, "/listen", 0, "", "127.0.0.2");
    CHECK(second.status() == 429);
    sse_stream other(nginx.port, false, 10s, "/listen", 0, "", "127.0.0.3");
    CHECK(other.status() == 200);
    // straight to the node, a forged header makes no other client of 127.0.0.2
    sse_stream forged(node.port(), false, 10s, "/listen", 0, "X-Forwarded-For: 198.51.100.1\r\n",
                      "127.0.0.2");
    CHECK(forged.status() == 429);
    sse_stream direct(node.port(), false, 10s, "/listen", 0, "", "127.0.0.4");
    CHECK(direct.status() == 200);
  }

  SUBCASE("straight from an untrusted client: its own address, whatever the header says") {
    auto forged = [](int i) {
      return "X-Forwarded-For: 198.51.100." + std::to_string(i + 1) + "\r\n";
    };
    REQUIRE(publish_until_refused(node.port(), "127.0.0.4", 20, forged));
    CHECK(node.logged(std::regex(R"(\] 127\.0\.0\.4 POST /publish Sent 429)")));
    CHECK_FALSE(node.logged(std::regex(R"(\] 198\.51\.100\.)")));
  }

  SUBCASE("a client that writes its own X-Forwarded-For to nginx is still itself") {
    auto forged = [](int i) {
      return "X-Forwarded-For: 198.51.100." + std::to_string(i + 1) + "\r\n";
    };
    REQUIRE(publish_until_refused(nginx.port, "127.0.0.5", 20, forged));
    CHECK(node.logged(std::regex(R"(\] 127\.0\.0\.5 POST /publish Sent 429)")));
    CHECK_FALSE(node.logged(std::regex(R"(\] 198\.51\.100\.)")));
  }
}

} // namespace watercooler::integration
