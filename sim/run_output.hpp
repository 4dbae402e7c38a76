// The run folder of a simulation:
//   summary.json            run.*, network.*, counters, one section per workload
//   timeseries.csv          every counter, sampled every metrics.sample_interval
//   scenario.resolved.yaml  the scenario with every default filled in
//   trace_hash              the trace hash, one line
// It appears whole or not at all: files are written into a sibling temporary folder
// that is renamed into place at the end (replacing an earlier run's folder).
#pragma once

#include <filesystem>
#include <string>

#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

/// The default run folder: runs/<scenario name>-<seed>.
std::filesystem::path default_run_folder(const scenario& config);

/// Returns an empty string, or what went wrong (a full disk, no permission).
std::string write_run_folder(const std::filesystem::path& folder, const scenario& config,
                             const run_result& result);

} // namespace stakecast::sim
