// The economic outcomes of a run: who earned what, at what cost, and how
// concentrated stake and rewards are (docs/economics.md).
//
// The chain workload owns one observer and hands it the committed state after every
// height. Workloads register the owners of the chain's operators: an owner has one
// or more identities (validators or masternodes; a Sybil owner has several) and may
// hold plain accounts (a self-dealing masternode's fake viewers), and plays a role
// ("honest", or the name of an adversary). Everything is read from chain state, so
// the figures are what the chain itself says:
//   worth(owner)   = balances + own bonds + unbonding entries + open deposits of all
//                    its identities and accounts
//   payments       = what its masternodes were paid for claimed receipts, burn taken
//   deposits_paid  = what its own accounts' deposits paid out (to anyone)
//   fees           = transactions its accounts sent (their nonces) * the fee
//   slashed        = bond it put in - bond it has - bond it took out
//   rewards        = delta worth - payments + fees + deposits_paid + slashed
//   cost           = cost_tokens(costs, bytes served to other owners' viewers, bytes
//                    of the contents placed on it, time), masternodes only
//   profit         = delta worth - cost;  roi = profit / stake, annualised
// Per-operator figures are taken at epoch boundaries (where rewards are paid), so the
// measured window runs from genesis to the last boundary of the run. The time series
// ("econ.masternodes_active", "econ.masternodes_registered",
// "econ.validators_active", "econ.inflation_ppm", "econ.bonded_ratio_ppm") follow
// every height.
//
// Not thread-safe: the simulator's one thread calls it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/core/bytes.hpp"
#include "actors/validator/rules/state.hpp"
#include "actors/world/world.hpp"
#include "sim/econ/measures.hpp"

namespace stakecast::sim::econ {

enum class operator_kind { validator, masternode };

inline constexpr std::string_view honest_role = "honest";

/// One owner's figures, in micro-units unless said otherwise.
struct owner_figures {
  double worth_delta = 0;
  double payments = 0;
  double payments_from_own = 0;
  double deposits_paid = 0;
  double fees = 0;
  double slashed = 0;
  double rewards = 0;
  double cost = 0;      // micro-units
  double stake_max = 0; // micro-units
  double active_seconds = 0;
  double profit() const noexcept { return worth_delta - cost; }
  double roi() const noexcept;
};

class observer {
public:
  /// Owners followed at most (every validator and masternode of a large run).
  static constexpr std::size_t owners_max = 100'000;

  struct owner_entry {
    std::string name;
    operator_kind kind = operator_kind::masternode;
    std::string role{honest_role};
    std::vector<core::node_id> identities;
    std::vector<core::node_id> accounts; // held besides the identities
    /// False for an owner that holds none of its content (a lazy masternode): no
    /// storage cost.
    bool stores = true;
    owner_figures figures;
    // Between scans.
    double baseline_worth = 0;
    double bond_in = 0;  // genesis bonds + bonds added later
    double bond_out = 0; // unbonded
    std::uint64_t served_bytes = 0;
    std::int64_t joined_ns = 0;
    bool joined = true;
    double epoch_profit = 0;
    double epoch_roi = 0;
    /// The last epoch's rewards over its bond, annualised (what a delegator sees).
    double epoch_reward_rate = 0;
    std::uint32_t loss_streak = 0;
  };

  /// REQUIRES: called before the first height. `masternode_fee` is what masternodes
  /// and viewers pay per transaction, `validator_fee` what validators pay.
  void start(rules::state genesis, rules::amount masternode_fee, rules::amount validator_fee);
  void set_costs(const cost_model& costs) { costs_ = costs; }
  const cost_model& costs() const noexcept { return costs_; }

  /// Adds `identity` to owner `name` (made on first use with kind and role).
  void add_identity(const std::string& name, operator_kind kind, const std::string& role,
                    const core::node_id& identity);
  void add_account(const std::string& name, const core::node_id& account);
  void set_stores(const std::string& name, bool stores);
  /// An owner not bonded at genesis: it joins when it bonds (note_bonded).
  void set_waiting(const std::string& name);
  void note_bonded(const std::string& name, rules::amount value, std::int64_t now_ns);
  void note_unbonded(const std::string& name, rules::amount value);

  /// The state after each new height, at virtual time `now_ns`.
  void on_height(const rules::state& s, std::int64_t now_ns, world::metrics& metrics);

  const owner_entry* find(const std::string& name) const;
  const std::map<std::string, owner_entry>& owners() const noexcept { return owners_; }
  /// The median of the last epoch's annualised ROI over active honest masternode
  /// owners (what an operator deciding to join observes); nullopt before the first
  /// epoch.
  std::optional<double> honest_masternode_epoch_roi() const;
  std::uint64_t epochs_seen() const noexcept { return epochs_; }

  /// Writes summary["econ"].
  void report(nlohmann::ordered_json& summary) const;

private:
  void scan(const rules::state& s, std::int64_t now_ns);
  void sample(const rules::state& s, world::metrics& metrics);
  double worth_of(const rules::state& s, const owner_entry& owner) const;

  std::optional<rules::state> genesis_;
  rules::amount masternode_fee_ = 0;
  rules::amount validator_fee_ = 0;
  cost_model costs_;
  std::map<std::string, owner_entry> owners_;
  std::map<core::node_id, std::string> owner_of_; // identities and accounts
  bool baselines_taken_ = false;
  std::int64_t last_scan_ns_ = 0;
  std::uint64_t epochs_ = 0;
  double window_s_ = 0;
  // Latest values of the time series and of the chain.
  std::map<std::string, std::int64_t> gauges_;
  std::vector<double> validator_power_;
  std::map<std::string, double> masternode_owner_stake_;
  double inflation_ = 0;
  double bonded_ratio_ = 0;
  std::uint64_t masternodes_active_ = 0;
  std::uint64_t validators_active_ = 0;
};

} // namespace stakecast::sim::econ
