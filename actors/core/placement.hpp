// Placement: which masternodes host a content. Stake-weighted rendezvous (highest
// random weight) hashing, the weighted method of Schindelhauer & Schomaker
// ("Weighted distributed hash tables", SPAA 2005).
//
// For content c and candidate n with stake s > 0:
//
//     x     = the first 8 bytes of SHA-256(c || n), read little-endian
//     u     = (x + 0.5) / 2^64                       (uniform in (0, 1), never 0 or 1)
//     score = s / -ln(u)
//
// and c is placed on the `replicas` candidates with the highest scores. -ln(u) is
// exponentially distributed, so each score is s divided by an Exp(1) draw, and the
// candidate with the highest score is candidate n with probability s_n / sum(s):
// shares follow stake. Because each score depends only on (c, n, s), removing a
// candidate moves only the contents it held, adding one moves to it only the contents
// it now wins, and a change of one stake moves contents only to or from that
// candidate. Scaling every stake by the same factor changes nothing.
//
// Placement is consensus: every node must compute the same assignment from the same
// chain state, on every platform. So the score is not computed in floating point
// (std::log may differ in its last bit between libm implementations, and compilers
// may fuse multiply-adds). Instead -log2(u) is computed in 64-bit fixed point with 57
// fractional bits by integer operations only, and two scores s_a / L_a and s_b / L_b
// are compared exactly as the 128-bit products s_a * L_b and s_b * L_a. -log2(u) is
// -ln(u) / ln 2, so the order is the formula's, except between scores that agree to
// about 17 digits (the fixed point's resolution is 2^-57). Ties (equal products) go to
// the smaller node_id; zero-stake candidates are never placed.
//
// Cost: per candidate one SHA-256 and 57 128-bit multiplications, then a sort of the
// ids (the distinct-id check) and a partial sort: O(n log n) for n candidates, with
// the hashes dominating.
//
// Pure function of its arguments; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "actors/core/bytes.hpp"

namespace stakecast::core {

struct placement_candidate {
  node_id id;
  /// Bonded stake in micro-units; 0 means never chosen.
  std::uint64_t stake = 0;

  bool operator==(const placement_candidate&) const = default;
};

/// The min(replicas, number of candidates with stake > 0) candidates with the highest
/// scores for `content`, highest first (ties: smaller node_id first). The result does
/// not depend on the order of `candidates`.
/// REQUIRES: the candidates' ids are distinct (checked: duplicates abort).
std::vector<node_id> place(const content_id& content,
                           std::span<const placement_candidate> candidates,
                           std::uint32_t replicas);

namespace detail {

inline constexpr unsigned minus_log2_u_fraction_bits = 57;

/// -log2((x + 0.5) / 2^64) in fixed point with minus_log2_u_fraction_bits fractional
/// bits: 1 ..= 65 << 57. Exposed so that tests can pin it against a floating-point
/// reference.
std::uint64_t minus_log2_u(std::uint64_t x) noexcept;

} // namespace detail

} // namespace stakecast::core
