// One real node: its page, publish, listen, static files, errors, HTTPS and request log.
#include <csignal>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string form_type = "application/x-www-form-urlencoded";

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Publishes `text` and REQUIREs that `listener` hears exactly it next.
void require_delivered(uint16_t port, sse_stream& listener, const std::string& text) {
  REQUIRE(publish(port, text) == 303);
  auto event = listener.next_event(10s);
  REQUIRE_MESSAGE(event.has_value(), "no event for '" << text << "'");
  CHECK(event->type == "message");
  CHECK(event->data == text);
}

} // namespace

TEST_CASE("a single node serves its page, takes form posts and streams them to listeners") {
  sandbox sb;
  auto& node = sb.start(sb.config("node1@127.0.0.1"));
  INFO(node.describe());
  node.require_ready();
  auto client = http_client(node.port());

  SUBCASE("GET / is the page of this node") {
    auto res = client->Get("/");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
    for (const char* part :
         {"<h1>Watercooler</h1>", "<h2>Node: node1@127.0.0.1</h2>", "<iframe name=\"myframe\"",
          "<form action=\"/publish\" method=\"post\" target=\"myframe\">", "name=\"message\"",
          "<ul id=\"messages\" aria-live=\"polite\"", "/main.css", "<script src=\"/main.js\">"}) {
      CAPTURE(part);
      CHECK(contains(res->body, part));
    }
  }

  SUBCASE("HEAD / sends the head of the page and no body") {
    auto response =
      raw_exchange(node.port(), "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", in(10s));
    INFO("response: ", response);
    CHECK(starts_with(response, "HTTP/1.1 200"));
    auto end = response.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    CHECK(response.size() == end + 4);
    auto res = client->Head("/");
    REQUIRE(res);
    CHECK(res->status == 200);
  }

  SUBCASE("the stream's head arrives at once: event-stream, no-cache, chunked") {
    sse_stream listener(node.port());
    INFO("head: ", listener.head());
    CHECK(listener.status() == 200);
    CHECK(starts_with(listener.header("Content-Type"), "text/event-stream"));
    CHECK(contains(listener.header("Cache-Control"), "no-cache"));
    CHECK(listener.header("Transfer-Encoding") == "chunked");
  }

  SUBCASE("a publish answers 303 to / and reaches every listener as one event") {
    sse_stream first(node.port());
    sse_stream second(node.port());
    // Publishes `body`; both listeners must get exactly `text` as one default event.
    auto publish_reaches_both = [&](const std::string& body, const std::string& text) {
      auto res = client->Post("/publish", body, form_type);
      REQUIRE(res);
      CHECK(res->status == 303);
      CHECK(res->get_header_value("Location") == "/");
      for (auto* listener : {&first, &second}) {
        auto event = listener->next_event(10s);
        REQUIRE(event.has_value());
        CHECK(event->type == "message");
        CHECK(event->data == text);
      }
    };
    publish_reaches_both("message=hello", "hello");

    SUBCASE("the form is decoded once: %26 stays an ampersand") {
      publish_reaches_both("message=two+words+%26+more", "two words & more");
    }
    SUBCASE("a multi-line message is one event of two data lines") {
      publish_reaches_both("message=a%0Ab", "a\nb");
    }
    SUBCASE("non-ASCII text arrives unchanged") {
      require_delivered(node.port(), first, "caf\xc3\xa9 \xe2\x82\xac <b>&amp;</b>");
      auto event = second.next_event(10s);
      REQUIRE(event.has_value());
      CHECK(event->data == "caf\xc3\xa9 \xe2\x82\xac <b>&amp;</b>");
    }
  }

  SUBCASE("a bad form is refused with a short reason and publishes nothing") {
    sse_stream listener(node.port());
    struct bad_post {
      const char* what;
      std::string body;
      std::string content_type;
      int status;
    };
    const std::vector<bad_post> cases{
      {"no message field", "other=1", form_type, 400},
      {"an empty body", "", form_type, 400},
      {"an empty message", "message=", form_type, 400},
      {"malformed percent-encoding", "message=%zz", form_type, 400},
      {"invalid UTF-8", "message=%ff", form_type, 400},
      {"a text/plain body", "message=hi", "text/plain", 415},
      {"a JSON body", "{\"message\":\"hi\"}", "application/json", 415},
      {"a body over 65536 bytes", "message=" + std::string(70000, 'a'), form_type, 413},
    };
    for (const auto& bad : cases) {
      CAPTURE(bad.what);
      auto res = http_client(node.port())->Post("/publish", bad.body, bad.content_type);
      REQUIRE(res);
      CHECK(res->status == bad.status);
      CHECK(starts_with(res->get_header_value("Content-Type"), "text/plain"));
      CHECK(!res->body.empty());
      CHECK(res->body.size() < 200);
      // The next event must be this one: the bad post published nothing.
      require_delivered(node.port(), listener, std::string("still here after ") + bad.what);
    }
  }

  SUBCASE("static files carry their content types; query strings are ignored") {
    struct asset {
      const char* path;
      const char* type;
    };
    for (const auto& [path, type] :
         {asset{"/main.css", "text/css"}, asset{"/main.js", "application/javascript"},
          asset{"/favicon.ico", "image/vnd.microsoft.icon"}}) {
      CAPTURE(path);
      auto res = client->Get(path);
      REQUIRE(res);
      CHECK(res->status == 200);
      CHECK(starts_with(res->get_header_value("Content-Type"), type));
      CHECK(!res->body.empty());
      auto with_query = client->Get(std::string(path) + "?v=1");
      REQUIRE(with_query);
      CHECK(with_query->status == 200);
      CHECK(starts_with(with_query->get_header_value("Content-Type"), type));
      CHECK(with_query->body == res->body);
    }
  }

  SUBCASE("an unknown path is the 404 page; a known path with the wrong method is 405") {
    auto res = client->Get("/nope");
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
    CHECK(contains(res->body, "Nothing here!"));

    res = client->Get("/publish");
    REQUIRE(res);
    CHECK(res->status == 405);
    CHECK(res->get_header_value("Allow") == "POST");

    res = client->Post("/", "message=hi", form_type);
    REQUIRE(res);
    CHECK(res->status == 405);
    CHECK(contains(res->get_header_value("Allow"), "GET"));

    SUBCASE("and the node still publishes afterwards") {
      sse_stream listener(node.port());
      require_delivered(node.port(), listener, "after the errors");
    }
  }

  SUBCASE("a garbage request line is answered 400") {
    auto response = raw_exchange(node.port(), "NONSENSE\r\n\r\n", in(10s));
    INFO("response: ", response);
    CHECK(starts_with(response, "HTTP/1.1 400"));
    sse_stream listener(node.port());
    require_delivered(node.port(), listener, "after garbage");
  }

  SUBCASE("SIGTERM stops the node with exit code 0") {
    auto code = node.stop();
    REQUIRE(code.has_value());
    CHECK(*code == 0);
  }
  SUBCASE("SIGINT stops the node with exit code 0, open streams or not") {
    sse_stream listener(node.port());
    node.kill(SIGINT);
    auto code = node.exit_code();
    REQUIRE_MESSAGE(code.has_value(), "still running 5 s after SIGINT");
    CHECK(*code == 0);
  }
}

TEST_CASE("a node started without --name is nonode@nohost") {
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  INFO(node.describe());
  node.require_ready();
  auto res = http_client(node.port())->Get("/");
  REQUIRE(res);
  CHECK(contains(res->body, "<h2>Node: nonode@nohost</h2>"));
  sse_stream listener(node.port());
  require_delivered(node.port(), listener, "alone");
}

TEST_CASE("--max-body sets the largest form a publish accepts") {
  sandbox sb;
  auto config = sb.config("");
  config.extra_args = {"--max-body", "100"};
  auto& node = sb.start(config);
  INFO(node.describe());
  node.require_ready();
  sse_stream listener(node.port());
  auto client = http_client(node.port());
  auto res = client->Post("/publish", "message=" + std::string(92, 'a'), form_type);
  REQUIRE(res);
  CHECK(res->status == 303);
  CHECK(listener.next_event(10s).value_or(sse_message{}).data == std::string(92, 'a'));
  res = http_client(node.port())->Post("/publish", "message=" + std::string(93, 'a'), form_type);
  REQUIRE(res);
  CHECK(res->status == 413);
  require_delivered(node.port(), listener, "small again");
}

TEST_CASE("HTTPS on the secure port serves the same routes and streams") {
  sandbox sb;
  auto& node = sb.start(sb.config("node1@127.0.0.1"));
  INFO(node.describe());
  node.require_ready();
  auto tls = https_client(node.secure_port());

  SUBCASE("the page, publish and errors") {
    auto res = tls->Get("/");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(contains(res->body, "<h2>Node: node1@127.0.0.1</h2>"));
    res = tls->Get("/main.css?v=2");
    REQUIRE(res);
    CHECK(starts_with(res->get_header_value("Content-Type"), "text/css"));
    res = tls->Get("/nope");
    REQUIRE(res);
    CHECK(res->status == 404);
    res = tls->Post("/publish", "message=", form_type);
    REQUIRE(res);
    CHECK(res->status == 400);
  }

  SUBCASE("a stream over TLS hears messages published over either protocol") {
    sse_stream secure(node.secure_port(), true);
    sse_stream plain(node.port());
    INFO("head: ", secure.head());
    CHECK(secure.status() == 200);
    CHECK(starts_with(secure.header("Content-Type"), "text/event-stream"));

    CHECK(publish(node.port(), "over http") == 303);
    auto res = tls->Post("/publish", "message=over+https", form_type);
    REQUIRE(res);
    CHECK(res->status == 303);
    CHECK(res->get_header_value("Location") == "/");
    for (auto* listener : {&secure, &plain}) {
      for (const char* expected : {"over http", "over https"}) {
        auto event = listener->next_event(10s);
        REQUIRE(event.has_value());
        CHECK(event->data == expected);
      }
    }
  }

  SUBCASE("the certificate in the state directory survives a restart") {
    auto cert_path = node.config().state_dir + "/cert.pem";
    auto cert = read_file(cert_path);
    CHECK(contains(cert, "-----BEGIN CERTIFICATE-----"));
    CHECK(!read_file(node.config().state_dir + "/key.pem").empty());
    REQUIRE(node.stop() == 0);
    node.start();
    node.require_ready();
    CHECK(read_file(cert_path) == cert);
  }
}

TEST_CASE("the request log has a line per request with client address and status") {
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  INFO(node.describe());
  node.require_ready();
  auto client = http_client(node.port());
  REQUIRE(client->Get("/nope"));
  REQUIRE(client->Post("/publish", "message=logged", form_type));
  REQUIRE(client->Get("/"));

  // The line format: "HH:MM:SS.mmm [info] 127.0.0.1 GET / Sent 200 in 412µs".
  const std::regex home(R"(^\d\d:\d\d:\d\d\.\d{3} \[info\] 127\.0\.0\.1 GET / Sent 200 in \S+$)");
  const std::regex missing(R"(\[info\] 127\.0\.0\.1 GET /nope Sent 404 in )");
  const std::regex posted(R"(\[info\] 127\.0\.0\.1 POST /publish Sent 303 in )");
  auto has_line = [&](const std::regex& pattern) { return node.logged(pattern); };
  // Logged while the node runs, not only when it exits.
  auto deadline = in(10s);
  while (!(has_line(home) && has_line(missing) && has_line(posted)) && clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(has_line(home));
  CHECK(has_line(missing));
  CHECK(has_line(posted));
  CHECK(contains(node.log(),
                 "watercooler: nonode@nohost on http://127.0.0.1:" + std::to_string(node.port())
                   + " and https://127.0.0.1:" + std::to_string(node.secure_port())));
}

} // namespace watercooler::integration

namespace watercooler::integration {

TEST_CASE("requests sent back to back on one connection are each answered, in order") {
  // The server reads ahead: a second request that came in the same segment as the first must
  // be served from what was read, over HTTP and HTTPS alike.
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  INFO(node.describe());
  node.require_ready();
  sse_stream listener(node.port());
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    std::string message = tls ? "back to back over TLS" : "back to back";
    std::string body = "message=" + message;
    for (auto& c : body)
      c = c == ' ' ? '+' : c;
    std::string requests = "GET /main.css HTTP/1.1\r\nHost: x\r\n\r\n"
                           "POST /publish HTTP/1.1\r\nHost: x\r\n"
                           "Content-Type: application/x-www-form-urlencoded\r\n"
                           "Content-Length: "
                           + std::to_string(body.size()) + "\r\n\r\n" + body
                           + "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    auto response = raw_exchange(tls ? node.secure_port() : node.port(), requests, in(20s), tls);
    auto first = response.find("HTTP/1.1 200");
    auto second = response.find("HTTP/1.1 303");
    auto third = response.find("HTTP/1.1 404");
    CHECK(first == 0);
    CHECK(second != std::string::npos);
    CHECK(third != std::string::npos);
    CHECK(first < second);
    CHECK(second < third);
    CHECK(listener.next_event(10s).value_or(sse_message{}).data == message);
  }
}

} // namespace watercooler::integration
