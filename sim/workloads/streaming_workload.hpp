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
// Figures: `qoe.*` in summary.json (startup delay percentiles, rebuffering ratio,
// continuity index, P2P offload, duplicate bytes, masternode egress, viewers' share
// ratios) and `streaming.*` (sessions, arrivals, catalog).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/peer/streaming.hpp"
#include "sim/workload.hpp"
#include "sim/workloads/distributions.hpp"

namespace stakecast::sim {

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
};

class streaming_workload final : public workload {
public:
  explicit streaming_workload(streaming_params params) : params_(std::move(params)) {}

  std::string check(const scenario& config) const override;
  void setup(simulation& sim) override;
  void start(simulation& sim) override;
  void restart_node(simulation& sim, node_index node) override;
  void report(const simulation& sim, nlohmann::ordered_json& summary) const override;

private:
  void build_catalog(simulation& sim);
  void place_contents(simulation& sim);
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
  std::optional<zipf_popularity> popularity_;
  std::optional<core::random_generator> random_;
  node_index next_viewer_node_ = 0;
  std::uint64_t arrivals_ = 0;
  std::uint64_t arrivals_without_node_ = 0;
  // Bytes received by viewers when the flash crowd's last viewer had arrived.
  std::optional<std::pair<std::int64_t, std::int64_t>> at_crowd_end_;
};

} // namespace stakecast::sim
