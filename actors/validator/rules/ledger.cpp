#include "actors/validator/rules/ledger.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace stakecast::rules::detail {

void require(bool condition, std::string_view what) {
  if (condition)
    return;
  std::fprintf(stderr, "stakecast rules: contract violated: %.*s\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

void credit(state& s, const core::node_id& id, amount value) {
  auto& a = s.accounts.upsert(id);
  auto sum = checked_add(a.balance, value);
  require(sum.has_value(), "a credit overflows a balance");
  a.balance = *sum;
}

namespace {

amount slash_delegations(state& s, const core::node_id& offender, ppm fraction) {
  std::vector<delegation_key> keys;
  const auto& all = s.delegations.entries();
  for (auto it = all.lower_bound({offender, {}}); it != all.end() && it->first.target == offender;
       ++it)
    keys.push_back(it->first);
  amount total = 0;
  for (const auto& key : keys) {
    auto* d = s.delegations.find_mut(key);
    auto cut = ppm_of(d->value, fraction);
    d->value -= cut;
    total += cut;
  }
  return total;
}

amount slash_unbondings(state& s, const core::node_id& offender, ppm fraction,
                        std::uint64_t infraction_height) {
  std::vector<unbonding_key> keys;
  for (const auto& [key, entry] : s.unbondings.entries())
    if (entry.target == offender && entry.created_height >= infraction_height)
      keys.push_back(key);
  amount total = 0;
  for (const auto& key : keys) {
    auto* entry = s.unbondings.find_mut(key);
    auto cut = ppm_of(entry->value, fraction);
    entry->value -= cut;
    total += cut;
  }
  return total;
}

} // namespace

amount slash(state& s, const core::node_id& offender, ppm fraction,
             std::uint64_t infraction_height) {
  amount total = 0;
  if (auto* v = s.validators.find_mut(offender)) {
    auto own = ppm_of(v->self_bond, fraction);
    auto delegated = slash_delegations(s, offender, fraction);
    v->self_bond -= own;
    v->delegated -= delegated;
    total = own + delegated;
  } else if (auto* m = s.masternodes.find_mut(offender)) {
    auto own = ppm_of(m->stake, fraction);
    auto delegated = slash_delegations(s, offender, fraction);
    m->stake -= own;
    m->delegated -= delegated;
    total = own + delegated;
  } else {
    require(false, "slash of an unregistered node");
  }
  total += slash_unbondings(s, offender, fraction, infraction_height);
  s.globals.slashed += total;
  return total;
}

void jail(state& s, const core::node_id& offender, std::uint64_t until_height) {
  if (auto* v = s.validators.find_mut(offender)) {
    v->jailed = true;
    v->jailed_until = until_height;
    v->window_seen = 0;
    v->missed_count = 0;
    v->missed_bits.clear();
    s.active_validators.erase(offender);
    return;
  }
  auto* m = s.masternodes.find_mut(offender);
  require(m != nullptr, "jail of an unregistered node");
  m->jailed = true;
  m->jailed_until = until_height;
  if (s.active_masternodes.contains(offender)) {
    s.active_masternodes.erase(offender);
    recompute_assignments(s);
  }
}

namespace {

struct ranked {
  core::node_id id;
  amount stake = 0;
};

// Highest stake first, ties by the smaller id; at most `count`.
std::vector<ranked> top(std::vector<ranked> candidates, std::size_t count) {
  std::sort(candidates.begin(), candidates.end(), [](const ranked& a, const ranked& b) {
    return a.stake != b.stake ? a.stake > b.stake : a.id < b.id;
  });
  if (candidates.size() > count)
    candidates.resize(count);
  return candidates;
}

} // namespace

void recompute_active_sets(state& s) {
  const auto& p = s.params;
  std::vector<ranked> validators;
  for (const auto& [id, v] : s.validators.entries())
    if (!v.jailed && !v.tombstoned && v.self_bond >= p.validator_self_bond_min)
      validators.push_back({id, v.bonded()});
  s.active_validators.clear();
  for (const auto& r : top(std::move(validators), p.validators_active_max))
    s.active_validators.put(r.id, {r.stake});
  std::vector<ranked> masternodes;
  for (const auto& [id, m] : s.masternodes.entries())
    if (!m.jailed && !m.tombstoned && m.stake >= p.masternode_stake_min)
      masternodes.push_back({id, m.bonded()});
  s.active_masternodes.clear();
  for (const auto& r : top(std::move(masternodes), p.masternodes_active_max))
    s.active_masternodes.put(r.id, {r.stake});
  recompute_assignments(s);
}

void recompute_assignments(state& s) {
  s.assignments.clear();
  auto candidates = active_masternodes(s);
  for (const auto& [id, c] : s.contents.entries())
    s.assignments.put(id, {core::place(id, candidates, c.replicas)});
}

void assign(state& s, const core::content_id& content, std::uint32_t replicas) {
  auto candidates = active_masternodes(s);
  s.assignments.put(content, {core::place(content, candidates, replicas)});
}

void settle_assignments(state& s) {
  s.settled_assignments.clear();
  for (const auto& [content, assignment] : s.assignments.entries())
    s.settled_assignments.put(content, assignment);
}

namespace {

// Calls f(table) for every table, in a fixed order (the savepoint's).
template <class F>
void for_each_table(state& s, F&& f) {
  f(s.accounts);
  f(s.validators);
  f(s.masternodes);
  f(s.delegations);
  f(s.unbondings);
  f(s.contents);
  f(s.deposits);
  f(s.claims);
  f(s.challenges);
  f(s.epoch_service);
  f(s.epoch_signing);
  f(s.active_validators);
  f(s.last_validators);
  f(s.active_masternodes);
  f(s.assignments);
  f(s.settled_assignments);
}

} // namespace

savepoint mark(const state& s) {
  savepoint point;
  point.globals = s.globals;
  std::size_t i = 0;
  for_each_table(const_cast<state&>(s), [&](auto& t) { point.journal_sizes[i++] = t.journal_size(); });
  return point;
}

void rollback(state& s, const savepoint& point) {
  s.globals = point.globals;
  std::size_t i = 0;
  for_each_table(s, [&](auto& t) { t.rollback(point.journal_sizes[i++]); });
}

void forget_journals(state& s) {
  for_each_table(s, [](auto& t) { t.forget_journal(); });
}

} // namespace stakecast::rules::detail
