// SIGTERM and SIGINT: the node ends every stream with a reconnect hint and exits 0.
#include <csignal>
#include <string>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

// Reads until the server ends the stream; true if it did before the deadline.
bool ends(sse_stream& stream, clock::time_point deadline) {
  while (stream.next_event(deadline)) {
  }
  return stream.ended();
}

} // namespace

TEST_CASE("a stopping node ends its streams cleanly and exits 0") {
  for (int signal : {SIGTERM, SIGINT}) {
    CAPTURE(signal);
    sandbox sb;
    auto& node = sb.start(sb.config(""));
    node.require_ready();
    INFO(describe({&node}));
    sse_stream text(node.port());
    sse_stream json(node.port(), false, 10s, "/listen?format=json");
    sse_stream tls(node.secure_port(), true);
    std::vector<sse_stream*> all{&text, &json, &tls};
    publish_everywhere(node.port(), "before the stop", {&text, &tls});
    REQUIRE(::kill(node.pid(), signal) == 0);
    for (auto* stream : all)
      CHECK(ends(*stream, in(20s))); // ended by the server, not cut by a timeout
    CHECK(node.wait_exit(in(20s)) == 0);
    CHECK(node.log().find("watercooler: stopping on") != std::string::npos);
  }
}

} // namespace watercooler::integration
