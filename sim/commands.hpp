// The simulator's subcommands of `stakecast`:
//   stakecast sim SCENARIO.yaml [--seed N] [--out DIR] [--quiet] [--set KEY.PATH=VALUE]...
//   stakecast sweep SWEEP.yaml [--out DIR] [--jobs N] [--listen HOST:PORT]
//   stakecast worker --connect HOST:PORT [--jobs N]
//   stakecast bench kernel [--pairs N] [--round-trips N]
// Exit codes: 0 success, 1 the run failed (a livelock, an unwritable run folder),
// 2 bad input (a malformed scenario, wrong arguments).
#pragma once

#include <CLI/CLI.hpp>

namespace stakecast::sim {

/// Adds the subcommands to `app`; each sets `exit_code` when it runs.
void add_commands(CLI::App& app, int& exit_code);

} // namespace stakecast::sim
