#include "sim/telemetry.hpp"

#include <cstring>

#include <fmt/format.h>

namespace stakecast::sim {

std::string trace_hash::to_hex() const {
  return fmt::format("{:016x}", state_);
}

template <class Id>
Id telemetry::intern(std::map<std::string, Id, std::less<>>& ids, std::string_view name,
                     std::vector<std::string>& names) {
  auto found = ids.find(name);
  if (found != ids.end())
    return found->second;
  auto id = static_cast<Id>(names.size());
  names.emplace_back(name);
  ids.emplace(std::string{name}, id);
  return id;
}

world::metrics::counter_id telemetry::counter(std::string_view name) {
  auto id = intern(counter_ids_, name, counter_names_);
  if (id == counters_.size())
    counters_.push_back(0);
  return id;
}

world::metrics::histogram_id telemetry::histogram(std::string_view name) {
  auto id = intern(histogram_ids_, name, histogram_names_);
  if (id == histograms_.size())
    histograms_.emplace_back();
  return id;
}

world::metrics::event_id telemetry::event_kind(std::string_view name) {
  auto id = intern(event_ids_, name, event_names_);
  if (id == listeners_.size())
    listeners_.emplace_back();
  return id;
}

void telemetry::record(histogram_id histogram, double value) {
  histograms_[histogram].record(value);
}

void telemetry::event(event_id kind, const core::node_id& node, std::uint64_t a,
                      std::uint64_t b) {
  trace_.fold(static_cast<std::uint64_t>(clock_.now().count()));
  trace_.fold(kind);
  for (std::size_t offset = 0; offset < core::hash256::size_bytes; offset += 8) {
    std::uint64_t word;
    std::memcpy(&word, node.bytes.data() + offset, sizeof(word));
    trace_.fold(word);
  }
  trace_.fold(a);
  trace_.fold(b);
  // By index: a listener may register kinds or listeners, which may move the lists.
  for (std::size_t i = 0; i < listeners_[kind].size(); ++i)
    listeners_[kind][i](node, a, b);
}

void telemetry::listen(std::string_view name, listener on_event) {
  listeners_[event_kind(name)].push_back(std::move(on_event));
}

std::int64_t telemetry::counter_value(std::string_view name) const {
  auto found = counter_ids_.find(name);
  return found == counter_ids_.end() ? 0 : counters_[found->second];
}

const sim::histogram* telemetry::find_histogram(std::string_view name) const {
  auto found = histogram_ids_.find(name);
  return found == histogram_ids_.end() ? nullptr : &histograms_[found->second];
}

std::map<std::string, std::int64_t> telemetry::counters() const {
  std::map<std::string, std::int64_t> result;
  for (const auto& [name, id] : counter_ids_)
    result.emplace(name, counters_[id]);
  return result;
}

void telemetry::sample(virtual_time now) {
  rows_.push_back({now, counters_});
}

std::string telemetry::time_series_csv() const {
  std::string csv = "time_s";
  for (const auto& [name, id] : counter_ids_)
    csv += "," + name;
  csv += '\n';
  for (const auto& sampled : rows_) {
    csv += fmt::format("{:.3f}", std::chrono::duration<double>(sampled.at).count());
    for (const auto& [name, id] : counter_ids_)
      csv += fmt::format(",{}", id < sampled.values.size() ? sampled.values[id] : 0);
    csv += '\n';
  }
  return csv;
}

} // namespace stakecast::sim
