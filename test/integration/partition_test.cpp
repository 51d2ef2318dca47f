// A network partition between two nodes, made with network namespaces and a veth pair: both
// sides keep serving, and once it heals, the listeners on both sides converge on the same
// messages with none lost and none twice (anti-entropy over per-origin sequence numbers). The
// people of the other side leave on the cut and come back on the heal.
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "test/integration/harness.hpp"
#include "test/integration/presence_watcher.hpp"

namespace watercooler::integration {

namespace {

// iproute2's `ip`, wherever this system keeps it; "" if it has none.
std::string ip_program() {
  for (const char* path : {"/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"})
    if (::access(path, X_OK) == 0)
      return path;
  return "";
}

// Runs `ip` with `args`; true if it succeeded.
bool ip(const std::vector<std::string>& args, const temp_dir& dir, std::string* err = nullptr) {
  auto program = ip_program();
  if (program.empty()) {
    if (err)
      *err = "no ip command (iproute2)";
    return false;
  }
  std::vector<std::string> command{program};
  command.insert(command.end(), args.begin(), args.end());
  auto result = run_process(command, {}, dir, 20s);
  if (err)
    *err = result.err;
  return result.exit_code == 0;
}

// Two namespaces joined by one veth pair; everything is removed when it goes away.
class two_namespaces {
public:
  explicit two_namespaces(const temp_dir& dir) : dir_(dir) {
    auto tag = std::to_string(::getpid() % 100000);
    a_ = "wc-a-" + tag;
    b_ = "wc-b-" + tag;
    link_a_ = "wca" + tag;
    link_b_ = "wcb" + tag;
    if (!ip({"netns", "add", a_}, dir_, &error_))
      return;
    made_a_ = true;
    if (!ip({"netns", "add", b_}, dir_, &error_))
      return;
    made_b_ = true;
    ok_ = ip({"link", "add", link_a_, "type", "veth", "peer", "name", link_b_}, dir_, &error_)
          && ip({"link", "set", link_a_, "netns", a_}, dir_, &error_)
          && ip({"link", "set", link_b_, "netns", b_}, dir_, &error_)
          && ip({"-n", a_, "addr", "add", address_a + "/24", "dev", link_a_}, dir_, &error_)
          && ip({"-n", b_, "addr", "add", address_b + "/24", "dev", link_b_}, dir_, &error_)
          && ip({"-n", a_, "link", "set", "lo", "up"}, dir_, &error_)
          && ip({"-n", b_, "link", "set", "lo", "up"}, dir_, &error_) && heal();
  }

  ~two_namespaces() {
    // Deleting a namespace deletes its end of the veth pair, and with it the other end.
    if (made_a_)
      ip({"netns", "del", a_}, dir_);
    if (made_b_)
      ip({"netns", "del", b_}, dir_);
  }

  bool ok() const {
    return ok_;
  }
  const std::string& error() const {
    return error_;
  }
  const std::string& a() const {
    return a_;
  }
  const std::string& b() const {
    return b_;
  }
  bool cut() {
    return ip({"-n", a_, "link", "set", link_a_, "down"}, dir_, &error_);
  }
  bool heal() {
    return ip({"-n", a_, "link", "set", link_a_, "up"}, dir_, &error_)
           && ip({"-n", b_, "link", "set", link_b_, "up"}, dir_, &error_);
  }

  static inline const std::string address_a = "10.231.7.1";
  static inline const std::string address_b = "10.231.7.2";

private:
  const temp_dir& dir_;
  std::string a_, b_, link_a_, link_b_, error_;
  bool made_a_ = false, made_b_ = false, ok_ = false;
};

// While it lives, sockets this thread opens belong to namespace `name`.
class inside {
public:
  explicit inside(const std::string& name) {
    own_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(own_ >= 0);
    REQUIRE(target >= 0);
    REQUIRE(::setns(target, CLONE_NEWNET) == 0);
    ::close(target);
  }
  ~inside() {
    ::setns(own_, CLONE_NEWNET);
    ::close(own_);
  }
  inside(const inside&) = delete;
  inside& operator=(const inside&) = delete;

private:
  int own_ = -1;
};

bool logged(const node_process& node, const std::string& text, clock::time_point deadline) {
  while (node.log().find(text) == std::string::npos) {
    if (clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// Publishes `text` on `node` from inside its namespace; the status.
int publish_in(const std::string& ns, const node_process& node, const std::string& text) {
  inside here(ns);
  return publish(node.port(), text);
}

// Reads `listener` until it has every one of `expected` or the deadline passes; everything it
// read (probes left out), in order.
std::vector<std::string> read_all(sse_stream& listener, const std::set<std::string>& expected,
                                  clock::time_point deadline) {
  std::vector<std::string> got;
  std::set<std::string> missing = expected;
  while (!missing.empty()) {
    auto more =
      listener.read_until([&](const std::string& d) { return missing.count(d) != 0; }, deadline);
    if (more.empty())
      break;
    for (const auto& d : more) {
      got.push_back(d);
      missing.erase(d);
    }
  }
  return got;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return "[" + out + "]";
}

} // namespace

TEST_CASE("after a partition heals, both sides' listeners have every message exactly once") {
  temp_dir scratch;
  two_namespaces net(scratch);
  if (!net.ok()) {
    MESSAGE("skipped: cannot make network namespaces here (ip netns: " << net.error() << ")");
    return;
  }
  sandbox sb;
  auto node1 = "node1@" + two_namespaces::address_a;
  auto node2 = "node2@" + two_namespaces::address_b;
  auto sys_config = sb.write_sys_config("sys.config", {node1, node2}, 20000);
  auto config1 = sb.config(node1, sys_config);
  config1.launcher = {ip_program(), "netns", "exec", net.a()};
  auto config2 = sb.config(node2, sys_config);
  config2.launcher = {ip_program(), "netns", "exec", net.b()};
  auto& first = sb.start(config1);
  auto& second = sb.start(config2);
  INFO(describe({&first, &second}));
  std::unique_ptr<sse_stream> listener1, listener2;
  {
    inside a(net.a());
    first.require_ready();
    listener1 = std::make_unique<sse_stream>(first.port());
  }
  {
    inside b(net.b());
    second.require_ready();
    listener2 = std::make_unique<sse_stream>(second.port());
  }
  {
    inside a(net.a());
    require_flow(first, *listener2, in(60s));
  }
  {
    inside b(net.b());
    require_flow(second, *listener1, in(60s));
  }

  // Who is here: Ann on node1's side, Bob on node2's; each side sees both.
  const std::string ann = "ann-0123456789abcdef", bob = "bob-0123456789abcdef";
  std::unique_ptr<sse_stream> ann_on1, bob_on2;
  std::unique_ptr<presence_watcher> seen1, seen2;
  {
    inside a(net.a());
    ann_on1 = std::make_unique<sse_stream>(first.port(), false, 10s, person_path(ann, "Ann"));
    seen1 = std::make_unique<presence_watcher>(first.port());
  }
  {
    inside b(net.b());
    bob_on2 = std::make_unique<sse_stream>(second.port(), false, 10s, person_path(bob, "Bob"));
    seen2 = std::make_unique<presence_watcher>(second.port());
  }
  const std::string both = "Ann [" + node1 + "], Bob [" + node2 + "]";
  REQUIRE(seen1->wait_people(both, in(30s)));
  REQUIRE(seen2->wait_people(both, in(30s)));
  auto bob_joins = seen1->joins(bob), ann_joins = seen2->joins(ann);

  REQUIRE(net.cut());
  // Both sides notice (no FIN crosses a cut link: the heartbeat times out).
  REQUIRE(logged(first, "lost node " + node2, in(60s)));
  REQUIRE(logged(second, "lost node " + node1, in(60s)));
  // The other side's people leave as its link goes down.
  CHECK(seen1->wait_people("Ann [" + node1 + "]", in(30s)));
  CHECK(seen2->wait_people("Bob [" + node2 + "]", in(30s)));
  // Both keep serving their own side.
  std::vector<std::string> from1, from2;
  for (int i = 1; i <= 5; ++i) {
    from1.push_back("during the partition, on node1 #" + std::to_string(i));
    from2.push_back("during the partition, on node2 #" + std::to_string(i));
    CHECK(publish_in(net.a(), first, from1.back()) == 303);
    CHECK(publish_in(net.b(), second, from2.back()) == 303);
  }
  auto own1 = read_all(*listener1, {from1.begin(), from1.end()}, in(20s));
  auto own2 = read_all(*listener2, {from2.begin(), from2.end()}, in(20s));
  CHECK(own1 == from1);
  CHECK(own2 == from2);

  REQUIRE(net.heal());
  // Each side gets what the other published meanwhile, once, in its origin's order; then the
  // cluster carries new messages as before.
  auto theirs1 = read_all(*listener1, {from2.begin(), from2.end()}, in(60s));
  auto theirs2 = read_all(*listener2, {from1.begin(), from1.end()}, in(60s));
  CHECK(theirs1 == from2);
  CHECK(theirs2 == from1);
  CHECK(publish_in(net.a(), first, "after the partition, on node1") == 303);
  CHECK(publish_in(net.b(), second, "after the partition, on node2") == 303);
  std::set<std::string> after{"after the partition, on node1", "after the partition, on node2"};
  auto last1 = read_all(*listener1, after, in(30s));
  auto last2 = read_all(*listener2, after, in(30s));
  INFO("node1's listener after the heal: " << join(theirs1) << " | " << join(last1));
  INFO("node2's listener after the heal: " << join(theirs2) << " | " << join(last2));
  CHECK(std::set<std::string>(last1.begin(), last1.end()) == after);
  CHECK(std::set<std::string>(last2.begin(), last2.end()) == after);
  CHECK(last1.size() == 2); // nothing twice
  CHECK(last2.size() == 2);
  // And the people of the other side are back, each having left and joined once.
  CHECK(seen1->wait_people(both, in(30s)));
  CHECK(seen2->wait_people(both, in(30s)));
  INFO("presence on node1: " << seen1->events());
  INFO("presence on node2: " << seen2->events());
  CHECK(seen1->leaves(bob) == 1);
  CHECK(seen1->joins(bob) == bob_joins + 1);
  CHECK(seen2->leaves(ann) == 1);
  CHECK(seen2->joins(ann) == ann_joins + 1);
  CHECK(seen1->leaves(ann) == 0);
  CHECK(first.log().find("are lost to this node") == std::string::npos); // no gap was needed
  CHECK(second.log().find("are lost to this node") == std::string::npos);
}

} // namespace watercooler::integration
