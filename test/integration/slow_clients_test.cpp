// Slow and many clients against the HTTP front: slowhttptest's attacks, ten thousand idle
// keep-alive connections, eight clients publishing flat out. Another visitor is answered within
// a second throughout, and no stream misses a message.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

// The attacks and the crowds come from 127.0.0.1 and fill its per-address quota; the visitor
// whose answers are timed comes from another address, as another person would.
const char* const visitor_address = "127.0.0.2";

// The issue's bound for a page load or a publish while the node is under attack. Not a
// benchmark: nothing here asks for more than a person would notice.
constexpr auto answer_bound = 1s;

const char* const slowhttptest = "/usr/bin/slowhttptest";

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

long long as_ms(clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Raises this process's open-files limit to its hard limit, so that the nodes and slowhttptest
// started afterwards inherit it; the new limit.
rlim_t raise_open_files_limit() {
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  return limit.rlim_cur;
}

long threads_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::stol(line.substr(8));
  return -1;
}

// The last lines of the node's log: the attacks make it long, and the start of it says little.
std::string log_tail(const node_process& node, std::size_t lines = 30) {
  auto text = node.log();
  // Back over lines + 1 newlines: the one that ends the log, and those before the tail's lines.
  std::size_t start = 0;
  auto newline = text.size();
  for (std::size_t n = 0; n <= lines && newline > 0; ++n) {
    newline = text.rfind('\n', newline - 1);
    if (newline == std::string::npos)
      break;
    start = newline + 1;
  }
  if (newline == std::string::npos || newline == 0)
    start = 0; // the log is shorter than the tail
  return "---- last lines of the node's log:\n" + text.substr(start);
}

// slowhttptest's last status report (it reports every 5 s), without its terminal colours.
std::string attack_status(const std::string& log_path) {
  auto text = read_file(log_path);
  std::string plain;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\x1b') {
      plain += text[i];
      continue;
    }
    // An escape sequence: ESC [ parameters, then one letter.
    while (i + 1 < text.size() && std::isalpha(static_cast<unsigned char>(text[i + 1])) == 0)
      ++i;
    ++i;
  }
  auto last = plain.rfind("slow HTTP test status");
  return last == std::string::npos ? plain : plain.substr(last);
}

std::string get_request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

std::string publish_request(const std::string& text) {
  auto body = "message=" + form_encode(text);
  return "POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct response_frame {
  int status = 0; // 0: not a status line
  std::size_t size = 0;
};

// The status and length of the HTTP/1.1 response at the start of `bytes`, once all of it is
// there: the head and Content-Length bytes of body (the node's answers to these requests all
// carry one). nullopt before.
std::optional<response_frame> complete_response(std::string_view bytes) {
  auto end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos)
    return std::nullopt;
  response_frame frame;
  if (bytes.rfind("HTTP/1.1 ", 0) == 0 && end >= 12)
    frame.status = std::atoi(std::string(bytes.substr(9, 3)).c_str());
  std::size_t length = 0;
  std::string head(bytes.substr(0, end + 2));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto at = head.find("\r\ncontent-length:");
  if (at != std::string::npos)
    length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
  frame.size = end + 4 + length;
  if (bytes.size() < frame.size)
    return std::nullopt;
  return frame;
}

// A non-blocking TCP socket connecting to 127.0.0.1:port from `source` (any port of it), or from
// the kernel's choice when `source` is null; -1 if it cannot even start.
int start_connect(const char* source, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source != nullptr) {
    // The port is then picked at connect, per destination, as without bind.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source, &from.sin_addr) != 1
        || ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One plain HTTP/1.1 client connection from a chosen address; every wait ends at a deadline.
// (The harness's connection always comes from 127.0.0.1.) Not thread-safe; one per thread.
class client {
public:
  client(const char* source, uint16_t port, clock::time_point deadline)
      : fd_(start_connect(source, port)) {
    if (fd_ < 0 || !wait(POLLOUT, deadline)) {
      close();
      return;
    }
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
      close();
  }
  ~client() {
    close();
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  bool connected() const {
    return fd_ >= 0;
  }
  // True once the node closed the connection (or reset it).
  bool closed_by_node() const {
    return closed_by_node_;
  }

  // Sends `request` and reads its whole response: the status, or nullopt if the node closed
  // the connection or the deadline passed first. body() is then the response's body.
  std::optional<int> exchange(std::string_view request, clock::time_point deadline) {
    if (fd_ < 0)
      return std::nullopt;
    while (!request.empty() && clock::now() < deadline) {
      auto n = ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
      if (n > 0) {
        request.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        closed_by_node_ = true;
        return std::nullopt;
      } else if (!wait(POLLOUT, deadline)) {
        return std::nullopt;
      }
    }
    if (!request.empty())
      return std::nullopt;
    while (clock::now() < deadline) {
      if (auto frame = complete_response(received_)) {
        auto head_size = received_.find("\r\n\r\n") + 4;
        body_ = received_.substr(head_size, frame->size - head_size);
        received_.erase(0, frame->size);
        return frame->status;
      }
      char buffer[16384];
      auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        received_.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        closed_by_node_ = true;
        return std::nullopt;
      } else if (!wait(POLLIN, deadline)) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  const std::string& body() const {
    return body_;
  }

private:
  bool wait(short events, clock::time_point deadline) {
    pollfd p{fd_, events, 0};
    int rc;
    while ((rc = ::poll(&p, 1, remaining_ms(deadline))) < 0 && errno == EINTR) {
    }
    return rc > 0;
  }
  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  int fd_;
  bool closed_by_node_ = false;
  std::string received_; // bytes of the next response
  std::string body_;
};

// One request of the visitor, on a connection of its own, as a browser opening the page would.
struct visit {
  std::string what;
  int status = 0; // 0: no answer
  clock::duration took{};

  std::string describe() const {
    return what + ": " + (status == 0 ? "no answer" : std::to_string(status)) + " after "
           + std::to_string(as_ms(took)) + " ms";
  }
};

visit timed_visit(uint16_t port, std::string what, const std::string& request) {
  auto start = clock::now();
  // Far past answer_bound, so that a slow answer is measured rather than cut off at the bound.
  auto deadline = start + 5s;
  client visitor(visitor_address, port, deadline);
  auto status = visitor.exchange(request, deadline);
  return {std::move(what), status.value_or(0), clock::now() - start};
}

// A sample of the node's /metrics as the visitor reads it (metric() comes from 127.0.0.1, which
// an attack may have used up); -1 if not answered, 0 if the node has no such sample.
double visitor_metric(uint16_t port, std::string_view sample) {
  auto deadline = in(10s);
  client visitor(visitor_address, port, deadline);
  if (visitor.exchange(get_request("/metrics"), deadline) != 200)
    return -1;
  auto prefix = std::string(sample) + " ";
  std::istringstream lines(visitor.body());
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(prefix, 0) == 0)
      return std::stod(line.substr(prefix.size()));
  return 0;
}

// The visits that were not answered as expected within answer_bound, one a line.
std::string late_or_wrong(const std::vector<visit>& visits, int expected_status) {
  std::string text;
  for (const auto& v : visits)
    if (v.status != expected_status || v.took > answer_bound)
      text += v.describe() + "\n";
  return text;
}

// The longest a visit took, in milliseconds (5000 or so when one got no answer).
long long slowest_ms(const std::vector<visit>& visits) {
  long long worst = 0;
  for (const auto& v : visits)
    worst = std::max(worst, as_ms(v.took));
  return worst;
}

// Visits answered otherwise than `expected_status`, or not at all.
std::size_t not_answered(const std::vector<visit>& visits, int expected_status) {
  return static_cast<std::size_t>(std::count_if(
    visits.begin(), visits.end(), [&](const visit& v) { return v.status != expected_status; }));
}

// One node with `args`, ready, and a plain /listen stream opened before anything else.
struct node_with_listener {
  sandbox sb;
  node_process& node;
  std::unique_ptr<sse_stream> listener;

  explicit node_with_listener(std::vector<std::string> args)
      : node(sb.start_ready(std::move(args))) {
    listener = std::make_unique<sse_stream>(node.port());
    REQUIRE(listener->status() == 200);
  }
};

// Runs slowhttptest with `attack` (its arguments after the program) while, every half second, a
// visitor loads the page and publishes a message; every answer must come within answer_bound,
// and the listener opened before must get exactly the messages published, in order.
void withstand(node_with_listener& n, const std::string& name,
               const std::vector<std::string>& attack) {
  auto& node = n.node;
  INFO(log_tail(node));
  REQUIRE_MESSAGE(::access(slowhttptest, X_OK) == 0,
                  slowhttptest << " is missing: scripts/setup installs it with the test packages");
  auto log_path = n.sb.dir().file("slowhttptest-" + name + ".log");
  std::vector<std::string> args{slowhttptest};
  args.insert(args.end(), attack.begin(), attack.end());
  child_process attacker;
  auto started = clock::now();
  attacker.spawn(args, {}, log_path);
  INFO("slowhttptest's last report:\n" << attack_status(log_path));

  std::vector<visit> pages;
  std::vector<visit> publishes;
  std::vector<std::string> published; // texts answered 303, in the order published
  std::vector<std::string> heard;
  // The attack's 20 s (-l 20), even if slowhttptest gives up sooner because the node closed
  // its connections.
  auto end = started + 20s;
  auto tick = clock::now();
  for (int round = 1; clock::now() < end; ++round) {
    pages.push_back(timed_visit(node.port(), "GET / #" + std::to_string(round), get_request("/")));
    auto text = name + " #" + std::to_string(round);
    publishes.push_back(
      timed_visit(node.port(), "POST /publish #" + std::to_string(round), publish_request(text)));
    if (publishes.back().status == 303)
      published.push_back(text);
    // The pause until the next round reads the listener, so it keeps up during the attack.
    tick = std::max(tick + 500ms, clock::now());
    while (clock::now() < tick && !n.listener->ended())
      if (auto event = n.listener->next_event(tick))
        heard.push_back(event->data);
  }
  auto refused =
    visitor_metric(node.port(), R"(watercooler_connections_refused_total{reason="address"})");
  auto open_now = visitor_metric(node.port(), "watercooler_connections");
  auto code = attacker.exit_code();
  attacker.stop(2s);

  INFO("slowhttptest's exit code after 20 s: " << code << "; at the end " << open_now
                                               << " connections were open");
  INFO("page loads not answered 200 within 1 s:\n" << late_or_wrong(pages, 200));
  INFO("publishes not answered 303 within 1 s:\n" << late_or_wrong(publishes, 303));
  // The visitor came often enough to see the whole attack.
  CHECK(pages.size() >= 10);
  CHECK(not_answered(pages, 200) == 0);
  CHECK(not_answered(publishes, 303) == 0);
  CHECK(slowest_ms(pages) <= as_ms(answer_bound));
  CHECK(slowest_ms(publishes) <= as_ms(answer_bound));
  REQUIRE_FALSE(published.empty());
  auto last = published.back();
  if (std::find(heard.begin(), heard.end(), last) == heard.end()) {
    auto rest =
      n.listener->read_until([&](const std::string& data) { return data == last; }, in(15s));
    heard.insert(heard.end(), rest.begin(), rest.end());
  }
  INFO("published " << published.size() << ", heard " << heard.size());
  CHECK(heard == published);
  // The attack reached the node: more connections from 127.0.0.1 than its quota.
  CHECK(refused > 0);
}

// Connections from this process, each loading /main.css once and then staying idle; one epoll
// set drives them all, so that ten thousand open in moments.
class idle_crowd {
public:
  idle_crowd() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
    REQUIRE(epoll_ >= 0);
  }
  ~idle_crowd() {
    for (auto& m : members_)
      if (m.fd >= 0)
        ::close(m.fd);
    ::close(epoll_);
  }
  idle_crowd(const idle_crowd&) = delete;
  idle_crowd& operator=(const idle_crowd&) = delete;

  // Opens `count` connections, at most `in_flight` of them unanswered at a time, until all are
  // answered or the deadline passes.
  void open(uint16_t port, std::size_t count, clock::time_point deadline,
            std::size_t in_flight = 500) {
    const auto request = get_request("/main.css");
    std::size_t waiting = 0;
    std::vector<epoll_event> events(1024);
    while ((members_.size() < count || waiting > 0) && clock::now() < deadline) {
      while (members_.size() < count && waiting < in_flight) {
        int fd = start_connect(nullptr, port);
        members_.push_back({fd, {}, state::connecting});
        if (fd < 0) {
          members_.back().phase = state::failed;
          ++failed;
          continue;
        }
        watch(members_.size() - 1, EPOLLOUT, EPOLL_CTL_ADD);
        ++waiting;
      }
      int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                           std::min(remaining_ms(deadline), 100));
      for (int i = 0; i < n; ++i) {
        auto index = events[static_cast<std::size_t>(i)].data.u32;
        auto& m = members_[index];
        if (m.phase == state::connecting) {
          int error = 0;
          socklen_t size = sizeof error;
          ::getsockopt(m.fd, SOL_SOCKET, SO_ERROR, &error, &size);
          // A request this small goes out in one send on a fresh connection.
          if (error != 0
              || ::send(m.fd, request.data(), request.size(), MSG_NOSIGNAL)
                   != static_cast<ssize_t>(request.size())) {
            fail(m, waiting);
            continue;
          }
          m.phase = state::requested;
          watch(index, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
        } else if (m.phase == state::requested) {
          char buffer[8192];
          auto got = ::recv(m.fd, buffer, sizeof buffer, 0);
          if (got <= 0) {
            if (got == 0 || (errno != EAGAIN && errno != EINTR))
              fail(m, waiting);
            continue;
          }
          m.received.append(buffer, static_cast<std::size_t>(got));
          if (auto frame = complete_response(m.received)) {
            if (frame->status == 200 && frame->size == m.received.size())
              ++answered;
            else
              ++wrong_answers;
            m.received = {};
            m.phase = state::idle; // still watched: any event from now on is a disturbance
            --waiting;
          }
        }
      }
    }
  }

  // Idle members the node has closed or written to since they were answered; looks, never waits.
  std::size_t disturbed() {
    std::vector<epoll_event> events(1024);
    std::size_t count = 0;
    int n;
    while ((n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 0)) > 0) {
      for (int i = 0; i < n; ++i) {
        auto& m = members_[events[static_cast<std::size_t>(i)].data.u32];
        count += m.phase == state::idle;
        // Reported once: unanswered members are not idle ones, and would be reported forever.
        m.phase = state::failed;
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m.fd, nullptr);
      }
    }
    return count;
  }

  std::size_t answered = 0;
  std::size_t wrong_answers = 0; // not one whole 200 response
  std::size_t failed = 0;        // could not connect, or closed before the answer

private:
  enum class state { connecting, requested, idle, failed };
  struct member {
    int fd;
    std::string received;
    state phase;
  };

  void watch(std::size_t index, uint32_t events, int op) {
    epoll_event event{};
    event.events = events;
    event.data.u32 = static_cast<uint32_t>(index);
    REQUIRE(::epoll_ctl(epoll_, op, members_[index].fd, &event) == 0);
  }
  void fail(member& m, std::size_t& waiting) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, m.fd, nullptr);
    m.phase = state::failed;
    ++failed;
    --waiting;
  }

  int epoll_;
  std::vector<member> members_;
};

} // namespace

TEST_CASE("slowhttptest's attacks leave the page, publishing and streams served within 1 s") {
  raise_open_files_limit(); // slowhttptest's 1,000 connections need the files
  node_with_listener n({"--read-timeout", "10"});
  auto url = "http://127.0.0.1:" + std::to_string(n.node.port());

  SUBCASE("slowloris: headers that never end") {
    withstand(
      n, "slowloris",
      {"-c", "1000", "-H", "-i", "10", "-r", "200", "-x", "24", "-u", url + "/", "-l", "20"});
  }
  SUBCASE("slow body: a publish whose body trickles in") {
    withstand(n, "slow body",
              {"-c", "1000", "-B", "-i", "10", "-s", "8192", "-x", "10", "-r", "200", "-u",
               url + "/publish", "-l", "20"});
  }
  SUBCASE("slow read: responses read a few bytes at a time") {
    withstand(n, "slow read",
              {"-c", "1000", "-X", "-w", "10", "-y", "20", "-n", "5", "-z", "32", "-k", "3", "-r",
               "200", "-u", url + "/main.css", "-l", "20"});
  }
}

TEST_CASE("ten thousand idle keep-alive connections hold no thread and the node serves on") {
  constexpr std::size_t crowd_size = 10'000;
  auto files = raise_open_files_limit();
  // Our sockets and the node's ends of them, both in this limit (the node inherits it).
  REQUIRE_MESSAGE(files >= crowd_size + 1000, "the open-files hard limit "
                                                << files << " is too low for " << crowd_size
                                                << " connections");
  sandbox sb;
  auto config = sb.config("");
  config.extra_args = {"--max-connections-per-address", "0", "--max-connections", "12000",
                       "--keep-alive-timeout",          "60"};
  auto& node = sb.start(config);
  node.require_ready();
  INFO(log_tail(node));
  // Every kind of request once, so that whatever starts lazily has started before counting.
  REQUIRE(timed_visit(node.port(), "GET /", get_request("/")).status == 200);
  REQUIRE(timed_visit(node.port(), "GET /main.css", get_request("/main.css")).status == 200);
  REQUIRE(timed_visit(node.port(), "POST /publish", publish_request("warm")).status == 303);
  REQUIRE(visitor_metric(node.port(), "watercooler_connections") >= 0);
  auto threads_before = threads_of(node.pid());

  auto started = clock::now();
  idle_crowd crowd;
  // Well within --keep-alive-timeout, so that none of them may expire before the checks.
  crowd.open(node.port(), crowd_size, in(30s));
  auto open_time = clock::now() - started;
  INFO("answered " << crowd.answered << ", wrong answers " << crowd.wrong_answers << ", failed "
                   << crowd.failed << " in " << as_ms(open_time) << " ms");
  CHECK(crowd.answered == crowd_size);

  auto page = timed_visit(node.port(), "GET /", get_request("/"));
  auto post = timed_visit(node.port(), "POST /publish", publish_request("among the crowd"));
  auto open_now = visitor_metric(node.port(), "watercooler_connections");
  auto threads_now = threads_of(node.pid());
  auto disturbed = crowd.disturbed();
  INFO(page.describe() << "; " << post.describe());
  CHECK(page.status == 200);
  CHECK(as_ms(page.took) <= as_ms(answer_bound));
  CHECK(post.status == 303);
  CHECK(as_ms(post.took) <= as_ms(answer_bound));
  CHECK(open_now >= static_cast<double>(crowd_size));
  CHECK(threads_now == threads_before);
  CHECK(disturbed == 0); // idle for far less than --keep-alive-timeout
}

TEST_CASE("eight clients publishing flat out over kept-alive connections lose no message") {
  constexpr int clients = 8;
  constexpr int messages = 2000;
  // No rate limit, and a stream queue the whole burst fits in: the front is under test here,
  // not the limits that protect against a flood or a slow reader.
  node_with_listener n(
    {"--publish-rate", "0", "--stream-queue", "100000", "--stream-queue-bytes", "67108864"});
  INFO(log_tail(n.node));
  const auto port = n.node.port();

  struct outcome {
    int answered = 0;    // 303s
    std::string failure; // why the client stopped early
  };
  std::vector<outcome> outcomes(clients);
  std::atomic<int> running{clients};
  auto deadline = in(120s);
  auto started = clock::now();
  std::vector<std::thread> publishers;
  for (int c = 0; c < clients; ++c)
    publishers.emplace_back([&, c] {
      auto& result = outcomes[static_cast<std::size_t>(c)];
      // One connection, one request after another: each waits for the answer to the last.
      client conn(nullptr, port, deadline);
      if (!conn.connected())
        result.failure = "could not connect";
      for (int m = 0; m < messages && result.failure.empty(); ++m) {
        auto status = conn.exchange(
          publish_request("c" + std::to_string(c) + "-m" + std::to_string(m)), deadline);
        if (status == 303)
          ++result.answered;
        else if (status)
          result.failure = "message " + std::to_string(m) + " got " + std::to_string(*status);
        else
          result.failure = "message " + std::to_string(m) + ": "
                           + (conn.closed_by_node() ? "the node closed the connection"
                                                    : "no answer before the deadline");
      }
      --running;
    });

  // What the listener hears, read while they publish: the next message number of each client.
  std::vector<int> next(clients, 0);
  std::vector<std::string> unexpected; // out of order, doubled, or not ours (the first few)
  int heard = 0;
  std::optional<clock::time_point> all_done;
  while (heard < clients * messages && clock::now() < deadline) {
    if (!all_done && running == 0)
      all_done = clock::now();
    if (all_done && clock::now() > *all_done + 15s)
      break; // whatever is missing now is lost
    auto event = n.listener->next_event(in(500ms));
    if (!event) {
      if (n.listener->ended())
        break;
      continue;
    }
    int c = -1;
    int m = -1;
    char end = 0;
    if (std::sscanf(event->data.c_str(), "c%d-m%d%c", &c, &m, &end) == 2 && c >= 0 && c < clients
        && m == next[static_cast<std::size_t>(c)]) {
      ++next[static_cast<std::size_t>(c)];
      ++heard;
    } else if (unexpected.size() < 20) {
      unexpected.push_back(event->data);
    }
  }
  for (auto& t : publishers)
    t.join();
  auto took = clock::now() - started;
  INFO("publishing and hearing took " << as_ms(took) << " ms");

  for (int c = 0; c < clients; ++c) {
    CAPTURE(c);
    const auto& result = outcomes[static_cast<std::size_t>(c)];
    CHECK_MESSAGE(result.failure.empty(), result.failure);
    CHECK(result.answered == messages);
    CHECK(next[static_cast<std::size_t>(c)] == messages);
  }
  std::string odd;
  for (const auto& text : unexpected)
    odd += text + "\n";
  CHECK_MESSAGE(unexpected.empty(), "heard out of order, twice or unknown:\n" << odd);
  CHECK(heard == clients * messages);
  CHECK_FALSE(n.listener->ended());
}

} // namespace watercooler::integration
