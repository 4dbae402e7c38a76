// Pins down whole simulation runs: determinism (same scenario and seed give the same
// trace hash and summary, another seed another hash, on more than one scenario),
// gossip propagation within bounds, and recovery from crashes and partitions. Each
// test names its scenario (tests/scenarios/, scenarios/), its seeds, and its bounds.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"
#include "tests/support/scenarios.hpp"

using namespace stakecast;

namespace {

using test::run_scenario;
using test::source_path;

/// The summary without what depends on the machine (wall time, memory).
nlohmann::ordered_json comparable(nlohmann::ordered_json summary) {
  summary["run"].erase("wall_seconds");
  summary["run"].erase("events_per_wall_second");
  summary["run"].erase("peak_rss_bytes");
  return summary;
}

} // namespace

TEST_CASE("same scenario and seed give the same trace hash and summary but another seed does not") {
  for (const auto* scenario : {"tests/scenarios/gossip-faults.yaml", "tests/scenarios/ping-pairs.yaml",
                               "tests/scenarios/streaming-small.yaml"}) {
    INFO("scenario " << scenario);
    auto first = run_scenario(scenario);
    auto second = run_scenario(scenario);
    CHECK(first.trace_hash == second.trace_hash);
    CHECK(comparable(first.summary).dump() == comparable(second.summary).dump());
    auto other_seed = run_scenario(scenario, 12345);
    CHECK(other_seed.trace_hash != first.trace_hash);
    CHECK(other_seed.summary["run"]["seed"] == 12345);
  }
}

TEST_CASE("ping pairs complete every round trip through jitter") {
  // tests/scenarios/ping-pairs.yaml, seed 3: 100 pairs x 200 round trips, no loss.
  auto result = run_scenario("tests/scenarios/ping-pairs.yaml");
  CHECK(result.summary["ping"]["pairs_done"] == 100);
  CHECK(result.summary["ping"]["round_trips"] == 100 * 200);
  CHECK(result.summary["network"]["messages_delivered"] == 2 * 100 * 200);
}

TEST_CASE("gossip recovers from crashes and a partition") {
  // tests/scenarios/gossip-faults.yaml, seed 7: blocks every 10 s from 10 s to 200 s;
  // 30 nodes crash at 30 s and restart at 60 s; east and west are apart from 100 s
  // to 150 s (faults fire before a block produced at the same instant). A block
  // counts the nodes up when it was produced, so blocks during the crash still
  // reach all of them, and blocks after the restart reach the restarted nodes too;
  // only the five blocks of 100..140 s cannot cross the partition.
  auto result = run_scenario("tests/scenarios/gossip-faults.yaml");
  const auto& gossip = result.summary["gossip"];
  CHECK(gossip["blocks_produced"] == 20);
  CHECK(gossip["blocks_reaching_all"] == 15);
  CHECK(result.summary["network"]["dropped_partition"].get<std::uint64_t>() > 0);
  CHECK(result.summary["network"]["dropped_down"].get<std::uint64_t>() > 0);
  CHECK(result.summary["network"]["dropped_loss"].get<std::uint64_t>() > 0);
  // Blocks that reach everyone do so within 20 s even with 1 % loss.
  CHECK(gossip["delay_to_100_percent_s"]["max"].get<double>() < 20.0);
}

TEST_CASE("the shipped gossip scenario scaled down propagates every block quickly") {
  // scenarios/gossip.yaml with 2,000 nodes for 3 minutes, seed 1: 1 MB blocks over
  // residential links reach 90 % of nodes within 15 s and everyone within 60 s.
  auto config = sim::load_scenario(source_path("scenarios/gossip.yaml"));
  config.nodes = 2000;
  config.duration = std::chrono::minutes(3);
  sim::simulation run(config);
  auto result = run.run();
  REQUIRE(result.failure.empty());
  const auto& gossip = result.summary["gossip"];
  CHECK(gossip["blocks_produced"] == 11);
  CHECK(gossip["blocks_reaching_all"] == 11);
  CHECK(gossip["delay_to_90_percent_s"]["max"].get<double>() < 15.0);
  CHECK(gossip["delay_to_100_percent_s"]["max"].get<double>() < 60.0);
}

TEST_CASE("stakecast sim writes a complete run folder and the same one twice") {
  namespace fs = std::filesystem;
  const fs::path base = fs::temp_directory_path() / fmt::format("stakecast-run-{}", ::getpid());
  fs::remove_all(base);
  std::string outputs[2];
  for (int i = 0; i < 2; ++i) {
    const auto out = base / fmt::format("run{}", i);
    const auto command = fmt::format("{} sim {} --quiet --out {}", STAKECAST_BINARY,
                                     source_path("tests/scenarios/ping-pairs.yaml"), out.string());
    REQUIRE(std::system(command.c_str()) == 0);
    for (const auto* file : {"summary.json", "timeseries.csv", "scenario.resolved.yaml", "trace_hash"})
      CHECK(fs::exists(out / file));
    std::ifstream in(out / "summary.json");
    auto summary = nlohmann::ordered_json::parse(in);
    for (const auto* key : {"seed", "trace_hash", "events", "virtual_seconds", "wall_seconds",
                            "peak_rss_bytes", "nodes"})
      CHECK(summary["run"].contains(key));
    outputs[i] = comparable(summary).dump();
  }
  CHECK(outputs[0] == outputs[1]);
  // The resolved scenario is itself a valid scenario that gives the same run.
  auto resolved = sim::load_scenario((base / "run0" / "scenario.resolved.yaml").string());
  CHECK(resolved.nodes == 200);
  CHECK(resolved.network.jitter == std::chrono::milliseconds(10));
  fs::remove_all(base);
}

TEST_CASE("two workloads on the same nodes each get their own messages") {
  // Gossip and ping together on 100 nodes, seed 5: inbound messages are routed by
  // type, so neither workload steals the other's (every block reaches every node and
  // every ping pair completes).
  auto config = sim::parse_scenario(R"(name: together
seed: 5
duration: 2min
nodes: 100
network:
  regions: [{name: lan, share: 100%}]
  latency: {lan: {lan: 5ms}}
  access: [{name: link, uplink: 50Mbps, downlink: 50Mbps, share: 100%}]
workloads:
  gossip: {block_interval: 20s, block_size: 100kB, drain: 20s}
  ping: {round_trips: 50}
)",
                                    "together");
  sim::simulation run(config);
  auto result = run.run();
  REQUIRE(result.failure.empty());
  CHECK(result.summary["gossip"]["blocks_produced"] == 4);
  CHECK(result.summary["gossip"]["blocks_reaching_all"] == 4);
  CHECK(result.summary["ping"]["pairs_done"] == 50);
  CHECK(result.summary["network"]["dropped_unrouted"] == 0);
}
