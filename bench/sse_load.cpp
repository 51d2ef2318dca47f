// A small SSE load client: holds N /listen streams on one epoll loop, publishes M messages and
// reports connect time, broadcast time (POST until the last stream has the event) and the
// server's memory and threads. Bounded: every wait has a deadline.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/load_common.hpp"
#include "web/stream/sse.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct settings {
  std::string host = "127.0.0.1";
  int port = 8080;
  int streams = 1000;
  int messages = 20;
  int pid = 0; // server process, for RSS and threads
  int timeout_s = 60;
};

struct stream {
  int fd = -1;
  bench::response_reader reader;
  watercooler::sse_parser parser;
  int events = 0;
};

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

int usage() {
  std::fprintf(stderr, "usage: sse_load [--host H] --port P [--streams N] [--messages M] "
                       "[--pid SERVER_PID] [--timeout SECONDS]\n");
  return 2;
}

// Reads what arrived on `s`; false when the stream ended.
bool pump(stream& s) {
  return s.reader.pump(s.fd, [&](const char* data, size_t size) {
    s.events += static_cast<int>(s.parser.feed(std::string_view(data, size)).size());
  });
}

} // namespace

int main(int argc, char** argv) {
  settings cfg;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--host")
      cfg.host = value;
    else if (flag == "--port")
      cfg.port = std::atoi(value.c_str());
    else if (flag == "--streams")
      cfg.streams = std::atoi(value.c_str());
    else if (flag == "--messages")
      cfg.messages = std::atoi(value.c_str());
    else if (flag == "--pid")
      cfg.pid = std::atoi(value.c_str());
    else if (flag == "--timeout")
      cfg.timeout_s = std::atoi(value.c_str());
    else
      return usage();
  }
  if (argc % 2 == 0 || cfg.streams <= 0)
    return usage();
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  auto deadline = clock_type::now() + std::chrono::seconds(cfg.timeout_s);

  long rss_before = bench::proc_status(cfg.pid, "VmRSS:");
  long threads_before = bench::proc_status(cfg.pid, "Threads:");
  int ep = ::epoll_create1(0);
  std::vector<stream> streams(static_cast<size_t>(cfg.streams));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(cfg.port));
  ::inet_pton(AF_INET, cfg.host.c_str(), &addr.sin_addr);
  const std::string request = "GET /listen HTTP/1.1\r\nHost: bench\r\n\r\n";

  auto t_connect = clock_type::now();
  int heads = 0;
  int opened = 0;
  int failed = 0;
  std::vector<epoll_event> ready(1024);
  // Open connections in waves so the accept queue is never the thing being measured.
  while (heads + failed < cfg.streams && clock_type::now() < deadline) {
    while (opened < cfg.streams && opened - heads - failed < 500) {
      auto& s = streams[static_cast<size_t>(opened)];
      s.fd = bench::open_stream(ep, addr, request, static_cast<uint32_t>(opened));
      failed += s.fd < 0;
      ++opened;
    }
    int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int i = 0; i < n; ++i) {
      auto& s = streams[ready[static_cast<size_t>(i)].data.u32];
      bool was = s.reader.head_done();
      if (!pump(s)) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
        ++failed;
      } else if (!was && s.reader.head_done()) {
        ++heads;
      }
    }
  }
  double connect_ms = ms_since(t_connect);
  long rss_held = bench::proc_status(cfg.pid, "VmRSS:");
  long threads_held = bench::proc_status(cfg.pid, "Threads:");

  httplib::Client publisher(cfg.host, cfg.port);
  std::vector<double> broadcast_ms;
  int lost = 0;
  for (int m = 1; m <= cfg.messages && clock_type::now() < deadline; ++m) {
    auto t0 = clock_type::now();
    auto res = publisher.Post("/publish", "message=bench+" + std::to_string(m),
                              "application/x-www-form-urlencoded");
    if (!res || res->status != 303) {
      std::fprintf(stderr, "publish %d failed\n", m);
      break;
    }
    int complete = 0;
    for (auto& s : streams)
      complete += s.reader.head_done() && s.events >= m;
    while (complete < heads && clock_type::now() < deadline) {
      int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
      for (int i = 0; i < n; ++i) {
        auto& s = streams[ready[static_cast<size_t>(i)].data.u32];
        int before = s.events;
        if (!pump(s))
          ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
        if (before < m && s.events >= m)
          ++complete;
      }
    }
    lost += heads - complete;
    broadcast_ms.push_back(ms_since(t0));
  }
  std::sort(broadcast_ms.begin(), broadcast_ms.end());
  auto pct = [&](double p) {
    return broadcast_ms.empty()
             ? 0.0
             : broadcast_ms[std::min(
               broadcast_ms.size() - 1,
               static_cast<size_t>(p * static_cast<double>(broadcast_ms.size())))];
  };
  std::printf(
    "streams %d held %d failed %d | heads in %.0f ms | broadcast to all: p50 %.1f ms, "
    "max %.1f ms over %zu messages, missing %d | server RSS %ld -> %ld kB (%.1f kB/stream), "
    "threads %ld -> %ld\n",
    cfg.streams, heads, failed, connect_ms, pct(0.5), pct(1.0), broadcast_ms.size(), lost,
    rss_before, rss_held, heads > 0 ? static_cast<double>(rss_held - rss_before) / heads : 0.0,
    threads_before, threads_held);
  for (auto& s : streams)
    if (s.fd >= 0)
      ::close(s.fd);
  ::close(ep);
  return heads == cfg.streams && lost == 0 ? 0 : 1;
}
