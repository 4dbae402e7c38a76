#include "actors/core/placement.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "actors/core/sha256.hpp"

namespace stakecast::core {

namespace {

// GCC and Clang's 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 uint128;

constexpr unsigned fraction_bits = detail::minus_log2_u_fraction_bits;
// u = (x + 0.5) / 2^64 = (2x + 1) / 2^65.
constexpr unsigned u_denominator_log2 = 65;

static_assert(std::bit_width(u_denominator_log2) + fraction_bits <= 64,
              "-log2(u) fits a u64 in fixed point");

} // namespace

// The binary logarithm by repeated squaring: normalize y = 2x + 1 to z = y / 2^n in
// [1, 2); then each squaring of z doubles the fraction still to find, and z reaching 2
// means the next bit is 1. Truncation only ever lowers z, so log2(y) is rounded down;
// as log2(y) < 65, the result is at least 1 unit. Integer operations only: every
// platform computes the same bits.
std::uint64_t detail::minus_log2_u(std::uint64_t x) noexcept {
  uint128 y = (uint128{x} << 1) | 1; // 1 ..= 2^65 - 1
  unsigned n = (y >> 64) != 0 ? 64 : std::bit_width(static_cast<std::uint64_t>(y)) - 1;
  // z in [1, 2) with 63 fractional bits: [2^63, 2^64).
  auto z = static_cast<std::uint64_t>(n >= 63 ? y >> (n - 63) : y << (63 - n));
  std::uint64_t fraction = 0;
  for (unsigned bit = 0; bit < fraction_bits; ++bit) {
    uint128 square = uint128{z} * z; // in [1, 4) with 126 fractional bits
    fraction <<= 1;
    if ((square >> 127) != 0) { // >= 2: the bit is 1; halve back into [1, 2)
      fraction |= 1;
      z = static_cast<std::uint64_t>(square >> 64);
    } else {
      z = static_cast<std::uint64_t>(square >> 63);
    }
  }
  // -log2(u) = 65 - log2(y) = 65 - n - fraction.
  return (std::uint64_t{u_denominator_log2 - n} << fraction_bits) - fraction;
}

namespace {

struct scored_candidate {
  node_id id;
  std::uint64_t stake;
  /// -log2(u) in fixed point, >= 1. The score is stake / minus_log2_u.
  std::uint64_t minus_log2_u;
};

// Higher score first, then smaller id. Exact: stake_a / l_a > stake_b / l_b with
// l_a, l_b > 0 is stake_a * l_b > stake_b * l_a, and neither product overflows 128 bits.
bool ranks_before(const scored_candidate& a, const scored_candidate& b) {
  uint128 a_side = uint128{a.stake} * b.minus_log2_u;
  uint128 b_side = uint128{b.stake} * a.minus_log2_u;
  if (a_side != b_side)
    return a_side > b_side;
  return a.id < b.id;
}

scored_candidate score(const content_id& content, const placement_candidate& candidate) {
  std::array<std::uint8_t, 2 * hash256::size_bytes> input;
  std::copy(content.bytes.begin(), content.bytes.end(), input.begin());
  std::copy(candidate.id.bytes.begin(), candidate.id.bytes.end(),
            input.begin() + hash256::size_bytes);
  // prefix64: the digest's first 8 bytes, little-endian on every platform.
  return {candidate.id, candidate.stake, detail::minus_log2_u(sha256(input).prefix64())};
}

void require_distinct_ids(std::span<const placement_candidate> candidates) {
  std::vector<node_id> ids;
  ids.reserve(candidates.size());
  for (const auto& candidate : candidates)
    ids.push_back(candidate.id);
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) == ids.end())
    return;
  std::fprintf(stderr, "stakecast: placement precondition failed: distinct candidate ids\n");
  std::abort();
}

} // namespace

std::vector<node_id> place(const content_id& content,
                           std::span<const placement_candidate> candidates,
                           std::uint32_t replicas) {
  require_distinct_ids(candidates);
  std::vector<scored_candidate> pool;
  pool.reserve(candidates.size());
  for (const auto& candidate : candidates)
    if (candidate.stake > 0)
      pool.push_back(score(content, candidate));
  auto chosen = std::min<std::size_t>(replicas, pool.size());
  std::partial_sort(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(chosen),
                    pool.end(), ranks_before);
  std::vector<node_id> result;
  result.reserve(chosen);
  for (std::size_t i = 0; i < chosen; ++i)
    result.push_back(pool[i].id);
  return result;
}

} // namespace stakecast::core
