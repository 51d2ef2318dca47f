// Requests a hostile or careless client sends: each is refused clearly and the node serves on.
#include <string>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

int publish_from(uint16_t port, const std::string& origin, const std::string& text) {
  auto client = http_client(port);
  httplib::Headers headers{{"Origin", origin}};
  auto res = client->Post("/publish", headers, "message=" + form_encode(text),
                          "application/x-www-form-urlencoded");
  return res ? res->status : -1;
}

} // namespace

TEST_CASE("a publish from a foreign page is refused with 403 and reaches nobody") {
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  node.require_ready();
  INFO(describe({&node}));
  sse_stream listener(node.port());
  auto own = "http://127.0.0.1:" + std::to_string(node.port());
  CHECK(publish_from(node.port(), "http://evil.example", "forged") == 403);
  CHECK(publish_from(node.port(), "null", "forged too") == 403);
  CHECK(publish_from(node.port(), "http://127.0.0.1:1", "other port") == 403);
  CHECK(publish_from(node.port(), own, "from our page") == 303);
  auto seen =
    listener.read_until([](const std::string& data) { return data == "from our page"; }, in(10s));
  CHECK(seen == std::vector<std::string>{"from our page"});
}

} // namespace watercooler::integration
