// The node binary's exit codes and messages: usage errors, busy ports, missing mandatory nodes.
#include <regex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A run with private ports and state dir, so nothing outside the sandbox is touched.
struct runner {
  sandbox sb;
  uint16_t port = free_port();
  uint16_t secure_port = free_port();

  run_result run(std::vector<std::string> args, clock::duration timeout = 20s) {
    args.insert(args.begin(), WATERCOOLER_BINARY);
    env_overrides env{
      {"PORT", std::to_string(port)},
      {"SECURE_PORT", std::to_string(secure_port)},
      {"ERL_EPMD_PORT", std::to_string(sb.epmd_port())},
      {"WATERCOOLER_STATE_DIR", sb.dir().file("state")},
    };
    auto result = run_process(args, env, sb.dir(), timeout);
    CHECK_MESSAGE(!has_sanitizer_report(result.err), "sanitizer report:\n" << result.err);
    return result;
  }
};

std::string show(const run_result& r) {
  return "exit code: " + (r.exit_code ? std::to_string(*r.exit_code) : std::string("timeout"))
         + "\n---- stdout:\n" + r.out + "\n---- stderr:\n" + r.err;
}

// A socket listening on 127.0.0.1:port, closed at scope exit.
struct listening_socket {
  int fd = -1;
  explicit listening_socket(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
  }
  ~listening_socket() {
    ::close(fd);
  }
};

} // namespace

TEST_CASE("usage errors exit with code 2 and one clear message on stderr") {
  runner r;
  struct usage_case {
    const char* what;
    std::vector<std::string> args;
    std::string mentions;
  };
  auto broken = r.sb.dir().write("broken.config", "%% a comma is missing\n"
                                                  "[{kernel, [{sync_nodes_timeout, 5000}\n"
                                                  "           {sync_nodes_optional, []}]}].\n");
  auto missing = r.sb.dir().file("missing.config");
  const std::vector<usage_case> cases{
    {"an unknown flag", {"--frobnicate"}, "--frobnicate"},
    {"a port that is not a number", {"--port", "abc"}, "abc"},
    {"a secure port that is not a number", {"--secure-port", "99999"}, "99999"},
    {"a node name with a space", {"--name", "bad name"}, "bad name"},
    {"a flag without its value", {"--name"}, "--name"},
    {"--erl without -config FILE", {"--erl", "-config"}, "-config"},
    {"a missing config file", {"--name", "node1@127.0.0.1", "--config", missing}, "missing.config"},
    {"a stream queue of no events", {"--stream-queue", "0"}, "--stream-queue 0"},
    {"a history age that is not a number", {"--history-age", "10m"}, "--history-age 10m"},
    {"a stream queue under 1 KiB", {"--stream-queue-bytes", "512"}, "--stream-queue-bytes 512"},
    {"a header limit below 1024 bytes", {"--max-header", "100"}, "--max-header 100"},
    {"a message limit of 0", {"--max-message", "0"}, "--max-message 0"},
    {"a stream limit that is not a number", {"--max-streams", "-1"}, "--max-streams -1"},
    {"a publish rate that is not a number", {"--publish-rate=fast"}, "--publish-rate fast"},
    {"a keep-alive timeout of zero", {"--keep-alive-timeout", "0"}, "--keep-alive-timeout 0"},
    {"no connections at all", {"--max-connections", "0"}, "--max-connections 0"},
    {"a per-address limit that is not a number",
     {"--max-connections-per-address", "many"},
     "--max-connections-per-address many"},
    {"a publish burst of 0", {"--publish-burst", "0"}, "--publish-burst 0"},
    {"a read timeout of 0", {"--read-timeout", "0"}, "--read-timeout 0"},
    {"a proxy that is no address", {"--trust-proxy", "proxy.example"}, "--trust-proxy proxy"},
    {"a proxy range with host bits", {"--trust-proxy", "10.0.0.1/8"}, "10.0.0.1/8"},
    {"--cookie with --cookie-file", {"--cookie", "c", "--cookie-file", "f"}, "--cookie-file"},
    {"a missing --cookie-file",
     {"--cookie-file", missing},
     "cannot read --cookie-file " + missing + ": No such file"},
  };
  SUBCASE("bad flags and values name what is wrong") {
    for (const auto& c : cases) {
      CAPTURE(c.what);
      auto result = r.run(c.args);
      INFO(show(result));
      CHECK(result.exit_code == 2);
      CHECK(result.err.rfind("watercooler: ", 0) == 0);
      CHECK(contains(result.err, c.mentions));
    }
  }

  SUBCASE("a malformed sys.config names file, line and column") {
    for (auto args :
         {std::vector<std::string>{"--name", "node1@127.0.0.1", "--config", broken},
          std::vector<std::string>{"--name", "node1@127.0.0.1", "--erl", "-config " + broken}}) {
      auto result = r.run(args);
      INFO(show(result));
      CHECK(result.exit_code == 2);
      CHECK(result.err.rfind("watercooler: ", 0) == 0);
      CHECK(std::regex_search(result.err, std::regex(R"(broken\.config:3:\d+: )")));
    }
  }

  SUBCASE("--help exits 0 and explains the flags, ERL_EPMD_PORT and the state directory") {
    auto result = r.run({"--help"});
    INFO(show(result));
    CHECK(result.exit_code == 0);
    for (const char* part : {"--name",
                             "--erl",
                             "--config",
                             "--port",
                             "--secure-port",
                             "ERL_EPMD_PORT",
                             "--state-dir",
                             "WATERCOOLER_STATE_DIR",
                             "--max-body",
                             "--max-message",
                             "--max-header",
                             "--read-timeout",
                             "--max-streams",
                             "--publish-rate",
                             "--publish-burst",
                             "--stream-queue",
                             "--stream-queue-bytes",
                             "--keep-alive-timeout",
                             "--max-connections",
                             "--max-connections-per-address",
                             "--trust-proxy",
                             "--cookie-file"}) {
      CAPTURE(part);
      CHECK(contains(result.out, part));
    }
  }

  SUBCASE("--version exits 0 and names the release and the git revision") {
    auto result = r.run({"--version"});
    INFO(show(result));
    CHECK(result.exit_code == 0);
    CHECK(std::regex_search(
      result.out,
      std::regex(R"(^watercooler \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)\n$)")));
  }
}

TEST_CASE("a port already in use stops the node with exit code 1 and names the port") {
  runner r;
  SUBCASE("the HTTP port") {
    listening_socket busy(r.port);
    auto result = r.run({});
    INFO(show(result));
    CHECK(result.exit_code == 1);
    CHECK(contains(result.err, "watercooler: cannot listen on 127.0.0.1:" + std::to_string(r.port)
                                 + ": Address already in use"));
  }
  SUBCASE("the HTTPS port, with --secure-port overriding SECURE_PORT") {
    auto busy_port = free_port();
    listening_socket busy(busy_port);
    auto result = r.run({"--secure-port", std::to_string(busy_port)});
    INFO(show(result));
    CHECK(result.exit_code == 1);
    CHECK(contains(result.err, "watercooler: cannot listen on 127.0.0.1:"
                                 + std::to_string(busy_port) + ": Address already in use"));
  }
}

TEST_CASE("a mandatory node that never starts stops the node with exit code 1") {
  runner r;
  auto config = r.sb.write_sys_config("sys.config", {}, 1000, {"ghost@127.0.0.1"});
  std::vector<std::string> args{"--name", "node1@127.0.0.1", "--erl", "-config " + config};
  SUBCASE("named by --erl \"-config FILE\"") {}
  SUBCASE("named by --erl \"-config sys\", as Erlang adds .config") {
    args.back() = "-config " + r.sb.dir().file("sys");
  }
  SUBCASE("named by --config FILE") {
    args = {"--name", "node1@127.0.0.1", "--config", config};
  }
  auto result = r.run(args);
  INFO(show(result));
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("watercooler: ") != std::string::npos);
  CHECK(contains(result.err, "ghost@127.0.0.1"));
}

} // namespace watercooler::integration
