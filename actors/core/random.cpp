#include "actors/core/random.hpp"

#include <cassert>
#include <cmath>

namespace stakecast::core {

namespace {

// __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit integer.
__extension__ using uint128 = unsigned __int128;

constexpr std::uint64_t rotate_left(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}

} // namespace

std::uint64_t derive_seed(std::uint64_t root, std::string_view label,
                          std::uint64_t index) noexcept {
  // FNV-1a over the label, then splitmix64 to mix root, label and index.
  std::uint64_t label_hash = 0xcbf29ce484222325ULL;
  for (char c : label) {
    label_hash ^= static_cast<std::uint8_t>(c);
    label_hash *= 0x100000001b3ULL;
  }
  std::uint64_t state = root;
  std::uint64_t mixed = splitmix64(state);
  state ^= label_hash;
  mixed ^= splitmix64(state);
  state ^= index;
  mixed ^= splitmix64(state);
  return mixed;
}

random_generator::random_generator(std::uint64_t seed) noexcept {
  std::uint64_t state = seed;
  for (auto& word : state_)
    word = splitmix64(state);
}

std::uint64_t random_generator::next() noexcept {
  const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

std::uint64_t random_generator::uniform(std::uint64_t bound) noexcept {
  assert(bound > 0);
  // Lemire's nearly divisionless method: unbiased, usually one multiplication.
  uint128 product = static_cast<uint128>(next()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<uint128>(next()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

double random_generator::uniform_real() noexcept {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

bool random_generator::bernoulli(double p) noexcept {
  if (p <= 0.0)
    return false;
  if (p >= 1.0)
    return true;
  return uniform_real() < p;
}

double random_generator::exponential(double mean) noexcept {
  assert(mean > 0.0);
  // 1 - u is in (0, 1], so the logarithm is finite.
  return -mean * std::log(1.0 - uniform_real());
}

} // namespace stakecast::core
