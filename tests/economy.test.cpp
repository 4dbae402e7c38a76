// The paid service end to end in the simulator: the chain's genesis registers the
// masternodes and publishes the catalog, placement comes from chain state, viewers
// open deposits and sign receipts for verified bytes, masternodes claim them and
// answer audits (actors/peer/service.hpp, the `service` section of the streaming
// workload). Each test runs tests/scenarios/economy-small.yaml in process and fails
// on a bound.
#include <catch2/catch.hpp>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "sim/scenario/scenario.hpp"
#include "tests/support/scenarios.hpp"

using namespace stakecast;
using test::u64;

namespace {

constexpr const char* economy_small = "tests/scenarios/economy-small.yaml";

} // namespace

TEST_CASE("a lazy masternode is slashed and jailed within an epoch and honest ones never",
          "[economy][sim]") {
  // 1 min epochs, audit window 30 blocks: the lazy masternode's first challenges come
  // at the first boundary (height 60) and expire by height 90. Seeds 7 and 8.
  for (std::uint64_t seed : {7, 8}) {
    INFO("seed " << seed);
    const auto result = test::run_scenario(economy_small, seed);
    const auto& service = result.summary["service"];
    const auto& chain = result.summary["chain"];
    CHECK(chain["safety_violations"] == 0);
    CHECK(chain["supply_invariant_ok"] == true);
    CHECK(service["lazy_jailed"] == 1);
    CHECK(u64(service["lazy_slashed"]) > 0);
    CHECK(service["honest_jailed"] == 0);
    CHECK(service["honest_slashed"] == 0);
    REQUIRE(service["masternodes"].size() >= 1);
    const auto& lazy = service["masternodes"][0];
    CHECK(lazy["lazy"] == true);
    REQUIRE(lazy["jailed_at_height"].is_number());
    CHECK(u64(lazy["jailed_at_height"]) <= 2 * 60);
    // Honest masternodes answered every challenge they were set.
    CHECK(u64(service["audits_answered"]) > 0);
    CHECK(u64(chain["slashed"]) == u64(service["lazy_slashed"]));
  }
}

TEST_CASE("viewers' receipts are claimed and pay masternodes with the burn", "[economy][sim]") {
  const auto result = test::run_scenario(economy_small);
  const auto& service = result.summary["service"];
  const auto& chain = result.summary["chain"];
  const auto& streaming = result.summary["streaming"];
  CHECK(u64(streaming["sessions_started"]) >= 40);
  CHECK(streaming["startup_failures"] == 0);
  CHECK(u64(service["receipts_signed"]) > 0);
  // Receipts go over the simulated network; a few are in flight at the end.
  CHECK(u64(service["receipts_received"]) >= u64(service["receipts_signed"]) * 9 / 10);
  CHECK(service["receipts_refused"] == 0);
  CHECK(u64(service["receipts_claimed"]) > 0);
  CHECK(u64(chain["receipts_paid"]) > 0);
  // fee_burn (10 %) of every payment is burned, rounded down per receipt.
  CHECK(u64(chain["burned"]) + u64(service["receipts_claimed"]) >= u64(chain["receipts_paid"]) / 10);
  CHECK(u64(chain["rewards_masternodes"]) > 0);
  CHECK(u64(chain["rewards_validators"]) > 0);
  CHECK(result.summary["qoe"]["rebuffer_ratio"].get<double>() <= 0.01);
}

TEST_CASE("the paid service replays to the same trace hash", "[economy][sim]") {
  const auto first = test::run_scenario(economy_small, 9);
  const auto second = test::run_scenario(economy_small, 9);
  CHECK(first.trace_hash == second.trace_hash);
  CHECK(first.summary["service"] == second.summary["service"]);
}

TEST_CASE("a service section without a chain workload is refused by name", "[economy][sim]") {
  const std::string text = R"(name: no-chain
seed: 1
duration: 1min
nodes: 10
network:
  regions: [{name: east, share: 100%}]
  latency: {east: {east: 10ms}}
  access: [{name: cable, uplink: 10Mbps, downlink: 100Mbps, share: 100%}]
workloads:
  streaming:
    catalog: {videos: 2, duration: 1min}
    masternodes: {count: 2, replication: 1}
    service: {deposit: 1}
)";
  try {
    sim::parse_scenario(text, "no-chain.yaml");
    FAIL("the scenario was accepted");
  } catch (const std::exception& error) {
    CHECK_THAT(error.what(), Catch::Contains("service needs a chain workload"));
  }
}
