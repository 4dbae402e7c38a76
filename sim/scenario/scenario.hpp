// A scenario as the simulator runs it: every value parsed, checked and defaulted.
// `load_scenario` reads a YAML file strictly (docs/scenarios.md lists every key);
// anything wrong throws `config_exception` naming file, line, column and key path.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "actors/config/reader.hpp"
#include "sim/kernel.hpp"
#include "sim/network.hpp"
#include "sim/workload.hpp"

namespace stakecast::sim {

// The scenario is read with the generic config reader and its units.
using namespace stakecast::config;

struct fault_spec {
  enum class kind { crash, restart, partition, heal, link_down, link_up };

  virtual_time at{0};
  kind what = kind::crash;
  /// crash / restart: these nodes; or `count` nodes chosen at random among those up
  /// (crash) or down (restart); restart with neither restarts every crashed node.
  std::vector<node_index> nodes;
  std::uint32_t count = 0;
  /// partition: the group of every region.
  std::vector<std::uint32_t> group_of_region;
  /// link_down / link_up: the two regions.
  std::uint32_t region_a = 0;
  std::uint32_t region_b = 0;
};

struct scenario {
  static constexpr std::uint32_t nodes_max = 1'000'000;
  static constexpr std::uint64_t samples_max = 100'000;

  std::string file;
  std::string name;
  std::uint64_t seed = 1;
  virtual_time duration{0};
  std::uint32_t nodes = 0;
  virtual_time sample_interval{0};
  virtual_time clock_skew_max{0};
  network_config network;
  std::vector<double> region_shares; // one per region, summing to 1
  std::vector<double> access_shares; // one per access class, summing to 1
  std::vector<fault_spec> faults;
  std::vector<std::pair<std::string, std::shared_ptr<workload>>> workloads;
  /// The scenario as resolved: every default filled in.
  YAML::Node resolved;
};

/// A value that replaces the file's at a key path before the scenario is read (the
/// runs of a sweep, `stakecast sim --set`): `{"workloads.chain.parameters.fee_burn", "5%"}`.
struct scenario_override {
  std::string key_path;
  std::string value;
};

/// Reads and checks a scenario file. `seed_override` replaces the file's seed (and
/// is what the resolved scenario records); `overrides` replace values of the file
/// (document_reader::set_value). Throws config_exception.
scenario load_scenario(const std::string& path, std::optional<std::uint64_t> seed_override = {},
                       const std::vector<scenario_override>& overrides = {});
/// The same from text (for tests); `file_label` names it in errors.
scenario parse_scenario(const std::string& text, const std::string& file_label,
                        std::optional<std::uint64_t> seed_override = {});

} // namespace stakecast::sim
