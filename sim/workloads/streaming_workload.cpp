#include "sim/workloads/streaming_workload.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include <caf/send.hpp>
#include <fmt/format.h>

#include "actors/core/manifest.hpp"
#include "actors/core/placement.hpp"
#include "actors/core/sha256.hpp"
#include "actors/core/virtual_content.hpp"
#include "actors/storage/storage_actor.hpp"
#include "actors/validator/rules/apply.hpp"
#include "actors/config/reader.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::nanoseconds session_min = 10s;

core::hash256 video_seed(std::uint64_t run_seed, std::uint32_t index) {
  std::uint64_t words[3] = {run_seed, 0x6f65646976ull /* "video" */, index};
  return core::sha256({reinterpret_cast<const std::uint8_t*>(words), sizeof(words)});
}


double ratio_of(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}


} // namespace

std::string streaming_workload::check(const scenario& config) const {
  if (params_.masternodes + 1 >= config.nodes)
    return fmt::format("{} masternodes and the publisher leave no node for viewers (the scenario has {} nodes)",
                       params_.masternodes, config.nodes);
  for (const auto& [key, name] : {std::pair{"masternodes.access", &params_.masternode_access},
                                   std::pair{"publisher.access", &params_.publisher_access}})
    if (!name->empty() && !config.network.find_access(*name))
      return fmt::format("{} '{}' is not an access class of the network", key, *name);
  if (params_.replication > params_.masternodes)
    return fmt::format("replication {} needs at least as many masternodes ({})",
                       params_.replication, params_.masternodes);
  if (!params_.playback.is_valid())
    return "playback settings are inconsistent: they need urgent <= seed <= window";
  if (params_.crowd && params_.crowd_video >= params_.videos)
    return fmt::format("flash_crowd.video {} is not a rank of the {} videos", params_.crowd_video,
                       params_.videos);
  if (params_.service)
    return check_service(config);
  return {};
}

std::string streaming_workload::check_service(const scenario& config) const {
  const chain_workload* chain = chain_workload::of(config);
  if (chain == nullptr)
    return "service needs a chain workload in the same scenario";
  const auto& chain_params = chain->params();
  if (chain_params.first_node <= publisher_node())
    return fmt::format("validators.first_node {} must come after the masternodes and the "
                       "publisher (nodes 0 to {})",
                       chain_params.first_node, publisher_node());
  if (chain_params.first_node == publisher_node() + 1)
    return "the validators leave no node for viewers: put them after the viewers' nodes";
  const auto& service = *params_.service;
  const std::uint64_t special = std::uint64_t{service.lazy} + service.self_dealing + service.sybil +
                                (service.sybil > 0 ? 1 : 0) + service.poisoning +
                                (params_.agents ? params_.agents->candidates : 0);
  if (special > params_.masternodes)
    return fmt::format("lazy, self-dealing, Sybil (and their control) and candidate masternodes "
                       "({}) exceed the {} masternodes",
                       special, params_.masternodes);
  if (special == params_.masternodes)
    return "lazy, self-dealing, Sybil and candidate masternodes leave no honest masternode";
  if (params_.masternode_stake * rules::micro_per_token < chain_params.chain.masternode_stake_min)
    return fmt::format("masternodes.stake {} is below the chain's masternode_stake_min",
                       params_.masternode_stake);
  if (params_.masternodes > chain_params.chain.masternodes_active_max)
    return fmt::format("{} masternodes exceed the chain's masternodes_active_max {}",
                       params_.masternodes, chain_params.chain.masternodes_active_max);
  return {};
}

std::optional<core::node_id> streaming_workload::node_identity(std::uint64_t seed,
                                                               node_index node) const {
  if (!params_.service || node >= params_.masternodes)
    return std::nullopt;
  if (keys_seed_ != seed) {
    keys_seed_ = seed;
    masternode_keys_.clear();
    for (node_index i = 0; i < params_.masternodes; ++i)
      masternode_keys_.push_back(
        std::make_shared<const core::key_pair>(key_of(seed_for("masternode", seed, i))));
  }
  return masternode_keys_[node]->public_key();
}

node_index streaming_workload::viewer_end(const simulation& sim) const {
  const auto* chain = params_.service ? chain_workload::of(sim.config()) : nullptr;
  if (chain == nullptr || chain->params().first_node <= publisher_node())
    return sim.node_count();
  return std::min(sim.node_count(), chain->params().first_node);
}

// Masternodes by index: lazy ones, self-dealing ones, the Sybil owner's identities and
// their control, honest ones, and last the candidates that agents register later.
bool streaming_workload::is_self_dealing(node_index node) const noexcept {
  return params_.service && node >= params_.service->lazy &&
         node < params_.service->lazy + params_.service->self_dealing;
}

bool streaming_workload::is_sybil(node_index node) const noexcept {
  if (!params_.service)
    return false;
  const auto first = params_.service->lazy + params_.service->self_dealing;
  return node >= first && node < first + params_.service->sybil;
}

bool streaming_workload::is_sybil_control(node_index node) const noexcept {
  return params_.service && params_.service->sybil > 0 &&
         node == params_.service->lazy + params_.service->self_dealing + params_.service->sybil;
}

bool streaming_workload::is_poisoning(node_index node) const noexcept {
  if (!params_.service)
    return false;
  const auto& service = *params_.service;
  const auto first = service.lazy + service.self_dealing + service.sybil + (service.sybil > 0 ? 1 : 0);
  return node >= first && node < first + service.poisoning;
}

bool streaming_workload::is_candidate(node_index node) const noexcept {
  return params_.service && params_.agents &&
         node + params_.agents->candidates >= params_.masternodes;
}

std::uint64_t streaming_workload::stake_tokens_of(node_index node) const noexcept {
  return is_sybil_control(node) ? params_.masternode_stake * params_.service->sybil
                                : params_.masternode_stake;
}

std::string streaming_workload::owner_of(node_index node) const {
  return is_sybil(node) ? std::string("sybil-owner") : fmt::format("masternode-{}", node);
}

std::string streaming_workload::role_of(node_index node) const {
  if (is_lazy(node))
    return "lazy";
  if (is_self_dealing(node))
    return "self_dealing";
  if (is_sybil(node))
    return "sybil";
  if (is_sybil_control(node))
    return "sybil_control";
  if (is_poisoning(node))
    return "poisoner";
  return std::string(econ::honest_role);
}

core::key_pair streaming_workload::fake_viewer_key(std::uint64_t seed, node_index node,
                                                   std::uint32_t index) const {
  return key_of(seed_for("fake-viewer", seed,
                         std::uint64_t{node} * service_params::fake_viewers_max + index));
}

void streaming_workload::add_placement_parts(const simulation& sim, rules::genesis& g) {
  const auto commission = static_cast<rules::ppm>(
    (params_.service ? params_.service->commission : 0.0) * rules::ppm_one);
  for (node_index node = 0; node < params_.masternodes; ++node)
    if (!is_candidate(node))
      g.masternodes.push_back({sim.network().id_of(node), stake_tokens_of(node) * rules::micro_per_token,
                               commission, fmt::format("sim:{}", node), params_.cache_bytes});
  const auto publisher = sim.network().id_of(publisher_node());
  for (const auto& video : videos_) {
    const auto& manifest = *library_->manifests.at(video);
    g.contents.push_back({publisher, video, manifest.merkle_root,
                          core::block_count(manifest.content_bytes), manifest.content_bytes,
                          params_.replication});
  }
}

void streaming_workload::add_to_genesis(const simulation& sim, rules::genesis& g) {
  build_catalog(sim);
  add_placement_parts(sim, g);
  for (node_index node = 0; node < params_.masternodes; ++node) {
    // A candidate holds the stake it will register with.
    const auto stake = is_candidate(node) ? params_.masternode_stake * rules::micro_per_token : 0;
    g.accounts.push_back({sim.network().id_of(node), params_.service->masternode_balance_micro + stake});
    for (std::uint32_t i = 0; is_self_dealing(node) && i < params_.service->fake_viewers; ++i)
      g.accounts.push_back({fake_viewer_key(sim.config().seed, node, i).public_key(),
                            params_.service->fake_viewer_balance_micro});
  }
  for (node_index node = publisher_node() + 1; node < viewer_end(sim); ++node)
    g.accounts.push_back({key_of(seed_for("viewer", sim.config().seed, node)).public_key(),
                          params_.service->viewer_balance_micro});
  // A delegator holds twice its stake: it delegates to a new target before the old
  // bond is unbonded (and locked for the unbonding period), plus fees.
  for (std::uint32_t i = 0; params_.agents && i < params_.agents->delegators; ++i)
    g.accounts.push_back({delegator_key(sim.config().seed, i).public_key(),
                          2 * params_.agents->delegator_stake_micro + 10 * rules::micro_per_token});
}

// Without the paid service no chain runs: placement comes from the state a genesis of
// the masternodes and the catalog alone would start.
rules::genesis streaming_workload::standalone_genesis(const simulation& sim) {
  rules::genesis g;
  g.chain_name = "stakecast-placement";
  g.params.masternode_stake_min =
    std::min(g.params.masternode_stake_min, params_.masternode_stake * rules::micro_per_token);
  g.params.masternodes_active_max = std::max(g.params.masternodes_active_max, params_.masternodes);
  add_placement_parts(sim, g);
  return g;
}

void streaming_workload::setup(simulation& sim) {
  random_.emplace(core::derive_seed(sim.config().seed, "streaming"));
  popularity_.emplace(params_.videos, params_.zipf_exponent);
  build_catalog(sim);
  for (node_index node = 0; node < params_.masternodes; ++node)
    masternode_ids_.push_back(sim.network().id_of(node));
  publisher_id_ = sim.network().id_of(publisher_node());
  chain_ = params_.service ? chain_workload::of(sim.config()) : nullptr;
  auto genesis_state =
    rules::initial_state(chain_ != nullptr ? chain_->genesis(sim) : standalone_genesis(sim));
  if (!genesis_state) // check() keeps scenarios from getting here
    throw std::invalid_argument("placement: " + caf::to_string(genesis_state.error()));
  place_contents(*genesis_state);
  for (node_index node = 0; node < params_.masternodes; ++node) {
    const auto* record = genesis_state->masternodes.find(sim.network().id_of(node));
    const auto stake = record != nullptr ? record->stake : 0;
    outcomes_.push_back({stake, stake, 0, std::nullopt});
  }
  sim_ = &sim;
  left_.assign(params_.masternodes, false);
  registered_.assign(params_.masternodes, true);
  joining_.assign(params_.masternodes, false);
  delegators_.assign(params_.agents ? params_.agents->delegators : 0, {});
  for (node_index node = 0; node < params_.masternodes; ++node)
    registered_[node] = !is_candidate(node);
  if (chain_ != nullptr)
    register_owners(sim);
  masternode_actors_.resize(params_.masternodes);
  if (!params_.masternode_access.empty()) {
    auto access = *sim.config().network.find_access(params_.masternode_access);
    for (node_index node = 0; node < params_.masternodes; ++node)
      sim.network().set_access(node, access);
  }
  const auto& publisher_access =
    params_.publisher_access.empty() ? params_.masternode_access : params_.publisher_access;
  if (!publisher_access.empty())
    sim.network().set_access(publisher_node(), *sim.config().network.find_access(publisher_access));
  spawn_publisher(sim);
  for (node_index node = 0; node < params_.masternodes; ++node)
    spawn_masternode(sim, node);
  next_viewer_node_ = publisher_node() + 1;
}

void streaming_workload::build_catalog(const simulation& sim) {
  if (library_)
    return; // made for the genesis already
  auto library = std::make_shared<peer::content_library>();
  auto contents = std::make_shared<std::map<core::content_id, core::virtual_content>>();
  const auto content_bytes = static_cast<std::uint64_t>(
    std::chrono::duration<double>(params_.video_duration).count() * params_.bitrate_bps / 8.0);
  for (std::uint32_t rank = 0; rank < params_.videos; ++rank) {
    core::virtual_content content{video_seed(sim.config().seed, rank), content_bytes};
    auto manifest = std::make_shared<const core::manifest>(
      content.make(fmt::format("video-{}", rank), params_.bitrate_bps, params_.segment_duration_ms));
    auto id = core::id_of(*manifest);
    library->manifests.emplace(id, std::move(manifest));
    contents->emplace(id, content);
    videos_.push_back(id);
  }
  library_ = std::move(library);
  virtual_contents_ = std::move(contents);
}

void streaming_workload::place_contents(const rules::state& s) {
  std::map<core::node_id, node_index> index_of;
  for (node_index node = 0; node < params_.masternodes; ++node)
    index_of.emplace(masternode_id(node), node);
  hosts_.clear();
  hosted_.assign(params_.masternodes, {});
  for (const auto& video : videos_) {
    auto hosts = rules::assigned_masternodes(s, video);
    for (const auto& host : hosts)
      if (auto found = index_of.find(host); found != index_of.end())
        hosted_[found->second].push_back(video);
    hosts_.push_back(std::move(hosts));
  }
}

void streaming_workload::on_height(const rules::state& committed) {
  for (node_index node = 0; node < params_.masternodes; ++node) {
    const auto* record = committed.masternodes.find(masternode_id(node));
    if (record == nullptr)
      continue;
    auto& outcome = outcomes_[node];
    if (outcome.stake_at_genesis == 0) // a candidate that registered
      outcome.stake_at_genesis = record->stake;
    outcome.stake = record->stake;
    if (record->jailed && !outcome.jailed_at)
      outcome.jailed_at = committed.globals.height;
  }
  if (params_.agents && committed.globals.height % committed.params.epoch_blocks == 0)
    run_agents(committed);
  for (std::size_t rank = 0; rank < videos_.size(); ++rank)
    if (rules::assigned_masternodes(committed, videos_[rank]) != hosts_[rank]) {
      place_contents(committed); // later viewers go to the new replicas
      return;
    }
}

std::vector<peer::hosted_assignment>
streaming_workload::assignments_of(node_index node, const std::vector<core::content_id>& contents) const {
  // Each assigned content comes from the publisher or, failing it, another replica.
  std::vector<peer::hosted_assignment> out;
  const auto self = masternode_id(node);
  for (const auto& content : contents) {
    const auto rank = std::find(videos_.begin(), videos_.end(), content) - videos_.begin();
    if (static_cast<std::size_t>(rank) == videos_.size())
      continue; // not ours
    peer::hosted_assignment assignment{content, {publisher_id_}};
    for (const auto& host : hosts_[static_cast<std::size_t>(rank)])
      if (host != self)
        assignment.sources.push_back(host);
    out.push_back(std::move(assignment));
  }
  return out;
}

void streaming_workload::spawn_masternode(simulation& sim, node_index node) {
  const auto context = sim.context_of(node);
  peer::masternode_config config;
  if (!is_lazy(node))
    config.hosted = assignments_of(node, hosted_[node]);
  config.storage = sim.kernel().system().spawn(storage::storage, context);
  sim.attach(node, caf::actor_cast<caf::actor>(config.storage));
  config.uplink_bps = sim.config().network.access_classes[sim.network().access_of(node)].uplink_bps;
  config.upload_slots = params_.masternode_upload_slots;
  config.poison = is_poisoning(node);
  auto actor = sim.kernel().system().spawn(peer::masternode, context, config);
  sim.bind(node, peer::masternode_messages, caf::actor_cast<caf::actor>(actor));
  masternode_actors_[node] = actor;
  if (chain_ != nullptr)
    spawn_agent(sim, node);
}

namespace {

// The blocks a simulated masternode can show: those of the segments its store holds,
// as their stand-ins (core::virtual_content), with proofs from the piece layer.
class virtual_blocks final : public peer::audit_source {
public:
  using content_map = std::map<core::content_id, core::virtual_content>;

  virtual_blocks(const world::store* store, peer::library_ptr library,
                 std::shared_ptr<const content_map> contents)
      : store_(store), library_(std::move(library)), contents_(std::move(contents)) {}

  std::optional<peer::audit_block> read(const core::content_id& content,
                                        std::uint32_t index) const override {
    const auto manifest = library_->manifests.find(content);
    const auto virtual_content = contents_->find(content);
    if (manifest == library_->manifests.end() || virtual_content == contents_->end() ||
        index >= virtual_content->second.block_count())
      return std::nullopt;
    const auto segment = index >> manifest->second->segment_height;
    if (!store_->get(storage::segment_key(content, segment)))
      return std::nullopt;
    const auto stand_in = virtual_content->second.stand_in(index);
    return peer::audit_block{{stand_in.begin(), stand_in.end()},
                             virtual_content->second.proof(*manifest->second, index)};
  }

private:
  const world::store* store_;
  peer::library_ptr library_;
  std::shared_ptr<const content_map> contents_;
};

} // namespace

void streaming_workload::spawn_agent(simulation& sim, node_index node) {
  const auto context = sim.context_of(node);
  peer::service_agent_config config;
  config.chain = chain_->chain_id();
  config.validators = chain_->validator_ids(sim);
  config.fee = chain_->fee();
  config.claim_interval = params_.service->claim_interval;
  config.blocks = std::make_shared<virtual_blocks>(context.storage, library_, virtual_contents_);
  config.signatures = &chain_->signatures();
  if (!is_lazy(node))
    config.on_assignments = [this, node](const std::vector<core::content_id>& contents) {
      caf::anon_send(masternode_actors_[node], peer::host_atom::value, assignments_of(node, contents));
    };
  auto actor = sim.kernel().system().spawn(peer::service_agent, context, masternode_keys_[node],
                                           std::move(config));
  sim.bind(node, peer::service_agent_messages, caf::actor_cast<caf::actor>(actor));
}

std::shared_ptr<peer::delivery_meter>
streaming_workload::meter_for(const simulation& sim, node_index node, const core::content_id& content) {
  const auto& validators = chain_->validator_ids(sim);
  peer::receipt_signer_config config;
  config.chain = chain_->chain_id();
  config.content = content;
  config.validator = validators[node % validators.size()];
  config.deposit = params_.service->deposit_micro;
  config.fee = chain_->fee();
  config.receipt_interval = params_.service->receipt_interval;
  return std::make_shared<peer::receipt_signer>(key_of(seed_for("viewer", sim.config().seed, node)),
                                                std::move(config));
}

// ---- the econ outcomes' owners, adversaries and agents ----

core::key_pair streaming_workload::delegator_key(std::uint64_t seed, std::uint32_t index) const {
  return key_of(seed_for("delegator", seed, index));
}

void streaming_workload::register_owners(simulation& sim) {
  auto& economics = chain_->economics();
  economics.set_costs(params_.costs);
  for (node_index node = 0; node < params_.masternodes; ++node) {
    const auto owner = owner_of(node);
    economics.add_identity(owner, econ::operator_kind::masternode, role_of(node), masternode_id(node));
    if (is_lazy(node))
      economics.set_stores(owner, false);
    if (is_candidate(node))
      economics.set_waiting(owner);
    for (std::uint32_t i = 0; is_self_dealing(node) && i < params_.service->fake_viewers; ++i)
      economics.add_account(owner, fake_viewer_key(sim.config().seed, node, i).public_key());
  }
}

void streaming_workload::schedule_fake_session(simulation& sim, node_index node, std::uint64_t count) {
  const auto gap = std::chrono::nanoseconds(
    static_cast<std::int64_t>(3600e9 / params_.service->fake_sessions_per_hour));
  // The first session after a minute, so that the first epoch's placement is known.
  const auto at = std::chrono::nanoseconds(60s) + gap * static_cast<std::int64_t>(count);
  if (at >= sim.config().duration)
    return;
  sim.kernel().at(at, [this, &sim, node, count] {
    fake_session(sim, node, count);
    schedule_fake_session(sim, node, count + 1);
  });
}

// One fake viewer of a self-dealing masternode opens a deposit that covers exactly the
// session's payment, then signs one receipt to its masternode for bytes never sent.
// The signer speaks from the publisher's node: any node can carry a transaction and a
// receipt, and the chain and the masternode judge them by their signatures.
void streaming_workload::fake_session(simulation& sim, node_index node, std::uint64_t count) {
  if (hosted_[node].empty())
    return;
  const auto index = static_cast<std::uint32_t>(count % params_.service->fake_viewers);
  const auto& validators = chain_->validator_ids(sim);
  const auto& parameters = chain_->params().chain;
  const auto bytes = params_.service->fake_session_bytes;
  peer::receipt_signer_config config;
  config.chain = chain_->chain_id();
  config.content = hosted_[node][count % hosted_[node].size()];
  config.validator = validators[count % validators.size()];
  config.deposit = static_cast<rules::amount>(rules::payment_for(bytes, parameters.price_per_gib)) + 1;
  config.nonce = fake_nonces_[{node, index}]++;
  config.fee = chain_->fee();
  auto signer = std::make_shared<peer::receipt_signer>(fake_viewer_key(sim.config().seed, node, index),
                                                       std::move(config));
  signer->start(sim.context_of(publisher_node()), sim.kernel().now().count());
  ++fake_sessions_;
  const auto masternode = masternode_id(node);
  sim.kernel().at(sim.kernel().now() + 20s, [signer, masternode, bytes, &sim] {
    const auto now = sim.kernel().now().count();
    signer->delivered(masternode, bytes, now);
    signer->finish(now);
  });
}

// At each epoch boundary, after the econ observer has scanned the state: candidates
// join when the honest masternodes' last epoch beat the hurdle; honest operators that
// lost money for loss_epochs_max epochs in a row unbond everything and leave.
void streaming_workload::run_agents(const rules::state& committed) {
  auto& sim = *sim_;
  auto& economics = chain_->economics();
  const auto& agents = *params_.agents;
  const auto expected = economics.honest_masternode_epoch_roi();
  for (node_index node = 0; node < params_.masternodes; ++node) {
    const auto id = masternode_id(node);
    const auto& key = *masternode_keys_[node];
    const auto nonce = rules::nonce(committed, id);
    const auto* record = committed.masternodes.find(id);
    if (!registered_[node]) {
      // A decision stands; a transaction that lost its nonce to the masternode's own
      // claims is sent again at the next boundary.
      const bool decided = joining_[node];
      if (!decided && (!expected || !econ::should_join(agents.rules, *expected)))
        continue;
      if (record != nullptr) {
        registered_[node] = true;
        continue;
      }
      const auto stake = params_.masternode_stake * rules::micro_per_token;
      rules::register_masternode_body body{stake,
                                           static_cast<rules::ppm>(params_.service->commission * rules::ppm_one),
                                           fmt::format("sim:{}", node), params_.cache_bytes};
      if (chain_->submit(sim, rules::make_transaction(chain_->chain_id(), key, nonce, chain_->fee(), body)) &&
          !decided) {
        joining_[node] = true;
        ++joins_;
        economics.note_bonded(owner_of(node), stake, sim.kernel().now().count());
      }
      continue;
    }
    if (!agents.leave || role_of(node) != econ::honest_role || record == nullptr || record->stake == 0)
      continue;
    const auto* owner = economics.find(owner_of(node));
    if (!left_[node] && (owner == nullptr || !econ::should_leave(agents.rules, owner->loss_streak)))
      continue;
    rules::unbond_body body{id, record->stake};
    if (chain_->submit(sim, rules::make_transaction(chain_->chain_id(), key, nonce, chain_->fee(), body)) &&
        !left_[node]) {
      left_[node] = true;
      ++leaves_;
      outcomes_[node].unbonded = record->stake;
      economics.note_unbonded(owner_of(node), record->stake);
    }
  }
  run_delegators(committed);
}

// Delegators follow the masternodes' last-epoch reward rates: the first boundary
// places each on a masternode in turn; later ones move it when choose_target says so
// and its liquid balance covers a new bond. The old bond is unbonded at the boundary
// after the move, so that the two transactions never race for one nonce.
void streaming_workload::run_delegators(const rules::state& committed) {
  auto& sim = *sim_;
  const auto& economics = chain_->economics();
  const auto& agents = *params_.agents;
  std::vector<node_index> targets;
  std::vector<double> rates;
  for (node_index node = 0; node < params_.masternodes; ++node) {
    const auto* record = committed.masternodes.find(masternode_id(node));
    const auto* owner = economics.find(owner_of(node));
    if (record == nullptr || record->stake == 0 || record->jailed || owner == nullptr ||
        role_of(node) != econ::honest_role)
      continue;
    targets.push_back(node);
    rates.push_back(owner->epoch_reward_rate);
  }
  if (targets.empty())
    return;
  const auto stake = agents.delegator_stake_micro;
  for (std::uint32_t i = 0; i < agents.delegators; ++i) {
    auto& delegator = delegators_[i];
    const auto key = delegator_key(sim.config().seed, i);
    const auto id = key.public_key();
    const auto nonce = rules::nonce(committed, id);
    auto send = [&](auto body) {
      return chain_->submit(sim, rules::make_transaction(chain_->chain_id(), key, nonce, chain_->fee(), body));
    };
    if (delegator.to_unbond) {
      const rules::delegation_key bond{masternode_id(*delegator.to_unbond), id};
      if (committed.delegations.find(bond) == nullptr || send(rules::unbond_body{bond.target, stake}))
        delegator.to_unbond.reset();
      continue;
    }
    if (!delegator.target) {
      const auto target = targets[i % targets.size()];
      if (send(rules::delegate_body{masternode_id(target), stake}))
        delegator.target = target;
      continue;
    }
    const auto current = std::find(targets.begin(), targets.end(), *delegator.target);
    // A target that left the active set counts as returning nothing.
    auto returns = rates;
    std::size_t current_index = static_cast<std::size_t>(current - targets.begin());
    if (current == targets.end()) {
      returns.push_back(0.0);
      current_index = returns.size() - 1;
    }
    const auto best = econ::choose_target(returns, current_index, agents.delegator_margin);
    if (best == current_index || rules::balance(committed, id) < stake + chain_->fee())
      continue;
    if (send(rules::delegate_body{masternode_id(targets[best]), stake})) {
      delegator.to_unbond = *delegator.target;
      delegator.target = targets[best];
      ++delegator.moves;
    }
  }
}

void streaming_workload::spawn_publisher(simulation& sim) {
  const node_index node = publisher_node();
  peer::masternode_config config;
  config.published = library_;
  config.publisher = true;
  config.uplink_bps = sim.config().network.access_classes[sim.network().access_of(node)].uplink_bps;
  config.upload_slots = params_.masternode_upload_slots;
  auto actor = sim.kernel().system().spawn(peer::masternode, sim.context_of(node), config);
  sim.bind(node, peer::masternode_messages, caf::actor_cast<caf::actor>(actor));
}

void streaming_workload::start(simulation& sim) {
  for (node_index node = 0; chain_ != nullptr && node < params_.masternodes; ++node)
    if (is_self_dealing(node))
      schedule_fake_session(sim, node, 0);
  if (params_.arrival_rate_per_second > 0)
    schedule_next_arrival(sim);
  if (params_.crowd) {
    for (auto at : params_.crowd->arrivals(*random_))
      if (at < sim.config().duration)
        sim.kernel().at(at, [this, &sim] { arrive(sim, params_.crowd_video); });
    const auto crowd_end = params_.crowd->start + params_.crowd->window;
    if (crowd_end < sim.config().duration)
      sim.kernel().at(crowd_end, [this, &sim] {
        const auto& telemetry = sim.telemetry();
        at_crowd_end_.emplace(telemetry.counter_value("stream.bytes_from_masternodes"),
                              telemetry.counter_value("stream.bytes_from_viewers"));
      });
  }
}

namespace {

// Counts the sessions of a class of viewers and the bytes they pay masternodes for
// ("<prefix>.sessions", "<prefix>.paid_bytes"), then hands on to the real meter.
class counting_meter final : public peer::delivery_meter {
public:
  counting_meter(std::shared_ptr<peer::delivery_meter> inner, std::string prefix)
      : inner_(std::move(inner)), prefix_(std::move(prefix)) {}

  void start(const world::node_context& context, std::int64_t now_ns) override {
    telemetry_ = context.telemetry;
    paid_ = telemetry_->counter(prefix_ + ".paid_bytes");
    telemetry_->add(telemetry_->counter(prefix_ + ".sessions"), 1);
    inner_->start(context, now_ns);
  }
  void delivered(const core::node_id& from, std::uint64_t bytes, std::int64_t now_ns) override {
    telemetry_->add(paid_, static_cast<std::int64_t>(bytes));
    inner_->delivered(from, bytes, now_ns);
  }
  void finish(std::int64_t now_ns) override { inner_->finish(now_ns); }

private:
  std::shared_ptr<peer::delivery_meter> inner_;
  std::string prefix_;
  world::metrics* telemetry_ = nullptr;
  world::metrics::counter_id paid_ = 0;
};

} // namespace

void streaming_workload::schedule_next_arrival(simulation& sim) {
  auto at = sim.kernel().now() + poisson_arrivals(params_.arrival_rate_per_second).next_gap(*random_);
  if (at >= sim.config().duration)
    return;
  sim.kernel().at(at, [this, &sim] {
    arrive(sim, std::nullopt);
    schedule_next_arrival(sim);
  });
}

void streaming_workload::arrive(simulation& sim, std::optional<std::uint32_t> video_rank) {
  ++arrivals_;
  if (next_viewer_node_ >= viewer_end(sim)) {
    ++arrivals_without_node_;
    return;
  }
  // Sessions end before the run does, so that every session reports its figures.
  const auto left = sim.config().duration - sim.kernel().now() - 1ms;
  if (left < session_min)
    return;
  if (chain_ != nullptr && params_.agents && params_.agents->budget_per_gib) {
    const auto [low, high] = *params_.agents->budget_per_gib;
    const double budget = low + (high - low) * random_->uniform_real();
    const double price = static_cast<double>(chain_->params().chain.price_per_gib) / rules::micro_per_token;
    if (!econ::watches(price, budget)) {
      ++viewers_priced_out_;
      return;
    }
  }
  const node_index node = next_viewer_node_++;
  const auto rank = video_rank ? *video_rank : popularity_->draw(*random_);
  peer::viewer_config config;
  config.content = videos_[rank];
  config.masternodes = hosts_[rank];
  config.uplink_bps = sim.config().network.access_classes[sim.network().access_of(node)].uplink_bps;
  config.cache_bytes = params_.cache_bytes;
  config.playback = params_.playback;
  config.session_length =
    params_.session.draw(*random_, {.min = session_min, .max = std::min(left, params_.video_duration)});
  config.neighbours_max = params_.neighbours;
  config.upload_slots = params_.viewer_upload_slots;
  config.uploads = !random_->bernoulli(params_.free_rider_share);
  free_riders_ += config.uploads ? 0 : 1;
  if (params_.poisoner_share > 0) // no draw otherwise: scenarios without poisoners replay as before
    config.poison = random_->bernoulli(params_.poisoner_share);
  poisoners_ += config.poison ? 1 : 0;
  config.seeks = plan_seeks(*library_->manifests.at(videos_[rank]), config.session_length);
  if (rank < params_.content_series)
    config.metrics_label = fmt::format("video-{}", rank);
  if (chain_ != nullptr)
    config.meter = std::make_shared<counting_meter>(meter_for(sim, node, config.content),
                                                    config.uploads ? "econ.honest_viewers" : "econ.free_riders");
  auto actor = sim.kernel().system().spawn(peer::viewer, sim.context_of(node), config);
  sim.bind(node, peer::viewer_messages, caf::actor_cast<caf::actor>(actor));
}

std::vector<peer::viewer_config::planned_seek>
streaming_workload::plan_seeks(const core::manifest& manifest, virtual_time session_length) {
  std::vector<peer::viewer_config::planned_seek> planned;
  if (params_.seeking.probability_per_minute <= 0.0)
    return planned;
  virtual_time content_length{0};
  for (const auto& segment : manifest.segments)
    content_length += std::chrono::milliseconds(segment.duration_ms);
  for (const auto& seek : params_.seeking.seeks(*random_, session_length, content_length)) {
    // The segment playing at the seek's position.
    virtual_time start{0};
    std::uint32_t segment = 0;
    while (segment + 1 < manifest.segments.size() &&
           start + std::chrono::milliseconds(manifest.segments[segment].duration_ms) <= seek.position)
      start += std::chrono::milliseconds(manifest.segments[segment++].duration_ms);
    planned.push_back({seek.at, segment});
  }
  return planned;
}

void streaming_workload::restart_node(simulation& sim, node_index node) {
  // A masternode comes back with what its store kept (the disk survived) and fetches
  // the rest; the publisher with its contents; a viewer that crashed has left its
  // session for good.
  if (node < params_.masternodes)
    spawn_masternode(sim, node);
  else if (node == publisher_node())
    spawn_publisher(sim);
}

void streaming_workload::report(const simulation& sim, nlohmann::ordered_json& summary) const {
  const auto& telemetry = sim.telemetry();
  auto counter = [&](std::string_view name) { return telemetry.counter_value(name); };
  const auto from_masternodes = counter("stream.bytes_from_masternodes");
  const auto from_viewers = counter("stream.bytes_from_viewers");
  const auto received = from_masternodes + from_viewers;
  const auto played = counter("stream.played_ns");
  const auto stalled = counter("stream.stall_ns");
  const auto segments_played = counter("stream.segments_played");

  auto& qoe = summary["qoe"];
  qoe["startup_delay_s"] = quantiles_json(telemetry.find_histogram("stream.startup_delay_s"), {0.5, 0.95, 0.99});
  qoe["rebuffer_ratio"] = ratio_of(stalled, played + stalled);
  qoe["continuity_index"] =
    segments_played > 0 ? 1.0 - ratio_of(counter("stream.segments_late"), segments_played) : 0.0;
  qoe["p2p_offload_ratio"] = ratio_of(from_viewers, received);
  qoe["duplicate_bytes_ratio"] = ratio_of(counter("stream.duplicate_bytes"), received);
  qoe["masternode_egress_bytes"] = counter("stream.masternode_egress_bytes");
  qoe["share_ratio"] = quantiles_json(telemetry.find_histogram("stream.share_ratio"), {0.1, 0.5, 0.9});
  const auto* longest_stall = telemetry.find_histogram("stream.longest_stall_s");
  qoe["longest_stall_s"] = quantiles_json(longest_stall, {0.5, 0.99});
  qoe["longest_stall_s"]["max"] = longest_stall ? longest_stall->max() : 0.0;
  if (at_crowd_end_) {
    // Once the crowd is in: bytes received since its last arrival.
    qoe["after_crowd"]["p2p_offload_ratio"] =
      ratio_of(from_viewers - at_crowd_end_->second, received - at_crowd_end_->first - at_crowd_end_->second);
  }
  auto& per_content = qoe["per_content"];
  per_content = nlohmann::ordered_json::array();
  for (std::uint32_t rank = 0; rank < std::min(params_.content_series, params_.videos); ++rank) {
    const auto prefix = fmt::format("content.video-{}.", rank);
    auto value = [&](std::string_view what) { return counter(prefix + std::string(what)); };
    const auto content_from_masternodes = value("bytes_from_masternodes");
    const auto content_from_viewers = value("bytes_from_viewers");
    const auto content_received = content_from_masternodes + content_from_viewers;
    per_content.push_back({{"video", rank},
                           {"p2p_offload_ratio", ratio_of(content_from_viewers, content_received)},
                           {"rebuffer_ratio", ratio_of(value("stall_ns"), value("played_ns") + value("stall_ns"))},
                           {"bytes_received", content_received}});
  }

  auto& streaming = summary["streaming"];
  streaming["videos"] = params_.videos;
  streaming["masternodes"] = params_.masternodes;
  streaming["arrivals"] = arrivals_;
  streaming["arrivals_without_node"] = arrivals_without_node_;
  streaming["sessions_started"] = counter("stream.sessions_started");
  streaming["sessions_ended"] = counter("stream.sessions_ended");
  streaming["startup_failures"] = counter("stream.startup_failures");
  streaming["stalls"] = counter("stream.stalls");
  streaming["seeks"] = counter("stream.seeks");
  streaming["seek_wait_s"] = static_cast<double>(counter("stream.seek_wait_ns")) / 1e9;
  streaming["bad_segments"] = counter("stream.bad_segments");
  streaming["played_hours"] = static_cast<double>(played) / 3.6e12;
  streaming["publisher_egress_bytes"] = counter("stream.publisher_egress_bytes");
  streaming["masternode_ingress_bytes"] = counter("stream.masternode_ingress_bytes");
  streaming["masternode_fetch_failures"] = counter("stream.masternode_fetch_failures");
  streaming["masternode_store_failures"] = counter("stream.masternode_store_failures");
  if (params_.service)
    report_service(sim, summary);
}

void streaming_workload::report_service(const simulation& sim, nlohmann::ordered_json& summary) const {
  const auto& telemetry = sim.telemetry();
  auto& service = summary["service"];
  for (const auto* name : {"receipts_signed", "receipts_received", "receipts_refused", "queries",
                           "claims_sent", "receipts_claimed", "receipts_dropped", "audits_answered",
                           "audits_unheld"})
    service[name] = telemetry.counter_value(fmt::format("service.{}", name));
  std::uint32_t lazy_jailed = 0;
  std::uint32_t honest_jailed = 0;
  rules::amount lazy_slashed = 0;
  rules::amount honest_slashed = 0;
  auto& masternodes = service["masternodes"];
  masternodes = nlohmann::ordered_json::array();
  for (node_index node = 0; node < params_.masternodes; ++node) {
    const auto& outcome = outcomes_[node];
    const auto kept = outcome.stake + outcome.unbonded; // what an agent took out is no slash
    const auto slashed = outcome.stake_at_genesis - std::min(kept, outcome.stake_at_genesis);
    (is_lazy(node) ? lazy_slashed : honest_slashed) += slashed;
    if (outcome.jailed_at)
      ++(is_lazy(node) ? lazy_jailed : honest_jailed);
    if (is_lazy(node) || outcome.jailed_at || slashed > 0)
      masternodes.push_back({{"index", node},
                             {"lazy", is_lazy(node)},
                             {"jailed_at_height", outcome.jailed_at ? nlohmann::ordered_json(*outcome.jailed_at)
                                                                    : nlohmann::ordered_json()},
                             {"slashed", slashed}});
  }
  service["lazy"] = params_.service->lazy;
  service["lazy_jailed"] = lazy_jailed;
  service["lazy_slashed"] = lazy_slashed;
  service["honest_jailed"] = honest_jailed;
  service["honest_slashed"] = honest_slashed;
  report_econ(sim, summary);
}

void streaming_workload::report_econ(const simulation& sim, nlohmann::ordered_json& summary) const {
  const auto& telemetry = sim.telemetry();
  auto& econ = summary["econ"];
  econ["viewers_priced_out"] = viewers_priced_out_;
  econ["masternodes_joined"] = joins_;
  econ["masternodes_left"] = leaves_;
  econ["fake_sessions"] = fake_sessions_;
  std::uint64_t moves = 0;
  std::uint64_t placed = 0;
  for (const auto& delegator : delegators_) {
    moves += delegator.moves;
    placed += delegator.target ? 1 : 0;
  }
  econ["delegators"] = delegators_.size();
  econ["delegators_placed"] = placed;
  econ["delegator_moves"] = moves;
  auto& attacks = econ["attacks"];
  const double price = static_cast<double>(chain_->params().chain.price_per_gib) / rules::micro_per_token;
  auto per_session = [&](std::string_view prefix) {
    const auto sessions = telemetry.counter_value(fmt::format("{}.sessions", prefix));
    const auto bytes = telemetry.counter_value(fmt::format("{}.paid_bytes", prefix));
    return sessions > 0 ? static_cast<double>(bytes) / static_cast<double>(sessions) : 0.0;
  };
  if (free_riders_ > 0) {
    // A viewer's "profit" is what it keeps: what it pays per session (masternode bytes
    // at the chain's price), next to an uploading viewer's.
    const double rider = per_session("econ.free_riders");
    const double honest = per_session("econ.honest_viewers");
    attacks["free_riders"] = {{"kind", "viewer"},
                              {"viewers", free_riders_},
                              {"paid_bytes_per_session", rider},
                              {"honest_paid_bytes_per_session", honest},
                              {"tokens_per_session", rider * price / (1u << 30)},
                              {"honest_tokens_per_session", honest * price / (1u << 30)},
                              {"profitable", rider < honest ? 1 : 0}};
  }
  if (poisoners_ > 0)
    attacks["poisoning_viewers"] = {{"kind", "viewer"},
                            {"viewers", poisoners_},
                            {"bad_segments_detected", telemetry.counter_value("stream.bad_segments")},
                            {"segments_played", telemetry.counter_value("stream.segments_played")}};
}

namespace {

std::optional<flash_crowd> read_crowd(node_reader& section, std::uint32_t& video) {
  if (!section.has("flash_crowd"))
    return std::nullopt;
  auto crowd_section = section.section("flash_crowd");
  flash_crowd crowd;
  crowd.start = crowd_section.required<virtual_time>("at", {.min = 0ns});
  crowd.window = crowd_section.required<virtual_time>("window", {.min = 1ms, .max = 24h});
  crowd.count = crowd_section.required<std::uint32_t>("count", {.min = 1, .max = flash_crowd_arrivals_max});
  video = crowd_section.optional<std::uint32_t>("video", 0);
  return crowd;
}

void read_playback(node_reader& section, scheduler::playback_config& playback) {
  auto read = [&](std::string_view key, std::int64_t& value_ns) {
    value_ns = section.optional<virtual_time>(key, virtual_time{value_ns}, {.min = 1ms, .max = 1h}).count();
  };
  read("startup_buffer", playback.startup_buffer_ns);
  read("resume_buffer", playback.resume_buffer_ns);
  read("window", playback.window_ns);
  read("urgent", playback.urgent_ns);
  read("seed", playback.seed_ns);
  playback.critical_ns =
      section.optional<virtual_time>("critical", virtual_time{playback.critical_ns}, {.min = 0ns, .max = 1h})
          .count();
  read("request_timeout", playback.request_timeout_ns);
  read("viewer_request_timeout", playback.viewer_request_timeout_ns);
}

service_params read_service(node_reader& section, std::uint32_t masternodes) {
  service_params service;
  auto tokens = [&](std::string_view key, std::uint64_t micro) {
    const auto value = section.optional<double>(key, static_cast<double>(micro) / rules::micro_per_token,
                                                {.min = 0.0, .max = 1e9});
    return static_cast<std::uint64_t>(std::llround(value * rules::micro_per_token));
  };
  service.viewer_balance_micro = tokens("viewer_balance", service.viewer_balance_micro);
  service.deposit_micro = tokens("deposit", service.deposit_micro);
  service.masternode_balance_micro = tokens("masternode_balance", service.masternode_balance_micro);
  service.commission = section.optional<ratio>("commission", ratio{service.commission}).value;
  service.receipt_interval =
    section.optional<virtual_time>("receipt_interval", service.receipt_interval, {.min = 100ms, .max = 1h});
  service.claim_interval =
    section.optional<virtual_time>("claim_interval", service.claim_interval, {.min = 1s, .max = 24h});
  service.lazy = section.optional<std::uint32_t>("lazy_masternodes", service.lazy, {.min = 0, .max = masternodes});
  if (section.has("self_dealing")) {
    auto dealing = section.section("self_dealing");
    service.self_dealing = dealing.optional<std::uint32_t>("masternodes", 1, {.min = 1, .max = masternodes});
    service.fake_viewers = dealing.optional<std::uint32_t>("fake_viewers", service.fake_viewers,
                                                           {.min = 1, .max = service_params::fake_viewers_max});
    service.fake_session_bytes =
      dealing.optional<size_bytes>("session", size_bytes{service.fake_session_bytes},
                                   {.min = size_bytes{1 << 20}, .max = size_bytes{1ull << 40}})
        .value;
    service.fake_sessions_per_hour =
      dealing.optional<double>("sessions_per_hour", service.fake_sessions_per_hour, {.min = 0.1, .max = 3600.0});
    const auto balance = dealing.optional<double>(
      "fake_viewer_balance", static_cast<double>(service.fake_viewer_balance_micro) / rules::micro_per_token,
      {.min = 0.0, .max = 1e9});
    service.fake_viewer_balance_micro = static_cast<std::uint64_t>(std::llround(balance * rules::micro_per_token));
  }
  service.poisoning = section.optional<std::uint32_t>("poisoning_masternodes", service.poisoning,
                                                     {.min = 0, .max = masternodes});
  if (section.has("sybil")) {
    auto sybil = section.section("sybil");
    service.sybil = sybil.required<std::uint32_t>("identities", {.min = 2, .max = masternodes});
  }
  return service;
}

void read_costs(node_reader& section, econ::cost_model& costs) {
  auto money = [&](std::string_view key, double value) {
    return section.optional<double>(key, value, {.min = 0.0, .max = 1e9});
  };
  costs.bandwidth_per_gb = money("bandwidth_per_gb", costs.bandwidth_per_gb);
  costs.storage_per_gb_month = money("storage_per_gb_month", costs.storage_per_gb_month);
  costs.fixed_per_month = money("fixed_per_month", costs.fixed_per_month);
  costs.token_price = section.optional<double>("token_price", costs.token_price, {.min = 1e-9, .max = 1e9});
}

agent_params read_agents(node_reader& section, std::uint32_t masternodes) {
  agent_params agents;
  agents.rules.hurdle_rate = section.optional<ratio>("hurdle_rate", ratio{agents.rules.hurdle_rate}).value;
  agents.rules.loss_epochs_max =
    section.optional<std::uint32_t>("loss_epochs", agents.rules.loss_epochs_max, {.min = 1, .max = 1'000'000});
  agents.candidates = section.optional<std::uint32_t>("candidates", agents.candidates, {.min = 0, .max = masternodes});
  agents.leave = section.optional<bool>("leave", agents.leave);
  if (section.has("delegators")) {
    auto delegators = section.section("delegators");
    agents.delegators = delegators.optional<std::uint32_t>("count", 10, {.min = 0, .max = 10'000});
    const auto stake = delegators.optional<double>(
      "stake", static_cast<double>(agents.delegator_stake_micro) / rules::micro_per_token, {.min = 1e-6, .max = 1e9});
    agents.delegator_stake_micro = static_cast<std::uint64_t>(std::llround(stake * rules::micro_per_token));
    agents.delegator_margin = delegators.optional<ratio>("margin", ratio{agents.delegator_margin}).value;
  }
  if (section.has("viewer_budget")) {
    auto budget = section.section("viewer_budget");
    const auto low = budget.required<double>("min", {.min = 0.0, .max = 1e9});
    const auto high = budget.required<double>("max", {.min = 0.0, .max = 1e9});
    if (high < low)
      budget.error_at("max", fmt::format("{} is below min {}", high, low));
    agents.budget_per_gib = std::pair{low, high};
  }
  return agents;
}

std::unique_ptr<workload> make_streaming(node_reader& section) {
  streaming_params params;
  auto catalog = section.optional_section("catalog");
  params.videos = catalog.optional<std::uint32_t>("videos", params.videos, {.min = 1, .max = 100'000});
  params.video_duration = catalog.optional<virtual_time>("duration", params.video_duration, {.min = 10s, .max = 24h});
  params.bitrate_bps = static_cast<std::uint32_t>(
    catalog.optional<bandwidth_bps>("bitrate", bandwidth_bps{static_cast<double>(params.bitrate_bps)},
                                    {.min = bandwidth_bps{100e3}, .max = bandwidth_bps{100e6}})
      .value);
  params.segment_duration_ms = static_cast<std::uint32_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      catalog.optional<virtual_time>("segment_duration", std::chrono::milliseconds(params.segment_duration_ms),
                                     {.min = 500ms, .max = 10s}))
      .count());
  params.zipf_exponent = section.optional<double>("zipf_exponent", params.zipf_exponent, {.min = 0.0, .max = 5.0});
  params.content_series = section.optional<std::uint32_t>("content_series", params.content_series, {.min = 0, .max = 100});

  auto masternodes = section.optional_section("masternodes");
  params.masternodes = masternodes.optional<std::uint32_t>(
    "count", params.masternodes,
    {.min = 1, .max = static_cast<std::uint32_t>(rules::chain_limits::masternodes_active_count_max)});
  params.masternode_access = masternodes.optional<std::string>("access", params.masternode_access);
  params.masternode_stake = masternodes.optional<std::uint64_t>("stake", params.masternode_stake, {.min = 1});
  params.replication = masternodes.optional<std::uint32_t>(
    "replication", params.replication, {.min = 1, .max = static_cast<std::uint32_t>(peer::fetcher::sources_max - 1)});
  params.masternode_upload_slots = masternodes.optional<std::uint32_t>(
    "upload_slots", params.masternode_upload_slots, {.min = 1, .max = peer::choker_config::upload_slots_max});

  auto publisher = section.optional_section("publisher");
  params.publisher_access = publisher.optional<std::string>("access", params.publisher_access);

  auto viewers = section.optional_section("viewers");
  params.arrival_rate_per_second =
    viewers.optional<double>("arrival_rate", params.arrival_rate_per_second, {.min = 0.0, .max = 1e4});
  params.crowd = read_crowd(viewers, params.crowd_video);
  params.session = read_duration_distribution(viewers, "session", params.session);
  params.cache_bytes = viewers.optional<size_bytes>("cache", size_bytes{params.cache_bytes}, {.min = size_bytes{1 << 20}}).value;
  params.neighbours = viewers.optional<std::uint32_t>("neighbours", params.neighbours, {.min = 1, .max = 64});
  params.viewer_upload_slots = viewers.optional<std::uint32_t>(
    "upload_slots", params.viewer_upload_slots, {.min = 1, .max = peer::choker_config::upload_slots_max});
  params.free_rider_share = viewers.optional<ratio>("free_riders", ratio{params.free_rider_share}).value;
  params.poisoner_share = viewers.optional<ratio>("poisoners", ratio{params.poisoner_share}).value;
  params.seeking.probability_per_minute =
    viewers.optional<ratio>("seeks_per_minute", ratio{params.seeking.probability_per_minute}).value;

  auto playback = section.optional_section("playback");
  read_playback(playback, params.playback);
  if (section.has("service")) {
    auto service = section.section("service");
    params.service = read_service(service, params.masternodes);
  }
  auto costs = section.optional_section("costs");
  read_costs(costs, params.costs);
  if (section.has("agents")) {
    auto agents = section.section("agents");
    params.agents = read_agents(agents, params.masternodes);
    if (!params.service)
      agents.error("agents need the service section (they decide on the chain's returns)");
  }
  return std::make_unique<streaming_workload>(std::move(params));
}

const workload_registration registration{"streaming", make_streaming,
                                         peer::masternode_messages | peer::viewer_messages |
                                           peer::service_agent_messages};

} // namespace

} // namespace stakecast::sim
