// `stakecast sweep` (docs/sweeps.md): expands a sweep file into runs, runs them as
// child processes (at most `jobs` at a time here, plus any workers connected to the
// coordinator when `listen` is set), and writes DIR/results.csv, DIR/sweep.json and
// DIR/runs/<id>/. Resumable: runs already in results.csv are skipped. One sweep per
// folder at a time: DIR/sweep.lock is held by the sweep and its runs (sweep_lock.hpp);
// a second sweep waits a few seconds for it, then exits 1.
//
// Exit codes: 0 every run has a row (failed runs included, with their error);
// 1 an operating failure (an unwritable folder, a port in use, a folder in use by
// another sweep); 2 bad input (a malformed sweep file, a results.csv of another
// sweep, wrong arguments).
#pragma once

#include <cstdint>
#include <string>

namespace stakecast::sim::sweep {

struct sweep_options {
  std::string sweep_file;
  std::string out;   ///< default: runs/sweep-<sweep file stem>
  unsigned jobs = 0; ///< local runs at a time; 0 with `listen` runs nothing locally
  bool jobs_given = false;
  std::string listen; ///< "HOST:PORT" to publish the coordinator on, or empty
  std::string executable = "/proc/self/exe";
};

int run_sweep(const sweep_options& options);

} // namespace stakecast::sim::sweep
