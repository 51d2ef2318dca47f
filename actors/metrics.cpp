// Lock-free counters for the hot paths; maps behind a mutex for the rarely-changing ones.
#include "actors/metrics.hpp"

#include <chrono>

namespace watercooler {

void latency_histogram::observe(int64_t us) {
  if (us < 0)
    us = 0; // clocks of two nodes may disagree a little
  size_t i = 0;
  while (i < bounds.size() && static_cast<double>(us) > bounds[i] * 1e6)
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
}

latency_histogram::snapshot latency_histogram::read() const {
  snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running + buckets_[bounds.size()].load(std::memory_order_relaxed);
  s.sum_seconds = static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

peer_report& node_metrics::peer_entry(const std::string& peer) {
  auto& report = peers_[peer];
  report.name = peer;
  return report;
}

void node_metrics::peer_connected(const std::string& peer, const std::string& address) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& report = peer_entry(peer);
  report.state = "connected";
  report.since_ms = now_us() / 1000;
  report.address = address;
  report.error.clear();
}

void node_metrics::peer_stopped(const std::string& peer) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& report = peer_entry(peer);
  report.state = "stopped";
  report.since_ms = now_us() / 1000;
  report.rtt_us = -1;
}

void node_metrics::peer_lost(const std::string& peer, bool redialling) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& report = peer_entry(peer);
  if (report.state == "stopped")
    return; // it said goodbye: its connection closing is no news
  report.state = redialling ? "reconnecting" : "down";
  report.since_ms = now_us() / 1000;
  report.rtt_us = -1;
}

void node_metrics::peer_failed(const std::string& peer, const std::string& error) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& report = peer_entry(peer);
  if (report.state == "connected")
    return;
  if (report.state.empty()) { // never reached yet
    report.state = "down";
    report.since_ms = now_us() / 1000;
  }
  report.error = error;
}

void node_metrics::peer_rtt(const std::string& peer, int64_t microseconds) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& report = peer_entry(peer);
  if (report.state == "connected")
    report.rtt_us = microseconds;
}

void node_metrics::forwarded_to(const std::string& peer) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++peer_entry(peer).forwarded;
}

void node_metrics::received_from(const std::string& peer) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++peer_entry(peer).received;
}

std::map<std::string, peer_report> node_metrics::peers() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return peers_;
}

void node_metrics::request(const std::string& route, int status) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++requests_[{route, status}];
}

std::map<std::pair<std::string, int>, uint64_t> node_metrics::requests() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return requests_;
}

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace watercooler
