// The port mapper in real actor systems on loopback: serving, registering as a client, takeover,
// duplicate names, hostile clients, and interop with OTP's own epmd when it is installed.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/port_mapper.hpp"
#include "actors/wire/epmd_client.hpp"
#include "test/eventually.hpp"

extern char** environ;

using namespace std::chrono_literals;
using watercooler::epmd_names;
using watercooler::epmd_port_please;
using watercooler::eventually;
using watercooler::port_mapper_config;
using watercooler::wait_registered;

namespace {

const std::string loopback = "127.0.0.1";

// A port nobody uses right now, below the kernel's ephemeral range: no client socket can have
// left a TIME_WAIT on it, and no connect to it can pick it as its own source port.
uint16_t free_port() {
  static std::mt19937 rng{std::random_device{}()};
  int ephemeral_low = 32768;
  std::ifstream{"/proc/sys/net/ipv4/ip_local_port_range"} >> ephemeral_low;
  std::uniform_int_distribution<int> pick{10000, std::max(10001, ephemeral_low - 1)};
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto port = static_cast<uint16_t>(pick(rng));
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0; // no SO_REUSEADDR
    ::close(fd);
    if (ok)
      return port;
  }
  FAIL("no free port below the ephemeral range");
  return 0;
}

// One node: an actor system with its port mapper; stopping it is what "the node exits" means.
struct test_node {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor mapper;

  test_node(uint16_t epmd_port, std::string alive, uint16_t dist_port) {
    cfg.load<caf::io::middleman>();
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    port_mapper_config pm;
    pm.host = loopback;
    pm.epmd_port = epmd_port;
    pm.alive = std::move(alive);
    pm.dist_port = dist_port;
    pm.retry_interval = 100ms;
    pm.reply_timeout = 2s; // below raw_client's 5 s, so the silent-client test can see it
    mapper = watercooler::spawn_port_mapper(*sys, pm);
  }

  ~test_node() {
    stop();
  }

  std::string role() {
    auto r = wait_registered(*sys, mapper, 5s);
    return r ? *r : "error: " + r.error;
  }

  void stop() {
    if (mapper)
      caf::anon_send_exit(mapper, caf::exit_reason::user_shutdown);
    mapper = nullptr;
    sys.reset(); // waits for the mapper, which closes its sockets on the way out
  }
};

std::vector<std::pair<std::string, uint16_t>> sorted_names(uint16_t epmd_port) {
  auto r = epmd_names(loopback, epmd_port, 2s);
  REQUIRE_MESSAGE(r, r.error);
  auto xs = *r;
  std::sort(xs.begin(), xs.end());
  return xs;
}

std::string port_please_text(uint16_t epmd_port, const std::string& alive) {
  auto r = epmd_port_please(loopback, epmd_port, alive, 2s);
  return r ? std::to_string(*r) : r.error;
}

// A plain blocking TCP client with a 5 s receive timeout, to speak raw bytes to a port mapper.
class raw_client {
public:
  explicit raw_client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;
  ~raw_client() {
    ::close(fd_);
  }

  void send(const std::string& bytes) {
    // The peer may close early on garbage; later bytes then fail, which is fine here.
    ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

  // Up to `n` bytes, fewer if the peer closes or 5 s pass.
  std::string read(size_t n) {
    std::string out;
    char buf[512];
    while (out.size() < n) {
      auto got = ::recv(fd_, buf, std::min(sizeof(buf), n - out.size()), 0);
      if (got <= 0)
        break;
      out.append(buf, static_cast<size_t>(got));
    }
    return out;
  }

  // True once the peer closed (EOF or reset), false if it kept the connection for 5 s.
  bool closed_by_peer() {
    char buf[512];
    for (;;) {
      auto got = ::recv(fd_, buf, sizeof(buf), 0);
      if (got == 0 || (got < 0 && errno == ECONNRESET))
        return true;
      if (got < 0)
        return false;
    }
  }

private:
  int fd_;
};

std::string bytes(std::initializer_list<int> xs) {
  std::string out;
  for (int x : xs)
    out.push_back(static_cast<char>(x));
  return out;
}

std::string alive2_req(const std::string& name, uint16_t port, uint16_t highest) {
  watercooler::epmd::node_info node;
  node.name = name;
  node.port = port;
  node.highest = highest;
  node.lowest = 5;
  return watercooler::epmd::encode(watercooler::epmd::alive2_req{node});
}

// OTP's epmd as a child process, killed and reaped however the test ends.
class epmd_process {
public:
  explicit epmd_process(uint16_t port) {
    auto port_text = std::to_string(port);
    const char* argv[] = {"epmd", "-port", port_text.c_str(), "-address", "127.0.0.1", nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd = 0; fd <= 2; ++fd)
      posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3); // no inherited CAF sockets
    auto rc = ::posix_spawn(&pid_, "/usr/bin/epmd", &actions, nullptr,
                            const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      pid_ = -1;
  }
  epmd_process(const epmd_process&) = delete;
  epmd_process& operator=(const epmd_process&) = delete;
  ~epmd_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const {
    return pid_ > 0;
  }

private:
  pid_t pid_ = -1;
};

} // namespace

TEST_CASE("port mapper serves when no epmd answers, and lookups find its node") {
  auto port = free_port();
  test_node node1{port, "node1", 5555};
  CHECK(node1.role() == "serving");
  CHECK(port_please_text(port, "node1") == "5555");
  CHECK(sorted_names(port) == decltype(sorted_names(port)){{"node1", 5555}});
  CHECK(port_please_text(port, "nobody")
        == "node name nobody is not registered with the port mapper at 127.0.0.1:"
             + std::to_string(port));
}

TEST_CASE("port mapper lookups report a missing port mapper and bad names") {
  auto port = free_port();
  auto text = port_please_text(port, "node1");
  CHECK(text.rfind("no port mapper at 127.0.0.1:" + std::to_string(port) + " (", 0) == 0);
  auto names = epmd_names(loopback, port, 1s);
  CHECK_FALSE(names);
  CHECK(names.error.rfind("no port mapper at 127.0.0.1:", 0) == 0);
  CHECK(port_please_text(port, "a b").rfind("node name 'a b':", 0) == 0);
}

TEST_CASE("port mapper registers as a client with a serving node") {
  auto port = free_port();
  test_node node1{port, "node1", 5555};
  REQUIRE(node1.role() == "serving");
  test_node node2{port, "node2", 5556};
  CHECK(node2.role() == "client");
  CHECK(port_please_text(port, "node1") == "5555");
  CHECK(port_please_text(port, "node2") == "5556");
  CHECK(sorted_names(port) == decltype(sorted_names(port)){{"node1", 5555}, {"node2", 5556}});
  SUBCASE("a client that exits is unregistered") {
    node2.stop();
    CHECK(eventually([&] { return sorted_names(port).size() == 1; }));
    CHECK(port_please_text(port, "node2").find("is not registered") != std::string::npos);
  }
}

TEST_CASE("port mapper is taken over by a surviving node when the serving node exits") {
  auto port = free_port();
  test_node node1{port, "node1", 5555};
  REQUIRE(node1.role() == "serving");
  test_node node2{port, "node2", 5556};
  test_node node3{port, "node3", 5557};
  REQUIRE(node2.role() == "client");
  REQUIRE(node3.role() == "client");
  node1.stop();
  auto expected = decltype(sorted_names(port)){{"node2", 5556}, {"node3", 5557}};
  CHECK(eventually([&] {
    auto r = epmd_names(loopback, port, 1s);
    if (!r)
      return false;
    std::sort(r.value->begin(), r.value->end());
    return *r.value == expected;
  }));
  CHECK(port_please_text(port, "node2") == "5556");
  CHECK(port_please_text(port, "node3") == "5557");
  auto roles = node2.role() + "," + node3.role();
  CHECK((roles == "serving,client" || roles == "client,serving"));
  SUBCASE("and again when that one exits too") {
    auto& server = node2.role() == "serving" ? node2 : node3;
    auto& survivor = &server == &node2 ? node3 : node2;
    server.stop();
    CHECK(eventually([&] {
      auto r = epmd_names(loopback, port, 1s);
      return r && r->size() == 1;
    }));
    CHECK(survivor.role() == "serving");
  }
}

TEST_CASE("port mapper outlasts a port mapper that accepts but never answers") {
  auto port = free_port();
  int mute = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); // listens, never accepts
  REQUIRE(mute >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(mute, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(mute, 8) == 0);
  test_node node1{port, "node1", 5555};
  auto early = wait_registered(*node1.sys, node1.mapper, 500ms);
  CHECK(early.error == "the port mapper did not register within 500 ms");
  ::close(mute); // resets the pending connection; the node then serves the port itself
  CHECK(node1.role() == "serving");
  CHECK(port_please_text(port, "node1") == "5555");
}

TEST_CASE("port mapper rejects a name that is already registered") {
  auto port = free_port();
  test_node first{port, "node1", 5555};
  REQUIRE(first.role() == "serving");
  test_node second{port, "node1", 5556};
  CHECK(second.role() == "error: node name node1 is already in use on 127.0.0.1");
  CHECK(port_please_text(port, "node1") == "5555");
  SUBCASE("also between two clients") {
    test_node client{port, "node2", 5557};
    REQUIRE(client.role() == "client");
    test_node again{port, "node2", 5558};
    CHECK(again.role() == "error: node name node2 is already in use on 127.0.0.1");
  }
}

TEST_CASE("port mapper refuses an invalid node name") {
  test_node bad{free_port(), "no de", 5555};
  CHECK(bad.role()
        == "error: node name 'no de': the name may only contain letters, digits, '_' and '-', "
           "not a space");
}

TEST_CASE("port mapper closes clients that send garbage and keeps serving") {
  auto port = free_port();
  test_node node1{port, "node1", 5555};
  REQUIRE(node1.role() == "serving");
  SUBCASE("unknown request tag") {
    raw_client c{port};
    c.send(bytes({0x00, 0x01, 'q'}));
    CHECK(c.closed_by_peer());
  }
  SUBCASE("oversize length") {
    raw_client c{port};
    c.send(bytes({0xff, 0xff}));
    CHECK(c.closed_by_peer());
  }
  SUBCASE("70 KiB of noise") {
    raw_client c{port};
    std::string noise(70 * 1024, '\x03');
    c.send(noise);
    CHECK(c.closed_by_peer());
  }
  SUBCASE("bytes after a registration drop it, as epmd does") {
    raw_client c{port};
    c.send(alive2_req("intruder", 7000, 6));
    CHECK(c.read(6).size() == 6);
    CHECK(port_please_text(port, "intruder") == "7000");
    c.send("x");
    CHECK(c.closed_by_peer());
    CHECK(port_please_text(port, "intruder").find("is not registered") != std::string::npos);
  }
  SUBCASE("a silent client is closed after the reply timeout") {
    raw_client c{port};
    CHECK(c.closed_by_peer());
  }
  SUBCASE("half a request, then the client leaves") {
    {
      raw_client c{port};
      c.send(alive2_req("half", 7000, 6).substr(0, 7));
    }
  }
  CHECK(port_please_text(port, "node1") == "5555");
  CHECK(sorted_names(port) == decltype(sorted_names(port)){{"node1", 5555}});
}

TEST_CASE("port mapper speaks epmd to foreign nodes") {
  auto port = free_port();
  test_node node1{port, "node1", 5555};
  REQUIRE(node1.role() == "serving");
  raw_client erl{port};
  erl.send(alive2_req("erl", 7001, 6));
  auto resp = erl.read(6);
  REQUIRE(resp.size() == 6);
  CHECK(resp.substr(0, 2) == bytes({0x76, 0x00})); // ALIVE2_X_RESP, ok
  raw_client old{port};
  old.send(alive2_req("old", 7002, 5));
  CHECK(old.read(4).substr(0, 2) == bytes({0x79, 0x00})); // ALIVE2_RESP for version 5
  raw_client dup{port};
  dup.send(alive2_req("erl", 7003, 6));
  CHECK(dup.read(6) == bytes({0x76, 0x01, 0x00, 0x00, 0x00, 0x63})); // as OTP 25's epmd
  CHECK(dup.closed_by_peer());
  CHECK(port_please_text(port, "erl") == "7001");
  CHECK(sorted_names(port)
        == decltype(sorted_names(port)){{"erl", 7001}, {"node1", 5555}, {"old", 7002}});
  raw_client port_please{port};
  port_please.send(bytes({0x00, 0x04, 0x7a, 'e', 'r', 'l'}));
  CHECK(port_please.read(100)
        == bytes({0x77, 0x00, 0x1b, 0x59, 0x4d, 0x00, 0x00, 0x06, 0x00, 0x05, 0x00, 0x03, 'e', 'r',
                  'l', 0x00, 0x00}));
}

TEST_CASE("port mapper registers with OTP's epmd when one runs") {
  if (::access("/usr/bin/epmd", X_OK) != 0) {
    MESSAGE("skipped: /usr/bin/epmd is not installed");
    return;
  }
  auto port = free_port();
  epmd_process epmd{port}; // declared first: outlives the nodes below
  REQUIRE(epmd.started());
  REQUIRE(eventually([&] { return static_cast<bool>(epmd_names(loopback, port, 200ms)); }));
  test_node node1{port, "node1", 5555};
  CHECK(node1.role() == "client");
  CHECK(port_please_text(port, "node1") == "5555");
  CHECK(sorted_names(port) == decltype(sorted_names(port)){{"node1", 5555}});
  test_node dup{port, "node1", 5556};
  CHECK(dup.role() == "error: node name node1 is already in use on 127.0.0.1");
  node1.stop();
  CHECK(eventually([&] { return sorted_names(port).empty(); }));
}
