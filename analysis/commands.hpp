// The analysis subcommand of `stakecast`:
//   stakecast report DIR
// Exit codes: 0 written, 1 an operating failure (gnuplot missing, an unwritable
// folder), 2 bad input (not a run or sweep folder, a malformed results.csv).
#pragma once

#include <CLI/CLI.hpp>

namespace stakecast::analysis {

/// Adds the subcommand to `app`; it sets `exit_code` when it runs.
void add_commands(CLI::App& app, int& exit_code);

} // namespace stakecast::analysis
