#include "sim/workloads/distributions.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <string>

#include "actors/config/reader.hpp"
#include "actors/config/units.hpp"

namespace stakecast::sim {

using namespace stakecast::config;

namespace {

using std::chrono::nanoseconds;

constexpr nanoseconds one_minute = std::chrono::minutes(1);

// A standard normal draw by Box-Muller from two uniform_real()s. Only the cosine half
// of the pair is used, so that a draw is a pure function of the generator's state.
double standard_normal(core::random_generator& random) {
  const double radius_uniform = 1.0 - random.uniform_real(); // in (0, 1]: log is finite
  const double angle_uniform = random.uniform_real();
  return std::sqrt(-2.0 * std::log(radius_uniform)) *
         std::cos(2.0 * std::numbers::pi * angle_uniform);
}

// `nanoseconds_drawn` rounded to the nanosecond and clamped to `limits`. The clamp
// comes first, in double, so that a huge draw (a lognormal tail) never overflows.
nanoseconds clamp_drawn(double nanoseconds_drawn, duration_limits limits) {
  assert(!std::isnan(nanoseconds_drawn));
  if (nanoseconds_drawn <= static_cast<double>(limits.min.count()))
    return limits.min;
  if (nanoseconds_drawn >= static_cast<double>(limits.max.count()))
    return limits.max;
  // Strictly below limits.max, hence below 2^63: llround cannot overflow.
  const nanoseconds rounded{std::llround(nanoseconds_drawn)};
  return std::clamp(rounded, limits.min, limits.max);
}

// Uniform in [0, bound), to the nanosecond. REQUIRES: bound > 0.
nanoseconds uniform_below(core::random_generator& random, nanoseconds bound) {
  const auto drawn = random.uniform(static_cast<std::uint64_t>(bound.count()));
  return nanoseconds{static_cast<std::int64_t>(drawn)};
}

// Used by asserts only (unused with NDEBUG).
[[maybe_unused]] bool within_parameter_range(nanoseconds duration) {
  return duration >= nanoseconds{0} && duration <= distribution_duration_max;
}

} // namespace

// ---- zipf_popularity ----

zipf_popularity::zipf_popularity(std::uint32_t items, double exponent) : exponent_(exponent) {
  assert(items >= 1);
  assert(items <= zipf_items_max);
  assert(exponent >= 0.0); // false for NaN
  assert(exponent <= zipf_exponent_max);
  cumulative_.resize(items);
  // Neumaier's compensated sum: ten million terms summed plainly lose about 1e-9 of
  // the total, more than the probability of the rarest items.
  double sum = 0.0;
  double compensation = 0.0;
  for (std::uint32_t rank = 0; rank < items; ++rank) {
    const double weight = std::pow(static_cast<double>(rank) + 1.0, -exponent_);
    const double next = sum + weight;
    compensation += std::abs(sum) >= weight ? (sum - next) + weight : (weight - next) + sum;
    sum = next;
    cumulative_[rank] = sum + compensation;
  }
  total_weight_ = cumulative_.back();
  // Division by one positive number keeps the table non-decreasing.
  for (double& cumulative : cumulative_)
    cumulative /= total_weight_;
  // uniform_real() < 1, so the search below always ends inside the table.
  cumulative_.back() = 1.0;
}

double zipf_popularity::probability(std::uint32_t rank) const {
  assert(rank < items());
  return std::pow(static_cast<double>(rank) + 1.0, -exponent_) / total_weight_;
}

std::uint32_t zipf_popularity::draw(core::random_generator& random) const {
  const double u = random.uniform_real();
  // The first rank whose cumulative probability exceeds u: P(k) = F(k) - F(k - 1).
  const auto found = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  assert(found != cumulative_.end());
  return static_cast<std::uint32_t>(found - cumulative_.begin());
}

// ---- poisson_arrivals and flash_crowd ----

poisson_arrivals::poisson_arrivals(double rate_per_second)
    : rate_per_second_(rate_per_second), mean_gap_ns_(1e9 / rate_per_second) {
  assert(rate_per_second >= arrival_rate_per_second_min); // false for NaN
  assert(rate_per_second <= arrival_rate_per_second_max);
}

nanoseconds poisson_arrivals::next_gap(core::random_generator& random) const {
  // At most exponential_draw_means_max means, which fits (static_assert in the header).
  return nanoseconds{std::llround(random.exponential(mean_gap_ns_))};
}

std::vector<nanoseconds> flash_crowd::arrivals(core::random_generator& random) const {
  assert(start >= nanoseconds{0});
  assert(window > nanoseconds{0});
  assert(start <= nanoseconds::max() - window);
  assert(count <= flash_crowd_arrivals_max);
  std::vector<nanoseconds> times;
  times.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i)
    times.push_back(start + uniform_below(random, window));
  // Equal times are indistinguishable, so any sort gives the same vector.
  std::sort(times.begin(), times.end());
  return times;
}

// ---- duration_distribution ----

duration_distribution duration_distribution::fixed(nanoseconds value) {
  assert(within_parameter_range(value));
  return {kind::fixed, value, zero(), 0.0};
}

duration_distribution duration_distribution::exponential(nanoseconds mean) {
  assert(within_parameter_range(mean));
  assert(mean > zero());
  return {kind::exponential, mean, zero(), 0.0};
}

duration_distribution duration_distribution::lognormal(nanoseconds median, double sigma) {
  assert(within_parameter_range(median));
  assert(median > zero());
  assert(sigma >= 0.0); // false for NaN
  assert(sigma <= lognormal_sigma_max);
  return {kind::lognormal, median, zero(), sigma};
}

duration_distribution duration_distribution::uniform(nanoseconds min, nanoseconds max) {
  assert(within_parameter_range(min));
  assert(within_parameter_range(max));
  assert(min <= max);
  return {kind::uniform, min, max, 0.0};
}

nanoseconds duration_distribution::draw(core::random_generator& random,
                                        duration_limits limits) const {
  assert(limits.min >= zero());
  assert(limits.min <= limits.max);
  switch (kind_) {
    case kind::fixed:
      return std::clamp(first_, limits.min, limits.max);
    case kind::exponential:
      return clamp_drawn(random.exponential(static_cast<double>(first_.count())), limits);
    case kind::lognormal:
      return clamp_drawn(
          static_cast<double>(first_.count()) * std::exp(sigma_ * standard_normal(random)), limits);
    case kind::uniform: {
      // Both ends included; the span fits: both are at most distribution_duration_max.
      const nanoseconds drawn = first_ + uniform_below(random, second_ - first_ + nanoseconds{1});
      return std::clamp(drawn, limits.min, limits.max);
    }
  }
  assert(false && "unknown duration_distribution::kind");
  return limits.min;
}

// ---- read_duration_distribution ----

namespace {

using kind = duration_distribution::kind;

constexpr bounds<nanoseconds> any_duration{.min = nanoseconds{0}, .max = distribution_duration_max};
constexpr bounds<nanoseconds> positive_duration{.min = nanoseconds{1},
                                                .max = distribution_duration_max};
constexpr bounds<double> sigma_range{.min = 0.0, .max = lognormal_sigma_max};

// The keys of each kind, so that a key of another kind is reported as "not used with
// these settings" rather than as unknown.
constexpr std::string_view every_parameter_key[] = {"value", "mean", "median",
                                                    "sigma", "min",  "max"};

// `key` of `map`: defaulting to `fallback` when there is one, else required.
template <class T>
T read_parameter(node_reader& map, std::string_view key, std::optional<T> fallback,
                 bounds<T> limits) {
  return fallback ? map.optional<T>(key, *fallback, limits) : map.required<T>(key, limits);
}

// The parameters of `default_value` when it has the kind `chosen`.
template <class T>
std::optional<T> fallback_if(kind chosen, const duration_distribution& default_value, T parameter) {
  return default_value.type() == chosen ? std::optional<T>(parameter) : std::nullopt;
}

duration_distribution read_parameters(node_reader& map, kind chosen,
                                      const duration_distribution& default_value) {
  switch (chosen) {
    case kind::fixed: {
      const nanoseconds value = read_parameter(
          map, "value", fallback_if(chosen, default_value, default_value.value()), any_duration);
      return duration_distribution::fixed(value);
    }
    case kind::exponential: {
      const nanoseconds mean = read_parameter(
          map, "mean", fallback_if(chosen, default_value, default_value.mean()), positive_duration);
      // 0 only stands in for a value that was missing or wrong (an error is recorded).
      if (mean == nanoseconds{0})
        return default_value;
      return duration_distribution::exponential(mean);
    }
    case kind::lognormal: {
      const nanoseconds median =
          read_parameter(map, "median", fallback_if(chosen, default_value, default_value.median()),
                         positive_duration);
      const double sigma = read_parameter(
          map, "sigma", fallback_if(chosen, default_value, default_value.sigma()), sigma_range);
      if (median == nanoseconds{0}) // a stand-in, as above
        return default_value;
      return duration_distribution::lognormal(median, sigma);
    }
    case kind::uniform: {
      const nanoseconds min = read_parameter(
          map, "min", fallback_if(chosen, default_value, default_value.min()), any_duration);
      const nanoseconds max = read_parameter(
          map, "max", fallback_if(chosen, default_value, default_value.max()), any_duration);
      if (min <= max)
        return duration_distribution::uniform(min, max);
      map.error_at("max", "must be at least min (" + format_duration(min) + "), got " +
                              format_duration(max));
      return default_value;
    }
  }
  assert(false && "unknown duration_distribution::kind");
  return default_value;
}

} // namespace

duration_distribution read_duration_distribution(node_reader& section, std::string_view key,
                                                 duration_distribution default_value) {
  node_reader map = section.optional_section(key);
  const kind chosen = map.optional_choice<kind>("kind",
                                                {{"fixed", kind::fixed},
                                                 {"exponential", kind::exponential},
                                                 {"lognormal", kind::lognormal},
                                                 {"uniform", kind::uniform}},
                                                default_value.type());
  const duration_distribution result = read_parameters(map, chosen, default_value);
  // Tested, not read: present, they stay unknown keys, with a message that says why.
  for (std::string_view other : every_parameter_key)
    map.has(other);
  return result;
}

// ---- seek_model ----

std::vector<seek_model::seek> seek_model::seeks(core::random_generator& random,
                                                nanoseconds session_length,
                                                nanoseconds content_length) const {
  assert(probability_per_minute >= 0.0); // false for NaN
  assert(probability_per_minute <= 1.0);
  assert(within_parameter_range(session_length));
  assert(content_length > nanoseconds{0});
  std::vector<seek> result;
  if (probability_per_minute == 0.0)
    return result;
  for (nanoseconds minute_start{0};
       minute_start < session_length && result.size() < seeks_per_session_max;
       minute_start += one_minute) {
    const nanoseconds minute_length = std::min(one_minute, session_length - minute_start);
    const double share_of_minute = static_cast<double>(minute_length.count()) /
                                   static_cast<double>(one_minute.count());
    // Not bernoulli(), which draws nothing at probability 1: one draw per minute, always.
    if (!(random.uniform_real() < probability_per_minute * share_of_minute))
      continue;
    const nanoseconds at = minute_start + uniform_below(random, minute_length);
    result.push_back({at, uniform_below(random, content_length)});
  }
  return result;
}

} // namespace stakecast::sim
