#include "sim/histogram.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace stakecast::sim {

namespace {

constexpr double gamma_value = (1.0 + histogram::relative_accuracy) / (1.0 - histogram::relative_accuracy);
const double log_gamma = std::log(gamma_value);

std::int32_t bucket_of(double value) {
  return static_cast<std::int32_t>(std::ceil(std::log(value) / log_gamma));
}

double representative_of(std::int32_t bucket) {
  // The value whose relative distance to both bucket bounds is the accuracy.
  return 2.0 * std::pow(gamma_value, bucket) / (gamma_value + 1.0);
}

} // namespace

void histogram::record(double value) {
  if (count_ == 0) {
    min_ = value;
    max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
  if (value > 0.0)
    ++positive_buckets_[bucket_of(value)];
  else if (value < 0.0)
    ++negative_buckets_[bucket_of(-value)];
  else
    ++zero_count_;
}

double histogram::quantile(double q) const {
  assert(q >= 0.0 && q <= 1.0);
  if (count_ == 0)
    return 0.0;
  if (q <= 0.0)
    return min_;
  if (q >= 1.0)
    return max_;
  // The rank of the q-quantile among the sorted values, 0-based (nearest rank).
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))) - 1;
  // Ascending order: the most negative values (the highest buckets of -v) first,
  // then zeros, then positive values.
  std::uint64_t seen = 0;
  for (auto it = negative_buckets_.rbegin(); it != negative_buckets_.rend(); ++it) {
    seen += it->second;
    if (seen > rank)
      return std::clamp(-representative_of(it->first), min_, max_);
  }
  seen += zero_count_;
  if (seen > rank)
    return 0.0;
  for (const auto& [bucket, bucket_count] : positive_buckets_) {
    seen += bucket_count;
    if (seen > rank)
      return std::clamp(representative_of(bucket), min_, max_);
  }
  return max_;
}

} // namespace stakecast::sim
