// Video on demand over masternodes and viewer swarms (DESIGN.md, "Streaming").
//
// The catalog is `videos` virtual contents (manifests with their piece layer; no
// payload bytes). Nodes [0, masternodes) are masternodes: each hosts the contents
// that stake-weighted rendezvous placement assigns to it (replication R) and serves
// them through round-robin upload slots. The other nodes are viewers: they arrive
// (a Poisson process, plus an optional flash crowd on one video), each on a node of
// its own, pick a video by Zipf popularity, watch for a session length drawn from a
// distribution, and leave without notice. Each viewing session is a
// `peer::viewer` actor (playback scheduler, segment cache, upload queue).
//
// Placement is the chain's: `rules::assigned_masternodes` of a state whose genesis
// registers the masternodes (`masternodes.stake` each) and publishes the catalog.
// With a `service` section a `chain` workload runs beside this one: the genesis is
// the chain's (this workload adds its part as a chain_participant), masternodes are
// named by their account keys, placement follows the committed state, every viewer
// pays through a peer::receipt_signer and every masternode has a peer::service_agent
// that claims receipts and answers audits (docs/chain.md, "Paid service").
//
// Figures: `qoe.*` in summary.json (startup delay percentiles, rebuffering ratio,
// continuity index, P2P offload, duplicate bytes, masternode egress, viewers' share
// ratios) and `streaming.*` (sessions, arrivals, catalog).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/core/virtual_content.hpp"
#include "actors/peer/service.hpp"
#include "actors/peer/streaming.hpp"
#include "actors/validator/genesis.hpp"
#include "sim/econ/measures.hpp"
#include "sim/workload.hpp"
#include "sim/workloads/chain_workload.hpp"
#include "sim/workloads/distributions.hpp"

namespace stakecast::sim {

/// The paid service: viewers pay masternodes through the chain (a `chain` workload
/// in the same scenario), masternodes claim and answer audits.
struct service_params {
  /// Fake viewer accounts of one self-dealing masternode.
  static constexpr std::uint32_t fake_viewers_max = 1'000;
  /// Each viewer's account at genesis, and the deposit it opens per session.
  std::uint64_t viewer_balance_micro = 10 * rules::micro_per_token;
  std::uint64_t deposit_micro = 2 * rules::micro_per_token;
  /// Each masternode's account at genesis (it pays the fees of its claims).
  std::uint64_t masternode_balance_micro = 100 * rules::micro_per_token;
  double commission = 0.10;
  std::chrono::nanoseconds receipt_interval = std::chrono::seconds(10);
  std::chrono::nanoseconds claim_interval = std::chrono::seconds(30);
  /// Masternodes 0 .. lazy - 1 stay registered but drop their content: they fetch
  /// nothing, serve nothing and cannot answer audits.
  std::uint32_t lazy = 0;
  /// Self-dealing: the next `self_dealing` masternodes each run `fake_viewers` viewer
  /// accounts of their own that open deposits and sign receipts to them for
  /// `fake_session_bytes` never sent, `fake_sessions_per_hour` times an hour.
  std::uint32_t self_dealing = 0;
  std::uint32_t fake_viewers = 4;
  std::uint64_t fake_session_bytes = 1ull << 30;
  double fake_sessions_per_hour = 30;
  std::uint64_t fake_viewer_balance_micro = 1'000 * rules::micro_per_token;
  /// Sybil: the next `sybil` masternodes belong to one owner; the one after them is
  /// a single identity with the same total stake (sybil * masternodes.stake), the
  /// control the owner is compared with. 0: none.
  std::uint32_t sybil = 0;
  /// Poisoning: the next `poisoning` masternodes serve segments claiming a wrong root.
  std::uint32_t poisoning = 0;
};

/// Economic agents (docs/economics.md): masternode operators that join and leave on
/// their returns, and viewers with budgets.
struct agent_params {
  econ::operator_rules rules{};
  /// The last `candidates` masternodes are not registered at genesis: each registers
  /// (with masternodes.stake) at the first epoch boundary where should_join holds.
  std::uint32_t candidates = 0;
  /// Registered honest operators unbond everything after rules.loss_epochs_max losing
  /// epochs.
  bool leave = true;
  /// What a viewer will pay per GiB, drawn uniformly in [min, max] tokens; none: every
  /// viewer watches at any price.
  std::optional<std::pair<double, double>> budget_per_gib;
  /// Delegators: each delegates `delegator_stake` to a masternode at the first
  /// boundary and moves to the best one (econ::choose_target over the masternodes'
  /// last-epoch reward rates) when it beats the current one by `delegator_margin`.
  std::uint32_t delegators = 0;
  std::uint64_t delegator_stake_micro = 500 * rules::micro_per_token;
  double delegator_margin = 0.02;
};

struct streaming_params {
  // The catalog.
  std::uint32_t videos = 50;
  std::chrono::nanoseconds video_duration = std::chrono::minutes(20);
  std::uint32_t bitrate_bps = 3'000'000;
  std::uint32_t segment_duration_ms = 2'000;
  double zipf_exponent = 0.8;
  // Masternodes.
  std::uint32_t masternodes = 20;
  std::string masternode_access; // an access class of the network; empty: as drawn
  std::string publisher_access;  // the publisher's access class; empty: as masternodes'
  std::uint64_t masternode_stake = 1'000;
  std::uint32_t replication = 3;
  std::uint32_t masternode_upload_slots = 16;
  // Viewers.
  double arrival_rate_per_second = 1.0;
  std::optional<flash_crowd> crowd;
  std::uint32_t crowd_video = 0; // popularity rank of the crowd's video
  duration_distribution session = duration_distribution::lognormal(std::chrono::minutes(8), 1.0);
  std::uint64_t cache_bytes = 512ull << 20;
  std::uint32_t neighbours = 20;
  std::uint32_t viewer_upload_slots = 4;
  double free_rider_share = 0.0;
  seek_model seeking{};
  // Metrics: the most popular contents followed over time ("content.video-<rank>.*").
  std::uint32_t content_series = 5;
  scheduler::playback_config playback{};
  std::optional<service_params> service;
  /// Viewers that serve segments claiming a wrong root to their peers.
  double poisoner_share = 0.0;
  /// Costs of running a masternode: what the econ outcomes charge every masternode
  /// and what the agents decide on.
  econ::cost_model costs{0.005, 0.02, 20.0, 1.0};
  std::optional<agent_params> agents;
};

class streaming_workload final : public workload, public chain_participant {
public:
  explicit streaming_workload(streaming_params params) : params_(std::move(params)) {}

  std::string check(const scenario& config) const override;
  /// With the paid service, masternodes are named by their account keys.
  std::optional<core::node_id> node_identity(std::uint64_t seed, node_index node) const override;
  void add_to_genesis(const simulation& sim, rules::genesis& g) override;
  void on_height(const rules::state& committed) override;
  void setup(simulation& sim) override;
  void start(simulation& sim) override;
  void restart_node(simulation& sim, node_index node) override;
  void report(const simulation& sim, nlohmann::ordered_json& summary) const override;

private:
  /// What the run's service figures need of one masternode's chain record.
  struct masternode_outcome {
    rules::amount stake_at_genesis = 0;
    rules::amount stake = 0;
    rules::amount unbonded = 0; // by an agent that left
    std::optional<std::uint64_t> jailed_at; // the first height it was seen jailed
  };

  void build_catalog(const simulation& sim);
  rules::genesis standalone_genesis(const simulation& sim);
  void add_placement_parts(const simulation& sim, rules::genesis& g);
  void place_contents(const rules::state& s);
  void spawn_agent(simulation& sim, node_index node);
  std::shared_ptr<peer::delivery_meter> meter_for(const simulation& sim, node_index node,
                                                  const core::content_id& content);
  std::vector<peer::hosted_assignment> assignments_of(node_index node,
                                                      const std::vector<core::content_id>& contents) const;
  node_index viewer_end(const simulation& sim) const;
  std::string check_service(const scenario& config) const;
  const core::node_id& masternode_id(node_index node) const { return masternode_ids_[node]; }
  bool is_lazy(node_index node) const noexcept {
    return params_.service && node < params_.service->lazy;
  }
  void report_service(const simulation& sim, nlohmann::ordered_json& summary) const;
  void report_econ(const simulation& sim, nlohmann::ordered_json& summary) const;
  // Roles by masternode index (see service_params and agent_params).
  bool is_self_dealing(node_index node) const noexcept;
  bool is_sybil(node_index node) const noexcept;
  bool is_sybil_control(node_index node) const noexcept;
  bool is_candidate(node_index node) const noexcept;
  bool is_poisoning(node_index node) const noexcept;
  std::uint64_t stake_tokens_of(node_index node) const noexcept;
  std::string owner_of(node_index node) const;
  std::string role_of(node_index node) const;
  core::key_pair fake_viewer_key(std::uint64_t seed, node_index node, std::uint32_t index) const;
  void register_owners(simulation& sim);
  void schedule_fake_session(simulation& sim, node_index node, std::uint64_t count);
  void fake_session(simulation& sim, node_index node, std::uint64_t count);
  void run_agents(const rules::state& committed);
  void run_delegators(const rules::state& committed);
  core::key_pair delegator_key(std::uint64_t seed, std::uint32_t index) const;
  void spawn_masternode(simulation& sim, node_index node);
  void spawn_publisher(simulation& sim);
  node_index publisher_node() const noexcept { return params_.masternodes; }
  void arrive(simulation& sim, std::optional<std::uint32_t> video_rank);
  void schedule_next_arrival(simulation& sim);
  std::vector<peer::viewer_config::planned_seek> plan_seeks(const core::manifest& manifest,
                                                            std::chrono::nanoseconds session_length);

  streaming_params params_;
  peer::library_ptr library_;
  std::vector<core::content_id> videos_;                 // by popularity rank
  std::vector<std::vector<core::node_id>> hosts_;         // by rank: its masternodes
  std::vector<std::vector<core::content_id>> hosted_;     // by masternode node index
  std::shared_ptr<const std::map<core::content_id, core::virtual_content>> virtual_contents_;
  std::vector<core::node_id> masternode_ids_;             // by masternode index
  core::node_id publisher_id_;
  // The paid service.
  chain_workload* chain_ = nullptr;
  mutable std::optional<std::uint64_t> keys_seed_;
  mutable std::vector<std::shared_ptr<const core::key_pair>> masternode_keys_;
  std::vector<peer::masternode_actor> masternode_actors_; // by masternode index
  std::vector<masternode_outcome> outcomes_;             // by masternode index
  std::optional<zipf_popularity> popularity_;
  std::optional<core::random_generator> random_;
  node_index next_viewer_node_ = 0;
  std::uint64_t arrivals_ = 0;
  std::uint64_t arrivals_without_node_ = 0;
  // Bytes received by viewers when the flash crowd's last viewer had arrived.
  std::optional<std::pair<std::int64_t, std::int64_t>> at_crowd_end_;
  // Adversaries and agents.
  simulation* sim_ = nullptr;
  std::map<std::pair<node_index, std::uint32_t>, std::uint64_t> fake_nonces_;
  std::uint64_t fake_sessions_ = 0;
  std::vector<bool> left_;           // by masternode index: unbonded for good
  std::vector<bool> registered_;     // by masternode index: its record is on chain
  std::vector<bool> joining_;        // by masternode index: a candidate decided to join
  struct delegator_state {
    std::optional<node_index> target;
    std::optional<node_index> to_unbond; // the target it moved from, unbonded next
    std::uint64_t moves = 0;
  };
  std::vector<delegator_state> delegators_;
  std::uint64_t joins_ = 0;
  std::uint64_t leaves_ = 0;
  std::uint64_t viewers_priced_out_ = 0;
  std::uint64_t poisoners_ = 0;
  std::uint64_t free_riders_ = 0;
};

} // namespace stakecast::sim
