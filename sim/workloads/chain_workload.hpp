// The chain: validators running the real consensus engine and ledger rules
// (actors/validator/validator.hpp) as virtual nodes, with a synthetic transfer load
// and optional equivocating validators.
//
// Setup builds a genesis from the scenario: `validators.count` validators, each with
// an Ed25519 key from a seed derived from the run's seed, a self bond of
// `validators.stake` tokens and an account of `validators.balance` tokens (for fees);
// `load.accounts` funded accounts with keys from the seed too. Validator i runs on
// virtual node `validators.first_node + i`, whose node id is its public key (see
// node_identity). Validators first_node .. first_node + byzantine.count - 1
// equivocate; the next withholding.count ones withhold (never propose or vote). Every validator shares one memoizing verifier (sim/memo_verifier.hpp).
//
// Load: `load.transfers_per_second` transfers (Poisson arrivals from the run's seed),
// each from the next funded account to the one after it, handed to the next validator
// that is up, as a client would (a chain_tx from the account's id). A client keeps its
// own nonce and falls back to the committed one when more than
// client_nonce_lead_max of its transactions are pending (lost at a crash, say).
//
// Checks and figures (summary.json, section "chain"): the workload listens to the
// validators' "chain.commit" and "chain.state_root" events: two honest validators
// committing different blocks at one height is a safety violation, different state
// roots after one height a state-root mismatch. An observer on honest validators
// reads the state after each new height: the supply invariant, the economics
// (rules::summary), the transactions and evidence included. Counters it keeps
// ("chain.height", "chain.txs_committed", "chain.evidence_included", "chain.minted",
// "chain.burned", "chain.slashed", "chain.epoch") become columns of timeseries.csv.
// The economic outcomes (summary.json "econ", sim/econ/observer.hpp) follow the same
// committed states; validators are owners of their own, with role "honest",
// "double_signer" or "withholding".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/core/ed25519.hpp"
#include "actors/validator/genesis.hpp"
#include "actors/validator/validator.hpp"
#include "sim/econ/observer.hpp"
#include "sim/memo_verifier.hpp"
#include "sim/workload.hpp"

namespace stakecast::sim {

struct chain_params {
  /// Bounds of the scenario's values.
  static constexpr std::uint32_t validators_count_max = 128; // chain_limits
  static constexpr std::uint32_t accounts_count_max = 100'000;
  static constexpr double transfers_per_second_max = 10'000;

  std::uint32_t validators = 4;
  std::uint32_t first_node = 0;
  std::uint64_t stake_tokens = 10'000;
  double commission = 0.05;
  std::uint64_t validator_balance_tokens = 1'000;
  std::string access; // empty: the node keeps its drawn access class
  /// Validator i goes to regions[i % size]; empty: the nodes keep their drawn regions.
  std::vector<std::string> regions;
  std::chrono::nanoseconds block_time = std::chrono::seconds(1);
  std::chrono::nanoseconds tick = std::chrono::seconds(1);
  std::uint32_t byzantine = 0;
  /// Validators byzantine .. byzantine + withholding - 1 stay bonded but never propose
  /// or vote.
  std::uint32_t withholding = 0;
  double transfers_per_second = 0;
  std::uint32_t accounts = 100;
  std::uint64_t account_balance_tokens = 1'000;
  std::uint64_t transfer_micro = 1;
  /// rules parameters (epoch_blocks = the scenario's `epoch`).
  rules::parameters chain;
  std::uint64_t fee_micro = 0; // 0: the chain's tx_fee_min
};

/// The seed of the key of `role`'s `index`-th account in the run of `run_seed`.
core::hash256 seed_for(std::string_view role, std::uint64_t run_seed, std::uint64_t index);
/// The key pair of `seed`.
core::key_pair key_of(const core::hash256& seed);

/// A workload whose nodes take part in the chain without validating (masternodes and
/// viewers): the chain workload asks it for its part of the genesis and tells it of
/// every new height.
class chain_participant {
public:
  virtual ~chain_participant() = default;
  /// Adds this workload's accounts, masternodes and contents to `g`. Called once,
  /// before either workload's setup runs.
  virtual void add_to_genesis(const simulation& sim, rules::genesis& g) = 0;
  /// The state after each new height, as the first honest validator committed it.
  virtual void on_height(const rules::state& committed) = 0;
};

class chain_workload final : public workload {
public:
  /// Pending transactions a client lets run ahead of the committed nonce.
  static constexpr std::uint64_t client_nonce_lead_max = 16;
  /// Heights whose committed hashes and roots are remembered for the checks.
  static constexpr std::size_t heights_tracked_max = 1'000'000;

  explicit chain_workload(chain_params params);

  std::string check(const scenario& config) const override;
  std::optional<core::node_id> node_identity(std::uint64_t seed, node_index node) const override;
  void setup(simulation& sim) override;
  void start(simulation& sim) override;
  void restart_node(simulation& sim, node_index node) override;
  void report(const simulation& sim, nlohmann::ordered_json& summary) const override;

  const chain_params& params() const noexcept { return params_; }

  /// The genesis every validator starts from, with the participants' parts; made on
  /// first use.
  const rules::genesis& genesis(const simulation& sim);
  /// SHA-256 of the genesis. REQUIRES: genesis() was called.
  const core::hash256& chain_id() const noexcept { return chain_id_; }
  /// The validators' ids, by validator index.
  const std::vector<core::node_id>& validator_ids(const simulation& sim) const;
  /// The fee its clients pay: fee_micro, or the chain's minimum.
  rules::amount fee() const noexcept;
  /// The simulation's shared signature verifier.
  const core::verifier& signatures() const noexcept { return *signatures_; }
  /// The chain workload of the scenario, if it has one.
  static chain_workload* of(const scenario& config);
  /// The run's economic outcomes (summary.json "econ"); participants register their
  /// owners in their setup.
  econ::observer& economics() noexcept { return economics_; }
  const econ::observer& economics() const noexcept { return economics_; }
  /// Sends `tx` to a validator that is up, as a client would; false when none is.
  bool submit(simulation& sim, const rules::transaction& tx);

private:
  struct height_record {
    std::uint64_t block = 0;
    std::uint64_t root = 0;
    bool has_block = false;
    bool has_root = false;
    bool block_conflict = false;
    bool root_conflict = false;
  };

  void make_keys(std::uint64_t seed) const;
  rules::genesis make_genesis() const;
  void spawn(simulation& sim, node_index node);
  bool is_validator_node(node_index node) const;
  bool is_byzantine(const core::node_id& id) const;
  void on_commit_event(const core::node_id& node, std::uint64_t height, std::uint64_t block);
  void on_root_event(const core::node_id& node, std::uint64_t height, std::uint64_t root);
  void on_commit(simulation& sim, const validator::commit_report& report);
  void schedule_transfer(simulation& sim);
  void send_transfer(simulation& sim);

  chain_params params_;
  // Keys are a function of the run's seed, made on first use (node_identity is asked
  // before setup).
  mutable std::optional<std::uint64_t> keys_seed_;
  mutable std::vector<core::hash256> validator_seeds_;
  mutable std::vector<core::node_id> validator_ids_;
  mutable std::vector<core::hash256> account_seeds_;
  std::vector<core::key_pair> accounts_;
  std::set<core::node_id> byzantine_ids_;
  std::optional<rules::genesis> genesis_;
  core::hash256 chain_id_;
  std::vector<chain_participant*> participants_;
  std::unique_ptr<memo_verifier> signatures_ = std::make_unique<memo_verifier>();
  std::vector<validator::validator_actor> actors_; // by validator index

  // checks
  std::map<std::uint64_t, height_record> heights_; // at most heights_tracked_max
  std::map<core::node_id, std::uint64_t> honest_heights_;
  std::uint64_t safety_violations_ = 0;
  std::uint64_t root_mismatches_ = 0;
  // what the observer saw, at the highest height
  std::uint64_t top_height_ = 0;
  std::int64_t first_commit_ns_ = -1;
  std::int64_t top_commit_ns_ = 0;
  rules::chain_summary top_summary_;
  bool supply_ok_ = true;
  std::uint64_t txs_committed_ = 0;
  std::uint64_t evidence_included_ = 0;
  std::map<core::node_id, std::uint64_t> evidence_against_;
  std::set<core::node_id> tombstoned_;
  std::uint64_t last_epoch_ = 0;
  // load
  std::vector<std::uint64_t> client_nonce_;
  std::vector<std::uint64_t> committed_nonce_;
  std::uint64_t next_account_ = 0;
  std::uint64_t next_target_ = 0;
  std::uint64_t transfers_sent_ = 0;
  std::uint64_t transfers_unsent_ = 0;
  std::uint64_t load_draws_ = 0;
  econ::observer economics_;
};

} // namespace stakecast::sim
