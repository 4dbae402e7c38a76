#include "sim/workloads/ping_workload.hpp"

#include <caf/send.hpp>

#include "actors/config/reader.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

void ping_workload::setup(simulation& sim) {
  actors_.resize(sim.node_count());
  for (node_index node = 0; node < sim.node_count(); ++node)
    spawn(sim, node);
  sim.telemetry().listen("ping.done", [this](const core::node_id&, std::uint64_t round_trips,
                                             std::uint64_t) {
    ++pairs_done_;
    round_trips_done_ += round_trips;
  });
}

void ping_workload::spawn(simulation& sim, node_index node) {
  auto actor = sim.kernel().system().spawn(peer::ping, sim.context_of(node));
  sim.bind(node, peer::ping_messages, caf::actor_cast<caf::actor>(actor));
  actors_[node] = std::move(actor);
}

void ping_workload::start(simulation& sim) {
  for (node_index node = 0; node + 1 < sim.node_count(); node += 2)
    caf::anon_send(actors_[node], peer::start_pinging_atom::value, sim.network().id_of(node + 1),
                   params_.round_trips);
}

void ping_workload::restart_node(simulation& sim, node_index node) {
  spawn(sim, node);
}

void ping_workload::report(const simulation&, nlohmann::ordered_json& summary) const {
  auto& section = summary["ping"];
  section["pairs_done"] = pairs_done_;
  section["round_trips"] = round_trips_done_;
}

} // namespace stakecast::sim

namespace stakecast::sim {

namespace {

std::unique_ptr<workload> make_ping(node_reader& section) {
  ping_params params;
  params.round_trips = section.optional<std::uint64_t>("round_trips", params.round_trips, {.min = 1});
  return std::make_unique<ping_workload>(params);
}

const workload_registration registration{"ping", make_ping, peer::ping_messages};

} // namespace

} // namespace stakecast::sim
