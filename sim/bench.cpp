#include "sim/bench.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>

#include <caf/all.hpp>
#include <fmt/format.h>

#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

namespace {

using wall_clock = std::chrono::steady_clock;

double seconds_since(wall_clock::time_point start) {
  return std::chrono::duration<double>(wall_clock::now() - start).count();
}

caf::behavior bare_pinger(caf::event_based_actor* self) {
  return {[self](std::uint64_t remaining) {
    if (remaining > 0)
      self->send(caf::actor_cast<caf::actor>(self->current_sender()), remaining - 1);
  }};
}

/// Bare CAF: pairs of actors bounce a counter on CAF's test_coordinator, run by the
/// same `try_run_once` loop as the kernel's.
std::pair<std::uint64_t, double> bench_bare(std::uint32_t pairs, std::uint64_t round_trips) {
  kernel clock; // the same actor system setup as a simulation
  auto& system = clock.system();
  auto& scheduler = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  for (std::uint32_t pair = 0; pair < pairs; ++pair) {
    auto a = system.spawn(bare_pinger);
    auto b = system.spawn(bare_pinger);
    caf::send_as(a, b, 2 * round_trips - 1);
  }
  std::uint64_t messages = 0;
  const auto start = wall_clock::now();
  while (scheduler.try_run_once())
    ++messages;
  return {messages, seconds_since(start)};
}

/// A benchmark scenario: one region, 1 ms apart, links so fast that only the
/// kernel's own cost shows.
std::string bench_scenario(std::string_view name, std::uint32_t nodes, std::string_view duration,
                           std::string_view workloads) {
  return fmt::format(R"(name: {}
seed: 1
duration: {}
nodes: {}
metrics: {{sample_interval: 1h}}
network:
  regions: [{{name: lan, share: 100%}}]
  latency: {{lan: {{lan: 1ms}}}}
  access: [{{name: datacenter, uplink: 100Gbps, downlink: 100Gbps, share: 100%}}]
workloads:
  {}
)",
                     name, duration, nodes, workloads);
}

std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size_pages = 0;
  std::int64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * ::sysconf(_SC_PAGESIZE);
}

int run_kernel_bench(std::uint32_t pairs, std::uint64_t round_trips) {
  auto result = bench_kernel(pairs, round_trips);
  fmt::print("{:<34} {:>12} {:>10} {:>12} {:>14}\n", "loop", "messages", "seconds", "ns/message",
             "messages/s");
  fmt::print("{:<34} {:>12} {:>10.3f} {:>12.1f} {:>14.0f}\n", "bare CAF test_coordinator ping",
             result.bare_messages, result.bare_seconds, result.bare_ns_per_message(),
             1e9 / result.bare_ns_per_message());
  fmt::print("{:<34} {:>12} {:>10.3f} {:>12.1f} {:>14.0f}\n", "kernel: ping through network",
             result.kernel_messages, result.kernel_seconds, result.kernel_ns_per_message(),
             1e9 / result.kernel_ns_per_message());
  fmt::print("kernel cost per message / bare CAF: {:.2f}x\n",
             result.kernel_ns_per_message() / result.bare_ns_per_message());
  return 0;
}

int run_nodes_bench(std::uint32_t nodes) {
  const auto before = resident_bytes();
  auto config = parse_scenario(bench_scenario("nodes-bench", nodes, "1s", "gossip: {block_interval: 1h}"),
                               "nodes-bench");
  simulation run(config);
  auto result = run.run();
  const auto after = resident_bytes();
  fmt::print("{} virtual nodes (gossip actor, network, store): {:.0f} bytes of resident memory per node\n",
             nodes, static_cast<double>(after - before) / nodes);
  return result.failure.empty() ? 0 : 1;
}

} // namespace

kernel_bench_result bench_kernel(std::uint32_t pairs, std::uint64_t round_trips) {
  kernel_bench_result result;
  std::tie(result.bare_messages, result.bare_seconds) = bench_bare(pairs, round_trips);
  auto config = parse_scenario(
    bench_scenario("kernel-bench", 2 * pairs, "1000h", fmt::format("ping: {{round_trips: {}}}", round_trips)),
    "kernel-bench");
  simulation run(config);
  const auto start = wall_clock::now();
  auto outcome = run.run();
  result.kernel_seconds = seconds_since(start);
  result.kernel_messages = run.network().stats().delivered;
  return result;
}

void add_bench_commands(CLI::App& app, int& exit_code) {
  auto* bench = app.add_subcommand("bench", "Measure the simulator");
  bench->require_subcommand(1);

  auto pairs = std::make_shared<std::uint32_t>(1000);
  auto round_trips = std::make_shared<std::uint64_t>(1000);
  auto* kernel_command = bench->add_subcommand(
    "kernel", "Kernel cost per message next to a bare CAF test_coordinator ping loop");
  kernel_command->add_option("--pairs", *pairs, "Concurrent ping-pong pairs")->check(CLI::Range(1u, 1'000'000u));
  kernel_command->add_option("--round-trips", *round_trips, "Round trips per pair")
    ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  kernel_command->callback([=, &exit_code] { exit_code = run_kernel_bench(*pairs, *round_trips); });

  auto nodes = std::make_shared<std::uint32_t>(10'000);
  auto* nodes_command = bench->add_subcommand("nodes", "Resident memory per virtual node");
  nodes_command->add_option("--nodes", *nodes, "Virtual nodes")->check(CLI::Range(1u, 1'000'000u));
  nodes_command->callback([=, &exit_code] { exit_code = run_nodes_bench(*nodes); });
}

} // namespace stakecast::sim
