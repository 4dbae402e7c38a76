// One simulation run: the kernel, the network, the virtual nodes and the workloads
// of a scenario. Workloads use it to reach nodes (`context_of`), to spawn actors on
// them (`attach`, `bind`), to draw randomness (`random_for`) and to schedule
// events on the kernel. Faults (crash, restart, partition, heal, links) are
// scheduled from the scenario.
//
// Single-threaded. Owns everything a node's actors point to, and outlives them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/core/random.hpp"
#include "actors/storage/memory_store.hpp"
#include "actors/world/world.hpp"
#include "sim/kernel.hpp"
#include "sim/network.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/telemetry.hpp"

namespace stakecast::sim {

/// The result of a run, as summary.json reports it.
struct run_result {
  nlohmann::ordered_json summary;
  std::string time_series_csv;
  std::string trace_hash;
  std::string failure; // empty when the run completed
};

class simulation {
public:
  /// Agreed wall time of virtual time 0 (2026-01-01T00:00:00Z).
  static constexpr std::int64_t genesis_utc_seconds = 1'767'225'600;

  /// REQUIRES: `config` outlives the simulation and is run by no other simulation:
  /// its workloads hold this run's state (load the scenario again for another run).
  explicit simulation(const scenario& config);
  ~simulation();
  simulation(const simulation&) = delete;
  simulation& operator=(const simulation&) = delete;

  const scenario& config() const noexcept { return config_; }
  sim::kernel& kernel() noexcept { return *kernel_; }
  const sim::kernel& kernel() const noexcept { return *kernel_; }
  sim::network& network() noexcept { return *network_; }
  const sim::network& network() const noexcept { return *network_; }
  sim::telemetry& telemetry() noexcept { return *telemetry_; }
  const sim::telemetry& telemetry() const noexcept { return *telemetry_; }

  std::uint32_t node_count() const noexcept { return static_cast<std::uint32_t>(nodes_.size()); }
  world::node_context context_of(node_index node);
  /// A generator for `label` (and `index`), derived from the run's seed.
  core::random_generator random_for(std::string_view label, std::uint64_t index = 0) const;

  /// Records an actor of `node`, killed when the node crashes.
  void attach(node_index node, caf::actor actor);
  /// Makes `receiver` the receiver of the node's inbound messages whose type is in
  /// `types` (and attaches it). REQUIRES: no other actor of the node handles them
  /// (scenarios are checked for this when they are read).
  void bind(node_index node, world::message_set types, caf::actor receiver);

  void crash(node_index node);
  void restart(node_index node);

  /// Runs the scenario to its end. `progress(now)` is called now and then.
  run_result run(const std::function<void(virtual_time now)>& progress = {});

private:
  struct node_clock final : world::clock {
    const sim::kernel* kernel = nullptr;
    std::int64_t skew_ns = 0;
    world::utc_time now_utc() const override;
  };
  struct virtual_node {
    std::vector<caf::actor> actors;
    std::unique_ptr<storage::memory_store> store;
    node_clock wall_clock;
  };

  void create_nodes();
  core::node_id identity_of(node_index node) const;
  void schedule_faults();
  void apply_fault(const fault_spec& fault);
  void schedule_sample(virtual_time at);
  nlohmann::ordered_json summarize(double wall_seconds) const;

  const scenario& config_;
  std::unique_ptr<sim::kernel> kernel_;
  std::unique_ptr<sim::telemetry> telemetry_;
  std::unique_ptr<sim::network> network_;
  std::vector<virtual_node> nodes_;
  core::random_generator fault_random_;
};

} // namespace stakecast::sim
