// Hand-driven stand-ins for the world's transport and metrics, for unit tests of
// code on the seam: what was sent is recorded, counters are read back by name.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/world/world.hpp"

namespace stakecast::test {

struct recording_transport final : world::transport {
  std::vector<std::pair<core::node_id, wire::message>> sent;
  void send(const core::node_id& to, wire::message message) override {
    sent.emplace_back(to, std::move(message));
  }
};

struct counting_metrics final : world::metrics {
  std::map<std::string, std::uint32_t, std::less<>> ids;
  std::vector<std::int64_t> values;
  std::uint32_t intern(std::string_view name) {
    auto [it, inserted] =
        ids.try_emplace(std::string(name), static_cast<std::uint32_t>(values.size()));
    if (inserted)
      values.push_back(0);
    return it->second;
  }
  counter_id counter(std::string_view name) override { return intern(name); }
  histogram_id histogram(std::string_view name) override { return intern(name); }
  event_id event_kind(std::string_view name) override { return intern(name); }
  void add(counter_id counter, std::int64_t delta) override { values[counter] += delta; }
  void record(histogram_id, double) override {}
  void event(event_id kind, const core::node_id&, std::uint64_t, std::uint64_t) override {
    values[kind] += 1;
  }
  std::int64_t value(std::string_view name) const {
    auto found = ids.find(name);
    return found == ids.end() ? 0 : values[found->second];
  }
};

/// The two above for code on several threads (actors on CAF's workers): every call
/// takes one lock.
struct locked_transport final : world::transport {
  std::mutex mutex;
  recording_transport inner;
  void send(const core::node_id& to, wire::message message) override {
    std::lock_guard lock(mutex);
    inner.send(to, std::move(message));
  }
};

struct locked_metrics final : world::metrics {
  std::mutex mutex;
  counting_metrics inner;
  counter_id counter(std::string_view name) override {
    std::lock_guard lock(mutex);
    return inner.counter(name);
  }
  histogram_id histogram(std::string_view name) override {
    std::lock_guard lock(mutex);
    return inner.histogram(name);
  }
  event_id event_kind(std::string_view name) override {
    std::lock_guard lock(mutex);
    return inner.event_kind(name);
  }
  void add(counter_id counter, std::int64_t delta) override {
    std::lock_guard lock(mutex);
    inner.add(counter, delta);
  }
  void record(histogram_id histogram, double value) override {
    std::lock_guard lock(mutex);
    inner.record(histogram, value);
  }
  void event(event_id kind, const core::node_id& node, std::uint64_t a, std::uint64_t b) override {
    std::lock_guard lock(mutex);
    inner.event(kind, node, a, b);
  }
};

} // namespace stakecast::test
