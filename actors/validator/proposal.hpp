// The signed proposal of one round: "in round `round` of height `height`, I, the
// round's proposer, propose `block`", with the round of the polka that justifies
// proposing it again (`pol_round`, or no_pol_round for a fresh block).
//
// Blocks are opaque here: `block` is the block's hash, and the actor around the
// consensus engine carries the block's bytes and judges its validity. A proposal is
// signed like a vote (rules/vote.hpp): over its canonical encoding without the
// signature, behind its own domain tag, so a proposal signature is never a vote's or a
// transaction's, and `chain` (the genesis hash) keeps it on one chain.
//
// Pure values and functions, safe from any thread.
#pragma once

#include <cstdint>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/verifier.hpp"

namespace stakecast::validator {

struct proposal {
  /// pol_round of a block proposed for the first time.
  static constexpr std::int64_t no_pol_round = -1;

  core::hash256 chain;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  /// The block's hash; never all zero (that is nil).
  core::hash256 block;
  /// no_pol_round, or the round (< round) in which the proposer saw more than 2/3 of
  /// the prevotes for `block`.
  std::int64_t pol_round = no_pol_round;
  core::node_id proposer;
  core::signature signature;

  bool operator==(const proposal&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, proposal& x) {
    return f(x.chain, x.height, x.round, x.block, x.pol_round, x.proposer, x.signature);
  }
};

/// The bytes a proposer signs: a domain tag, then the encoding without the signature.
core::byte_buffer signing_bytes(const proposal& p);

/// Fills in `p.proposer` with `key`'s public key and `p.signature`.
void sign(proposal& p, const core::key_pair& key);

/// True when `p.signature` is `p.proposer`'s signature of `signing_bytes(p)`.
bool verify(const proposal& p, const core::verifier& signatures);

/// True when the block is not nil and pol_round is no_pol_round or in [0, round).
/// Says nothing of the signature.
bool is_well_formed(const proposal& p) noexcept;

} // namespace stakecast::validator
