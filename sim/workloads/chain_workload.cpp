#include "sim/workloads/chain_workload.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include <caf/send.hpp>
#include <fmt/format.h>

#include "actors/config/reader.hpp"
#include "actors/core/error.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"
#include "actors/validator/rules/apply.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

namespace {

using namespace std::chrono_literals;

rules::ppm to_ppm(double share) {
  return static_cast<rules::ppm>(std::llround(share * rules::ppm_one));
}

} // namespace

core::hash256 seed_for(std::string_view role, std::uint64_t run_seed, std::uint64_t index) {
  return core::sha256(core::as_bytes(fmt::format("stakecast-{}-{}-{}", role, run_seed, index)));
}

core::key_pair key_of(const core::hash256& seed) {
  auto made = core::key_pair::from_seed(seed);
  assert(made); // any 32 bytes are an Ed25519 seed
  return std::move(*made);
}

chain_workload::chain_workload(chain_params params) : params_(std::move(params)) {
}

std::string chain_workload::check(const scenario& config) const {
  if (static_cast<std::uint64_t>(params_.first_node) + params_.validators > config.nodes)
    return fmt::format("validators.first_node + validators.count ({}) exceeds nodes ({})",
                       params_.first_node + params_.validators, config.nodes);
  if (!params_.access.empty() && !config.network.find_access(params_.access))
    return fmt::format("validators.access '{}' is not an access class of the network",
                       params_.access);
  for (const auto& region : params_.regions)
    if (std::find(config.network.regions.begin(), config.network.regions.end(), region) ==
        config.network.regions.end())
      return fmt::format("validators.regions: '{}' is not a region of the network", region);
  return {};
}

void chain_workload::make_keys(std::uint64_t seed) const {
  if (keys_seed_ == seed)
    return;
  keys_seed_ = seed;
  validator_seeds_.clear();
  validator_ids_.clear();
  account_seeds_.clear();
  for (std::uint32_t i = 0; i < params_.validators; ++i) {
    validator_seeds_.push_back(seed_for("validator", seed, i));
    validator_ids_.push_back(key_of(validator_seeds_.back()).public_key());
  }
  for (std::uint32_t i = 0; i < params_.accounts; ++i)
    account_seeds_.push_back(seed_for("account", seed, i));
}

std::optional<core::node_id> chain_workload::node_identity(std::uint64_t seed,
                                                           node_index node) const {
  if (!is_validator_node(node))
    return std::nullopt;
  make_keys(seed);
  return validator_ids_[node - params_.first_node];
}

bool chain_workload::is_validator_node(node_index node) const {
  return node >= params_.first_node && node - params_.first_node < params_.validators;
}

bool chain_workload::is_byzantine(const core::node_id& id) const {
  return byzantine_ids_.contains(id);
}

rules::genesis chain_workload::make_genesis() const {
  rules::genesis g;
  g.chain_name = "stakecast-sim";
  g.genesis_time_ms = static_cast<std::uint64_t>(simulation::genesis_utc_seconds) * 1000;
  g.params = params_.chain;
  for (const auto& id : validator_ids_) {
    g.validators.push_back(
        {id, params_.stake_tokens * rules::micro_per_token, to_ppm(params_.commission)});
    g.accounts.push_back({id, params_.validator_balance_tokens * rules::micro_per_token});
  }
  for (const auto& key : accounts_)
    g.accounts.push_back(
        {key.public_key(), params_.account_balance_tokens * rules::micro_per_token});
  return g;
}

chain_workload* chain_workload::of(const scenario& config) {
  for (const auto& [name, other] : config.workloads)
    if (auto* chain = dynamic_cast<chain_workload*>(other.get()))
      return chain;
  return nullptr;
}

const rules::genesis& chain_workload::genesis(const simulation& sim) {
  if (genesis_)
    return *genesis_;
  make_keys(sim.config().seed);
  for (const auto& seed : account_seeds_)
    accounts_.push_back(key_of(seed));
  genesis_ = make_genesis();
  for (const auto& [name, other] : sim.config().workloads)
    if (auto* participant = dynamic_cast<chain_participant*>(other.get())) {
      participant->add_to_genesis(sim, *genesis_);
      participants_.push_back(participant);
    }
  chain_id_ = rules::chain_id(*genesis_);
  return *genesis_;
}

const std::vector<core::node_id>& chain_workload::validator_ids(const simulation& sim) const {
  make_keys(sim.config().seed);
  return validator_ids_;
}

rules::amount chain_workload::fee() const noexcept {
  return params_.fee_micro != 0 ? params_.fee_micro : params_.chain.tx_fee_min;
}

void chain_workload::setup(simulation& sim) {
  genesis(sim);
  client_nonce_.assign(accounts_.size(), 0);
  committed_nonce_.assign(accounts_.size(), 0);
  for (std::uint32_t i = 0; i < params_.byzantine; ++i)
    byzantine_ids_.insert(validator_ids_[i]);
  actors_.resize(params_.validators);
  economics_.start(*rules::initial_state(*genesis_), fee(), params_.chain.tx_fee_min);
  for (std::uint32_t i = 0; i < params_.validators; ++i) {
    const char* role = i < params_.byzantine                         ? "double_signer"
                       : i < params_.byzantine + params_.withholding ? "withholding"
                                                                     : "honest";
    economics_.add_identity(fmt::format("validator-{}", i), econ::operator_kind::validator, role,
                            validator_ids_[i]);
  }
  if (!params_.access.empty())
    for (std::uint32_t i = 0; i < params_.validators; ++i)
      sim.network().set_access(params_.first_node + i,
                               *sim.config().network.find_access(params_.access));
  const auto& regions = sim.config().network.regions;
  for (std::uint32_t i = 0; i < params_.validators && !params_.regions.empty(); ++i) {
    const auto& name = params_.regions[i % params_.regions.size()];
    const auto region = std::find(regions.begin(), regions.end(), name) - regions.begin();
    sim.network().set_region(params_.first_node + i, static_cast<std::uint32_t>(region));
  }
  for (std::uint32_t i = 0; i < params_.validators; ++i)
    spawn(sim, params_.first_node + i);
  auto& telemetry = sim.telemetry();
  telemetry.listen("chain.commit",
                   [this](const core::node_id& node, std::uint64_t height, std::uint64_t block) {
                     on_commit_event(node, height, block);
                   });
  telemetry.listen("chain.state_root",
                   [this](const core::node_id& node, std::uint64_t height, std::uint64_t root) {
                     on_root_event(node, height, root);
                   });
}

void chain_workload::spawn(simulation& sim, node_index node) {
  const auto index = node - params_.first_node;
  validator::validator_config config;
  config.genesis = *genesis_;
  config.key_seed = validator_seeds_[index];
  config.signatures = signatures_.get();
  config.equivocate = index < params_.byzantine;
  config.withhold = index >= params_.byzantine && index < params_.byzantine + params_.withholding;
  config.tick_ms = std::chrono::duration_cast<std::chrono::milliseconds>(params_.tick).count();
  const auto block_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(params_.block_time).count();
  config.block_interval_ms = block_ms;
  config.engine = validator::consensus_config::for_block_interval(block_ms);
  if (!is_byzantine(validator_ids_[index]))
    config.on_commit = [this, &sim](const validator::commit_report& report) {
      on_commit(sim, report);
    };
  auto actor =
      sim.kernel().system().spawn(validator::validator, sim.context_of(node), std::move(config));
  sim.bind(node, validator::validator_messages, caf::actor_cast<caf::actor>(actor));
  actors_[index] = std::move(actor);
}

void chain_workload::restart_node(simulation& sim, node_index node) {
  // A validator comes back with its store (the disk survived the crash): it replays
  // its blocks, then catches up by block sync.
  if (is_validator_node(node))
    spawn(sim, node);
}

// ---- checks ----

void chain_workload::on_commit_event(const core::node_id& node, std::uint64_t height,
                                     std::uint64_t block) {
  if (is_byzantine(node))
    return;
  auto& known = honest_heights_[node];
  known = std::max(known, height);
  if (heights_.size() >= heights_tracked_max && !heights_.contains(height))
    return;
  auto& record = heights_[height];
  if (!record.has_block) {
    record.block = block;
    record.has_block = true;
  } else if (record.block != block && !record.block_conflict) {
    record.block_conflict = true;
    ++safety_violations_;
  }
}

void chain_workload::on_root_event(const core::node_id& node, std::uint64_t height,
                                   std::uint64_t root) {
  if (is_byzantine(node))
    return;
  if (heights_.size() >= heights_tracked_max && !heights_.contains(height))
    return;
  auto& record = heights_[height];
  if (!record.has_root) {
    record.root = root;
    record.has_root = true;
  } else if (record.root != root && !record.root_conflict) {
    record.root_conflict = true;
    ++root_mismatches_;
  }
}

void chain_workload::on_commit(simulation& sim, const validator::commit_report& report) {
  const auto height = report.block.header.height;
  if (height <= top_height_)
    return; // another honest validator reported this height first
  auto& telemetry = sim.telemetry();
  const auto now_ns = sim.kernel().now().count();
  if (first_commit_ns_ < 0)
    first_commit_ns_ = now_ns;
  top_commit_ns_ = now_ns;
  top_height_ = height;
  const auto before = top_summary_;
  top_summary_ = rules::summary(report.state);
  supply_ok_ = supply_ok_ && rules::supply_invariant_ok(report.state);
  std::uint64_t evidence = 0;
  for (const auto& tx : report.block.txs) {
    if (tx.kind != static_cast<std::uint8_t>(rules::tx_kind::evidence))
      continue;
    ++evidence;
    if (auto body = rules::decode_body<rules::evidence_body>(tx))
      ++evidence_against_[body->first.validator];
  }
  for (std::size_t i = 0; i < accounts_.size(); ++i)
    committed_nonce_[i] = rules::nonce(report.state, accounts_[i].public_key());
  for (const auto& [id, record] : report.state.validators.entries())
    if (record.tombstoned)
      tombstoned_.insert(id);
  txs_committed_ += report.block.txs.size();
  evidence_included_ += evidence;
  const auto epoch = height / report.state.params.epoch_blocks;
  telemetry.add(telemetry.counter("chain.height"), 1);
  telemetry.add(telemetry.counter("chain.txs_committed"),
                static_cast<std::int64_t>(report.block.txs.size()));
  telemetry.add(telemetry.counter("chain.evidence_included"), static_cast<std::int64_t>(evidence));
  telemetry.add(telemetry.counter("chain.epoch"), static_cast<std::int64_t>(epoch - last_epoch_));
  telemetry.add(telemetry.counter("chain.minted"),
                static_cast<std::int64_t>(top_summary_.minted - before.minted));
  telemetry.add(telemetry.counter("chain.burned"),
                static_cast<std::int64_t>(top_summary_.burned - before.burned));
  telemetry.add(telemetry.counter("chain.slashed"),
                static_cast<std::int64_t>(top_summary_.slashed - before.slashed));
  last_epoch_ = epoch;
  economics_.on_height(report.state, now_ns, telemetry);
  for (auto* participant : participants_)
    participant->on_height(report.state);
}

bool chain_workload::submit(simulation& sim, const rules::transaction& tx) {
  for (std::uint32_t tries = 0; tries < params_.validators; ++tries) {
    const auto index = static_cast<std::uint32_t>(next_target_++ % params_.validators);
    if (!sim.network().is_up(params_.first_node + index) ||
        index < params_.byzantine + params_.withholding)
      continue;
    caf::anon_send(actors_[index],
                   world::inbound{tx.sender, wire::chain_tx{core::encode_record(tx)}});
    return true;
  }
  return false;
}

// ---- load ----

void chain_workload::start(simulation& sim) {
  if (params_.transfers_per_second > 0 && !accounts_.empty())
    schedule_transfer(sim);
}

void chain_workload::schedule_transfer(simulation& sim) {
  auto random = sim.random_for("chain-load", load_draws_++);
  const double gap_s = -std::log(1.0 - random.uniform_real()) / params_.transfers_per_second;
  const auto next =
      sim.kernel().now() + std::chrono::nanoseconds(static_cast<std::int64_t>(gap_s * 1e9) + 1);
  if (next < sim.config().duration)
    sim.kernel().at(next, [this, &sim] {
      send_transfer(sim);
      schedule_transfer(sim);
    });
}

void chain_workload::send_transfer(simulation& sim) {
  const auto from = next_account_++ % accounts_.size();
  const auto to = (from + 1) % accounts_.size();
  auto& nonce = client_nonce_[from];
  if (nonce < committed_nonce_[from] || nonce > committed_nonce_[from] + client_nonce_lead_max)
    nonce = committed_nonce_[from]; // lost transactions: start again from the chain's
  std::optional<std::uint32_t> target;
  for (std::uint32_t tries = 0; tries < params_.validators && !target; ++tries) {
    // A client talks to a validator that is up and not catching up (one that is behind
    // would judge the transaction against an old state and refuse it).
    const auto index = static_cast<std::uint32_t>(next_target_++ % params_.validators);
    const auto known = honest_heights_.find(validator_ids_[index]);
    const bool current =
        known == honest_heights_.end() ? top_height_ <= 2 : known->second + 2 >= top_height_;
    if (sim.network().is_up(params_.first_node + index) && current)
      target = index;
  }
  if (!target) {
    ++transfers_unsent_;
    return;
  }
  auto tx = rules::make_transaction(
      chain_id_, accounts_[from], nonce++, fee(),
      rules::transfer_body{accounts_[to].public_key(), params_.transfer_micro});
  caf::anon_send(actors_[*target], world::inbound{accounts_[from].public_key(),
                                                  wire::chain_tx{core::encode_record(tx)}});
  ++transfers_sent_;
}

// ---- report ----

void chain_workload::report(const simulation& sim, nlohmann::ordered_json& summary) const {
  const auto& telemetry = sim.telemetry();
  auto& chain = summary["chain"];
  const double virtual_s = std::chrono::duration<double>(sim.kernel().now()).count();
  chain["validators"] = params_.validators;
  chain["byzantine"] = params_.byzantine;
  chain["height"] = top_height_;
  std::uint64_t lowest = top_height_;
  for (std::uint32_t i = params_.byzantine; i < params_.validators; ++i) {
    const auto found = honest_heights_.find(validator_ids_[i]);
    lowest = std::min(lowest, found == honest_heights_.end() ? 0 : found->second);
  }
  chain["height_min_honest"] = lowest;
  chain["blocks_per_s"] = virtual_s > 0 ? static_cast<double>(top_height_) / virtual_s : 0.0;
  chain["block_time_s"] =
      quantiles_json(telemetry.find_histogram("chain.block_time_s"), {0.5, 0.95});
  chain["finality_s"] = quantiles_json(telemetry.find_histogram("chain.finality_s"), {0.5, 0.95});
  chain["commit_round"] =
      quantiles_json(telemetry.find_histogram("chain.commit_round"), {0.5, 0.99});
  chain["transfers_submitted"] = transfers_sent_;
  chain["transfers_unsent"] = transfers_unsent_;
  chain["txs_committed"] = txs_committed_;
  chain["txs_per_s"] = virtual_s > 0 ? static_cast<double>(txs_committed_) / virtual_s : 0.0;
  chain["inflation"] = static_cast<double>(top_summary_.inflation) / rules::ppm_one;
  chain["bonded_ratio"] = static_cast<double>(top_summary_.bonded_ratio) / rules::ppm_one;
  chain["supply"] = top_summary_.supply;
  chain["minted"] = top_summary_.minted;
  chain["burned"] = top_summary_.burned;
  chain["slashed"] = top_summary_.slashed;
  chain["rewards_validators"] = top_summary_.rewards_validators;
  chain["rewards_masternodes"] = top_summary_.rewards_masternodes;
  chain["fees_paid"] = top_summary_.fees_paid;
  chain["receipts_paid"] = top_summary_.receipts_paid;
  chain["safety_violations"] = safety_violations_;
  chain["state_root_mismatches"] = root_mismatches_;
  chain["supply_invariant_ok"] = supply_ok_;
  chain["evidence_included"] = evidence_included_;
  std::uint64_t offenders_slashed_twice = 0;
  for (const auto& [id, count] : evidence_against_)
    offenders_slashed_twice += count > 1 ? 1 : 0;
  std::uint64_t byzantine_tombstoned = 0;
  for (const auto& id : tombstoned_)
    byzantine_tombstoned += is_byzantine(id) ? 1 : 0;
  chain["evidence_offenders"] = evidence_against_.size();
  chain["offenders_slashed_twice"] = offenders_slashed_twice;
  chain["tombstoned"] = tombstoned_.size();
  chain["byzantine_tombstoned"] = byzantine_tombstoned;
  chain["honest_tombstoned"] = tombstoned_.size() - byzantine_tombstoned;
  std::uint64_t honest_slashed = 0;
  for (const auto& [id, count] : evidence_against_)
    honest_slashed += is_byzantine(id) ? 0 : 1;
  chain["honest_slashed"] = honest_slashed;
  // What must hold in every run, whatever its faults: a name for each that did not.
  auto broken = nlohmann::ordered_json::array();
  if (safety_violations_ != 0)
    broken.push_back("safety: two honest validators committed different blocks at a height");
  if (root_mismatches_ != 0)
    broken.push_back("state roots: honest validators disagree after a height");
  if (!supply_ok_)
    broken.push_back(
        "supply: balances and bonds do not add up to genesis + minted - burned - slashed");
  if (honest_slashed != 0)
    broken.push_back("slashing: evidence was included against an honest validator");
  chain["invariants_broken"] = std::move(broken);
  chain["withholding"] = params_.withholding;
  chain["signature_checks"] = signatures_ ? signatures_->checks() : 0;
  chain["signature_cache_hits"] = signatures_ ? signatures_->hits() : 0;
  economics_.report(summary);
}

} // namespace stakecast::sim

namespace stakecast::sim {

namespace {

/// rules::parameters kept as shares (ppm) and read as ratios ("7%").
bool is_share(std::string_view name) {
  static constexpr std::array<std::string_view, 10> shares{
      "inflation_initial",   "inflation_min",          "inflation_max", "inflation_change",
      "target_bonded_ratio", "validator_reward_share", "fee_burn",      "audit_slash",
      "double_sign_slash",   "downtime_slash"};
  return std::find(shares.begin(), shares.end(), name) != shares.end();
}

void read_parameters(node_reader& section, rules::parameters& p) {
  rules::for_each_parameter(p, [&](std::string_view name, auto& field) {
    using type = std::decay_t<decltype(field)>;
    if (name == "epoch_blocks")
      return; // the scenario's `epoch`
    if (is_share(name)) {
      const double share = static_cast<double>(field) / rules::ppm_one;
      field = to_ppm(section.optional<ratio>(name, ratio{share}).value);
      return;
    }
    field = section.optional<type>(name, field);
  });
}

/// rules::check's text is "...bad_parameter: NAME: why": reported at NAME's key (at
/// the section when NAME took its default).
void report_parameter_error(node_reader& section, const std::string& text) {
  constexpr std::string_view marker = "bad_parameter: ";
  const auto start = text.find(marker);
  if (start == std::string::npos) {
    section.error(text);
    return;
  }
  const auto detail = text.substr(start + marker.size());
  const auto colon = detail.find(": ");
  const auto name = detail.substr(0, colon);
  const auto why = colon == std::string::npos ? detail : detail.substr(colon + 2);
  if (name == "epoch_blocks") // the scenario's `epoch`, outside this section
    section.error(detail);
  else
    section.error_at(name, why);
}

void read_validators(node_reader& section, chain_params& params) {
  params.validators = section.optional<std::uint32_t>(
      "count", params.validators, {.min = 1, .max = chain_params::validators_count_max});
  params.first_node = section.optional<std::uint32_t>("first_node", params.first_node);
  params.stake_tokens = section.optional<std::uint64_t>("stake", params.stake_tokens,
                                                        {.min = 1, .max = 1'000'000'000});
  params.commission = section.optional<ratio>("commission", ratio{params.commission}).value;
  params.validator_balance_tokens = section.optional<std::uint64_t>(
      "balance", params.validator_balance_tokens, {.min = 1, .max = 1'000'000'000});
  params.access = section.optional<std::string>("access", params.access);
  for (auto& item : section.optional_list("regions", {.max = std::size_t{64}}))
    params.regions.push_back(item.as<std::string>());
}

void read_load(node_reader& section, chain_params& params) {
  params.transfers_per_second =
      section.optional<double>("transfers_per_second", params.transfers_per_second,
                               {.min = 0.0, .max = chain_params::transfers_per_second_max});
  params.accounts = section.optional<std::uint32_t>(
      "accounts", params.accounts, {.min = 2, .max = chain_params::accounts_count_max});
  params.account_balance_tokens = section.optional<std::uint64_t>(
      "balance", params.account_balance_tokens, {.min = 1, .max = 1'000'000'000});
  params.transfer_micro =
      section.optional<std::uint64_t>("amount", params.transfer_micro, {.min = 1});
  params.fee_micro = section.optional<std::uint64_t>("fee", params.fee_micro);
}

std::unique_ptr<workload> make_chain(node_reader& section) {
  chain_params params;
  params.chain.epoch_blocks = 120;
  auto validators = section.optional_section("validators");
  read_validators(validators, params);
  params.block_time =
      section.optional<virtual_time>("block_time", params.block_time, {.min = 100ms, .max = 1min});
  params.tick = section.optional<virtual_time>("tick", params.tick, {.min = 100ms, .max = 1min});
  params.chain.epoch_blocks =
      section.optional<std::uint64_t>("epoch", params.chain.epoch_blocks, {.min = 2});
  // Defaults that follow the epoch and the block time: audits end within their epoch,
  // and the mint per epoch is a year's inflation spread over a year of epochs.
  params.chain.audit_window_blocks =
      std::clamp<std::uint64_t>(params.chain.epoch_blocks / 2, 1, params.chain.audit_window_blocks);
  const double epoch_s = std::chrono::duration<double>(params.block_time).count() *
                         static_cast<double>(params.chain.epoch_blocks);
  params.chain.epochs_per_year =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(365.0 * 86400.0 / epoch_s));
  auto parameters = section.optional_section("parameters");
  read_parameters(parameters, params.chain);
  if (auto problem = rules::check(params.chain))
    report_parameter_error(parameters, core::describe(problem));
  auto byzantine = section.optional_section("byzantine");
  params.byzantine = byzantine.optional<std::uint32_t>("count", 0);
  if (3 * params.byzantine >= params.validators)
    byzantine.error_at("count", fmt::format("{} equivocating validators of {} is not below a third",
                                            params.byzantine, params.validators));
  auto withholding = section.optional_section("withholding");
  params.withholding = withholding.optional<std::uint32_t>("count", 0);
  if (params.withholding > 0 && 3 * (params.byzantine + params.withholding) >= params.validators)
    withholding.error_at("count",
                         fmt::format("{} equivocating and {} withholding validators of {} "
                                     "are not below a third",
                                     params.byzantine, params.withholding, params.validators));
  auto load = section.optional_section("load");
  read_load(load, params);
  return std::make_unique<chain_workload>(std::move(params));
}

const workload_registration registration{"chain", make_chain, validator::validator_messages};

} // namespace

} // namespace stakecast::sim
