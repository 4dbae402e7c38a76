// Sweeps across machines on CAF's own distribution layer (caf::io middleman).
//
// The sweep publishes a coordinator actor (`stakecast sweep ... --listen HOST:PORT`);
// `stakecast worker --connect HOST:PORT --jobs N` connects to it with remote_actor
// and runs N slots, each a loop: ask the coordinator for a run ("want"), run it as a
// child process of the worker's own binary, send back its summary.json ("result").
// The coordinator answers "run", "wait" (nothing queued, but runs are out and may
// come back) or "done". It monitors every slot that took a run: when a worker's
// connection drops, CAF delivers a down message and the slot's runs go back to the
// queue (run_board::release_holder); a slot that hangs loses its runs when their
// lease expires. Only the sweep process writes results: the coordinator hands
// outcomes to the run_board, whose owner writes them.
//
// Messages carry strings and numbers only (CAF's built-in types), so no type needs
// announcing: want (atom, holder) -> (kind, id, scenario_name, scenario_text, seed,
// overrides as "key=value" lines, timeout_ms, memory_bytes_max); result (atom, id,
// holder, ok, error, summary_text, wall_seconds) -> ok atom.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "sim/sweep/run_board.hpp"

namespace stakecast::sim::sweep {

/// What a worker needs to run one run of the sweep.
struct remote_job {
  std::string id;
  std::uint64_t seed = 0;
  std::string overrides; ///< "key=value" lines
};

struct remote_jobs {
  std::string scenario_name; ///< the base scenario's file stem (the runs' scenario name)
  std::string scenario_text; ///< the base scenario's text
  std::uint64_t timeout_ms = 0;
  std::uint64_t memory_bytes_max = 0;
  std::vector<remote_job> jobs; ///< by run index
};

/// "host:port" split; the port may be 0 (any free port) when listening.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};
std::variant<endpoint, std::string> parse_endpoint(const std::string& text);

/// A published coordinator. Destruction unpublishes it and stops its actor system.
class coordinator {
public:
  /// Publishes a coordinator for `board` at `where`. Returns it, or what went wrong.
  static std::variant<std::unique_ptr<coordinator>, std::string>
  start(const endpoint& where, std::shared_ptr<run_board> board,
        std::shared_ptr<const remote_jobs> jobs);
  virtual ~coordinator() = default;
  /// The port it listens on (the one chosen when asked for port 0).
  virtual std::uint16_t port() const = 0;
  /// Slots that asked for work, by holder name, with the number of runs each took.
  virtual std::map<std::string, std::size_t> holders() const = 0;
};

struct worker_options {
  endpoint coordinator_at;
  unsigned jobs = 1;
  std::string executable = "/proc/self/exe";
  /// How long to keep trying to reach the coordinator before giving up.
  std::uint32_t connect_attempts_max = 20;
};

/// Runs a worker until the coordinator says done or goes away. Returns the exit code
/// (0: done; 1: the coordinator could not be reached, or went away mid-sweep).
int run_worker(const worker_options& options);

/// The arguments of `stakecast sim` for one run.
std::vector<std::string> sim_arguments(const std::string& executable,
                                       const std::string& scenario_path, std::uint64_t seed,
                                       const std::string& out,
                                       const std::vector<std::string>& overrides);

} // namespace stakecast::sim::sweep
