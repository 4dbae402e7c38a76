// Block propagation by gossip among every node of the scenario, as SimBlock studies
// it: each node runs `peer::gossip` (actors/peer/gossip.hpp) over a random graph in
// which every node opens `degree` links; every `block_interval` a node chosen at
// random among those up produces a block of `block_size` bytes. The workload reports
// the distribution over blocks of the delay until 50 %, 90 % and 100 % of the nodes
// that were up at production time have the block.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/peer/gossip.hpp"
#include "sim/histogram.hpp"
#include "sim/workload.hpp"

namespace stakecast::sim {

struct gossip_params {
  std::uint32_t degree = 8;
  std::chrono::nanoseconds block_interval = std::chrono::seconds(10);
  std::uint64_t block_bytes = 1'000'000;
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(5);
  /// No block is produced in the last `drain` of the run, so blocks can finish.
  std::chrono::nanoseconds drain = std::chrono::seconds(30);
};

class gossip_workload final : public workload {
public:
  explicit gossip_workload(gossip_params params) : params_(params) {}

  void setup(simulation& sim) override;
  void start(simulation& sim) override;
  void restart_node(simulation& sim, node_index node) override;
  void report(const simulation& sim, nlohmann::ordered_json& summary) const override;

  const gossip_params& params() const noexcept { return params_; }

private:
  struct block_progress {
    std::int64_t produced_at_ns = 0;
    std::uint32_t target_nodes = 0; // nodes up at production
    std::uint32_t received = 0;
  };

  void spawn(simulation& sim, node_index node);
  void build_topology(simulation& sim);
  void produce(simulation& sim);
  void on_received(simulation& sim, std::uint64_t height);

  gossip_params params_;
  std::vector<std::vector<core::node_id>> peers_; // by node
  std::vector<peer::gossip_actor> actors_;         // by node
  std::unordered_map<std::uint64_t, block_progress> blocks_; // by height
  std::uint64_t next_height_ = 1;
  std::uint64_t blocks_complete_ = 0;
  histogram delay_to_50_;
  histogram delay_to_90_;
  histogram delay_to_100_;
};

} // namespace stakecast::sim
