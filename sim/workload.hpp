// Workloads: what happens in a simulation (block gossip, viewers, validators,
// adversaries, faults...). As in FoundationDB's test workloads, a scenario names its
// workloads, each is a small class registered by name at the bottom of its own file,
// and each has the same life cycle:
//   construct (read its section of the scenario, strictly) -> setup (spawn actors on
//   nodes) -> start (schedule first events) -> [run] -> report (checks and metrics
//   into summary.json under its name).
// A crashed node that restarts is handed back to every workload (`restart_node`).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/world/world.hpp"

namespace stakecast::config {
class node_reader;
}

namespace stakecast::sim {

class simulation;
using config::node_reader;
class histogram;
struct scenario;
using node_index = std::uint32_t;

class workload {
public:
  virtual ~workload() = default;
  /// Checks the workload's settings against the rest of the scenario (node count,
  /// access classes) once it is read: an error text, or empty.
  virtual std::string check(const scenario&) const { return {}; }
  /// The id of virtual node `node` when this workload names it (a validator is named
  /// by its Ed25519 public key, which its peers check its votes against), or nullopt
  /// for the simulator's default, SHA-256(seed, index). Asked once per node before
  /// setup; the first workload that names a node wins.
  virtual std::optional<core::node_id> node_identity(std::uint64_t /*seed*/, node_index) const {
    return std::nullopt;
  }
  virtual void setup(simulation& sim) = 0;
  virtual void start(simulation&) {}
  virtual void restart_node(simulation&, node_index) {}
  /// Adds the workload's figures to `summary` (the whole summary.json).
  virtual void report(const simulation& sim, nlohmann::ordered_json& summary) const = 0;
};

/// Builds a workload from its section of the scenario; reports problems through the
/// reader (unknown keys, wrong types, out-of-range values).
using workload_factory = std::function<std::unique_ptr<workload>(node_reader& section)>;

/// A workload as registered: how to build it, and the inbound message types its
/// actors handle (two workloads of one scenario may not handle the same type).
struct workload_kind {
  workload_factory factory;
  world::message_set handles = 0;
};

/// Registers a workload by name; called by a static `workload_registration` at the
/// bottom of the workload's file (the library is linked whole for this).
struct workload_registration {
  workload_registration(std::string name, workload_factory factory, world::message_set handles);
};

const workload_kind* find_workload(std::string_view name);

/// A histogram for a workload's report: "p<100 q>" for each of `qs`, then "count";
/// zeros when `values` is null (nothing was recorded) or empty.
nlohmann::ordered_json quantiles_json(const histogram* values, std::initializer_list<double> qs);
std::vector<std::string> workload_names();

} // namespace stakecast::sim
