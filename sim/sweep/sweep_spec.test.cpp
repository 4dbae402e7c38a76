// Pins down how a sweep expands into points: grids are the cartesian product (last
// parameter fastest), a Latin hypercube puts exactly one sample in each of n strata
// per dimension, random samples replay from their seed, ranges keep their unit, and
// run ids are stable. Pure functions, checked on small literal specs.
#include <set>

#include <catch2/catch.hpp>

#include "sim/sweep/sweep_spec.hpp"

using namespace stakecast::sim::sweep;

namespace {

parameter_spec grid(std::string name, std::vector<std::string> values) {
  parameter_spec parameter;
  parameter.name = name;
  parameter.key_path = "workloads.chain.parameters." + name;
  parameter.values = std::move(values);
  return parameter;
}

parameter_spec range(std::string name, std::string min, std::string max) {
  parameter_spec parameter;
  parameter.name = name;
  parameter.key_path = "workloads.chain.parameters." + name;
  parameter.min = split_unit_value(min);
  parameter.max = split_unit_value(max);
  return parameter;
}

} // namespace

TEST_CASE("A grid sweep expands into the cartesian product of its values", "[sweep]") {
  sweep_spec spec;
  spec.parameters = {grid("a", {"1%", "2%"}), grid("b", {"x", "y", "z"})};
  const auto points = expand_points(spec);
  REQUIRE(points.size() == 6);
  CHECK(points[0] == std::vector<std::string>{"1%", "x"});
  CHECK(points[1] == std::vector<std::string>{"1%", "y"});
  CHECK(points[5] == std::vector<std::string>{"2%", "z"});
  CHECK(std::set(points.begin(), points.end()).size() == 6);
}

TEST_CASE("A Latin hypercube puts one sample in each stratum of each dimension", "[sweep]") {
  for (std::size_t count : {1u, 7u, 50u}) {
    const auto samples = unit_samples(sampling_method::latin_hypercube, count, 3, 42);
    REQUIRE(samples.size() == count);
    for (std::size_t dimension = 0; dimension < 3; ++dimension) {
      std::set<std::size_t> strata;
      for (const auto& sample : samples) {
        REQUIRE(sample[dimension] >= 0.0);
        REQUIRE(sample[dimension] < 1.0);
        strata.insert(static_cast<std::size_t>(sample[dimension] * static_cast<double>(count)));
      }
      CHECK(strata.size() == count);
    }
  }
}

TEST_CASE("Random sampling is reproducible from its seed and differs between seeds", "[sweep]") {
  const auto first = unit_samples(sampling_method::random, 20, 2, 7);
  CHECK(first == unit_samples(sampling_method::random, 20, 2, 7));
  CHECK(first != unit_samples(sampling_method::random, 20, 2, 8));
}

TEST_CASE("Sampled ranges keep their unit and integer ranges give integers", "[sweep]") {
  sweep_spec spec;
  spec.parameters = {grid("g", {"a", "b"}), range("share", "10%", "50%"), range("count", "1", "4")};
  spec.method = sampling_method::latin_hypercube;
  spec.samples = 5;
  const auto points = expand_points(spec);
  REQUIRE(points.size() == 10);
  for (const auto& point : points) {
    REQUIRE(point[1].back() == '%');
    const double share = std::stod(point[1]);
    CHECK(share >= 10.0);
    CHECK(share <= 50.0);
    CHECK(point[2].find('.') == std::string::npos);
  }
  CHECK(format_unit_value(2.5, "s", false) == "2.5s");
  CHECK(format_unit_value(0.1234567, "", false) == "0.123457");
  CHECK(!split_unit_value("abc").has_value());
}

TEST_CASE("Overrides replace scenario values before the scenario reader checks them", "[sweep]") {
  using stakecast::sim::load_scenario;
  using stakecast::sim::scenario_override;
  const std::string base = std::string(STAKECAST_SOURCE_DIR) + "/tests/sweeps/economy-tiny.yaml";
  // An absent section is created; the value lands in the resolved scenario.
  const auto changed = load_scenario(base, 3, {{"workloads.chain.parameters.fee_burn", "25%"}});
  CHECK(changed.resolved["workloads"]["chain"]["parameters"]["fee_burn"].as<std::string>() ==
        "25%");
  // A value out of range is reported at its key.
  try {
    load_scenario(base, 3, {{"workloads.chain.parameters.fee_burn", "150%"}});
    FAIL("an out-of-range override was accepted");
  } catch (const stakecast::config::config_exception& failure) {
    CHECK(
        std::string(failure.what()).find("workloads.chain.parameters.fee_burn: must be between") !=
        std::string::npos);
  }
  // A path through a scalar, or not a path at all, is refused.
  CHECK_THROWS_WITH(load_scenario(base, 3, {{"duration.x", "1"}}), Catch::Contains("is not a map"));
  CHECK_THROWS_WITH(load_scenario(base, 3, {{"a..b", "1"}}), Catch::Contains("is not a key path"));
}
