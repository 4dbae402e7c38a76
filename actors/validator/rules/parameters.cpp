#include "actors/validator/rules/parameters.hpp"

#include <string_view>

#include <fmt/format.h>

#include "actors/validator/rules/errors.hpp"

namespace stakecast::rules {

namespace {

caf::error bad(std::string_view name, std::uint64_t value, std::string_view why) {
  return make_error(parameter_errc::bad_parameter, fmt::format("{}: {} {}", name, value, why));
}

// Each check names the parameter; the first failure wins.
#define STAKECAST_REQUIRE_PARAMETER(condition, name, why)                                  \
  do {                                                                                     \
    if (!(condition))                                                                      \
      return bad(#name, static_cast<std::uint64_t>(p.name), why);                          \
  } while (false)

caf::error check_counts(const parameters& p) {
  using namespace chain_limits;
  STAKECAST_REQUIRE_PARAMETER(p.epoch_blocks >= 2, epoch_blocks, "must be at least 2");
  STAKECAST_REQUIRE_PARAMETER(
    p.validators_active_max >= 1 && p.validators_active_max <= validators_active_count_max,
    validators_active_max, "must be in 1 ..= 128");
  STAKECAST_REQUIRE_PARAMETER(p.masternodes_active_max >= 1
                                && p.masternodes_active_max <= masternodes_active_count_max,
                              masternodes_active_max, "must be in 1 ..= 4096");
  STAKECAST_REQUIRE_PARAMETER(p.unbonding_blocks >= 1, unbonding_blocks, "must be positive");
  STAKECAST_REQUIRE_PARAMETER(p.validator_self_bond_min >= 1, validator_self_bond_min,
                              "must be positive");
  STAKECAST_REQUIRE_PARAMETER(p.masternode_stake_min >= 1, masternode_stake_min,
                              "must be positive");
  STAKECAST_REQUIRE_PARAMETER(p.replicas_max >= 1 && p.replicas_max <= replicas_count_max,
                              replicas_max, "must be in 1 ..= 16");
  STAKECAST_REQUIRE_PARAMETER(p.replicas_default >= 1 && p.replicas_default <= p.replicas_max,
                              replicas_default, "must be in 1 ..= replicas_max");
  STAKECAST_REQUIRE_PARAMETER(p.epochs_per_year >= 1, epochs_per_year, "must be positive");
  STAKECAST_REQUIRE_PARAMETER(p.audit_challenges_per_masternode
                                <= audit_challenges_per_masternode_max,
                              audit_challenges_per_masternode, "must be at most 16");
  STAKECAST_REQUIRE_PARAMETER(p.audit_window_blocks >= 1
                                && p.audit_window_blocks < p.epoch_blocks,
                              audit_window_blocks,
                              "must be in 1 .. epoch_blocks (audits end within their epoch)");
  STAKECAST_REQUIRE_PARAMETER(p.downtime_window_blocks >= 1
                                && p.downtime_window_blocks <= downtime_window_blocks_max,
                              downtime_window_blocks, "must be in 1 ..= 8192");
  STAKECAST_REQUIRE_PARAMETER(p.downtime_missed_max < p.downtime_window_blocks,
                              downtime_missed_max, "must be below downtime_window_blocks");
  STAKECAST_REQUIRE_PARAMETER(p.jail_blocks >= 1, jail_blocks, "must be positive");
  STAKECAST_REQUIRE_PARAMETER(p.block_txs_max >= 1 && p.block_txs_max <= block_txs_count_max,
                              block_txs_max, "must be in 1 ..= 10000");
  STAKECAST_REQUIRE_PARAMETER(p.block_bytes_max >= tx_body_bytes_max * 2
                                && p.block_bytes_max <= chain_limits::block_bytes_max,
                              block_bytes_max, "must hold two maximal transactions and fit a payload");
  return {};
}

caf::error check_fractions(const parameters& p) {
  STAKECAST_REQUIRE_PARAMETER(p.inflation_max <= ppm_one, inflation_max, "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.inflation_min <= p.inflation_max, inflation_min,
                              "must be <= inflation_max");
  STAKECAST_REQUIRE_PARAMETER(p.inflation_initial >= p.inflation_min
                                && p.inflation_initial <= p.inflation_max,
                              inflation_initial, "must be in inflation_min ..= inflation_max");
  STAKECAST_REQUIRE_PARAMETER(p.inflation_change <= ppm_one, inflation_change,
                              "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.target_bonded_ratio <= ppm_one, target_bonded_ratio,
                              "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.validator_reward_share <= ppm_one, validator_reward_share,
                              "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.fee_burn <= ppm_one, fee_burn, "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.audit_slash <= ppm_one, audit_slash, "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.double_sign_slash <= ppm_one, double_sign_slash,
                              "must be <= 1000000");
  STAKECAST_REQUIRE_PARAMETER(p.downtime_slash <= ppm_one, downtime_slash,
                              "must be <= 1000000");
  return {};
}

#undef STAKECAST_REQUIRE_PARAMETER

} // namespace

caf::error check(const parameters& p) {
  if (auto error = check_counts(p))
    return error;
  return check_fractions(p);
}

} // namespace stakecast::rules
