// The ledger state: every account, bond, content, deposit, claim, audit and epoch
// counter the chain agrees on, plus the queries the rest of the system asks of it.
//
// The state is changed only by apply.hpp (blocks and transactions) and made only by
// genesis (initial_state in actors/validator/genesis.hpp) or by copying. Tables are
// ordered maps, so iteration is the same on every node.
//
// Money lives in four places: account balances, bonds (validators' self bonds,
// masternodes' stakes and all delegations), unbonding entries, and viewing deposits.
// The supply invariant ties them to the chain's history:
//     sum(balances) + sum(bonds) + sum(unbonding) + sum(deposits)
//         == genesis_supply + minted - burned - slashed
//
// State root: SHA-256 over all committed tables and the globals (see state.cpp for the
// exact layout). Each entry's leaf hash is cached; an entry is rehashed only when its
// table marks it dirty, so the cost per block follows what the block changed, not the
// size of the state.
//
// Not thread-safe: one state belongs to one thread; copies are independent.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/messages.hpp"
#include "actors/core/placement.hpp"
#include "actors/validator/rules/amount.hpp"
#include "actors/validator/rules/parameters.hpp"
#include "actors/validator/rules/table.hpp"

namespace stakecast::rules {

struct account {
  amount balance = 0;
  /// Transactions accepted from this account: the nonce its next one must carry.
  std::uint64_t nonce = 0;
  /// Unbonding entries in flight (at most unbonding_entries_per_account_max).
  std::uint32_t unbonding_count = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, account& x) {
    return f(caf::meta::type_name("account"), x.balance, x.nonce, x.unbonding_count);
  }
};

/// A validator candidate, keyed by its operator's account id (which also signs its
/// votes).
struct validator_record {
  amount self_bond = 0;
  /// Sum of the delegations to this validator.
  amount delegated = 0;
  ppm commission = 0;
  bool jailed = false;
  /// The first height at which an unjail is accepted.
  std::uint64_t jailed_until = 0;
  /// Set by double-sign evidence: slashed, jailed and never eligible again.
  bool tombstoned = false;
  /// Downtime window: blocks this validator was expected to sign (its ring index),
  /// how many of the last downtime_window_blocks it missed, and which.
  std::uint64_t window_seen = 0;
  std::uint32_t missed_count = 0;
  std::vector<std::uint64_t> missed_bits;

  amount bonded() const noexcept {
    return self_bond + delegated;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, validator_record& x) {
    return f(caf::meta::type_name("validator_record"), x.self_bond, x.delegated, x.commission,
             x.jailed, x.jailed_until, x.tombstoned, x.window_seen, x.missed_count,
             wire::count_max<chain_limits::downtime_window_words_max>, x.missed_bits);
  }
};

/// A masternode, keyed by its operator's account id.
struct masternode_record {
  amount stake = 0;
  /// Sum of the delegations to this masternode.
  amount delegated = 0;
  ppm commission = 0;
  std::string endpoint;
  std::uint64_t capacity_bytes = 0;
  bool jailed = false;
  std::uint64_t jailed_until = 0;
  /// Reserved for permanent removal; nothing sets it yet.
  bool tombstoned = false;

  amount bonded() const noexcept {
    return stake + delegated;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, masternode_record& x) {
    return f(caf::meta::type_name("masternode_record"), x.stake, x.delegated, x.commission,
             x.endpoint, x.capacity_bytes, x.jailed, x.jailed_until, x.tombstoned);
  }
};

/// Target first: a target's delegations are one range.
struct delegation_key {
  core::node_id target;
  core::node_id delegator;

  auto operator<=>(const delegation_key&) const = default;
  bool operator==(const delegation_key&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, delegation_key& x) {
    return f(caf::meta::type_name("delegation_key"), x.target, x.delegator);
  }
};

struct delegation_record {
  amount value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, delegation_record& x) {
    return f(caf::meta::type_name("delegation_record"), x.value);
  }
};

/// Release height first: the matured entries are a prefix.
struct unbonding_key {
  std::uint64_t release_height = 0;
  std::uint64_t sequence = 0;

  auto operator<=>(const unbonding_key&) const = default;
  bool operator==(const unbonding_key&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, unbonding_key& x) {
    return f(caf::meta::type_name("unbonding_key"), x.release_height, x.sequence);
  }
};

struct unbonding_entry {
  core::node_id account;
  /// Whom the funds were bonded to: a slash of that node for an offence at or after
  /// `created_height` reaches them too.
  core::node_id target;
  amount value = 0;
  std::uint64_t created_height = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, unbonding_entry& x) {
    return f(caf::meta::type_name("unbonding_entry"), x.account, x.target, x.value,
             x.created_height);
  }
};

struct content_record {
  core::node_id publisher;
  core::hash256 root;
  std::uint32_t block_count = 0;
  std::uint64_t size_bytes = 0;
  std::uint32_t replicas = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, content_record& x) {
    return f(caf::meta::type_name("content_record"), x.publisher, x.root, x.block_count,
             x.size_bytes, x.replicas);
  }
};

struct deposit_record {
  core::node_id viewer;
  amount remaining = 0;
  /// Paid out of this deposit so far (burned part included).
  amount paid = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, deposit_record& x) {
    return f(caf::meta::type_name("deposit_record"), x.viewer, x.remaining, x.paid);
  }
};

struct claim_key {
  core::hash256 deposit;
  core::node_id masternode;

  auto operator<=>(const claim_key&) const = default;
  bool operator==(const claim_key&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, claim_key& x) {
    return f(caf::meta::type_name("claim_key"), x.deposit, x.masternode);
  }
};

struct claim_record {
  /// The cumulative bytes of the latest receipt claimed.
  std::uint64_t bytes = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, claim_record& x) {
    return f(caf::meta::type_name("claim_record"), x.bytes);
  }
};

struct challenge_record {
  core::node_id masternode;
  core::content_id content;
  std::uint32_t block_index = 0;
  /// The last height at which a response is accepted.
  std::uint64_t deadline_height = 0;

  bool operator==(const challenge_record&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, challenge_record& x) {
    return f(caf::meta::type_name("challenge_record"), x.masternode, x.content,
             x.block_index, x.deadline_height);
  }
};

/// A masternode's claimed service in the current epoch.
struct service_record {
  std::uint64_t bytes = 0;
  /// A missed audit this epoch: the epoch's service earns nothing.
  bool audit_failed = false;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, service_record& x) {
    return f(caf::meta::type_name("service_record"), x.bytes, x.audit_failed);
  }
};

/// A validator's signatures in the current epoch's commits.
struct signing_record {
  std::uint64_t signed_blocks = 0;
  /// Its voting power in the epoch's active set.
  amount power = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, signing_record& x) {
    return f(caf::meta::type_name("signing_record"), x.signed_blocks, x.power);
  }
};

/// A member of an active set and its power (validators) or stake (masternodes).
struct power_record {
  amount power = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, power_record& x) {
    return f(caf::meta::type_name("power_record"), x.power);
  }
};

/// Derived (not in the root): the active masternodes a content is placed on.
struct assignment_record {
  std::vector<core::node_id> masternodes;
};

/// The state's scalars.
struct chain_globals {
  /// The chain id: SHA-256 of the genesis encoding.
  core::hash256 chain;
  /// The height of the last applied block (0 at genesis).
  std::uint64_t height = 0;
  std::uint64_t time_ms = 0;
  /// The hash of the last applied block (the genesis hash at height 0).
  core::hash256 last_block_hash;
  amount genesis_supply = 0;
  amount minted = 0;
  amount burned = 0;
  amount slashed = 0;
  /// Current annual inflation.
  ppm inflation = 0;
  /// Source of unbonding and challenge ids.
  std::uint64_t next_sequence = 1;
  amount rewards_validators = 0;
  amount rewards_masternodes = 0;
  amount fees_paid = 0;
  amount receipts_paid = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_globals& x) {
    return f(caf::meta::type_name("chain_globals"), x.chain, x.height, x.time_ms,
             x.last_block_hash, x.genesis_supply, x.minted, x.burned, x.slashed, x.inflation,
             x.next_sequence, x.rewards_validators, x.rewards_masternodes, x.fees_paid,
             x.receipts_paid);
  }
};

inline constexpr std::size_t state_root_buckets = 1024;

/// The cached layout behind the state root: leaf hashes per bucket and a binary
/// tree over the buckets. Internal to state.cpp; part of the state so that copies
/// carry it.
struct state_commitment {
  std::array<std::map<core::hash256, core::hash256>, state_root_buckets> buckets;
  /// nodes[1] is the root over the buckets, nodes[buckets + b] is bucket b's hash.
  std::vector<core::hash256> nodes;
  core::hash256 root;
};

struct state {
  parameters params;
  chain_globals globals;
  table<core::node_id, account> accounts;
  table<core::node_id, validator_record> validators;
  table<core::node_id, masternode_record> masternodes;
  table<delegation_key, delegation_record> delegations;
  table<unbonding_key, unbonding_entry> unbondings;
  table<core::content_id, content_record> contents;
  table<core::hash256, deposit_record> deposits;
  table<claim_key, claim_record> claims;
  table<std::uint64_t, challenge_record> challenges;
  table<core::node_id, service_record> epoch_service;
  table<core::node_id, signing_record> epoch_signing;
  /// The validator set for the next block, with voting power.
  table<core::node_id, power_record> active_validators;
  /// The validator set that decided the last block (whose commit the next block
  /// carries).
  table<core::node_id, power_record> last_validators;
  /// The masternodes placement uses, with their stake.
  table<core::node_id, power_record> active_masternodes;
  /// Derived from contents and active_masternodes; not in the state root.
  table<core::content_id, assignment_record> assignments;
  /// Derived, not in the state root: `assignments` as it was at the last epoch
  /// boundary, after that boundary's challenges (at genesis, as genesis placed it).
  /// Audits challenge a masternode only over contents it holds in both tables, so
  /// that content placed on it since that boundary (published, or moved to it when
  /// another masternode left the active set) is not challenged before it had an
  /// epoch to fetch it. Set only by genesis and at epoch boundaries, so every node
  /// replaying the chain from genesis holds the same table.
  table<core::content_id, assignment_record> settled_assignments;
  state_commitment commitment;
};

/// Rehashes what changed since the last call and returns the state root.
core::hash256 state_root(state& s);
/// The state root computed from every entry, ignoring the caches (for tests).
core::hash256 state_root_from_scratch(const state& s);

/// The supply invariant of the top of this file, plus: no delegated total differs
/// from the sum of its delegations, and no nonce or balance is out of range.
bool supply_invariant_ok(const state& s);
/// genesis_supply + minted - burned - slashed.
amount total_supply(const state& s);
/// All bonds: validators' and masternodes' own and delegated.
amount bonded_total(const state& s);

// Queries.

struct validator_power {
  core::node_id id;
  amount power = 0;
  bool operator==(const validator_power&) const = default;
};

/// The validator set for height globals.height + 1, by id.
std::vector<validator_power> active_validators(const state& s);
/// The masternodes placement uses, with their stake, by id.
std::vector<core::placement_candidate> active_masternodes(const state& s);
/// The active masternodes `content` is placed on (empty for unknown content).
std::vector<core::node_id> assigned_masternodes(const state& s, const core::content_id& content);
const content_record* find_content(const state& s, const core::content_id& content);
/// The pending audit challenges of `masternode`, by challenge id.
std::vector<std::pair<std::uint64_t, challenge_record>>
pending_challenges(const state& s, const core::node_id& masternode);
amount balance(const state& s, const core::node_id& id);
std::uint64_t nonce(const state& s, const core::node_id& id);

struct chain_summary {
  std::uint64_t height = 0;
  amount supply = 0;
  amount minted = 0;
  amount burned = 0;
  amount slashed = 0;
  ppm inflation = 0;
  ppm bonded_ratio = 0;
  amount rewards_validators = 0;
  amount rewards_masternodes = 0;
  amount fees_paid = 0;
  amount receipts_paid = 0;
};

chain_summary summary(const state& s);

} // namespace stakecast::rules
