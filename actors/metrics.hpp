// Counters of one node, shared by its actors and its HTTP layer; read by /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "actors/wire/report.hpp"

namespace watercooler {

// Publish-to-delivery latency, Prometheus-style cumulative buckets (upper bounds in seconds).
class latency_histogram {
public:
  static constexpr std::array<double, 12> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void observe(int64_t microseconds);

  struct snapshot {
    std::array<uint64_t, bounds.size()> cumulative{}; // observations <= each bound
    uint64_t count = 0;
    double sum_seconds = 0;
  };
  snapshot read() const;

private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{}; // last: above every bound
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

struct node_metrics {
  std::atomic<uint64_t> published{0};   // messages published on this node
  std::atomic<uint64_t> received{0};    // messages received from peer nodes
  std::atomic<uint64_t> delivered{0};   // events written to local streams (one per stream)
  std::atomic<uint64_t> dropped{0};     // duplicates and malformed messages from peers
  std::atomic<uint64_t> bytes_sent{0};  // bytes written to local streams
  std::atomic<int64_t> sessions{0};     // streams open now
  std::atomic<uint64_t> fell_behind{0}; // streams ended because their client could not keep up
  std::atomic<int64_t> connections{0};  // HTTP(S) connections on the front now (not streams)
  std::atomic<uint64_t> refused_per_address{0}; // connections over the per-address limit
  std::atomic<uint64_t> refused_in_all{0};      // connections over the limit in all
  std::atomic<uint64_t> reset_floods{0}; // HTTP/2 connections ended for resetting too many streams
  latency_histogram latency;             // origin's publish -> written to a local stream
  std::atomic<uint64_t> present{0};      // people present in the cluster, as this node sees it
  std::atomic<uint64_t> present_here{0}; // of them with a stream here (or within the grace)
  std::atomic<uint64_t> listeners{0};    // streams without a person, in the cluster
  std::atomic<uint64_t> presence_refused_per_address{0}; // clients over --max-present-per-address
  std::atomic<uint64_t> presence_refused_in_all{0};      // clients over --max-present

  // Per peer node: its state since when, round trip, messages forwarded to and received from it.
  void peer_connected(const std::string& peer, const std::string& address);
  // The peer said goodbye: "stopped" until it connects again.
  void peer_stopped(const std::string& peer);
  // Lost: "reconnecting" while the cluster redials it, else "down" (or still "stopped").
  void peer_lost(const std::string& peer, bool redialling);
  // An attempt to reach a node that is not connected failed; shown until it connects.
  void peer_failed(const std::string& peer, const std::string& error);
  void peer_rtt(const std::string& peer, int64_t microseconds);
  void forwarded_to(const std::string& peer);
  void received_from(const std::string& peer);
  std::map<std::string, peer_report> peers() const;

  // HTTP requests by route and status.
  void request(const std::string& route, int status);
  std::map<std::pair<std::string, int>, uint64_t> requests() const;

private:
  peer_report& peer_entry(const std::string& peer); // with mutex_ held

  mutable std::mutex mutex_;
  std::map<std::string, peer_report> peers_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

// Microseconds since the Unix epoch: the publish time that travels with each message.
int64_t now_us();

} // namespace watercooler
