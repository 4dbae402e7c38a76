// The random processes of the viewer workloads (DESIGN.md, "The simulator"): which
// content a viewer picks (`zipf_popularity`), when viewers arrive (`poisson_arrivals`,
// `flash_crowd`), how long they watch (`duration_distribution`) and where they seek
// (`seek_model`).
//
// Every class is a pure value: it holds parameters (and, for Zipf, a table built once),
// and every draw takes the `core::random_generator&` to draw from, so a workload
// decides which seeded stream feeds which process. Draws are written on the
// generator's uniform(), uniform_real() and exponential(), never on <random>'s
// distributions, whose results differ between standard libraries; the only other
// ingredients are std::pow, std::log, std::exp, std::cos and std::sqrt.
// Same seed, same parameters, same calls: same results.
//
// Every parameter has a named upper bound; the scenario reader enforces the same
// bounds (read_duration_distribution), and the constructors REQUIRE them (assert).
// Thread-safe as values are: const member functions of a shared object may be called
// from several threads, each with its own generator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "actors/core/random.hpp"

namespace stakecast::config {
class node_reader;
}

namespace stakecast::sim {

using config::node_reader;

/// Catalogue size that a Zipf table may cover. The table is 8 bytes per item: 80 MB
/// at this bound, built in well under a second.
inline constexpr std::uint32_t zipf_items_max = 10'000'000;
/// Measured video popularity has exponents between about 0.5 and 1.5; beyond 5
/// nearly every draw is rank 0.
inline constexpr double zipf_exponent_max = 5.0;

/// Arrival rates, in arrivals per second of simulated time: from one per 11.6 days to
/// one per microsecond (well above the nanosecond resolution of the gaps).
inline constexpr double arrival_rate_per_second_min = 1e-6;
inline constexpr double arrival_rate_per_second_max = 1e6;
/// An exponential draw is at most this many means: uniform_real() <= 1 - 2^-53, so
/// -log(1 - u) <= 53 ln 2 = 36.74.
inline constexpr double exponential_draw_means_max = 37.0;
static_assert(exponential_draw_means_max * 1e9 / arrival_rate_per_second_min < 9.2e18,
              "the longest gap between arrivals fits std::chrono::nanoseconds");

/// Arrivals of one flash crowd (they are returned as one vector).
inline constexpr std::uint32_t flash_crowd_arrivals_max = 1'000'000;

/// The largest duration parameter of a duration_distribution (fixed value, mean,
/// median, uniform bounds): a year.
inline constexpr std::chrono::nanoseconds distribution_duration_max = std::chrono::hours(24 * 365);
/// Beyond this the lognormal's tail is so heavy that clamping, not the distribution,
/// decides the draws.
inline constexpr double lognormal_sigma_max = 4.0;

/// Seeks in one session; seek_model::seeks stops there.
inline constexpr std::size_t seeks_per_session_max = 4096;

/// Item ranks 0 .. items-1 with P(k) proportional to 1 / (k + 1)^exponent: rank 0 is
/// the most popular. An exponent of 0 is the uniform distribution.
///
/// Built as a table of the cumulative distribution (O(items) time and memory, summed
/// with compensation so that the tail keeps its precision); a draw is one
/// uniform_real() and a binary search, O(log items).
class zipf_popularity {
public:
  /// REQUIRES: 1 <= items <= zipf_items_max.
  /// REQUIRES: 0 <= exponent <= zipf_exponent_max.
  zipf_popularity(std::uint32_t items, double exponent);

  std::uint32_t items() const noexcept { return static_cast<std::uint32_t>(cumulative_.size()); }
  double exponent() const noexcept { return exponent_; }

  /// The probability of drawing `rank`. REQUIRES: rank < items().
  double probability(std::uint32_t rank) const;
  /// A rank in [0, items()). Draws one uniform_real().
  std::uint32_t draw(core::random_generator& random) const;

private:
  double exponent_;
  double total_weight_;            // sum over k of 1 / (k + 1)^exponent
  std::vector<double> cumulative_; // P(rank <= k); the last is exactly 1
};

/// A Poisson process of arrivals: the gaps between arrivals are exponential with mean
/// 1 / rate, rounded to the nanosecond (so a gap may be 0: simultaneous arrivals).
class poisson_arrivals {
public:
  /// REQUIRES: arrival_rate_per_second_min <= rate_per_second <= arrival_rate_per_second_max.
  explicit poisson_arrivals(double rate_per_second);

  double rate_per_second() const noexcept { return rate_per_second_; }
  /// The time from one arrival to the next. Draws one uniform_real().
  std::chrono::nanoseconds next_gap(core::random_generator& random) const;

private:
  double rate_per_second_;
  double mean_gap_ns_;
};

/// `count` arrivals in [start, start + window), each at a time drawn uniformly (to the
/// nanosecond) and independently within the window. A Poisson process conditioned on
/// having exactly `count` arrivals in the window is exactly this, so the crowd is a
/// Poisson burst of rate count / window whose size is exactly the scenario's, not
/// itself random.
struct flash_crowd {
  std::chrono::nanoseconds start{0};
  std::chrono::nanoseconds window{0};
  std::uint32_t count = 0;

  /// The arrival times, sorted, `count` of them. Draws `count` uniform()s.
  /// REQUIRES: start >= 0, window > 0, start + window does not overflow.
  /// REQUIRES: count <= flash_crowd_arrivals_max.
  std::vector<std::chrono::nanoseconds> arrivals(core::random_generator& random) const;
};

/// Inclusive limits that every drawn duration is clamped to, e.g. a session is at
/// least a second and at most the length of its content: `{.min = 1s, .max = length}`.
struct duration_limits {
  std::chrono::nanoseconds min{0};
  std::chrono::nanoseconds max{distribution_duration_max};
};

/// A distribution of durations (session lengths, mostly):
///   fixed        always `value`; draws nothing from the generator
///   exponential  with mean `mean`; one uniform_real()
///   lognormal    exp(N(ln median, sigma^2)): half the draws are below `median`,
///                sigma spreads them (1.0 puts the 84th percentile at 2.7 x median);
///                two uniform_real()s (Box-Muller, one of its pair of normals used)
///   uniform      in [min, max], to the nanosecond; one uniform()
/// Every draw is rounded to the nanosecond and clamped to the limits passed.
class duration_distribution {
public:
  enum class kind { fixed, exponential, lognormal, uniform };

  /// REQUIRES: 0 <= value <= distribution_duration_max.
  static duration_distribution fixed(std::chrono::nanoseconds value);
  /// REQUIRES: 0 < mean <= distribution_duration_max.
  static duration_distribution exponential(std::chrono::nanoseconds mean);
  /// REQUIRES: 0 < median <= distribution_duration_max, 0 <= sigma <= lognormal_sigma_max.
  static duration_distribution lognormal(std::chrono::nanoseconds median, double sigma);
  /// REQUIRES: 0 <= min <= max <= distribution_duration_max.
  static duration_distribution uniform(std::chrono::nanoseconds min, std::chrono::nanoseconds max);

  kind type() const noexcept { return kind_; }
  /// The parameters of the kind; the others are 0.
  std::chrono::nanoseconds value() const noexcept { return first_if(kind::fixed); }
  std::chrono::nanoseconds mean() const noexcept { return first_if(kind::exponential); }
  std::chrono::nanoseconds median() const noexcept { return first_if(kind::lognormal); }
  double sigma() const noexcept { return sigma_; }
  std::chrono::nanoseconds min() const noexcept { return first_if(kind::uniform); }
  std::chrono::nanoseconds max() const noexcept { return second_; }

  /// One duration within `limits`. REQUIRES: 0 <= limits.min <= limits.max.
  std::chrono::nanoseconds draw(core::random_generator& random, duration_limits limits) const;

  bool operator==(const duration_distribution&) const = default;

private:
  duration_distribution(kind type, std::chrono::nanoseconds first, std::chrono::nanoseconds second,
                        double sigma)
      : kind_(type), first_(first), second_(second), sigma_(sigma) {}
  static constexpr std::chrono::nanoseconds zero() noexcept { return std::chrono::nanoseconds{0}; }
  std::chrono::nanoseconds first_if(kind type) const noexcept {
    return kind_ == type ? first_ : zero();
  }

  kind kind_;
  std::chrono::nanoseconds first_;  // value, mean, median or min
  std::chrono::nanoseconds second_; // max (uniform), else 0
  double sigma_;                    // lognormal, else 0
};

/// Reads the distribution under `key` of `section`, a map such as
///   session: {kind: lognormal, median: 8min, sigma: 1.0}
///   session: {kind: exponential, mean: 10min}
///   session: {kind: fixed, value: 5min}
///   session: {kind: uniform, min: 1min, max: 20min}
/// `kind` defaults to the kind of `default_value`; the keys of that kind default to its
/// parameters (`session: {sigma: 2}` changes only sigma), while those of another kind
/// are required. Only the keys of the chosen kind are read, so any other key is an
/// error at finish() ("key 'sigma' is not used with these settings" for the key of
/// another kind). An absent `key` gives `default_value`, written to the resolved tree.
/// Bounds are those of the factories above, plus min <= max. After an error the
/// value returned is `default_value` or partly read: meaningful only once finish()
/// has returned, as with every value of the reader.
duration_distribution read_duration_distribution(node_reader& section, std::string_view key,
                                                 duration_distribution default_value);

/// When a viewer seeks during a session, and to where. Each minute of the session
/// holds one seek with probability `probability_per_minute` (the last, partial minute
/// in proportion to its length), at a time uniform within that minute, to a position
/// uniform over the content. At most one seek per minute keeps the model bounded and
/// simple; a viewer seeking several times a minute is scrubbing, not watching.
struct seek_model {
  /// In [0, 1].
  double probability_per_minute = 0;

  struct seek {
    std::chrono::nanoseconds at;       ///< since the start of the session
    std::chrono::nanoseconds position; ///< in the content, in [0, content_length)
    bool operator==(const seek&) const = default;
  };

  /// The seeks of one session, in time order, at most seeks_per_session_max. Draws one
  /// uniform_real() per minute of the session and two uniform()s per seek.
  /// REQUIRES: 0 <= probability_per_minute <= 1.
  /// REQUIRES: 0 <= session_length <= distribution_duration_max, content_length > 0.
  std::vector<seek> seeks(core::random_generator& random, std::chrono::nanoseconds session_length,
                          std::chrono::nanoseconds content_length) const;
};

} // namespace stakecast::sim
