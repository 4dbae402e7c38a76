// A sweep file (docs/sweeps.md) and its expansion into runs.
//
// A sweep names a base scenario, the scenario keys to vary and how: a grid list of
// values per key (their cartesian product), or a range {min, max} per key sampled
// `random` or `latin_hypercube` (product of the grid with the samples), and how many
// seeds each point runs. `load_sweep` reads the file strictly (actors/config/reader.hpp:
// unknown keys, wrong types and out-of-range values throw config_exception naming
// file:line:column and key path); `expand_sweep` turns it into runs with stable ids
// and checks every point's scenario with the normal scenario reader, so a value the
// scenario refuses is reported at its key before anything runs.
//
// Pure functions of their inputs (and the files read); no threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace stakecast::sim::sweep {

inline constexpr std::size_t parameters_max = 16;
inline constexpr std::size_t values_per_parameter_max = 1000;
inline constexpr std::uint32_t seeds_per_point_max = 1000;
inline constexpr std::uint32_t samples_max = 10'000;
inline constexpr std::size_t runs_max = 100'000;
inline constexpr std::size_t outcomes_max = 1000;

/// A value with its unit as a scenario spells it: "5%" is {5, "%"}, "0.3" is {0.3, ""}.
struct unit_value {
  double number = 0;
  std::string unit;
  bool integer = false; ///< written without a fraction: samples are rounded
};

/// Splits "12.5ms" into {12.5, "ms"}; nullopt if the text does not start with digits.
std::optional<unit_value> split_unit_value(std::string_view text);
/// Writes `number` with `unit`, with at most 6 decimals and no exponent (the
/// scenario reader refuses exponents); rounded to an integer when `integer`.
std::string format_unit_value(double number, const std::string& unit, bool integer);

struct parameter_spec {
  std::string name;     ///< column name in results.csv: the last key of the path unless given
  std::string key_path; ///< "workloads.chain.parameters.fee_burn"
  std::vector<std::string> values; ///< a grid: the values as written
  std::optional<unit_value> min;   ///< a range (both or neither)
  std::optional<unit_value> max;
  bool is_range() const { return min.has_value(); }
};

enum class sampling_method { random, latin_hypercube };

struct sweep_spec {
  std::string file;      ///< the sweep file as given
  std::string base_path; ///< the base scenario, resolved against the sweep file's folder
  std::vector<parameter_spec> parameters;
  sampling_method method = sampling_method::latin_hypercube;
  std::uint32_t samples = 0; ///< points drawn over the ranges (0 when none is a range)
  std::uint64_t sampling_seed = 1;
  std::uint32_t seeds_per_point = 1;
  std::uint64_t first_seed = 1;
  std::vector<std::string> outcomes; ///< explicit outcome columns; empty: the first run's
  std::chrono::nanoseconds run_timeout{std::chrono::minutes(30)};
  std::uint64_t run_memory_bytes_max = 0; ///< 0: no limit on a run's address space
};

/// Reads and checks a sweep file. Throws config_exception.
sweep_spec load_sweep(const std::string& path);

/// One simulation of a sweep.
struct sweep_run {
  std::string id; ///< "p003-s2": point 3, seed 2; stable for a given sweep file
  std::size_t point = 0;
  std::uint64_t seed = 0;
  std::vector<scenario_override> overrides; ///< one per parameter, in parameter order
};

struct sweep_plan {
  sweep_spec spec;
  /// points[p][k]: the value of parameter k at point p.
  std::vector<std::vector<std::string>> points;
  std::vector<sweep_run> runs; ///< point-major: every seed of point 0, then point 1...
  /// A hash of the base scenario's text and of every run (id, seed, overrides) and
  /// the outcomes: two sweeps with the same fingerprint run the same simulations.
  std::string fingerprint;
};

/// The points of the spec: the cartesian product of the grids (the last parameter
/// varies fastest) times the samples of the ranges. Pure.
std::vector<std::vector<std::string>> expand_points(const sweep_spec& spec);

/// Samples of `dimensions` coordinates in [0, 1): `random` draws each independently;
/// `latin_hypercube` cuts [0, 1) into `count` strata per dimension and puts exactly
/// one sample in each stratum of each dimension. Reproducible from `seed`.
std::vector<std::vector<double>> unit_samples(sampling_method method, std::size_t count,
                                              std::size_t dimensions, std::uint64_t seed);

/// The points, the runs and the fingerprint; every point's scenario is read with the
/// overrides applied (seed of its first run). Throws config_exception: from the base
/// scenario (naming the overridden key) or about the sweep (too many runs).
sweep_plan expand_sweep(const sweep_spec& spec);

} // namespace stakecast::sim::sweep
