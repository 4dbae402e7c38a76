// What a validator answers a chain_query with (actors/core/messages.hpp, "paid
// service"): the entries of its committed state that a masternode's claims and audit
// answers depend on. Pure: the state in, the answer out.
//
// The asker trusts the validator it asks; docs/chain.md ("Masternodes and viewers")
// says how a light client will check answers against a committed header instead.
#pragma once

#include "actors/core/messages.hpp"
#include "actors/validator/rules/state.hpp"

namespace stakecast::validator {

/// The answer to `query` from state `s`: at most chain_answer_challenges_max
/// challenges (earliest deadline first) and chain_answer_contents_max contents.
wire::chain_answer answer_query(const rules::state& s, const wire::chain_query& query);

} // namespace stakecast::validator
