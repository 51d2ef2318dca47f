// What pubsub_load makes of the events its subscribers receive, whatever carried them: SSE
// parsing, the payload's run, sequence number and send time, loss, order and latency.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

using clock_type = std::chrono::steady_clock;

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
    .count();
}

// Latency histogram: 10 µs buckets up to 60 s, the exact maximum kept aside.
class histogram {
public:
  histogram() : counts_(6'000'000) {}
  void add(int64_t ns) {
    auto us = std::max<int64_t>(ns, 0) / 1000;
    max_ns_ = std::max(max_ns_, ns);
    auto i = std::min<size_t>(static_cast<size_t>(us / 10), counts_.size() - 1);
    ++counts_[i];
    ++total_;
  }
  double percentile_ms(double p) const {
    if (total_ == 0)
      return 0;
    auto want = static_cast<uint64_t>(p * static_cast<double>(total_));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > want)
        return static_cast<double>(i) / 100.0 + 0.005;
    }
    return max_ms();
  }
  double max_ms() const {
    return static_cast<double>(max_ns_) / 1e6;
  }
  uint64_t total() const {
    return total_;
  }

private:
  std::vector<uint32_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ns_ = 0;
};

// One subscriber's event stream: what it has seen, and the event being assembled.
struct subscriber {
  bool subscribed = false; // its 200 answer came
  bool dead = false;       // refused, ended or failed
  std::string line;        // SSE line being assembled
  std::string data;        // data of the event being assembled
  std::vector<bool> seen;
  std::vector<int64_t> max_seq; // per publisher thread: each publishes its messages in order
  int received = 0;
};

struct totals {
  uint64_t deliveries = 0, duplicated = 0, out_of_order = 0, foreign = 0;
  clock_type::time_point last_delivery{};
};

// One complete SSE event's data: "run=<id> seq=<n> t=<ns>[ p=<publisher>]".
inline void on_event(subscriber& s, const std::string& data, const std::string& run,
                     histogram& latency, totals& sum, int64_t now) {
  auto run_at = data.find("run=");
  auto seq_at = data.find(" seq=");
  auto t_at = data.find(" t=");
  if (run_at != 0 || seq_at == std::string::npos || t_at == std::string::npos
      || data.compare(4, seq_at - 4, run) != 0) {
    ++sum.foreign;
    return;
  }
  auto seq = std::strtoll(data.c_str() + seq_at + 5, nullptr, 10);
  auto t = std::strtoll(data.c_str() + t_at + 3, nullptr, 10);
  if (seq < 0 || static_cast<size_t>(seq) >= s.seen.size()) {
    ++sum.foreign;
    return;
  }
  if (s.seen[static_cast<size_t>(seq)]) {
    ++sum.duplicated;
    return;
  }
  s.seen[static_cast<size_t>(seq)] = true;
  // Each publisher publishes in order: open-loop publisher p sends seq p, p + T, ...; closed-loop
  // publishers take any next seq, so their payload names them (" p=<publisher>").
  auto p_at = data.find(" p=");
  size_t publisher = p_at == std::string::npos
                       ? static_cast<size_t>(seq)
                       : static_cast<size_t>(std::strtoull(data.c_str() + p_at + 3, nullptr, 10));
  auto& last = s.max_seq[publisher % s.max_seq.size()];
  if (seq < last)
    ++sum.out_of_order;
  last = std::max<int64_t>(last, seq);
  ++s.received;
  ++sum.deliveries;
  sum.last_delivery = clock_type::now();
  latency.add(now - t);
}

// SSE lines: "data:" lines are kept, "id:", "retry:", "event:" and ":" comments ignored.
inline void feed_sse(subscriber& s, const char* p, size_t n, const std::string& run,
                     histogram& latency, totals& sum) {
  int64_t now = now_ns();
  for (size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c != '\n') {
      s.line.push_back(c);
      continue;
    }
    if (!s.line.empty() && s.line.back() == '\r')
      s.line.pop_back();
    if (s.line.empty()) {
      if (!s.data.empty())
        on_event(s, s.data, run, latency, sum, now);
      s.data.clear();
    } else if (s.line.rfind("data:", 0) == 0) {
      size_t from = s.line.size() > 5 && s.line[5] == ' ' ? 6 : 5;
      if (!s.data.empty())
        s.data.push_back('\n');
      s.data.append(s.line, from, std::string::npos);
    }
    s.line.clear();
  }
}

} // namespace bench
