// What a validator signed last, kept in its store so that it never signs two
// conflicting messages, not even across a crash and restart (CometBFT's
// private-validator "last sign state" does the same).
//
// A validator signs at most one proposal, one prevote and one precommit per (height,
// round), in the order of (height, round, step). The engine (consensus.hpp) asks
// `judge` before it signs anything: a message later than the last one signed may be
// signed, once its record is saved; the same message again may be re-sent (Ed25519
// signatures are deterministic, so signing it again gives the same bytes); anything
// else is refused: an earlier step, or another message at the same step, which the
// chain would take as evidence and slash.
//
// The record also keeps the lock of its height (Tendermint's lockedRound and
// lockedValue), which changes only when the validator precommits a block, that is
// together with a signature. A validator restarted at that height takes the lock
// back, so it cannot be talked into prevoting another block without a newer polka.
//
// Pure values and functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "actors/core/bytes.hpp"

namespace stakecast::validator {

enum class consensus_step : std::uint8_t { propose = 1, prevote, precommit };

struct sign_state {
  /// Where the validator's store keeps it.
  static constexpr std::string_view store_key = "chain/sign_state";

  /// 0: nothing signed yet.
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  /// A consensus_step; a byte so that a stored record with another value decodes and
  /// is refused by `is_well_formed`.
  std::uint8_t step = 0;
  /// The block the message named (the zero hash: a vote for nil).
  core::hash256 block;
  /// SHA-256 of the signed bytes: the same message again is recognised exactly.
  core::hash256 signed_digest;
  /// The lock at `height`: -1 when not locked.
  std::int64_t locked_round = -1;
  core::hash256 locked_block;

  bool operator==(const sign_state&) const = default;

  /// A record that refuses every signature: what a validator whose stored record is
  /// unreadable keeps, since it cannot know what it signed.
  static constexpr sign_state refuse_all() noexcept {
    sign_state s;
    s.height = UINT64_MAX;
    s.step = static_cast<std::uint8_t>(consensus_step::precommit);
    return s;
  }

  consensus_step step_enum() const noexcept { return static_cast<consensus_step>(step); }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, sign_state& x) {
    return f(x.height, x.round, x.step, x.block, x.signed_digest, x.locked_round, x.locked_block);
  }
};

/// True when `s` can be a record the engine wrote: nothing signed, or a known step
/// with a lock no later than its round.
bool is_well_formed(const sign_state& s) noexcept;

enum class sign_verdict : std::uint8_t {
  sign,   // later than the last signed message: sign it (after saving its record)
  repeat, // the last signed message itself: it may be sent again
  refuse, // an earlier step, or a different message at the last step
};

/// May a validator whose last signature is `last` sign the message of (height, round,
/// step) whose signed bytes hash to `signed_digest`?
sign_verdict judge(const sign_state& last, std::uint64_t height, std::uint32_t round,
                   consensus_step step, const core::hash256& signed_digest) noexcept;

/// Keeps the sign state where it survives a crash. The engine calls `save` before a
/// signed message leaves it; `save` returns only once the record is durable, or
/// false when it could not be stored (a full disk): then nothing is signed.
class sign_journal {
public:
  virtual ~sign_journal() = default;
  virtual bool save(const sign_state& state) = 0;
};

} // namespace stakecast::validator
