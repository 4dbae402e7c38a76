// A histogram with bounded memory and bounded relative error (a DDSketch-style log
// bucketing): a value v > 0 falls into bucket ceil(log(v) / log(gamma)), a value
// v < 0 into the mirrored bucket of -v, zero into a bucket of its own, so any
// quantile is reported within `relative_accuracy` of a value actually recorded.
// Count, sum, min and max are exact; the 0- and 100-percentiles are exact.
#pragma once

#include <cstdint>
#include <map>

namespace stakecast::sim {

class histogram {
public:
  static constexpr double relative_accuracy = 0.01;

  void record(double value);

  std::uint64_t count() const noexcept { return count_; }
  double sum() const noexcept { return sum_; }
  double min() const noexcept { return count_ == 0 ? 0.0 : min_; }
  double max() const noexcept { return count_ == 0 ? 0.0 : max_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }
  /// REQUIRES: 0 <= q <= 1. Returns 0 for an empty histogram.
  double quantile(double q) const;

private:
  std::map<std::int32_t, std::uint64_t> positive_buckets_; // bucket of v -> count
  std::map<std::int32_t, std::uint64_t> negative_buckets_; // bucket of -v -> count
  std::uint64_t zero_count_ = 0;
  std::uint64_t count_ = 0;
  double sum_ = 0.0;
  double min_ = 0.0;
  double max_ = 0.0;
};

} // namespace stakecast::sim
