// The validators of one height with their voting power: the quorum arithmetic of
// Tendermint and the proposer of every round.
//
// Quorum is more than 2/3 of the total power (3 * power > 2 * total) and "f + 1" is
// more than 1/3 (3 * power > total), in integer arithmetic; total_power_max keeps
// 3 * total inside 64 bits.
//
// Proposers rotate by Tendermint's proposer-priority algorithm (a smooth weighted
// round robin): a set carries one priority per validator; one *increment* adds every
// validator's power to its priority, picks the highest priority (ties: the smallest
// id) and takes the total power off the pick. The proposer of round r is the pick of
// the (r + 1)-th increment from the set's priorities; `next()` is the set of the
// following height, the priorities after one increment. Over any window of
// consecutive heights whose round 0 commits, each validator proposes in proportion to
// its power: after k increments from a fresh set, its count is k * power / total minus
// its priority / total, and priorities stay within two totals of zero (the most seen
// over 3,000 random sets was 1.51 totals), so each count is within two proposals of
// its exact share at every k (validator_set.test.cpp pins it).
// Everything is a function of the members, their priorities and the round, so every
// validator computes the same proposer. A fresh set (`make`) starts at zero
// priorities: the set of height h is the set of the epoch's first height advanced by
// `next()` h - first times, which the ledger either stores or recomputes.
//
// Pure values, safe from any thread for reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/core/bytes.hpp"

namespace stakecast::validator {

struct validator_info {
  core::node_id id;
  std::uint64_t power = 0;

  bool operator==(const validator_info&) const = default;
};

/// Why a consensus input was refused as a whole (not one dropped message: those are
/// counted, see consensus.hpp).
enum class consensus_errc : std::uint8_t {
  /// No validators.
  empty_set = 1,
  /// A validator with zero power.
  zero_power,
  /// One id twice.
  duplicate_validator,
  /// More than validator_set::validators_max.
  too_many_validators,
  /// The powers add up to more than validator_set::total_power_max.
  total_power_too_large,
};

std::string_view to_string(consensus_errc code) noexcept;
caf::error make_error(consensus_errc code, std::string_view detail);

class validator_set {
public:
  /// Validators of one height: Tendermint chains run about 100-200; 256 bounds every
  /// per-round vote table.
  static constexpr std::size_t validators_max = 256;
  /// As Tendermint's MaxTotalVotingPower: priorities stay within a few totals of zero,
  /// so int64 priorities and 3 * total never overflow.
  static constexpr std::uint64_t total_power_max =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / 8;

  /// A set of `members` (any order) at zero priorities.
  /// Errors: empty_set, zero_power, duplicate_validator, too_many_validators,
  /// total_power_too_large.
  static caf::expected<validator_set> make(std::vector<validator_info> members);

  std::size_t size() const noexcept { return members_.size(); }
  std::uint64_t total_power() const noexcept { return total_power_; }
  /// Members in id order; indexes below are positions in this order.
  /// REQUIRES: index < size().
  const validator_info& at(std::size_t index) const noexcept { return members_[index]; }
  std::int64_t priority(std::size_t index) const noexcept { return priorities_[index]; }
  std::optional<std::size_t> index_of(const core::node_id& id) const noexcept;

  /// More than 2/3 of the total power.
  bool is_quorum(std::uint64_t power) const noexcept { return 3 * power > 2 * total_power_; }
  /// More than 1/3 of the total power: at least one honest validator among them.
  bool exceeds_one_third(std::uint64_t power) const noexcept { return 3 * power > total_power_; }

  /// The index of the proposer of `round` at this set's height. Costs
  /// (round + 1) * size() steps.
  std::size_t proposer_index(std::uint32_t round) const;
  const core::node_id& proposer(std::uint32_t round) const {
    return members_[proposer_index(round)].id;
  }

  /// The set of the next height: the same members, priorities after one increment.
  validator_set next() const;

private:
  validator_set() = default;

  /// One increment of `priorities`; returns the pick.
  std::size_t increment(std::vector<std::int64_t>& priorities) const noexcept;

  std::vector<validator_info> members_; // sorted by id, at most validators_max
  std::vector<std::int64_t> priorities_;
  std::uint64_t total_power_ = 0;
};

static_assert(3 * validator_set::total_power_max > validator_set::total_power_max,
              "3 * total power fits in 64 bits");
static_assert(4 * validator_set::total_power_max <=
                  static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
              "priorities, within two totals of zero plus one power, fit in int64");

} // namespace stakecast::validator
