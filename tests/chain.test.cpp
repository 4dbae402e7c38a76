// Pins down the chain in the simulator: validators running the real consensus engine
// and ledger rules as virtual nodes (actors/validator/validator.hpp, the `chain`
// workload). Each test runs a scenario of tests/scenarios/ in process, names its
// seeds, and fails on a bound: no two honest validators commit different blocks or
// reach different state roots at a height, the supply invariant holds, the height
// advances at a floor, commits stop without a 2/3 side and resume after the heal,
// crashed validators catch up, equivocators are slashed once each and nobody else,
// and a seed replays to the same trace hash.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"
#include "tests/support/scenarios.hpp"

using namespace stakecast;

namespace {

using test::run_scenario;
using test::source_path;

/// The sampled values of counter `name`, by sample time in whole seconds.
std::map<std::int64_t, std::int64_t> series(const std::string& csv, const std::string& name) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream columns(line);
  for (std::string cell; std::getline(columns, cell, ',');)
    header.push_back(cell);
  std::size_t column = 0;
  while (column < header.size() && header[column] != name)
    ++column;
  REQUIRE(column < header.size());
  std::map<std::int64_t, std::int64_t> out;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');)
      cells.push_back(cell);
    out[static_cast<std::int64_t>(std::stod(cells.at(0)))] = std::stoll(cells.at(column));
  }
  return out;
}

/// What every chain run must satisfy, whatever its faults.
void check_invariants(const nlohmann::ordered_json& chain) {
  CHECK(chain["safety_violations"] == 0);
  CHECK(chain["state_root_mismatches"] == 0);
  CHECK(chain["supply_invariant_ok"] == true);
  CHECK(chain["honest_tombstoned"] == 0);
  CHECK(chain["honest_slashed"] == 0);
  CHECK(chain["invariants_broken"].empty());
}

} // namespace

TEST_CASE("four validators stay safe and live over several seeds", "[chain][sim]") {
  // tests/scenarios/chain-small.yaml (4 validators, 1 s blocks, 1 % loss, 5 transfers
  // per second for 2 min), seeds 1..4. Bounds: at least 100 of the 120 possible
  // heights, every honest validator within 2 of the top, 90 % of transfers committed.
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    INFO("seed " << seed);
    const auto result = run_scenario("tests/scenarios/chain-small.yaml", seed);
    const auto& chain = result.summary["chain"];
    check_invariants(chain);
    CHECK(chain["height"].get<std::uint64_t>() >= 100);
    CHECK(chain["height_min_honest"].get<std::uint64_t>() + 2 >=
          chain["height"].get<std::uint64_t>());
    CHECK(chain["txs_committed"].get<double>() >= 0.9 * chain["transfers_submitted"].get<double>());
    CHECK(chain["minted"].get<std::uint64_t>() > 0);
  }
}

TEST_CASE("the chain goes on with f crashed validators and they catch up after restart",
          "[chain][sim]") {
  // tests/scenarios/chain-crash.yaml, seed 11: 7 validators, nodes 1 and 2 (f = 2) down
  // from 20 s to 60 s. They sit next to each other in the proposer rotation, so each
  // cycle of 7 heights loses ~20 s to propose timeouts (rounds 1 and 2 of one height,
  // round 1 of the next; 9 heights were seen). Bounds: at least 5 heights in the 30 s
  // from 25 s to 55 s; at the end (2 min) at least 80 heights and the restarted
  // validators within 2 of the top.
  const auto result = run_scenario("tests/scenarios/chain-crash.yaml");
  const auto& chain = result.summary["chain"];
  check_invariants(chain);
  const auto height = series(result.time_series_csv, "chain.height");
  CHECK(height.at(55) - height.at(25) >= 5);
  CHECK(chain["height"].get<std::uint64_t>() >= 80);
  CHECK(chain["height_min_honest"].get<std::uint64_t>() + 2 >=
        chain["height"].get<std::uint64_t>());
  CHECK(result.summary["counters"]["chain.sync.blocks"].get<std::int64_t>() > 0);
}

TEST_CASE("a partition without a 2/3 side halts commits and they resume after the heal",
          "[chain][sim]") {
  // tests/scenarios/chain-partition.yaml, seed 5: 4 validators, two per region; the
  // regions are apart from 30 s to 60 s. Bounds: the height sampled at 35 s equals the
  // one at 60 s (nothing commits while apart), and at least 20 heights follow by 100 s.
  const auto result = run_scenario("tests/scenarios/chain-partition.yaml");
  const auto& chain = result.summary["chain"];
  check_invariants(chain);
  const auto height = series(result.time_series_csv, "chain.height");
  CHECK(height.at(30) >= 20);
  CHECK(height.at(35) == height.at(60));
  CHECK(height.at(100) - height.at(60) >= 20);
  CHECK(result.summary["network"]["dropped_partition"].get<std::uint64_t>() > 0);
}

TEST_CASE("equivocating validators below a third are slashed once each and nobody else",
          "[chain][sim]") {
  // tests/scenarios/chain-byzantine.yaml, seeds 3 and 8: 7 validators, the first 2
  // sign twin proposals and votes. Bounds: evidence against exactly the 2 offenders
  // is included, each once (slashed = 2 x 5 % of a 10,000-token bond), both
  // tombstoned, no honest one; at least 60 heights in 90 s.
  for (std::uint64_t seed : {3, 8}) {
    INFO("seed " << seed);
    const auto result = run_scenario("tests/scenarios/chain-byzantine.yaml", seed);
    const auto& chain = result.summary["chain"];
    check_invariants(chain);
    CHECK(chain["evidence_offenders"] == 2);
    CHECK(chain["evidence_included"] == 2);
    CHECK(chain["offenders_slashed_twice"] == 0);
    CHECK(chain["byzantine_tombstoned"] == 2);
    CHECK(chain["slashed"] == 2 * 500'000'000ull);
    CHECK(chain["height"].get<std::uint64_t>() >= 60);
  }
}

TEST_CASE("validators restarted while the chain is stalled are never slashed", "[chain][sim]") {
  // scenarios/chain-faults.yaml with 10 s of jitter, seeds 3 and 4: 6 equivocators
  // of 21, three honest validators crash at 60 s and restart at 150 s in heights that
  // have not committed (the jitter stalls the chain). A restarted validator that forgot
  // its votes signs conflicting ones and is slashed; with its sign state it is not.
  // Bounds: the invariants (no honest validator slashed or tombstoned), exactly the six
  // equivocators tombstoned, and some progress (at least 3 heights).
  for (std::uint64_t seed : {3, 4}) {
    INFO("seed " << seed);
    const auto result = run_scenario(sim::load_scenario(source_path("scenarios/chain-faults.yaml"),
                                                        seed, {{"network.jitter", "10s"}}));
    const auto& chain = result.summary["chain"];
    check_invariants(chain);
    CHECK(chain["tombstoned"] == 6);
    CHECK(chain["height"].get<std::uint64_t>() >= 3);
  }
}

TEST_CASE("a chain run replays from its seed", "[chain][sim]") {
  // tests/scenarios/chain-byzantine.yaml: seed 3 twice gives one trace hash (which
  // folds every commit and state root), seed 4 another.
  const auto first = run_scenario("tests/scenarios/chain-byzantine.yaml");
  const auto second = run_scenario("tests/scenarios/chain-byzantine.yaml");
  CHECK(first.trace_hash == second.trace_hash);
  CHECK(first.summary["chain"].dump() == second.summary["chain"].dump());
  const auto other = run_scenario("tests/scenarios/chain-byzantine.yaml", 4);
  CHECK(other.trace_hash != first.trace_hash);
}

TEST_CASE("validator nodes are named by their Ed25519 public keys", "[chain][sim]") {
  // tests/scenarios/chain-small.yaml: the 4 validator nodes' ids differ from the
  // simulator's default names and from each other; the other nodes keep theirs.
  auto config = sim::load_scenario(source_path("tests/scenarios/chain-small.yaml"));
  sim::simulation run(config);
  std::set<core::node_id> ids;
  for (sim::node_index node = 0; node < run.node_count(); ++node)
    ids.insert(run.network().id_of(node));
  CHECK(ids.size() == run.node_count());
  const auto& workload = config.workloads.front().second;
  for (sim::node_index node = 0; node < 4; ++node)
    CHECK(workload->node_identity(config.seed, node) == run.network().id_of(node));
  CHECK_FALSE(workload->node_identity(config.seed, 4));
}
