// The state transition: apply(state, block) and the mempool's per-transaction check.
//
// Invalid-transaction policy (Tendermint style): a proposer includes only
// transactions that pass; a block with any invalid transaction is rejected whole
// (block_errc::invalid_tx, naming the transaction's index and reason), and the state
// is left exactly as it was. A rejected transaction never changes anything, its
// sender's nonce included.
//
// Fees go to the block's proposer (not burned, so the supply only moves by minting,
// burning and slashing). Receipt payments are what the burn applies to.
//
// What a block does, in order:
//  1. header: chain, height = previous + 1, previous hash, time not going back, the
//     proposer in the active set, tx_root, last_commit_hash, app_hash = the state
//     root before the block, and the size limits. Choosing *which* active validator
//     proposes is consensus's business, not checked here.
//  2. last_commit: precommits for the previous block by validators of the previous
//     block's set, each verified, holding > 2/3 of its power (empty at height 1).
//     Signers count toward their epoch reward; non-signers toward downtime, and a
//     validator that missed more than downtime_missed_max of its last
//     downtime_window_blocks is slashed downtime_slash and jailed.
//  3. unbonding entries whose release height has come are paid out.
//  4. the transactions, in order.
//  5. audit challenges whose deadline is this height and that were not answered fail:
//     the masternode is slashed audit_slash (at most once per epoch), jailed, and its
//     service this epoch earns nothing.
//  6. at the last block of an epoch (height % epoch_blocks == 0): rewards, inflation,
//     the next active sets and placement, and the next epoch's audit challenges.
// Then the supply invariant is checked (a violation aborts: the rules are broken).
//
// Signatures are checked through the `verifier` (core/verifier.hpp).
// Not thread-safe: a state belongs to one thread.
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/core/verifier.hpp"
#include "actors/validator/rules/block.hpp"
#include "actors/validator/rules/state.hpp"
#include "actors/validator/rules/transaction.hpp"

namespace stakecast::rules {

/// Applies `b` to `s` in place, all or nothing: on error `s` is unchanged and the
/// error (block_errc) says why. On success, s.commitment.root is the new state root.
caf::error apply(state& s, const block& b, const core::verifier& signatures);

/// As above on a copy (costs a copy of the state).
caf::expected<state> apply(const state& s, const block& b, const core::verifier& signatures);

/// Applies one transaction as if in a block at height s.globals.height + 1 proposed
/// by `proposer` (who gets the fee): all or nothing. For a mempool's check state.
caf::error apply_tx(state& s, const transaction& tx, const core::node_id& proposer,
                    const core::verifier& signatures);

/// Whether `tx` would be accepted at height s.globals.height + 1. `s` is left
/// unchanged (the transaction is applied and rolled back).
caf::error check_tx(state& s, const transaction& tx, const core::verifier& signatures);

/// Micro-units owed for `bytes` cumulative bytes: floor(bytes * price_per_gib / 2^30).
/// A payment for an increase is the difference of two of these, so rounding never
/// accumulates.
uint128 payment_for(std::uint64_t bytes, amount price_per_gib) noexcept;

} // namespace stakecast::rules
