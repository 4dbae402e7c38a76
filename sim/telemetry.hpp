// The simulator's `world::metrics`: one registry for all virtual nodes (counters
// are totals over nodes), histograms with bounded error, structured events that
// workloads may listen to, and the trace hash.
//
// The trace hash folds, in order, every message the network delivers and every
// event any actor or the world emits, together with the virtual time. Same binary,
// scenario and seed give the same hash; any difference in behaviour changes it.
//
// Time series: `sample(now)` appends one row with the value of every counter.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/world/world.hpp"
#include "sim/histogram.hpp"
#include "sim/kernel.hpp"

namespace stakecast::sim {

/// A 64-bit running hash of a sequence of integers (order-sensitive).
class trace_hash {
public:
  void fold(std::uint64_t value) noexcept {
    state_ = (state_ ^ value) * 0x100000001b3ULL;
    state_ ^= state_ >> 29;
  }
  std::uint64_t value() const noexcept { return state_; }
  std::string to_hex() const;

private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

class telemetry final : public world::metrics {
public:
  using listener = std::function<void(const core::node_id& node, std::uint64_t a, std::uint64_t b)>;

  explicit telemetry(const kernel& clock) : clock_(clock) {}

  counter_id counter(std::string_view name) override;
  histogram_id histogram(std::string_view name) override;
  event_id event_kind(std::string_view name) override;
  void add(counter_id counter, std::int64_t delta) override { counters_[counter] += delta; }
  void record(histogram_id histogram, double value) override;
  void event(event_id kind, const core::node_id& node, std::uint64_t a, std::uint64_t b) override;

  /// Calls `on_event` for every event of kind `name` (after folding it into the trace).
  void listen(std::string_view name, listener on_event);

  trace_hash& trace() noexcept { return trace_; }
  const trace_hash& trace() const noexcept { return trace_; }

  std::int64_t counter_value(std::string_view name) const;
  const sim::histogram* find_histogram(std::string_view name) const;
  /// Every counter by name, in name order.
  std::map<std::string, std::int64_t> counters() const;

  /// Appends a row: the virtual time and every counter's value.
  void sample(virtual_time now);
  /// Writes the sampled rows as CSV: time_s, then one column per counter.
  std::string time_series_csv() const;

private:
  template <class Id>
  static Id intern(std::map<std::string, Id, std::less<>>& ids, std::string_view name,
                   std::vector<std::string>& names);

  const kernel& clock_;
  trace_hash trace_;
  std::map<std::string, counter_id, std::less<>> counter_ids_;
  std::vector<std::string> counter_names_;
  std::vector<std::int64_t> counters_;
  std::map<std::string, histogram_id, std::less<>> histogram_ids_;
  std::vector<std::string> histogram_names_;
  std::vector<sim::histogram> histograms_;
  std::map<std::string, event_id, std::less<>> event_ids_;
  std::vector<std::string> event_names_;
  std::vector<std::vector<listener>> listeners_;
  struct row {
    virtual_time at;
    std::vector<std::int64_t> values; // by counter id; counters added later are 0
  };
  std::vector<row> rows_;
};

} // namespace stakecast::sim
