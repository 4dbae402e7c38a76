// The runs of a sweep that are still to do, who holds which, and the outcomes that
// the sweep's main thread has not written yet.
//
// Runs are leased: take() hands a run to a holder (the local pool, or a worker slot)
// until its outcome comes back, the holder disappears (release_holder, on a CAF down
// message) or its lease expires (expire, for a holder that hangs); then the run goes
// back to the queue for someone else. The first outcome of a run wins; a late one
// from a holder that lost its lease is dropped, and so is an outcome for a run the
// board was never given (one that already has its row in results.csv): each run the
// board knows yields one outcome, at most.
//
// Thread-safe: the coordinator actor (CAF's threads) and the main thread share it.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stakecast::sim::sweep {

/// How one run ended, wherever it ran.
struct run_outcome {
  std::string holder;       ///< "local", or a worker slot's name
  bool ok = false;          ///< the simulation exited 0
  std::string error;        ///< why not, when !ok
  std::string summary_text; ///< summary.json as sent by a worker; empty for local runs
  double wall_seconds = 0;
};

class run_board {
public:
  using clock = std::chrono::steady_clock;

  /// `runs`: indices of the runs to do, in order. `lease`: how long a holder may hold
  /// a run before it is handed to someone else.
  run_board(std::vector<std::size_t> runs, clock::duration lease);

  std::optional<std::size_t> take(const std::string& holder);
  /// Records an outcome. Returns false (and drops it) if the run is already done or
  /// was not among the board's runs.
  bool finish(std::size_t run, run_outcome outcome);
  /// Puts back every run that `holder` holds. Returns how many.
  std::size_t release_holder(const std::string& holder);
  /// Puts back every run whose lease has expired at `now`. Returns how many.
  std::size_t expire(clock::time_point now);
  /// The outcomes recorded since the last call, oldest first.
  std::vector<std::pair<std::size_t, run_outcome>> drain();
  /// Runs not done (queued or held).
  std::size_t remaining() const;
  std::size_t queued() const;

private:
  struct lease_entry {
    std::string holder;
    clock::time_point deadline;
  };

  /// Puts back every held run whose lease `matches`. Returns how many. REQUIRES: mutex_
  /// held.
  template <class Predicate> std::size_t requeue_if(Predicate matches);

  mutable std::mutex mutex_;
  clock::duration lease_;
  std::set<std::size_t> runs_; ///< every run given to the board, done or not
  std::deque<std::size_t> queue_;
  std::map<std::size_t, lease_entry> held_;
  std::set<std::size_t> done_;
  std::vector<std::pair<std::size_t, run_outcome>> outcomes_;
};

} // namespace stakecast::sim::sweep
