#include "node/prometheus_metrics.hpp"

#include <cassert>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace stakecast::node {

namespace {

constexpr std::uint32_t overflow_id = 0;

bool is_name_character(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

prometheus::Histogram::BucketBoundaries exponential_buckets(const prometheus_metrics_options& o) {
  prometheus::Histogram::BucketBoundaries bounds;
  double bound = o.histogram_bucket_first;
  for (std::uint32_t i = 0; i < o.histogram_bucket_count; ++i, bound *= o.histogram_bucket_factor)
    bounds.push_back(bound);
  return bounds;
}

std::string help_for(std::string_view what, std::string_view world_name) {
  return std::string(what) + " '" + std::string(world_name) + "' of the StakeCast node";
}

} // namespace

std::string prometheus_name(std::string_view world_name) {
  std::string name(world_name);
  for (char& c : name)
    if (!is_name_character(c))
      c = '_';
  return name;
}

prometheus_metrics::prometheus_metrics(prometheus_metrics_options options,
                                       std::shared_ptr<prometheus::Registry> registry)
    : options_(std::move(options)), registry_(std::move(registry)),
      buckets_(exponential_buckets(options_)),
      counters_(std::make_unique<counter_slot[]>(options_.names_max)),
      histograms_(std::make_unique<prometheus::Histogram*[]>(options_.names_max)) {
  assert(registry_ != nullptr);
  assert(options_.names_max >= 2);
  assert(options_.histogram_bucket_first > 0);
  assert(options_.histogram_bucket_factor > 1);
  assert(options_.histogram_bucket_count >= 1);
  negative_deltas_ = &prometheus::BuildCounter()
                          .Name("stakecast_metrics_negative_deltas_total")
                          .Help("Negative deltas on counters, not applied (a programmer error)")
                          .Register(*registry_)
                          .Add({});
  counters_[overflow_id].counter =
      &prometheus::BuildCounter()
           .Name("stakecast_metrics_overflow_total")
           .Help("Counts and events of names past the table or clashing with another type")
           .Register(*registry_)
           .Add({});
  histograms_[overflow_id] = &prometheus::BuildHistogram()
                                  .Name("stakecast_metrics_overflow")
                                  .Help("Values of histograms past the table or clashing")
                                  .Register(*registry_)
                                  .Add({}, buckets_);
  counter_count_ = 1;
  histogram_count_ = 1;
}

prometheus_metrics::~prometheus_metrics() = default;

std::uint32_t prometheus_metrics::intern_counter(const std::string& full_name, bool level,
                                                 std::string_view help) {
  std::lock_guard lock(registration_mutex_);
  if (auto found = counter_ids_.find(full_name); found != counter_ids_.end())
    return found->second;
  if (counter_count_ >= options_.names_max)
    return overflow_id;
  counter_slot slot;
  try {
    if (level)
      slot.gauge = &prometheus::BuildGauge()
                        .Name(full_name)
                        .Help(std::string(help))
                        .Register(*registry_)
                        .Add({});
    else
      slot.counter = &prometheus::BuildCounter()
                          .Name(full_name)
                          .Help(std::string(help))
                          .Register(*registry_)
                          .Add({});
  } catch (const std::invalid_argument&) {
    return overflow_id; // the name is taken by a metric of another type
  }
  const std::uint32_t id = counter_count_++;
  counters_[id] = slot;
  counter_ids_.emplace(full_name, id);
  return id;
}

world::metrics::counter_id prometheus_metrics::counter(std::string_view name) {
  bool level = false;
  for (const std::string& suffix : options_.level_suffixes)
    level = level || name.ends_with(suffix);
  const std::string base = "stakecast_" + prometheus_name(name);
  return intern_counter(level ? base : base + "_total", level, help_for("counter", name));
}

world::metrics::event_id prometheus_metrics::event_kind(std::string_view name) {
  return intern_counter("stakecast_events_" + prometheus_name(name) + "_total", false,
                        help_for("events of kind", name));
}

world::metrics::histogram_id prometheus_metrics::histogram(std::string_view name) {
  const std::string full_name = "stakecast_" + prometheus_name(name);
  std::lock_guard lock(registration_mutex_);
  if (auto found = histogram_ids_.find(full_name); found != histogram_ids_.end())
    return found->second;
  if (histogram_count_ >= options_.names_max)
    return overflow_id;
  prometheus::Histogram* metric = nullptr;
  try {
    metric = &prometheus::BuildHistogram()
                  .Name(full_name)
                  .Help(help_for("histogram", name))
                  .Register(*registry_)
                  .Add({}, buckets_);
  } catch (const std::invalid_argument&) {
    return overflow_id;
  }
  const std::uint32_t id = histogram_count_++;
  histograms_[id] = metric;
  histogram_ids_.emplace(full_name, id);
  return id;
}

void prometheus_metrics::add(counter_id counter, std::int64_t delta) {
  assert(counter < options_.names_max);
  const counter_slot& slot = counters_[counter];
  if (slot.gauge != nullptr) {
    slot.gauge->Increment(static_cast<double>(delta));
    return;
  }
  assert(slot.counter != nullptr); // an id this object handed out
  if (delta < 0) {
    negative_deltas_->Increment();
    return;
  }
  slot.counter->Increment(static_cast<double>(delta));
}

void prometheus_metrics::record(histogram_id histogram, double value) {
  assert(histogram < options_.names_max);
  assert(histograms_[histogram] != nullptr);
  if (std::isfinite(value)) // a NaN would poison the sum for good
    histograms_[histogram]->Observe(value);
}

void prometheus_metrics::event(event_id kind, const core::node_id&, std::uint64_t, std::uint64_t) {
  add(kind, 1);
}

} // namespace stakecast::node
