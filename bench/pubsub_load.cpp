// A pub/sub load generator for watercooler and nginx+nchan: N SSE subscribers on one epoll loop,
// M messages published open-loop at R msg/s (or closed-loop, back to back, for S seconds), and
// per-run latency, loss, order, publish latency and rate, server RSS and CPU.
// Bounded: every wait has a deadline. Payload: "run=<id> seq=<n> t=<scheduled send, ns>" (closed
// loop: the actual send).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/load_common.hpp"
#include "bench/pubsub_events.hpp"
#include "bench/subscriber_link.hpp"

namespace {

using bench::clock_type;
using bench::now_ns;

enum class subject { watercooler, nchan };

struct settings {
  subject mode = subject::watercooler;
  bench::wire wire = bench::wire::http1;
  int streams_per_connection = 100; // --wire h2: subscribers per connection
  std::string host = "127.0.0.1";
  std::vector<int> ports{8080};  // subscribers are split evenly over these
  int publish_port = 0;          // default: the first of `ports`; always plain HTTP
  std::string channel = "bench"; // nchan: /pub/<channel>, /sub/<channel>
  int subscribers = 1000;
  int messages = 100;
  double rate = 10;
  int publishers = 8; // publishing threads, so a slow answer does not delay the schedule
  std::vector<int> pids;
  int connect_timeout_s = 60;
  int drain_timeout_s = 15; // after the last publish
  double closed_loop_s = 0; // > 0: publish back to back for this long (at most M), not at R msg/s
  std::string label = "run";
};

long rss_kb(const settings& cfg) {
  long sum = 0;
  for (int pid : cfg.pids)
    sum += std::max(0L, bench::proc_status(pid, "VmRSS:"));
  return sum;
}

double cpu_s(const settings& cfg) {
  double sum = 0;
  for (int pid : cfg.pids)
    sum += bench::proc_cpu_s(pid);
  return sum;
}

std::vector<int> int_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      out.push_back(std::atoi(item.c_str()));
  return out;
}

const char* wire_name(bench::wire w) {
  return w == bench::wire::h2 ? "h2" : w == bench::wire::http1_tls ? "http1-tls" : "http1";
}

int usage() {
  std::fprintf(stderr,
               "usage: pubsub_load --mode watercooler|nchan --ports P1[,P2...] [--publish-port P]\n"
               "  [--subscribers N] [--messages M] [--rate MSG_PER_S] [--publishers T]\n"
               "  [--channel ID] [--pid PID[,PID...]] [--connect-timeout S] [--drain-timeout S]\n"
               "  [--label TEXT] [--host H] [--closed-loop SECONDS]\n"
               "  [--wire http1|http1-tls|h2] [--streams-per-connection S]\n"
               "  --subscribers 0 only publishes; --closed-loop S: each publisher sends its next\n"
               "  message when the last one is answered, for S seconds (at most M in all);\n"
               "  --wire: how subscribers connect to --ports (http1-tls and h2: their HTTPS\n"
               "  ports; h2: S streams per connection, default 100); publishing is plain HTTP\n");
  return 2;
}

// What the links report, applied to the subscribers' state.
class receiver final : public bench::link_events {
public:
  receiver(std::vector<bench::subscriber>& subs, const std::string& run) : subs_(subs), run_(run) {}
  void subscribed(int sub) override {
    subs_[static_cast<size_t>(sub)].subscribed = true;
    ++heads;
  }
  void body(int sub, const char* data, size_t size) override {
    bench::feed_sse(subs_[static_cast<size_t>(sub)], data, size, run_, latency, sum);
  }
  void ended(int sub) override {
    auto& s = subs_[static_cast<size_t>(sub)];
    failed += !s.dead;
    s.dead = true;
  }

  int heads = 0, failed = 0;
  bench::histogram latency;
  bench::totals sum;

private:
  std::vector<bench::subscriber>& subs_;
  const std::string& run_;
};

} // namespace

int main(int argc, char** argv) {
  settings cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--mode" && (value == "watercooler" || value == "nchan"))
      cfg.mode = value == "nchan" ? subject::nchan : subject::watercooler;
    else if (flag == "--host")
      cfg.host = value;
    else if (flag == "--ports")
      cfg.ports = int_list(value);
    else if (flag == "--publish-port")
      cfg.publish_port = std::atoi(value.c_str());
    else if (flag == "--channel")
      cfg.channel = value;
    else if (flag == "--subscribers")
      cfg.subscribers = std::atoi(value.c_str());
    else if (flag == "--messages")
      cfg.messages = std::atoi(value.c_str());
    else if (flag == "--rate")
      cfg.rate = std::atof(value.c_str());
    else if (flag == "--publishers")
      cfg.publishers = std::atoi(value.c_str());
    else if (flag == "--pid")
      cfg.pids = int_list(value);
    else if (flag == "--connect-timeout")
      cfg.connect_timeout_s = std::atoi(value.c_str());
    else if (flag == "--drain-timeout")
      cfg.drain_timeout_s = std::atoi(value.c_str());
    else if (flag == "--label")
      cfg.label = value;
    else if (flag == "--closed-loop")
      cfg.closed_loop_s = std::atof(value.c_str());
    else if (flag == "--wire" && (value == "http1" || value == "http1-tls" || value == "h2"))
      cfg.wire = value == "h2"          ? bench::wire::h2
                 : value == "http1-tls" ? bench::wire::http1_tls
                                        : bench::wire::http1;
    else if (flag == "--streams-per-connection")
      cfg.streams_per_connection = std::atoi(value.c_str());
    else
      return usage();
  }
  if (argc % 2 == 0 || cfg.subscribers < 0 || cfg.messages < 0 || cfg.rate <= 0 || cfg.ports.empty()
      || cfg.publishers <= 0 || cfg.closed_loop_s < 0 || cfg.streams_per_connection <= 0)
    return usage();
  if (cfg.publish_port == 0)
    cfg.publish_port = cfg.ports.front();
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);

  std::string run = std::to_string(std::random_device{}() % 1000000000u);
  const bool nchan = cfg.mode == subject::nchan;
  const std::string sub_path = nchan ? "/sub/" + cfg.channel : "/listen";
  SSL_CTX* tls = bench::client_context(cfg.wire);
  if (cfg.wire != bench::wire::http1 && tls == nullptr) {
    std::fprintf(stderr, "pubsub_load: no TLS client context\n");
    return 1;
  }

  long rss_before = rss_kb(cfg);
  int ep = ::epoll_create1(0);
  std::vector<bench::subscriber> subs(static_cast<size_t>(cfg.subscribers));
  receiver events(subs, run);
  auto& sum = events.sum;
  auto& latency = events.latency;
  int& heads = events.heads;
  std::vector<std::unique_ptr<bench::subscriber_link>> links; // index = epoll tag
  std::vector<sockaddr_in> addrs;
  for (int port : cfg.ports) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, cfg.host.c_str(), &addr.sin_addr);
    addrs.push_back(addr);
  }

  // Subscribe, in waves so the accept queue is never the thing being measured. A connection
  // carries one subscriber, or with --wire h2 up to --streams-per-connection of them.
  const int per_link = cfg.wire == bench::wire::h2 ? cfg.streams_per_connection : 1;
  auto t_connect = clock_type::now();
  auto connect_deadline = t_connect + std::chrono::seconds(cfg.connect_timeout_s);
  int opened = 0;
  std::vector<epoll_event> ready(4096);
  auto on_ready = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto& link = links[ready[static_cast<size_t>(i)].data.u32];
      if (link && !link->pump(events))
        link.reset();
    }
  };
  while (heads + events.failed < cfg.subscribers && clock_type::now() < connect_deadline) {
    while (opened < cfg.subscribers && opened - heads - events.failed < 500) {
      int count = std::min(per_link, cfg.subscribers - opened);
      for (int k = opened; k < opened + count; ++k) {
        subs[static_cast<size_t>(k)].seen.assign(static_cast<size_t>(cfg.messages), false);
        subs[static_cast<size_t>(k)].max_seq.assign(static_cast<size_t>(cfg.publishers), -1);
      }
      auto tag = static_cast<uint32_t>(links.size());
      const auto& addr = addrs[tag % addrs.size()];
      links.push_back(bench::open_link(cfg.wire, tls, ep, tag, addr, sub_path, opened, count));
      if (!links.back())
        for (int k = opened; k < opened + count; ++k)
          events.ended(k);
      opened += count;
    }
    on_ready(::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100));
  }
  double connect_s = std::chrono::duration<double>(clock_type::now() - t_connect).count();
  long rss_held = rss_kb(cfg);
  double cpu_before = cpu_s(cfg);
  double own_cpu_before = bench::proc_cpu_s(::getpid()); // the load generator's: is it the bound?

  // Publish open-loop: message k is due at start + k/R; its payload carries that due time, so a
  // late publisher shows up as latency instead of silently slowing the schedule. Closed-loop:
  // each publisher takes the next message number when its last request was answered.
  // Publish latency: from the request's send to its response, per successful publish.
  const bool closed = cfg.closed_loop_s > 0;
  std::atomic<int> next_message{0};
  bench::histogram publish_latency;
  int64_t last_published_ns = 0; // under ok_mutex
  std::atomic<int> published_ok{0};
  std::atomic<int> publish_failed{0};
  std::atomic<bool> publishing_done{false};
  std::vector<bool> ok(static_cast<size_t>(cfg.messages), false);
  std::mutex ok_mutex;
  auto start = clock_type::now() + std::chrono::milliseconds(100);
  auto start_ns = now_ns() + 100'000'000;
  auto publish_end =
    start
    + std::chrono::nanoseconds(static_cast<int64_t>(
      closed ? cfg.closed_loop_s * 1e9 : static_cast<double>(cfg.messages) * 1e9 / cfg.rate));
  auto hard_deadline = publish_end + std::chrono::seconds(cfg.drain_timeout_s);
  std::vector<std::thread> publishers;
  for (int p = 0; p < cfg.publishers; ++p)
    publishers.emplace_back([&, p] {
      httplib::Client client(cfg.host, cfg.publish_port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true); // else Nagle + delayed ACK add 40 ms to each POST
      client.set_connection_timeout(5);
      client.set_read_timeout(5);
      if (closed)
        std::this_thread::sleep_until(start);
      for (int k = closed ? next_message++ : p;
           k < cfg.messages && clock_type::now() < (closed ? publish_end : hard_deadline);
           k = closed ? next_message++ : k + cfg.publishers) {
        int64_t due;
        if (closed) {
          due = now_ns();
        } else {
          auto offset = std::chrono::nanoseconds(static_cast<int64_t>(k * 1e9 / cfg.rate));
          std::this_thread::sleep_until(start + offset);
          due = start_ns + offset.count();
        }
        std::string payload =
          "run=" + run + " seq=" + std::to_string(k) + " t=" + std::to_string(due);
        if (closed)
          payload += " p=" + std::to_string(p);
        int64_t sent = now_ns();
        httplib::Result res =
          nchan ? client.Post("/pub/" + cfg.channel, payload, "text/plain")
                : client.Post("/publish", "message=" + httplib::detail::encode_query_param(payload),
                              "application/x-www-form-urlencoded");
        bool good = res && (nchan ? res->status >= 200 && res->status < 300 : res->status == 303);
        if (good) {
          int64_t answered = now_ns();
          ++published_ok;
          std::lock_guard<std::mutex> lock(ok_mutex);
          ok[static_cast<size_t>(k)] = true;
          publish_latency.add(answered - sent);
          last_published_ns = std::max(last_published_ns, answered);
        } else {
          if (publish_failed++ < 5)
            std::fprintf(stderr, "publish %d failed: %s\n", k,
                         res ? std::to_string(res->status).c_str()
                             : httplib::to_string(res.error()).c_str());
        }
      }
    });

  // Receive until every live subscriber has every published message or the drain deadline.
  std::thread joiner([&] {
    for (auto& t : publishers)
      t.join();
    publishing_done = true;
  });
  for (;;) {
    on_ready(::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 20));
    auto now = clock_type::now();
    if (now >= hard_deadline)
      break;
    if (publishing_done) {
      uint64_t want = static_cast<uint64_t>(published_ok.load()) * static_cast<uint64_t>(heads);
      if (sum.deliveries >= want)
        break;
    }
  }
  double cpu_after = cpu_s(cfg);
  double own_cpu = bench::proc_cpu_s(::getpid()) - own_cpu_before;
  // Publishers stop at the drain deadline; one in flight is bounded by its client timeouts.
  joiner.join();

  uint64_t lost = 0;
  int live = 0;
  for (auto& s : subs) {
    if (!s.subscribed)
      continue;
    live += !s.dead;
    for (int k = 0; k < cfg.messages; ++k)
      lost += ok[static_cast<size_t>(k)] && !s.seen[static_cast<size_t>(k)];
  }
  double active_s =
    sum.deliveries > 0 ? std::chrono::duration<double>(sum.last_delivery - start).count() : 0;
  double deliveries_per_s = active_s > 0 ? static_cast<double>(sum.deliveries) / active_s : 0;
  double rss_per_sub =
    heads > 0 ? static_cast<double>(rss_held - rss_before) * 1024.0 / heads : 0.0;
  double cpu = cfg.pids.empty() ? 0 : cpu_after - cpu_before;
  // Publishes/s: successful publishes over the time from the first due send to the last answer.
  double publish_s = static_cast<double>(last_published_ns - start_ns) / 1e9;
  double publishes_per_s =
    published_ok > 0 && publish_s > 0 ? static_cast<double>(published_ok.load()) / publish_s : 0;
  std::printf(
    "RESULT label=%s mode=%s subscribers=%d connected=%d live=%d connect_s=%.2f "
    "rate=%.0f messages=%d published=%d publish_failed=%d deliveries=%llu "
    "deliveries_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f lost=%llu "
    "duplicated=%llu out_of_order=%llu foreign=%llu rss_before_kb=%ld rss_held_kb=%ld "
    "rss_per_sub_b=%.0f cpu_s=%.2f closed_loop_s=%.0f publishes_per_s=%.1f "
    "pub_p50_ms=%.2f pub_p99_ms=%.2f pub_max_ms=%.2f wire=%s connections=%zu load_cpu_s=%.2f\n",
    cfg.label.c_str(), nchan ? "nchan" : "watercooler", cfg.subscribers, heads, live, connect_s,
    cfg.rate, cfg.messages, published_ok.load(), publish_failed.load(),
    static_cast<unsigned long long>(sum.deliveries), deliveries_per_s, latency.percentile_ms(0.5),
    latency.percentile_ms(0.99), latency.max_ms(), static_cast<unsigned long long>(lost),
    static_cast<unsigned long long>(sum.duplicated),
    static_cast<unsigned long long>(sum.out_of_order), static_cast<unsigned long long>(sum.foreign),
    rss_before, rss_held, rss_per_sub, cpu, cfg.closed_loop_s, publishes_per_s,
    publish_latency.percentile_ms(0.5), publish_latency.percentile_ms(0.99),
    publish_latency.max_ms(), wire_name(cfg.wire), links.size(), own_cpu);
  std::printf("# %s: %d/%d subscribed in %.2f s; %d/%d published at %.0f msg/s; %.0f "
              "deliveries/s; latency p50 %.2f p99 %.2f max %.2f ms; lost %llu dup %llu "
              "reordered %llu; %.0f B RSS/subscriber; %.2f s server CPU; %.1f publishes/s, "
              "publish p50 %.2f p99 %.2f max %.2f ms\n",
              cfg.label.c_str(), heads, cfg.subscribers, connect_s, published_ok.load(),
              cfg.messages, cfg.rate, deliveries_per_s, latency.percentile_ms(0.5),
              latency.percentile_ms(0.99), latency.max_ms(), static_cast<unsigned long long>(lost),
              static_cast<unsigned long long>(sum.duplicated),
              static_cast<unsigned long long>(sum.out_of_order), rss_per_sub, cpu, publishes_per_s,
              publish_latency.percentile_ms(0.5), publish_latency.percentile_ms(0.99),
              publish_latency.max_ms());
  std::fflush(stdout);
  links.clear();
  ::close(ep);
  SSL_CTX_free(tls);
  bool clean = heads == cfg.subscribers && lost == 0 && publish_failed == 0 && sum.duplicated == 0
               && sum.out_of_order == 0;
  return clean ? 0 : 1;
}
