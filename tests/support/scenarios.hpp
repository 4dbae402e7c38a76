// Helpers shared by tests that run whole scenarios in-process: paths relative to the
// source tree, and a run that must complete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"

namespace stakecast::test {

inline std::string source_path(const std::string& relative) {
  return std::string(STAKECAST_SOURCE_DIR) + "/" + relative;
}

/// Runs `config` to its end; the run must not fail.
inline sim::run_result run_scenario(const sim::scenario& config) {
  sim::simulation run(config);
  auto result = run.run();
  REQUIRE(result.failure.empty());
  return result;
}

/// Loads the scenario at `relative_path` (from the source tree), with `seed` if
/// given, and runs it to its end.
inline sim::run_result run_scenario(const std::string& relative_path,
                                    std::optional<std::uint64_t> seed = {}) {
  return run_scenario(sim::load_scenario(source_path(relative_path), seed));
}

/// A summary.json number as an unsigned integer.
inline std::uint64_t u64(const nlohmann::ordered_json& value) {
  return value.get<std::uint64_t>();
}

} // namespace stakecast::test
