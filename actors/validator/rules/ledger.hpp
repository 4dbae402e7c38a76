// Internal to rules/: the state changes that transactions, blocks and epochs share
// (credits, slashes, jails, active sets, placement cache, savepoints). Callers
// outside rules/ use apply.hpp.
//
// Functions here trust their caller: REQUIRES lines are checked by aborting, since a
// violation means the rules themselves are wrong, not the input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <caf/error.hpp>

#include "actors/core/verifier.hpp"
#include "actors/validator/rules/state.hpp"
#include "actors/validator/rules/transaction.hpp"

namespace stakecast::rules::detail {

/// Aborts with `what` when `condition` is false: a broken rule, never bad input.
void require(bool condition, std::string_view what);

/// Credits `value` to `id`'s balance, creating the account.
/// REQUIRES: the balance does not overflow (it cannot while the supply invariant holds).
void credit(state& s, const core::node_id& id, amount value);

/// Slashes `fraction` of `offender`'s own bond, of every delegation to it, and of
/// every unbonding entry from it created at or after `infraction_height`. Returns the
/// amount removed from the supply (added to globals.slashed).
amount slash(state& s, const core::node_id& offender, ppm fraction,
             std::uint64_t infraction_height);

/// Jails a validator or masternode until `until_height` and removes it from its
/// active set at once (a masternode's contents are placed again).
void jail(state& s, const core::node_id& offender, std::uint64_t until_height);

/// Recomputes the active validator and masternode sets from bonds (epoch boundary)
/// and the placement cache.
void recompute_active_sets(state& s);
/// Places every content on the active masternodes again.
void recompute_assignments(state& s);
/// Places one content (new, or after a change of the active masternodes).
void assign(state& s, const core::content_id& content, std::uint32_t replicas);
/// What a new content must satisfy to be placed, whether a publish_content
/// transaction or the genesis lists it: an id not yet in `contents`, 1 ..=
/// replicas_max replicas, at most content_bytes_max bytes cut into exactly
/// core::block_count(size_bytes) blocks. Errors: tx_errc::content_exists,
/// bad_replicas, bad_content (the publisher is not checked).
caf::error check_new_content(const parameters& p,
                             const table<core::content_id, content_record>& contents,
                             const core::content_id& content, const content_record& record);
/// Copies the placement into settled_assignments (state.hpp): what the next epoch
/// boundary's audits may challenge. Called at genesis and at each epoch boundary
/// only.
void settle_assignments(state& s);

/// Everything needed to roll a state back: the scalars and each table's journal size.
struct savepoint {
  chain_globals globals;
  std::array<std::size_t, 16> journal_sizes{};
};

savepoint mark(const state& s);
void rollback(state& s, const savepoint& point);
/// Drops every journal: the changes so far are final.
void forget_journals(state& s);

/// apply_tx without the rollback: on error the state may be half changed.
caf::error apply_tx_unguarded(state& s, const transaction& tx, const core::node_id& proposer,
                              const core::verifier& signatures);

/// Step 5 of a block (apply.hpp): fails the challenges due at `height`.
void expire_challenges(state& s, std::uint64_t height);

/// Step 6 of a block: rewards for the epoch that ends at `height`, the next inflation,
/// active sets and placement, audit challenges drawn from `previous_block` over the
/// contents each masternode has held since the previous boundary, and the placement
/// settled for the next boundary (epoch.cpp).
void end_epoch(state& s, std::uint64_t height, const core::hash256& previous_block);

/// Pays out the unbonding entries due at or before `height`.
void release_unbondings(state& s, std::uint64_t height);

} // namespace stakecast::rules::detail
