// What a validator answers a chain_query with (actors/core/messages.hpp, "paid
// service"): the entries of its committed state that a masternode's claims and audit
// answers depend on. Pure: the state in, the answer out.
//
// The asker trusts the validator it asks; docs/chain.md ("Masternodes and viewers")
// says how a light client will check answers against a committed header instead.
// It never goes back in time, though: `answer_floor` keeps the highest height it has
// taken, and an answer from a validator that is still catching up is not taken.
#pragma once

#include <cstdint>

#include "actors/core/messages.hpp"
#include "actors/validator/rules/state.hpp"

namespace stakecast::validator {

/// The answer to `query` from state `s`: at most chain_answer_challenges_max
/// challenges (earliest deadline first) and chain_answer_contents_max contents.
wire::chain_answer answer_query(const rules::state& s, const wire::chain_query& query);

/// The highest chain height a client has taken an answer at. An answer at a lower
/// height comes from a validator behind the others (restarted, catching up); taking it
/// would undo what the client already saw: a balance, a nonce, an assignment.
class answer_floor {
public:
  /// True when an answer at `height` may be taken: it is no older than any taken
  /// before. Taking it raises the floor.
  bool take(std::uint64_t height) noexcept {
    if (height < height_)
      return false;
    height_ = height;
    return true;
  }
  std::uint64_t height() const noexcept { return height_; }

private:
  std::uint64_t height_ = 0;
};

} // namespace stakecast::validator
