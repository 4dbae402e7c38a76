#include "sim/scenario/scenario.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "actors/config/reader.hpp"

namespace stakecast::sim {

namespace {

using namespace std::chrono_literals;

constexpr virtual_time duration_max = std::chrono::hours(24 * 365);
constexpr std::size_t regions_max = 64;
constexpr std::size_t access_classes_max = 64;
constexpr std::size_t faults_max = 10'000;
constexpr double share_sum_tolerance = 1e-6;

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names)
    joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

/// Reads `name` and `share` of every item; checks unique names and shares summing to
/// 100 %. Returns the shares; fills `names`.
std::vector<double> read_named_shares(node_reader& parent, std::string_view key,
                                      std::vector<node_reader>& items,
                                      std::vector<std::string>& names) {
  std::vector<double> shares;
  double sum = 0;
  for (auto& item : items) {
    auto name = item.required<std::string>("name");
    if (name.empty())
      item.error_at("name", "must not be empty");
    else if (std::find(names.begin(), names.end(), name) != names.end())
      item.error_at("name", fmt::format("'{}' is used twice", name));
    names.push_back(name);
    // 0% is allowed: a class that only a workload gives to its nodes (masternodes
    // in a data centre), which no node is drawn into.
    auto share = item.required<ratio>("share", {.min = ratio{0.0}, .max = ratio{1.0}});
    shares.push_back(share.value);
    sum += share.value;
  }
  if (!items.empty() && std::abs(sum - 1.0) > share_sum_tolerance)
    parent.error_at(key,
                    fmt::format("shares must add up to 100%, they add up to {:.6g}%", 100.0 * sum));
  return shares;
}

std::uint32_t region_index(const std::vector<std::string>& regions, const std::string& name) {
  auto found = std::find(regions.begin(), regions.end(), name);
  return static_cast<std::uint32_t>(found - regions.begin());
}

void read_latency(node_reader& network, scenario& result) {
  const auto& regions = result.network.regions;
  const auto count = regions.size();
  std::vector<std::vector<std::optional<virtual_time>>> latency(
      count, std::vector<std::optional<virtual_time>>(count));
  auto table = network.section("latency");
  for (auto& from : table.entries()) {
    auto from_index = region_index(regions, from.key);
    if (from_index == count) {
      table.error_at(from.key,
                     fmt::format("'{}' is not a region (regions: {})", from.key, join(regions)));
      continue;
    }
    for (auto& to : from.value.entries()) {
      auto to_index = region_index(regions, to.key);
      auto value = to.value.as<virtual_time>({.min = 0ns, .max = 1h});
      if (to_index == count) {
        from.value.error_at(
            to.key, fmt::format("'{}' is not a region (regions: {})", to.key, join(regions)));
        continue;
      }
      latency[from_index][to_index] = value;
    }
  }
  result.network.latency.assign(count, std::vector<virtual_time>(count));
  for (std::size_t a = 0; a < count; ++a) {
    for (std::size_t b = 0; b < count; ++b) {
      // A pair given once holds both ways; given both ways, each way as given.
      auto value = latency[a][b] ? latency[a][b] : latency[b][a];
      if (!value) {
        if (a <= b)
          network.error_at("latency",
                           fmt::format("no latency between {} and {}", regions[a], regions[b]));
        continue;
      }
      result.network.latency[a][b] = *value;
    }
  }
}

void read_network(node_reader& root, scenario& result) {
  auto network = root.section("network");
  auto regions = network.list("regions", {.min = 1, .max = regions_max});
  result.region_shares = read_named_shares(network, "regions", regions, result.network.regions);
  if (!result.network.regions.empty())
    read_latency(network, result);
  result.network.jitter = network.optional<virtual_time>("jitter", 0ns, {.min = 0ns, .max = 10s});
  result.network.loss = network.optional<ratio>("loss", ratio{0.0}).value;
  auto access = network.list("access", {.min = 1, .max = access_classes_max});
  std::vector<std::string> names;
  result.access_shares = read_named_shares(network, "access", access, names);
  for (std::size_t i = 0; i < access.size(); ++i) {
    const bounds<bandwidth_bps> positive{.min = bandwidth_bps{1.0}};
    auto uplink = access[i].required<bandwidth_bps>("uplink", positive);
    auto downlink = access[i].required<bandwidth_bps>("downlink", positive);
    result.network.access_classes.push_back({names[i], uplink.value, downlink.value});
  }
}

std::vector<node_index> read_nodes(node_reader& section, const scenario& result) {
  std::vector<node_index> nodes;
  for (auto& item : section.optional_list("nodes", {.max = scenario::nodes_max})) {
    auto node = item.as<std::uint32_t>();
    if (result.nodes > 0 && node >= result.nodes)
      item.error(
          fmt::format("node {} does not exist (the scenario has {} nodes)", node, result.nodes));
    nodes.push_back(node);
  }
  return nodes;
}

void read_node_fault(node_reader& section, fault_spec& fault, const scenario& result) {
  fault.nodes = read_nodes(section, result);
  fault.count = section.optional<std::uint32_t>("count", 0, {.max = scenario::nodes_max});
  if (!fault.nodes.empty() && fault.count != 0)
    section.error("give either nodes or count, not both");
  // Restarting "every crashed node" is a useful default; crashing every node is not.
  if (fault.what == fault_spec::kind::crash && fault.nodes.empty() && fault.count == 0)
    section.error("a crash needs nodes or a count of nodes");
}

void read_partition(node_reader& section, fault_spec& fault, const scenario& result) {
  const auto& regions = result.network.regions;
  fault.group_of_region.assign(regions.size(), 0);
  std::vector<int> seen(regions.size(), 0);
  std::uint32_t group = 0;
  for (auto& members : section.list("groups", {.min = 2, .max = regions_max})) {
    for (auto& member : members.items({.min = 1})) {
      auto name = member.as<std::string>();
      auto index = region_index(regions, name);
      if (index == regions.size()) {
        member.error(fmt::format("'{}' is not a region (regions: {})", name, join(regions)));
        continue;
      }
      fault.group_of_region[index] = group;
      ++seen[index];
    }
    ++group;
  }
  for (std::size_t i = 0; i < regions.size(); ++i)
    if (seen[i] != 1 && group >= 2)
      section.error_at("groups", fmt::format("region {} must be in exactly one group, it is in {}",
                                             regions[i], seen[i]));
}

void read_link(node_reader& section, fault_spec& fault, const scenario& result) {
  const auto& regions = result.network.regions;
  auto ends = section.list("between", {.min = 2, .max = 2});
  std::uint32_t indices[2] = {0, 0};
  for (std::size_t i = 0; i < ends.size() && i < 2; ++i) {
    auto name = ends[i].as<std::string>();
    indices[i] = region_index(regions, name);
    if (indices[i] == regions.size()) {
      ends[i].error(fmt::format("'{}' is not a region (regions: {})", name, join(regions)));
      indices[i] = 0;
    }
  }
  fault.region_a = indices[0];
  fault.region_b = indices[1];
}

void read_fault(node_reader& item, scenario& result) {
  using kind = fault_spec::kind;
  static const std::pair<std::string_view, kind> kinds[] = {
      {"crash", kind::crash}, {"restart", kind::restart},     {"partition", kind::partition},
      {"heal", kind::heal},   {"link_down", kind::link_down}, {"link_up", kind::link_up},
  };
  fault_spec fault;
  fault.at = item.required<virtual_time>("at", {.min = 0ns});
  if (result.duration.count() > 0 && fault.at >= result.duration)
    item.error_at("at", "must be before the end of the run (duration)");
  std::vector<std::string_view> present;
  for (const auto& [name, what] : kinds)
    if (item.has(name)) {
      present.push_back(name);
      fault.what = what;
    }
  if (present.size() != 1) {
    item.error("a fault needs exactly one of crash, restart, partition, heal, link_down, link_up");
    return;
  }
  auto section = item.section(present.front());
  switch (fault.what) {
    case kind::crash:
    case kind::restart:
      read_node_fault(section, fault, result);
      break;
    case kind::partition:
      read_partition(section, fault, result);
      break;
    case kind::heal:
      break;
    case kind::link_down:
    case kind::link_up:
      read_link(section, fault, result);
      break;
  }
  result.faults.push_back(std::move(fault));
}

void read_workloads(node_reader& root, scenario& result) {
  auto workloads = root.section("workloads");
  auto entries = workloads.entries();
  if (entries.empty())
    root.error_at("workloads",
                  fmt::format("name at least one workload ({})", join(workload_names())));
  world::message_set handled = 0;
  for (auto& entry : entries) {
    const auto* kind = find_workload(entry.key);
    if (kind == nullptr) {
      workloads.error_at(entry.key, fmt::format("unknown workload '{}' (workloads: {})", entry.key,
                                                join(workload_names())));
      continue;
    }
    if ((handled & kind->handles) != 0)
      workloads.error_at(entry.key, fmt::format("workload '{}' handles messages that another "
                                                "workload of this scenario handles already",
                                                entry.key));
    handled |= kind->handles;
    result.workloads.emplace_back(entry.key, kind->factory(entry.value));
    if (auto problem = result.workloads.back().second->check(result); !problem.empty())
      workloads.error_at(entry.key, problem);
  }
}

void read_root(node_reader& root, scenario& result, std::optional<std::uint64_t> seed_override) {
  result.name = root.optional<std::string>("name", result.name);
  // The name becomes the default run folder's name: keep it a plain file name.
  const bool plain =
      !result.name.empty() && result.name.front() != '.' &&
      std::all_of(result.name.begin(), result.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!plain)
    root.error_at("name", "must be letters, digits, '-', '_' or '.', not starting with '.'");
  result.seed = root.optional<std::uint64_t>("seed", 1);
  if (seed_override)
    result.seed = *seed_override;
  result.duration = root.required<virtual_time>("duration", {.min = 1ns, .max = duration_max});
  result.nodes = root.required<std::uint32_t>("nodes", {.min = 1, .max = scenario::nodes_max});
  result.clock_skew_max = root.optional<virtual_time>("clock_skew", 0ns, {.min = 0ns, .max = 1h});
  read_network(root, result);
  auto metrics = root.optional_section("metrics");
  result.sample_interval = metrics.optional<virtual_time>("sample_interval", 10s, {.min = 1ms});
  if (result.sample_interval.count() > 0 && result.duration / result.sample_interval + 2 >
                                                static_cast<std::int64_t>(scenario::samples_max))
    metrics.error_at("sample_interval",
                     fmt::format("gives more than {} samples over the run", scenario::samples_max));
  for (auto& item : root.optional_list("faults", {.max = faults_max}))
    read_fault(item, result);
  std::stable_sort(result.faults.begin(), result.faults.end(),
                   [](const fault_spec& a, const fault_spec& b) { return a.at < b.at; });
  read_workloads(root, result);
}

scenario read(document_reader document, std::optional<std::uint64_t> seed_override) {
  scenario result;
  result.file = document.file();
  result.name = std::filesystem::path(document.file()).stem().string();
  auto root = document.root();
  read_root(root, result, seed_override);
  document.finish();
  result.resolved = document.resolved();
  if (seed_override)
    result.resolved["seed"] = *seed_override;
  return result;
}

} // namespace

scenario load_scenario(const std::string& path, std::optional<std::uint64_t> seed_override,
                       const std::vector<scenario_override>& overrides) {
  document_reader document = document_reader::load_file(path);
  for (const auto& change : overrides)
    document.set_value(change.key_path, change.value);
  return read(std::move(document), seed_override);
}

scenario parse_scenario(const std::string& text, const std::string& file_label,
                        std::optional<std::uint64_t> seed_override) {
  return read(document_reader::load_string(text, file_label), seed_override);
}

} // namespace stakecast::sim
