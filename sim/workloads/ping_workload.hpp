// Pairs of nodes ping each other: node 2k pings node 2k+1 `round_trips` times, one
// ping in flight per pair. The load for measuring the kernel's cost per message.
#pragma once

#include <cstdint>
#include <vector>

#include "actors/peer/ping.hpp"
#include "sim/workload.hpp"

namespace stakecast::sim {

struct ping_params {
  std::uint64_t round_trips = 1000;
};

class ping_workload final : public workload {
public:
  explicit ping_workload(ping_params params) : params_(params) {}

  void setup(simulation& sim) override;
  void start(simulation& sim) override;
  void restart_node(simulation& sim, node_index node) override;
  void report(const simulation& sim, nlohmann::ordered_json& summary) const override;

private:
  void spawn(simulation& sim, node_index node);

  ping_params params_;
  std::vector<peer::ping_actor> actors_;
  std::uint64_t pairs_done_ = 0;
  std::uint64_t round_trips_done_ = 0;
};

} // namespace stakecast::sim
