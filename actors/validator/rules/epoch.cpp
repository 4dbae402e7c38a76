// What happens without a transaction: unbonding releases, audit deadlines, and the
// epoch boundary (rewards, inflation, active sets, placement, new challenges).
//
// Audits at each epoch boundary, after the active sets and the placement are
// recomputed: a masternode gets audit_challenges_per_masternode challenges, each a
// block of a content drawn from the previous block's hash, due audit_window_blocks
// later, over the contents placed on it both now and at the previous boundary (or at
// genesis): settled_assignments in state.hpp. With none, it gets no challenge. Content placed on it since then (published mid-epoch, or moved to it at
// this boundary or by a jail) is challenged from the next boundary on, so an honest
// masternode always has a whole epoch to fetch a content before it must prove it
// holds it. The placement is then settled for the next boundary.
//
// Reward formulas, at the last block of each epoch (all divisions floor):
//   inflation' = inflation + change if bonded/supply < target, - change if above,
//                clamped to [inflation_min, inflation_max]        (Livepeer's rule)
//   mint       = supply * inflation' / (10^6 * epochs_per_year)
//   validator pool = mint * validator_reward_share / 10^6, masternode pool = the rest
//   validator weight  = power in the epoch's set * blocks whose commit it signed
//   masternode weight = bytes claimed this epoch, 0 after a failed audit
//   operator reward   = pool * weight / sum(weights)
//   commission        = reward * commission / 10^6
//   delegator share   = (reward - commission) * delegation / (own bond + delegations)
//   the operator gets the reward minus the delegators' shares (its commission, its
//   own bond's share and the rounding dust).
// Only what is credited is minted: a pool with no weight (no signer, no audited
// service) and rounding dust are never created, so the supply needs no sink account.
// Rewards go to liquid balances. Tombstoned operators earn nothing.
#include <algorithm>
#include <bit>
#include <map>
#include <string_view>
#include <vector>

#include "actors/core/sha256.hpp"
#include "actors/validator/rules/ledger.hpp"

namespace stakecast::rules::detail {

void release_unbondings(state& s, std::uint64_t height) {
  while (s.unbondings.size() > 0) {
    auto [key, entry] = *s.unbondings.entries().begin();
    if (key.release_height > height)
      break;
    s.unbondings.erase(key);
    credit(s, entry.account, entry.value);
    s.accounts.find_mut(entry.account)->unbonding_count -= 1;
  }
}

namespace {

void fail_audit(state& s, const core::node_id& masternode, std::uint64_t height) {
  auto& service = s.epoch_service.upsert(masternode);
  if (service.audit_failed)
    return; // one audit slash per masternode per epoch
  service.audit_failed = true;
  const auto* m = s.masternodes.find(masternode);
  if (m == nullptr || m->tombstoned)
    return;
  auto issued = height - std::min(height, s.params.audit_window_blocks);
  slash(s, masternode, s.params.audit_slash, issued);
  if (!m->jailed)
    jail(s, masternode, height + s.params.jail_blocks);
}

} // namespace

void expire_challenges(state& s, std::uint64_t height) {
  // Challenge ids grow with their issue height and all share one window, so the
  // due ones are a prefix.
  while (s.challenges.size() > 0) {
    auto [id, challenge] = *s.challenges.entries().begin();
    if (challenge.deadline_height > height)
      break;
    s.challenges.erase(id);
    fail_audit(s, challenge.masternode, height);
  }
}

namespace {

void step_inflation(state& s) {
  const auto& p = s.params;
  auto ratio = ratio_ppm(bonded_total(s), total_supply(s));
  auto& inflation = s.globals.inflation;
  if (ratio < p.target_bonded_ratio)
    inflation = std::min<ppm>(p.inflation_max, inflation + p.inflation_change);
  else if (ratio > p.target_bonded_ratio)
    inflation = inflation > p.inflation_min + p.inflation_change ? inflation - p.inflation_change
                                                                  : p.inflation_min;
}

amount epoch_mint(const state& s) {
  auto supply = total_supply(s);
  uint128 mint = static_cast<uint128>(supply) * s.globals.inflation
                 / (static_cast<uint128>(ppm_one) * s.params.epochs_per_year);
  auto room = UINT64_MAX - supply;
  return mint > room ? room : static_cast<amount>(mint);
}

struct weight {
  core::node_id id;
  uint128 value = 0;
};

// Splits `reward` between `operator_id`, who keeps `commission` and its own bond's
// share, and its delegators pro rata. Credits exactly `reward`.
void pay_operator(state& s, const core::node_id& operator_id, amount reward, ppm commission,
                  amount own) {
  auto rest = reward - ppm_of(reward, commission);
  std::vector<std::pair<core::node_id, amount>> delegators;
  amount delegated = 0;
  const auto& all = s.delegations.entries();
  for (auto it = all.lower_bound({operator_id, {}});
       it != all.end() && it->first.target == operator_id; ++it) {
    delegators.emplace_back(it->first.delegator, it->second.value);
    delegated += it->second.value;
  }
  amount paid = 0;
  for (const auto& [delegator, value] : delegators) {
    auto share = *mul_div(rest, value, own + delegated);
    credit(s, delegator, share);
    paid += share;
  }
  credit(s, operator_id, reward - paid);
}

// Splits `pool` by weights; returns what was credited.
template <class PayOne>
amount distribute(amount pool, std::vector<weight> weights, PayOne pay_one) {
  uint128 total = 0;
  for (const auto& w : weights)
    total += w.value;
  if (pool == 0 || total == 0)
    return 0;
  // Scale weights down to 63 bits so that pool * weight fits 128 bits.
  unsigned shift = 0;
  while ((total >> shift) >= (uint128{1} << 63))
    ++shift;
  uint128 scaled_total = 0;
  for (auto& w : weights) {
    w.value >>= shift;
    scaled_total += w.value;
  }
  if (scaled_total == 0)
    return 0;
  amount credited = 0;
  for (const auto& w : weights) {
    auto reward = static_cast<amount>(static_cast<uint128>(pool) * w.value / scaled_total);
    if (reward > 0)
      pay_one(w.id, reward);
    credited += reward;
  }
  return credited;
}

amount reward_validators(state& s, amount pool) {
  std::vector<weight> weights;
  for (const auto& [id, record] : s.epoch_signing.entries()) {
    const auto* v = s.validators.find(id);
    if (v != nullptr && !v->tombstoned)
      weights.push_back({id, static_cast<uint128>(record.power) * record.signed_blocks});
  }
  return distribute(pool, std::move(weights), [&](const core::node_id& id, amount reward) {
    const auto& v = *s.validators.find(id);
    pay_operator(s, id, reward, v.commission, v.self_bond);
  });
}

amount reward_masternodes(state& s, amount pool) {
  std::vector<weight> weights;
  for (const auto& [id, record] : s.epoch_service.entries()) {
    const auto* m = s.masternodes.find(id);
    if (m != nullptr && !m->tombstoned && !record.audit_failed)
      weights.push_back({id, record.bytes});
  }
  return distribute(pool, std::move(weights), [&](const core::node_id& id, amount reward) {
    const auto& m = *s.masternodes.find(id);
    pay_operator(s, id, reward, m.commission, m.stake);
  });
}

void pay_rewards(state& s) {
  step_inflation(s);
  auto mint = epoch_mint(s);
  auto validator_pool = ppm_of(mint, s.params.validator_reward_share);
  auto to_validators = reward_validators(s, validator_pool);
  auto to_masternodes = reward_masternodes(s, mint - validator_pool);
  s.globals.minted += to_validators + to_masternodes;
  s.globals.rewards_validators += to_validators;
  s.globals.rewards_masternodes += to_masternodes;
}

constexpr std::string_view audit_domain_tag = "stakecast/audit/v1";

core::hash256 audit_draw(const core::hash256& previous_block, const core::node_id& masternode,
                         std::uint32_t index) {
  core::sha256_hasher hasher;
  hasher.update(core::as_bytes(audit_domain_tag));
  hasher.update(previous_block.bytes);
  hasher.update(masternode.bytes);
  std::array<std::uint8_t, 4> index_bytes{};
  for (std::size_t i = 0; i < index_bytes.size(); ++i)
    index_bytes[i] = static_cast<std::uint8_t>(index >> (8 * i));
  hasher.update(index_bytes);
  return hasher.finish();
}

// The contents placed on each masternode both now and at the previous boundary, in
// id order: the ones it has had a whole epoch to fetch.
std::map<core::node_id, std::vector<core::content_id>> settled_holdings(const state& s) {
  std::map<core::node_id, std::vector<core::content_id>> held;
  for (const auto& [content, assignment] : s.assignments.entries()) {
    const auto* settled = s.settled_assignments.find(content);
    if (settled == nullptr)
      continue;
    const auto& before = settled->masternodes;
    for (const auto& m : assignment.masternodes)
      if (std::find(before.begin(), before.end(), m) != before.end())
        held[m].push_back(content);
  }
  return held;
}

// For each masternode, audit_challenges_per_masternode draws of a content it has
// held since the previous boundary (uniform over those contents in id order) and a
// block of it (uniform).
void issue_challenges(state& s, std::uint64_t height, const core::hash256& previous_block) {
  for (const auto& [m, contents] : settled_holdings(s)) {
    for (std::uint32_t i = 0; i < s.params.audit_challenges_per_masternode; ++i) {
      auto draw = audit_draw(previous_block, m, i);
      const auto& content = contents[draw.prefix64() % contents.size()];
      std::uint64_t second = 0;
      for (std::size_t b = 0; b < 8; ++b)
        second |= std::uint64_t{draw.bytes[8 + b]} << (8 * b);
      auto block_index =
        static_cast<std::uint32_t>(second % s.contents.find(content)->block_count);
      s.challenges.put(s.globals.next_sequence++,
                       {m, content, block_index, height + s.params.audit_window_blocks});
    }
  }
}

} // namespace

void end_epoch(state& s, std::uint64_t height, const core::hash256& previous_block) {
  pay_rewards(s);
  s.epoch_signing.clear();
  s.epoch_service.clear();
  recompute_active_sets(s);
  issue_challenges(s, height, previous_block);
  settle_assignments(s);
}

} // namespace stakecast::rules::detail
