#include "actors/validator/validator_set.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "actors/core/error.hpp"

namespace stakecast::validator {

std::string_view to_string(consensus_errc code) noexcept {
  switch (code) {
    case consensus_errc::empty_set:
      return "empty_set";
    case consensus_errc::zero_power:
      return "zero_power";
    case consensus_errc::duplicate_validator:
      return "duplicate_validator";
    case consensus_errc::too_many_validators:
      return "too_many_validators";
    case consensus_errc::total_power_too_large:
      return "total_power_too_large";
  }
  return "unknown";
}

caf::error make_error(consensus_errc code, std::string_view detail) {
  return core::make_domain_error(caf::atom("consensus"), static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

namespace {

caf::error check_members(const std::vector<validator_info>& sorted) {
  if (sorted.empty())
    return make_error(consensus_errc::empty_set, "a validator set needs a validator");
  if (sorted.size() > validator_set::validators_max)
    return make_error(
        consensus_errc::too_many_validators,
        fmt::format("{} validators, at most {}", sorted.size(), validator_set::validators_max));
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i].power == 0)
      return make_error(consensus_errc::zero_power,
                        fmt::format("validator {} has no power", sorted[i].id.to_hex()));
    if (i > 0 && sorted[i].id == sorted[i - 1].id)
      return make_error(consensus_errc::duplicate_validator,
                        fmt::format("validator {} appears twice", sorted[i].id.to_hex()));
    if (sorted[i].power > validator_set::total_power_max - total)
      return make_error(consensus_errc::total_power_too_large,
                        fmt::format("total power above {}", validator_set::total_power_max));
    total += sorted[i].power;
  }
  return {};
}

} // namespace

caf::expected<validator_set> validator_set::make(std::vector<validator_info> members) {
  std::sort(members.begin(), members.end(),
            [](const validator_info& a, const validator_info& b) { return a.id < b.id; });
  if (auto error = check_members(members))
    return error;
  validator_set set;
  for (const auto& member : members)
    set.total_power_ += member.power;
  set.members_ = std::move(members);
  set.priorities_.assign(set.members_.size(), 0);
  return set;
}

std::optional<std::size_t> validator_set::index_of(const core::node_id& id) const noexcept {
  const auto found = std::lower_bound(
      members_.begin(), members_.end(), id,
      [](const validator_info& member, const core::node_id& key) { return member.id < key; });
  if (found == members_.end() || found->id != id)
    return std::nullopt;
  return static_cast<std::size_t>(found - members_.begin());
}

std::size_t validator_set::increment(std::vector<std::int64_t>& priorities) const noexcept {
  std::size_t pick = 0;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    priorities[i] += static_cast<std::int64_t>(members_[i].power);
    // Members are in id order, so a strict > keeps the smallest id among ties.
    if (priorities[i] > priorities[pick])
      pick = i;
  }
  priorities[pick] -= static_cast<std::int64_t>(total_power_);
  // Smooth weighted round robin keeps the sum at zero and every priority within two
  // totals of zero; the static_asserts in the header rely on it.
  assert(priorities[pick] > -2 * static_cast<std::int64_t>(total_power_));
  return pick;
}

std::size_t validator_set::proposer_index(std::uint32_t round) const {
  auto priorities = priorities_;
  std::size_t pick = 0;
  for (std::uint64_t step = 0; step <= round; ++step)
    pick = increment(priorities);
  return pick;
}

validator_set validator_set::next() const {
  auto following = *this;
  increment(following.priorities_);
  return following;
}

} // namespace stakecast::validator
