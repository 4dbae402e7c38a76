// Every number the chain's rules use, with its documented default, in one place.
//
// `parameters` holds the values a genesis file chooses (genesis.hpp); missing ones
// take the defaults below. `check` says whether a set of values is usable and names
// the first bad one. The compile-time bounds in `chain_limits` are promises of the
// encoding (list lengths a decoder accepts): a parameter may lower them, never raise
// them, which `check` enforces.
//
// Plain values, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/core/limits.hpp"
#include "actors/validator/rules/amount.hpp"

namespace stakecast::rules {

namespace chain_limits {

/// Validators in one active set (Tendermint degrades beyond ~100 voters).
inline constexpr std::size_t validators_active_count_max = 128;
/// Masternodes that placement considers in one epoch.
inline constexpr std::size_t masternodes_active_count_max = 4096;
/// Replicas of one content.
inline constexpr std::uint32_t replicas_count_max = 16;
/// Blocks in the downtime window (the missed-block bitset holds this many bits).
inline constexpr std::uint64_t downtime_window_blocks_max = 8192;
inline constexpr std::size_t downtime_window_words_max = downtime_window_blocks_max / 64;
/// Audit challenges one masternode receives per epoch.
inline constexpr std::uint32_t audit_challenges_per_masternode_max = 16;
/// Transactions in one block.
inline constexpr std::size_t block_txs_count_max = 10'000;
/// Receipts in one claim_receipts transaction.
inline constexpr std::size_t receipts_per_claim_max = 256;
/// The encoded body of one transaction.
inline constexpr std::size_t tx_body_bytes_max = 64 * 1024;
/// A masternode's endpoint ("host:port").
inline constexpr std::size_t endpoint_bytes_max = 128;
/// Unbonding entries one account may have in flight (Cosmos allows 7 per pair).
inline constexpr std::size_t unbonding_entries_per_account_max = 16;
/// Precommits in one block's last_commit: one per active validator.
inline constexpr std::size_t last_commit_votes_max = validators_active_count_max;
/// Bytes of one encoded block.
inline constexpr std::size_t block_bytes_max = limits::payload_bytes_max;

/// One encoded receipt: five 32-byte ids, a u64 and a 64-byte signature.
inline constexpr std::size_t receipt_bytes = 5 * 32 + 8 + 64;

static_assert(downtime_window_blocks_max % 64 == 0);
static_assert(endpoint_bytes_max <= limits::text_bytes_max,
              "an endpoint is a codec string");
static_assert(receipts_per_claim_max * receipt_bytes + 4 <= tx_body_bytes_max,
              "a full claim fits one transaction body");
static_assert(16 * 1024 + 32 * 32 + 64 <= tx_body_bytes_max,
              "an audit response (a 16 KiB block and a 32-deep proof) fits a body");
static_assert(tx_body_bytes_max * 16 <= block_bytes_max,
              "a block holds at least 16 maximal transactions");

} // namespace chain_limits

struct parameters {
  /// Blocks per epoch; rewards, the active sets and audits turn over at the last
  /// block of each epoch (height % epoch_blocks == 0). 720 blocks of 5 s: one hour.
  std::uint64_t epoch_blocks = 720;
  /// K: validators in the active set (top K by bonded stake).
  std::uint32_t validators_active_max = 21;
  /// Masternodes that placement considers (top by stake).
  std::uint32_t masternodes_active_max = 1000;
  /// Blocks between an unbond and the release of its funds: 7 days of 5 s blocks.
  std::uint64_t unbonding_blocks = 120'960;
  /// A validator candidate's own bond, at registration and to stay eligible.
  amount validator_self_bond_min = 10'000 * micro_per_token;
  /// A masternode's own stake, at registration and to stay eligible.
  amount masternode_stake_min = 1'000 * micro_per_token;
  /// R: the replicas a publisher should ask for; a content may ask 1 ..= replicas_max.
  std::uint32_t replicas_default = 3;
  std::uint32_t replicas_max = 8;
  /// Annual inflation: the initial rate and its bounds.
  ppm inflation_initial = 70'000;
  ppm inflation_min = 20'000;
  ppm inflation_max = 200'000;
  /// How far inflation moves toward the bonded-ratio target per epoch (Livepeer).
  ppm inflation_change = 500;
  /// The bonded share of supply that inflation steers toward.
  ppm target_bonded_ratio = 500'000;
  /// Turns annual inflation into a per-epoch mint: 8760 one-hour epochs.
  std::uint64_t epochs_per_year = 8760;
  /// The share of each mint that goes to validators; masternodes get the rest.
  ppm validator_reward_share = 300'000;
  /// The share of every receipt payment that is burned.
  ppm fee_burn = 100'000;
  /// Micro-units a viewer pays per GiB (2^30 bytes) served.
  amount price_per_gib = 500'000;
  /// Audit challenges per active masternode per epoch, and blocks to answer each.
  std::uint32_t audit_challenges_per_masternode = 2;
  std::uint64_t audit_window_blocks = 60;
  /// Slashes, as shares of the offender's and its delegators' bonds.
  ppm audit_slash = 10'000;
  ppm double_sign_slash = 50'000;
  ppm downtime_slash = 100;
  /// Downtime: more than downtime_missed_max missed in the last window jails.
  std::uint64_t downtime_window_blocks = 200;
  std::uint64_t downtime_missed_max = 100;
  /// Blocks a jailed node waits before its unjail transaction is accepted.
  std::uint64_t jail_blocks = 120;
  /// Block bounds (below the compile-time ones in chain_limits).
  std::uint32_t block_txs_max = 1000;
  std::uint64_t block_bytes_max = 2 * 1024 * 1024;
  /// The smallest fee a transaction may pay.
  amount tx_fee_min = 1000;

  bool operator==(const parameters&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, parameters& x) {
    return f(caf::meta::type_name("parameters"), x.epoch_blocks, x.validators_active_max,
             x.masternodes_active_max, x.unbonding_blocks, x.validator_self_bond_min,
             x.masternode_stake_min, x.replicas_default, x.replicas_max,
             x.inflation_initial, x.inflation_min, x.inflation_max, x.inflation_change,
             x.target_bonded_ratio, x.epochs_per_year, x.validator_reward_share,
             x.fee_burn, x.price_per_gib, x.audit_challenges_per_masternode,
             x.audit_window_blocks, x.audit_slash, x.double_sign_slash, x.downtime_slash,
             x.downtime_window_blocks, x.downtime_missed_max, x.jail_blocks,
             x.block_txs_max, x.block_bytes_max, x.tx_fee_min);
  }
};

/// Calls f(name, field) for every parameter, in `inspect` order: how genesis and
/// scenario files read and write them by name.
template <class Parameters, class F>
void for_each_parameter(Parameters& p, F&& f) {
  f("epoch_blocks", p.epoch_blocks);
  f("validators_active_max", p.validators_active_max);
  f("masternodes_active_max", p.masternodes_active_max);
  f("unbonding_blocks", p.unbonding_blocks);
  f("validator_self_bond_min", p.validator_self_bond_min);
  f("masternode_stake_min", p.masternode_stake_min);
  f("replicas_default", p.replicas_default);
  f("replicas_max", p.replicas_max);
  f("inflation_initial", p.inflation_initial);
  f("inflation_min", p.inflation_min);
  f("inflation_max", p.inflation_max);
  f("inflation_change", p.inflation_change);
  f("target_bonded_ratio", p.target_bonded_ratio);
  f("epochs_per_year", p.epochs_per_year);
  f("validator_reward_share", p.validator_reward_share);
  f("fee_burn", p.fee_burn);
  f("price_per_gib", p.price_per_gib);
  f("audit_challenges_per_masternode", p.audit_challenges_per_masternode);
  f("audit_window_blocks", p.audit_window_blocks);
  f("audit_slash", p.audit_slash);
  f("double_sign_slash", p.double_sign_slash);
  f("downtime_slash", p.downtime_slash);
  f("downtime_window_blocks", p.downtime_window_blocks);
  f("downtime_missed_max", p.downtime_missed_max);
  f("jail_blocks", p.jail_blocks);
  f("block_txs_max", p.block_txs_max);
  f("block_bytes_max", p.block_bytes_max);
  f("tx_fee_min", p.tx_fee_min);
}

/// None when `p` is usable; otherwise a rules_errc::bad_parameter error whose text
/// names the first bad parameter and why ("audit_window_blocks: 800 must be below
/// epoch_blocks (720)").
caf::error check(const parameters& p);

} // namespace stakecast::rules
