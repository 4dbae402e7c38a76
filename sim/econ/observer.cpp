#include "sim/econ/observer.hpp"

#include <algorithm>
#include <cassert>
#include <numeric>

#include "actors/validator/rules/apply.hpp"

namespace stakecast::sim::econ {

namespace {

double tokens(double micro) {
  return micro / static_cast<double>(rules::micro_per_token);
}

double own_bond(const rules::state& s, const core::node_id& id) {
  double bond = 0;
  if (const auto* v = s.validators.find(id))
    bond += static_cast<double>(v->self_bond);
  if (const auto* m = s.masternodes.find(id))
    bond += static_cast<double>(m->stake);
  return bond;
}

nlohmann::ordered_json spread(const std::vector<double>& values) {
  return {{"p10", quantile(values, 0.1)},
          {"p50", quantile(values, 0.5)},
          {"p90", quantile(values, 0.9)}};
}

} // namespace

double owner_figures::roi() const noexcept {
  return annualised_roi(worth_delta, cost, stake_max, active_seconds);
}

void observer::start(rules::state genesis, rules::amount masternode_fee,
                     rules::amount validator_fee) {
  genesis_ = std::move(genesis);
  masternode_fee_ = masternode_fee;
  validator_fee_ = validator_fee;
}

void observer::add_identity(const std::string& name, operator_kind kind, const std::string& role,
                            const core::node_id& identity) {
  if (owners_.size() >= owners_max && !owners_.contains(name))
    return;
  auto [it, made] = owners_.try_emplace(name);
  if (made) {
    it->second.name = name;
    it->second.kind = kind;
    it->second.role = role;
  }
  it->second.identities.push_back(identity);
  owner_of_[identity] = name;
}

void observer::add_account(const std::string& name, const core::node_id& account) {
  auto found = owners_.find(name);
  if (found == owners_.end())
    return;
  found->second.accounts.push_back(account);
  owner_of_[account] = name;
}

void observer::set_stores(const std::string& name, bool stores) {
  if (auto found = owners_.find(name); found != owners_.end())
    found->second.stores = stores;
}

void observer::set_waiting(const std::string& name) {
  if (auto found = owners_.find(name); found != owners_.end())
    found->second.joined = false;
}

void observer::note_bonded(const std::string& name, rules::amount value, std::int64_t now_ns) {
  auto found = owners_.find(name);
  if (found == owners_.end())
    return;
  auto& owner = found->second;
  owner.bond_in += static_cast<double>(value);
  if (!owner.joined) {
    owner.joined = true;
    owner.joined_ns = now_ns;
  }
}

void observer::note_unbonded(const std::string& name, rules::amount value) {
  if (auto found = owners_.find(name); found != owners_.end())
    found->second.bond_out += static_cast<double>(value);
}

double observer::worth_of(const rules::state& s, const owner_entry& owner) const {
  double worth = 0;
  auto add = [&](const core::node_id& id) {
    worth += static_cast<double>(rules::balance(s, id)) + own_bond(s, id);
  };
  for (const auto& id : owner.identities)
    add(id);
  for (const auto& id : owner.accounts)
    add(id);
  return worth;
}

const observer::owner_entry* observer::find(const std::string& name) const {
  const auto found = owners_.find(name);
  return found == owners_.end() ? nullptr : &found->second;
}

void observer::on_height(const rules::state& s, std::int64_t now_ns, world::metrics& metrics) {
  assert(genesis_);
  if (!baselines_taken_) {
    baselines_taken_ = true;
    for (auto& [name, owner] : owners_) {
      owner.baseline_worth = worth_of(*genesis_, owner);
      for (const auto& id : owner.identities)
        owner.bond_in += own_bond(*genesis_, id);
      owner.figures.stake_max = owner.bond_in;
    }
  }
  sample(s, metrics);
  if (s.globals.height % s.params.epoch_blocks == 0)
    scan(s, now_ns);
}

void observer::sample(const rules::state& s, world::metrics& metrics) {
  const auto summary = rules::summary(s);
  std::int64_t registered = 0;
  for (const auto& [id, record] : s.masternodes.entries())
    registered += record.stake >= s.params.masternode_stake_min && !record.jailed ? 1 : 0;
  masternodes_active_ = s.active_masternodes.size();
  validators_active_ = s.active_validators.size();
  inflation_ = static_cast<double>(summary.inflation) / rules::ppm_one;
  bonded_ratio_ = static_cast<double>(summary.bonded_ratio) / rules::ppm_one;
  const std::pair<const char*, std::int64_t> values[] = {
      {"econ.masternodes_active", static_cast<std::int64_t>(masternodes_active_)},
      {"econ.masternodes_registered", registered},
      {"econ.validators_active", static_cast<std::int64_t>(validators_active_)},
      {"econ.inflation_ppm", static_cast<std::int64_t>(summary.inflation)},
      {"econ.bonded_ratio_ppm", static_cast<std::int64_t>(summary.bonded_ratio)}};
  for (const auto& [name, value] : values) {
    auto& last = gauges_[name];
    metrics.add(metrics.counter(name), value - last); // a counter that holds a level
    last = value;
  }
}

// The per-owner figures, from the whole state: called at epoch boundaries.
void observer::scan(const rules::state& s, std::int64_t now_ns) {
  ++epochs_;
  const double dt_s = static_cast<double>(now_ns - last_scan_ns_) / 1e9;
  last_scan_ns_ = now_ns;
  window_s_ = static_cast<double>(now_ns) / 1e9;
  const auto price = s.params.price_per_gib;
  // Payments and served bytes by owner, from the claims; deposits paid by owner.
  std::map<std::string, double> payments, payments_own, deposits_paid;
  std::map<std::string, std::uint64_t> served;
  std::map<core::hash256, std::string> deposit_owner;
  for (const auto& [id, deposit] : s.deposits.entries())
    if (auto owner = owner_of_.find(deposit.viewer); owner != owner_of_.end()) {
      deposit_owner.emplace(id, owner->second);
      deposits_paid[owner->second] += static_cast<double>(deposit.paid);
      // An open deposit's remainder is still the owner's money.
    }
  for (const auto& [key, claim] : s.claims.entries()) {
    const auto owner = owner_of_.find(key.masternode);
    if (owner == owner_of_.end())
      continue;
    const auto gross = static_cast<rules::amount>(rules::payment_for(claim.bytes, price));
    const double net = static_cast<double>(gross - rules::ppm_of(gross, s.params.fee_burn));
    payments[owner->second] += net;
    const auto payer = deposit_owner.find(key.deposit);
    if (payer != deposit_owner.end() && payer->second == owner->second)
      payments_own[owner->second] += net;
    else
      served[owner->second] += claim.bytes;
  }
  // Open deposits and unbonding entries are money the owner still holds.
  std::map<std::string, double> open;
  for (const auto& [id, owner] : deposit_owner)
    open[owner] += static_cast<double>(s.deposits.find(id)->remaining);
  for (const auto& [key, entry] : s.unbondings.entries())
    if (auto owner = owner_of_.find(entry.account); owner != owner_of_.end())
      open[owner->second] += static_cast<double>(entry.value);
  std::map<core::node_id, std::uint64_t> stored_by;
  for (const auto& [content, assignment] : s.assignments.entries()) {
    const auto* record = s.contents.find(content);
    for (const auto& m : assignment.masternodes)
      stored_by[m] += record != nullptr ? record->size_bytes : 0;
  }
  std::vector<double> epoch_rois;
  masternode_owner_stake_.clear();
  for (auto& [name, owner] : owners_) {
    auto& f = owner.figures;
    const double worth = worth_of(s, owner) + open[name];
    double bond = 0, stored = 0, fees = 0;
    for (const auto& id : owner.identities) {
      bond += own_bond(s, id);
      if (owner.stores)
        stored += static_cast<double>(stored_by[id]);
    }
    const double fee = static_cast<double>(
        owner.kind == operator_kind::validator ? validator_fee_ : masternode_fee_);
    for (const auto& id : owner.identities)
      fees += static_cast<double>(rules::nonce(s, id)) * fee;
    for (const auto& id : owner.accounts)
      fees += static_cast<double>(rules::nonce(s, id)) * static_cast<double>(masternode_fee_);
    const double profit_before = f.profit();
    const double rewards_before = f.rewards;
    double epoch_cost = 0;
    if (owner.kind == operator_kind::masternode && owner.joined && bond > 0) {
      const auto sent = served[name];
      epoch_cost =
          cost_tokens(costs_, static_cast<double>(sent - std::min(sent, owner.served_bytes)),
                      stored, dt_s) *
          static_cast<double>(rules::micro_per_token);
      owner.served_bytes = sent;
    }
    f.cost += epoch_cost;
    f.worth_delta = worth - owner.baseline_worth;
    f.payments = payments[name];
    f.payments_from_own = payments_own[name];
    f.deposits_paid = deposits_paid[name];
    f.fees = fees;
    f.slashed = std::max(0.0, owner.bond_in - bond - owner.bond_out);
    f.rewards = f.worth_delta - f.payments + f.fees + f.deposits_paid + f.slashed;
    f.stake_max = std::max(f.stake_max, bond);
    f.active_seconds = owner.joined ? static_cast<double>(now_ns - owner.joined_ns) / 1e9 : 0;
    owner.epoch_profit = f.profit() - profit_before;
    owner.epoch_roi = bond > 0 ? annualised_roi(owner.epoch_profit, 0, bond, dt_s) : 0;
    owner.epoch_reward_rate =
        bond > 0 ? annualised_roi(f.rewards - rewards_before, 0, bond, dt_s) : 0;
    if (owner.joined && bond > 0)
      owner.loss_streak = owner.epoch_profit < 0 ? owner.loss_streak + 1 : 0;
    if (owner.kind == operator_kind::masternode) {
      double active_stake = 0;
      for (const auto& id : owner.identities)
        if (const auto* record = s.active_masternodes.find(id))
          active_stake += static_cast<double>(record->power);
      if (active_stake > 0)
        masternode_owner_stake_[name] = active_stake;
    }
  }
  validator_power_.clear();
  for (const auto& [id, record] : s.active_validators.entries())
    validator_power_.push_back(static_cast<double>(record.power));
}

std::optional<double> observer::honest_masternode_epoch_roi() const {
  if (epochs_ == 0)
    return std::nullopt;
  std::vector<double> rois;
  for (const auto& [name, owner] : owners_)
    if (owner.kind == operator_kind::masternode && owner.role == honest_role && owner.joined &&
        masternode_owner_stake_.contains(name))
      rois.push_back(owner.epoch_roi);
  if (rois.empty())
    return std::nullopt;
  return quantile(rois, 0.5);
}

void observer::report(nlohmann::ordered_json& summary) const {
  auto& econ = summary["econ"];
  econ["window_s"] = window_s_;
  econ["epochs"] = epochs_;
  econ["masternodes_active"] = masternodes_active_;
  econ["validators_active"] = validators_active_;
  econ["inflation"] = inflation_;
  econ["bonded_ratio"] = bonded_ratio_;
  std::vector<double> stakes;
  for (const auto& [name, stake] : masternode_owner_stake_)
    stakes.push_back(stake);
  econ["nakamoto_validators"] = nakamoto(validator_power_);
  econ["nakamoto_masternodes"] = nakamoto(stakes);
  econ["masternode_owners_active"] = stakes.size();
  // Distributions over owners that took part (bonded at some point).
  std::map<operator_kind, std::vector<double>> rois, rewards;
  for (const auto& [name, owner] : owners_) {
    if (owner.figures.stake_max <= 0)
      continue;
    rois[owner.kind].push_back(owner.figures.roi());
    rewards[owner.kind].push_back(owner.figures.rewards);
  }
  econ["roi_masternodes"] = spread(rois[operator_kind::masternode]);
  econ["roi_validators"] = spread(rois[operator_kind::validator]);
  econ["gini_masternode_rewards"] = gini(rewards[operator_kind::masternode]);
  econ["gini_validator_rewards"] = gini(rewards[operator_kind::validator]);
  // Attacks: each role's profit per unit stake next to the honest owners' of its kind.
  struct group {
    std::uint64_t owners = 0, identities = 0;
    double profit = 0, stake = 0, rewards = 0, slashed = 0, payments = 0, deposits_paid = 0,
           fees = 0, cost = 0, roi_sum = 0;
  };
  std::map<std::pair<operator_kind, std::string>, group> groups;
  for (const auto& [name, owner] : owners_) {
    if (owner.figures.stake_max <= 0)
      continue;
    auto& g = groups[{owner.kind, owner.role}];
    const auto& f = owner.figures;
    g.owners += 1;
    g.identities += owner.identities.size();
    g.profit += tokens(f.profit());
    g.stake += tokens(f.stake_max);
    g.rewards += tokens(f.rewards);
    g.slashed += tokens(f.slashed);
    g.payments += tokens(f.payments);
    g.deposits_paid += tokens(f.deposits_paid);
    g.fees += tokens(f.fees);
    g.cost += tokens(f.cost);
    g.roi_sum += f.roi();
  }
  auto per_stake = [](const group& g) { return g.stake > 0 ? g.profit / g.stake : 0.0; };
  auto& attacks = econ["attacks"]; // other workloads add their attacks here too
  if (!attacks.is_object())
    attacks = nlohmann::ordered_json::object();
  constexpr std::string_view control_suffix = "_control";
  for (const auto& [key, g] : groups) {
    if (key.second == honest_role || key.second.ends_with(control_suffix))
      continue;
    const auto honest = groups.find({key.first, std::string(honest_role)});
    const double honest_per_stake = honest == groups.end() ? 0.0 : per_stake(honest->second);
    auto& entry = attacks[key.second];
    entry = {
        {"kind", key.first == operator_kind::validator ? "validator" : "masternode"},
        {"owners", g.owners},
        {"identities", g.identities},
        {"stake", g.stake},
        {"rewards", g.rewards},
        {"payments", g.payments},
        {"deposits_paid", g.deposits_paid},
        {"fees", g.fees},
        {"slashed", g.slashed},
        {"cost", g.cost},
        {"profit", g.profit},
        {"profit_per_stake", per_stake(g)},
        {"profit_per_identity", g.profit / static_cast<double>(g.identities)},
        {"honest_profit_per_identity",
         honest == groups.end()
             ? 0.0
             : honest->second.profit / static_cast<double>(honest->second.identities)},
        {"honest_profit_per_stake", honest_per_stake},
        {"roi", g.roi_sum / static_cast<double>(g.owners)},
        {"honest_roi", honest == groups.end()
                           ? 0.0
                           : honest->second.roi_sum / static_cast<double>(honest->second.owners)},
        {"profitable", per_stake(g) > honest_per_stake ? 1 : 0}};
    // An attack with a control (Sybil: one identity with the same stake) is judged
    // against it.
    const auto control = groups.find({key.first, key.second + std::string(control_suffix)});
    if (control != groups.end()) {
      entry["control_profit_per_stake"] = per_stake(control->second);
      entry["profitable"] = per_stake(g) > per_stake(control->second) ? 1 : 0;
    }
  }
  auto& operators = econ["operators"];
  operators = nlohmann::ordered_json::array();
  for (const auto& [name, owner] : owners_) {
    const auto& f = owner.figures;
    operators.push_back(
        {{"owner", name},
         {"kind", owner.kind == operator_kind::validator ? "validator" : "masternode"},
         {"role", owner.role},
         {"identities", owner.identities.size()},
         {"stake", tokens(f.stake_max)},
         {"rewards", tokens(f.rewards)},
         {"payments", tokens(f.payments)},
         {"deposits_paid", tokens(f.deposits_paid)},
         {"fees", tokens(f.fees)},
         {"slashed", tokens(f.slashed)},
         {"cost", tokens(f.cost)},
         {"profit", tokens(f.profit())},
         {"roi", f.roi()}});
  }
}

} // namespace stakecast::sim::econ
