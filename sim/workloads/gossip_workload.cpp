#include "sim/workloads/gossip_workload.hpp"

#include <algorithm>
#include <set>

#include <caf/send.hpp>

#include "actors/core/limits.hpp"
#include "actors/config/reader.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

namespace {

std::uint32_t threshold(std::uint32_t nodes, std::uint32_t percent) {
  return std::max<std::uint32_t>(1, (nodes * percent + 99) / 100);
}

nlohmann::ordered_json describe(const histogram& delays) {
  return {{"p50", delays.quantile(0.5)},
          {"p90", delays.quantile(0.9)},
          {"max", delays.max()},
          {"mean", delays.mean()},
          {"blocks", delays.count()}};
}

} // namespace

void gossip_workload::setup(simulation& sim) {
  build_topology(sim);
  actors_.resize(sim.node_count());
  for (node_index node = 0; node < sim.node_count(); ++node)
    spawn(sim, node);
  sim.telemetry().listen("gossip.block_received",
                         [this, &sim](const core::node_id&, std::uint64_t height, std::uint64_t) {
                           on_received(sim, height);
                         });
}

void gossip_workload::build_topology(simulation& sim) {
  // Each node opens `degree` links to distinct random others; links are two-way.
  const auto nodes = sim.node_count();
  std::vector<std::set<node_index>> adjacent(nodes);
  auto random = sim.random_for("gossip-topology");
  const auto degree = std::min<std::uint32_t>(params_.degree, nodes > 0 ? nodes - 1 : 0);
  for (node_index node = 0; node < nodes; ++node) {
    std::uint32_t opened = 0;
    for (std::uint32_t attempt = 0; opened < degree && attempt < 16 * degree; ++attempt) {
      auto other = static_cast<node_index>(random.uniform(nodes));
      if (other == node || !adjacent[node].insert(other).second)
        continue;
      adjacent[other].insert(node);
      ++opened;
    }
  }
  peers_.assign(nodes, {});
  for (node_index node = 0; node < nodes; ++node) {
    auto& peers = peers_[node];
    for (auto other : adjacent[node])
      if (peers.size() < peer::gossip_config::peers_max)
        peers.push_back(sim.network().id_of(other));
  }
}

void gossip_workload::spawn(simulation& sim, node_index node) {
  peer::gossip_config config;
  config.block_bytes = static_cast<std::uint32_t>(params_.block_bytes);
  config.request_timeout = params_.request_timeout;
  auto actor = sim.kernel().system().spawn(peer::gossip, sim.context_of(node), config);
  caf::anon_send(actor, peer::set_peers_atom::value, peers_[node]);
  sim.bind(node, peer::gossip_messages, caf::actor_cast<caf::actor>(actor));
  actors_[node] = std::move(actor);
}

void gossip_workload::start(simulation& sim) {
  auto first = params_.block_interval;
  if (first < sim.config().duration - params_.drain)
    sim.kernel().at(first, [this, &sim] { produce(sim); });
}

void gossip_workload::produce(simulation& sim) {
  auto& network = sim.network();
  std::vector<node_index> up;
  for (node_index node = 0; node < sim.node_count(); ++node)
    if (network.is_up(node))
      up.push_back(node);
  if (!up.empty()) {
    auto random = sim.random_for("gossip-producer", next_height_);
    auto producer = up[random.uniform(up.size())];
    const auto height = next_height_++;
    blocks_[height] = {sim.kernel().now().count(), static_cast<std::uint32_t>(up.size()), 0};
    caf::anon_send(actors_[producer], peer::produce_block_atom::value, height);
  }
  auto next = sim.kernel().now() + params_.block_interval;
  if (next < sim.config().duration - params_.drain)
    sim.kernel().at(next, [this, &sim] { produce(sim); });
}

void gossip_workload::on_received(simulation& sim, std::uint64_t height) {
  auto found = blocks_.find(height);
  if (found == blocks_.end())
    return;
  auto& block = found->second;
  ++block.received;
  const double delay_s =
    static_cast<double>(sim.kernel().now().count() - block.produced_at_ns) / 1e9;
  if (block.received == threshold(block.target_nodes, 50))
    delay_to_50_.record(delay_s);
  if (block.received == threshold(block.target_nodes, 90))
    delay_to_90_.record(delay_s);
  if (block.received == block.target_nodes) {
    delay_to_100_.record(delay_s);
    ++blocks_complete_;
  }
}

void gossip_workload::restart_node(simulation& sim, node_index node) {
  spawn(sim, node);
}

void gossip_workload::report(const simulation&, nlohmann::ordered_json& summary) const {
  auto& section = summary["gossip"];
  section["blocks_produced"] = next_height_ - 1;
  section["blocks_reaching_all"] = blocks_complete_;
  section["delay_to_50_percent_s"] = describe(delay_to_50_);
  section["delay_to_90_percent_s"] = describe(delay_to_90_);
  section["delay_to_100_percent_s"] = describe(delay_to_100_);
}

} // namespace stakecast::sim

namespace stakecast::sim {

namespace {

using namespace std::chrono_literals;

std::unique_ptr<workload> make_gossip(node_reader& section) {
  gossip_params params;
  params.degree = section.optional<std::uint32_t>("degree", params.degree,
                                                  {.min = 1, .max = peer::gossip_config::peers_max});
  params.block_interval = section.optional<virtual_time>("block_interval", params.block_interval, {.min = 1ms});
  params.block_bytes = section.optional<size_bytes>("block_size", size_bytes{params.block_bytes},
                                                    {.min = size_bytes{1}, .max = size_bytes{limits::payload_bytes_max}})
                         .value;
  params.request_timeout =
    section.optional<virtual_time>("request_timeout", params.request_timeout, {.min = 1ms});
  params.drain = section.optional<virtual_time>("drain", params.drain, {.min = 0ns});
  return std::make_unique<gossip_workload>(params);
}

const workload_registration registration{"gossip", make_gossip, peer::gossip_messages};

} // namespace

} // namespace stakecast::sim
