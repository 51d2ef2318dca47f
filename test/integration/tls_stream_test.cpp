// HTTPS event streams are written by their sessions like plain ones: they hold no thread, and a
// client that stops reading falls behind alone.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

TEST_CASE("two hundred HTTPS streams are held at once and the node still serves HTTPS") {
  sandbox sb;
  auto config = sb.config("");
  config.extra_args = {"--max-streams", "0"}; // all from 127.0.0.1
  auto& node = sb.start(config);
  node.require_ready();
  INFO(describe({&node}));
  // More streams than the HTTPS server has pool threads (128): a stream that kept its thread
  // would leave none for the rest, and for the page.
  std::vector<std::unique_ptr<sse_stream>> streams;
  for (int i = 0; i < 200; ++i) {
    streams.push_back(std::make_unique<sse_stream>(node.secure_port(), true));
    REQUIRE(streams.back()->status() == 200);
  }
  CHECK(metric(node.port(), "watercooler_sessions") == 200);
  auto tls = https_client(node.secure_port());
  auto page = tls->Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  auto res =
    tls->Post("/publish", "message=to+all+two+hundred", "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 303);
  int heard = 0;
  for (auto& stream : streams) {
    auto event = stream->next_event(10s);
    heard += event && event->data == "to all two hundred";
  }
  CHECK(heard == 200);
}

TEST_CASE("an HTTPS client that stops reading gets a gap and the end of its stream, and resumes") {
  sandbox sb;
  auto config = sb.config("");
  config.extra_args = {"--max-message",        "100000", "--max-body",     "200000",
                       "--publish-rate",       "0",      "--stream-queue", "1000",
                       "--stream-queue-bytes", "65536"};
  auto& node = sb.start(config);
  node.require_ready();
  INFO(describe({&node}));
  sse_stream fast(node.secure_port(), true);
  sse_stream slow(node.secure_port(), true, 10s, "/listen", 4096);
  REQUIRE(fast.status() == 200);
  REQUIRE(slow.status() == 200);
  // One message at a time, each read by the fast client before the next is published; the slow
  // one reads nothing until the node has given up on it (kernel buffers hold a few MB first).
  std::vector<std::string> published;
  auto fell_behind = [&] { return metric(node.port(), "watercooler_sessions_fell_behind_total"); };
  for (int i = 1; i <= 300 && fell_behind() == 0; ++i) {
    auto text = std::to_string(i) + ":" + std::string(60000, 'x');
    REQUIRE(publish(node.port(), text) == 303);
    published.push_back(text);
    auto event = fast.next_event(10s);
    REQUIRE(event.has_value());
    CHECK(event->data == text);
  }
  CHECK(fell_behind() == 1);

  // The slow client reads on: messages in order from the first, then the gap, then the end.
  std::vector<sse_message> got;
  while (auto event = slow.next_event(10s)) {
    got.push_back(*event);
    if (event->type == "gap")
      break;
  }
  INFO("published ", published.size(), ", the slow client got ", got.size(), " events");
  REQUIRE(!got.empty());
  REQUIRE(got.back().type == "gap");
  CHECK(got.back().data == R"({"reason":"slow client"})");
  got.pop_back();
  REQUIRE(!got.empty());
  REQUIRE(got.size() < published.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i].data == published[i]);
  CHECK(!slow.next_event(10s).has_value());
  CHECK(slow.ended());     // the chunked body was ended, not cut
  auto deadline = in(10s); // its session goes once the end is written; the fast one stays
  while (metric(node.port(), "watercooler_sessions") != 1 && clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(metric(node.port(), "watercooler_sessions") == 1);

  // Resuming where it stopped reading gives it exactly the rest.
  sse_stream resumed(node.secure_port(), true, 10s,
                     "/listen?last_event_id=" + form_encode(got.back().last_event_id));
  std::vector<std::string> rest;
  while (rest.size() < published.size() - got.size()) {
    auto event = resumed.next_event(10s);
    if (!event)
      break;
    rest.push_back(event->data);
  }
  REQUIRE(rest.size() == published.size() - got.size());
  for (std::size_t i = 0; i < rest.size(); ++i)
    CHECK(rest[i] == published[got.size() + i]);
}

} // namespace watercooler::integration
