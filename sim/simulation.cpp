#include "sim/simulation.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cassert>
#include <chrono>

#include <caf/send.hpp>

#include "actors/core/sha256.hpp"

namespace stakecast::sim {

namespace {

/// An index drawn with probability proportional to its share; never one of share 0.
/// REQUIRES: some share is positive.
std::uint32_t weighted_choice(core::random_generator& random, const std::vector<double>& shares) {
  double draw = random.uniform_real();
  std::uint32_t last_positive = 0;
  for (std::uint32_t i = 0; i < shares.size(); ++i) {
    if (shares[i] <= 0.0)
      continue;
    if (draw < shares[i])
      return i;
    draw -= shares[i];
    last_positive = i;
  }
  return last_positive; // rounding left the draw just above the sum
}

core::node_id node_id_for(std::uint64_t seed, node_index node) {
  // Virtual nodes are named like real ones: by a 32-byte key derived from the run's
  // seed, so the same seed gives the same ids.
  std::uint64_t words[2] = {seed, node};
  return core::sha256({reinterpret_cast<const std::uint8_t*>(words), sizeof(words)});
}

double seconds(virtual_time t) {
  return std::chrono::duration<double>(t).count();
}

} // namespace

world::utc_time simulation::node_clock::now_utc() const {
  return world::utc_time{std::chrono::seconds(genesis_utc_seconds) + kernel->now() +
                         std::chrono::nanoseconds(skew_ns)};
}

simulation::simulation(const scenario& config)
  : config_(config),
    kernel_(std::make_unique<sim::kernel>()),
    telemetry_(std::make_unique<sim::telemetry>(*kernel_)),
    network_(std::make_unique<sim::network>(*kernel_, config.network,
                                            core::derive_seed(config.seed, "network"), *telemetry_)),
    fault_random_(core::derive_seed(config.seed, "faults")) {
  create_nodes();
}

simulation::~simulation() {
  for (auto& node : nodes_)
    for (auto& actor : node.actors)
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  kernel_->run_ready();
}

void simulation::create_nodes() {
  auto placement = random_for("placement");
  auto skews = random_for("clock-skew");
  const auto skew_max = config_.clock_skew_max.count();
  nodes_.resize(config_.nodes);
  for (node_index node = 0; node < config_.nodes; ++node) {
    auto region = weighted_choice(placement, config_.region_shares);
    auto access = weighted_choice(placement, config_.access_shares);
    network_->add_node(identity_of(node), region, access);
    auto& state = nodes_[node];
    state.store = std::make_unique<storage::memory_store>();
    state.wall_clock.kernel = kernel_.get();
    if (skew_max > 0)
      state.wall_clock.skew_ns =
        static_cast<std::int64_t>(skews.uniform(2 * static_cast<std::uint64_t>(skew_max) + 1)) - skew_max;
  }
}

core::node_id simulation::identity_of(node_index node) const {
  for (const auto& [name, workload] : config_.workloads)
    if (auto id = workload->node_identity(config_.seed, node))
      return *id;
  return node_id_for(config_.seed, node);
}

world::node_context simulation::context_of(node_index node) {
  auto& state = nodes_[node];
  world::node_context context;
  context.id = network_->id_of(node);
  context.seed = core::derive_seed(config_.seed, "node", node);
  context.wall_clock = &state.wall_clock;
  context.network = &network_->transport_of(node);
  context.storage = state.store.get();
  context.telemetry = telemetry_.get();
  return context;
}

core::random_generator simulation::random_for(std::string_view label, std::uint64_t index) const {
  return core::random_generator{core::derive_seed(config_.seed, label, index)};
}

void simulation::attach(node_index node, caf::actor actor) {
  nodes_[node].actors.push_back(std::move(actor));
}

void simulation::bind(node_index node, world::message_set types, caf::actor receiver) {
  network_->bind(node, types, caf::actor_cast<caf::strong_actor_ptr>(receiver));
  attach(node, std::move(receiver));
}

void simulation::crash(node_index node) {
  if (!network_->is_up(node))
    return;
  network_->crash(node);
  for (auto& actor : nodes_[node].actors)
    caf::anon_send_exit(actor, caf::exit_reason::kill);
  nodes_[node].actors.clear();
}

void simulation::restart(node_index node) {
  if (network_->is_up(node))
    return;
  network_->restart(node);
  for (auto& [name, workload] : config_.workloads)
    workload->restart_node(*this, node);
}

void simulation::apply_fault(const fault_spec& fault) {
  using kind = fault_spec::kind;
  auto pick = [&](bool want_up) {
    std::vector<node_index> candidates;
    for (node_index node = 0; node < node_count(); ++node)
      if (network_->is_up(node) == want_up)
        candidates.push_back(node);
    if (fault.count == 0 && fault.nodes.empty())
      return candidates;
    if (!fault.nodes.empty())
      return fault.nodes;
    std::vector<node_index> chosen;
    for (std::uint32_t i = 0; i < fault.count && !candidates.empty(); ++i) {
      auto at = fault_random_.uniform(candidates.size());
      chosen.push_back(candidates[at]);
      candidates[at] = candidates.back();
      candidates.pop_back();
    }
    return chosen;
  };
  switch (fault.what) {
    case kind::crash:
      for (auto node : pick(true))
        crash(node);
      break;
    case kind::restart:
      for (auto node : pick(false))
        restart(node);
      break;
    case kind::partition:
      network_->partition(fault.group_of_region);
      break;
    case kind::heal:
      network_->heal();
      break;
    case kind::link_down:
    case kind::link_up:
      network_->set_link(fault.region_a, fault.region_b, fault.what == kind::link_up);
      break;
  }
  auto fault_event = telemetry_->event_kind("sim.fault");
  telemetry_->event(fault_event, core::node_id{}, static_cast<std::uint64_t>(fault.what),
                    fault.count);
}

void simulation::schedule_faults() {
  for (const auto& fault : config_.faults)
    kernel_->at(fault.at, [this, &fault] { apply_fault(fault); });
}

void simulation::schedule_sample(virtual_time at) {
  kernel_->at(at, [this, at] {
    telemetry_->sample(at);
    auto next = at + config_.sample_interval;
    if (next < config_.duration)
      schedule_sample(next);
  });
}

run_result simulation::run(const std::function<void(virtual_time now)>& progress) {
  const auto wall_start = std::chrono::steady_clock::now();
  for (auto& [name, workload] : config_.workloads)
    workload->setup(*this);
  for (auto& [name, workload] : config_.workloads)
    workload->start(*this);
  schedule_faults();
  schedule_sample(virtual_time{0});
  run_result result;
  result.failure = kernel_->run_until(config_.duration, [&] {
    if (progress)
      progress(kernel_->now());
  });
  telemetry_->sample(kernel_->now());
  const double wall_seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.summary = summarize(wall_seconds);
  result.time_series_csv = telemetry_->time_series_csv();
  result.trace_hash = telemetry_->trace().to_hex();
  return result;
}

nlohmann::ordered_json simulation::summarize(double wall_seconds) const {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto& stats = kernel_->stats();
  const auto& net = network_->stats();
  nlohmann::ordered_json summary;
  auto& run = summary["run"];
  run["scenario"] = config_.name;
  run["seed"] = config_.seed;
  run["trace_hash"] = telemetry_->trace().to_hex();
  run["events"] = stats.events();
  run["actor_jobs"] = stats.messages;
  run["timers_fired"] = stats.timers;
  run["world_events"] = stats.world_events;
  run["nodes"] = node_count();
  run["virtual_seconds"] = seconds(kernel_->now());
  run["wall_seconds"] = wall_seconds;
  run["events_per_wall_second"] = wall_seconds > 0 ? static_cast<double>(stats.events()) / wall_seconds : 0.0;
  run["peak_rss_bytes"] = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
  auto& network = summary["network"];
  network["messages_sent"] = net.sent;
  network["messages_delivered"] = net.delivered;
  network["bytes_sent"] = net.bytes_sent;
  network["bytes_delivered"] = net.bytes_delivered;
  network["dropped_loss"] = net.dropped_loss;
  network["dropped_partition"] = net.dropped_partition;
  network["dropped_down"] = net.dropped_down;
  network["dropped_unknown"] = net.dropped_unknown;
  network["dropped_unrouted"] = net.dropped_unrouted;
  auto& counters = summary["counters"];
  for (const auto& [name, value] : telemetry_->counters())
    counters[name] = value;
  for (const auto& [name, workload] : config_.workloads)
    workload->report(*this, summary);
  return summary;
}

} // namespace stakecast::sim
