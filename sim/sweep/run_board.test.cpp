// Pins down that the run board yields at most one outcome per run, which is what
// keeps a run to one row in results.csv: a second outcome of a run is dropped, so is
// the late outcome of a holder whose lease ran out after another finished the run,
// and so is an outcome for a run the board was never given (a run that was already
// in results.csv when the sweep started). Checked on a board of a few run indices.
#include <chrono>

#include <catch2/catch.hpp>

#include "sim/sweep/run_board.hpp"

using stakecast::sim::sweep::run_board;
using stakecast::sim::sweep::run_outcome;

namespace {

constexpr auto lease = std::chrono::hours(1);

run_outcome outcome_of(const std::string& holder) {
  return run_outcome{holder, true, "", "", 0.1};
}

} // namespace

TEST_CASE("The run board yields one outcome for each run it was given and no other", "[sweep]") {
  run_board board({3, 5}, lease);
  // Runs 0 to 2 had their rows when the sweep started: the board was not given them.
  CHECK_FALSE(board.finish(1, outcome_of("slot-a")));
  const auto taken = board.take("slot-a");
  REQUIRE(taken == 3u);
  // Slot a's lease runs out: the run goes to slot b, which finishes it first.
  CHECK(board.expire(run_board::clock::now() + 2 * lease) == 1);
  REQUIRE(board.take("slot-b") == 3u);
  CHECK(board.finish(3, outcome_of("slot-b")));
  CHECK_FALSE(board.finish(3, outcome_of("slot-a")));
  const auto drained = board.drain();
  REQUIRE(drained.size() == 1);
  CHECK(drained.front().first == 3u);
  CHECK(drained.front().second.holder == "slot-b");
  CHECK(board.remaining() == 1);
}
