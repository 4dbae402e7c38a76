// Seeded randomness. Every random draw in the protocol and in the simulator comes
// from a `random_generator` whose seed derives from the run's root seed and the
// identity of whoever draws (`derive_seed(root, "gossip", node_index)`), so a run
// replays exactly from its seed and streams of different actors never correlate.
//
// The generator is xoshiro256** (Blackman & Vigna): 32 bytes of state, fast, and
// good enough for simulation; it is not for keys. Distributions are written here
// rather than taken from <random>, whose results differ between standard libraries.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

namespace stakecast::core {

/// splitmix64 step: the mixing function used to expand and derive seeds.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A seed for a sub-stream named by `label` and `index` under `root`.
std::uint64_t derive_seed(std::uint64_t root, std::string_view label,
                          std::uint64_t index = 0) noexcept;

class random_generator {
public:
  using result_type = std::uint64_t;

  explicit random_generator(std::uint64_t seed) noexcept;

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept {
    return std::numeric_limits<result_type>::max();
  }

  result_type operator()() noexcept { return next(); }
  std::uint64_t next() noexcept;

  /// Uniform in [0, bound). REQUIRES: bound > 0.
  std::uint64_t uniform(std::uint64_t bound) noexcept;
  /// Uniform in [0, 1).
  double uniform_real() noexcept;
  /// True with probability `p` (p <= 0 never, p >= 1 always).
  bool bernoulli(double p) noexcept;
  /// Exponentially distributed with the given mean. REQUIRES: mean > 0.
  double exponential(double mean) noexcept;

private:
  std::uint64_t state_[4];
};

} // namespace stakecast::core
