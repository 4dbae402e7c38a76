// The real node's `world::metrics`: every counter, histogram and event kind the
// actors register becomes a metric of a prometheus::Registry, which the gateway
// serves at /metrics.
//
// Names: a world name like "stream.masternode_egress_bytes" becomes
// "stakecast_stream_masternode_egress_bytes"; every character that Prometheus does
// not allow in a name ('.', '-', anything but [A-Za-z0-9_]) becomes '_'. Then:
// - counter(name)    -> counter `stakecast_<name>_total`;
// - event_kind(name) -> counter `stakecast_events_<name>_total`, +1 per event (the
//                       node id and the two integers are not exported);
// - histogram(name)  -> histogram `stakecast_<name>` with fixed exponential buckets
//                       (options below): cheaper to record and to scrape than a
//                       summary, and aggregatable across nodes.
// Counters only go up, but the world's counters are signed sums, and a few are levels
// that go down again (`content.<label>.viewers`: +1 when a session starts, -1 when it
// ends). A counter whose name ends with one of `options.level_suffixes` is therefore
// a gauge `stakecast_<name>` (no `_total`). A negative delta on any other counter is
// a programmer error: it is not applied (a Prometheus counter that went down would
// read as a restart) but counted in `stakecast_metrics_negative_deltas_total`.
//
// Registration is idempotent: the same name (or two names equal after the mapping)
// gives the same id. Each kind holds at most `names_max` names; past that, or when a
// name clashes with a metric of another type, the id of an overflow metric
// (`stakecast_metrics_overflow_total`, histogram `stakecast_metrics_overflow`) is
// returned, so a registration never fails.
//
// Thread-safe: registration takes a mutex; add, record and event are lock-free
// (an index into a table that never moves, then the metric's own atomics).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "actors/world/world.hpp"

namespace stakecast::node {

struct prometheus_metrics_options {
  /// Most names per kind (counters and event kinds share one table); each name costs
  /// one table slot of 16 bytes up front.
  std::uint32_t names_max = 4096;
  /// Histogram buckets: first upper bound, factor between bounds, number of bounds.
  /// The defaults span 1 ms .. about 8400 s (or the same in other units: ratios,
  /// rounds), within a factor of 2.
  double histogram_bucket_first = 0.001;
  double histogram_bucket_factor = 2.0;
  std::uint32_t histogram_bucket_count = 24;
  /// World counters that are levels, exported as gauges.
  std::vector<std::string> level_suffixes = {".viewers"};
};

/// "stream.rejects" -> "stream_rejects": the Prometheus form of a world name.
std::string prometheus_name(std::string_view world_name);

class prometheus_metrics final : public world::metrics {
public:
  /// REQUIRES: names_max >= 2, histogram_bucket_first > 0,
  /// histogram_bucket_factor > 1, histogram_bucket_count >= 1.
  explicit prometheus_metrics(
      prometheus_metrics_options options = {},
      std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>());
  ~prometheus_metrics() override;

  counter_id counter(std::string_view name) override;
  histogram_id histogram(std::string_view name) override;
  event_id event_kind(std::string_view name) override;
  void add(counter_id counter, std::int64_t delta) override;
  void record(histogram_id histogram, double value) override;
  void event(event_id kind, const core::node_id& node, std::uint64_t a, std::uint64_t b) override;

  const std::shared_ptr<prometheus::Registry>& registry() const noexcept { return registry_; }

private:
  /// A counter or a gauge, never both.
  struct counter_slot {
    prometheus::Counter* counter = nullptr;
    prometheus::Gauge* gauge = nullptr;
  };

  std::uint32_t intern_counter(const std::string& full_name, bool level, std::string_view help);

  const prometheus_metrics_options options_;
  const std::shared_ptr<prometheus::Registry> registry_;
  const prometheus::Histogram::BucketBoundaries buckets_;
  prometheus::Counter* negative_deltas_ = nullptr;

  std::mutex registration_mutex_;
  std::map<std::string, std::uint32_t, std::less<>> counter_ids_;   // by full name
  std::map<std::string, std::uint32_t, std::less<>> histogram_ids_; // by full name
  // Fixed size, written before an id is handed out, never moved: readers need no lock.
  std::unique_ptr<counter_slot[]> counters_;
  std::unique_ptr<prometheus::Histogram*[]> histograms_;
  std::uint32_t counter_count_ = 0;
  std::uint32_t histogram_count_ = 0;
};

} // namespace stakecast::node
