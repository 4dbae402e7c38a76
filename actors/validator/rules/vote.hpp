// Consensus votes, shared by the consensus engine (which casts and counts them) and
// the ledger rules (which turn two conflicting votes into evidence and a slash).
//
// A vote is signed over its canonical encoding (core/record_codec.hpp) without the
// signature, behind a domain tag, so a vote signature can never be replayed as the
// signature of a transaction or of a vote on another chain (`chain` is the hash of the
// genesis). Two votes conflict when one validator signed different blocks for the
// same (chain, height, round, kind): the equivocation Tendermint calls duplicate-vote
// evidence.
//
// Pure values and functions, safe from any thread.
#pragma once

#include <cstdint>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/verifier.hpp"

namespace stakecast::rules {

enum class vote_kind : std::uint8_t {
  prevote = 1,
  precommit = 2,
};

struct vote {
  /// The chain: the hash of its genesis.
  core::hash256 chain;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  /// A vote_kind; kept as a byte so that unknown values decode (and fail `verify`).
  std::uint8_t kind = static_cast<std::uint8_t>(vote_kind::prevote);
  /// The block voted for; all zero is a vote for nil.
  core::hash256 block;
  core::node_id validator;
  core::signature signature;

  bool operator==(const vote&) const = default;

  vote_kind kind_enum() const noexcept {
    return static_cast<vote_kind>(kind);
  }

  bool is_nil() const noexcept {
    return block.is_zero();
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, vote& x) {
    return f(x.chain, x.height, x.round, x.kind, x.block, x.validator, x.signature);
  }
};

/// The bytes a validator signs: a domain tag, then the vote's encoding without the
/// signature.
core::byte_buffer signing_bytes(const vote& v);

/// Fills in `v.validator` with `key`'s public key and `v.signature`.
void sign(vote& v, const core::key_pair& key);

/// True when `v.signature` is `v.validator`'s signature of `signing_bytes(v)` and
/// `v.kind` is a known kind.
bool verify(const vote& v, const core::verifier& signatures);

/// True when `a` and `b` are two different blocks (nil counts as a block) signed by
/// the same validator for the same chain, height, round and kind. Says nothing of the
/// signatures: check them with `verify`.
bool conflicting(const vote& a, const vote& b) noexcept;

} // namespace stakecast::rules
