// The real node's subcommands of `stakecast`:
//   stakecast init [--home DIR] [--roles validator,masternode,viewer] [--listen HOST:PORT]
//                  [--gateway HOST:PORT|off] [--genesis FILE] [--peer ID@HOST:PORT ...]
//   stakecast node [--home DIR]
//   stakecast status [--home DIR]
//   stakecast wallet [--home DIR] address | balance [ACCOUNT] | transfer TO AMOUNT
//                    | delegate TARGET AMOUNT | unbond TARGET AMOUNT
//   stakecast devnet up [--dir DIR] [--validators N] [--viewers N] | down | status
// The home is --home, else $STAKECAST_HOME, else ~/.stakecast (home.hpp). Amounts are
// tokens with up to six decimals ("12.5").
// Exit codes: 0 success, 1 the operation failed (a node not answering, a refused
// transaction), 2 bad input (wrong arguments, a missing home, a bad config).
#pragma once

#include <CLI/CLI.hpp>

namespace stakecast::node {

/// Adds the subcommands to `app`; each sets `exit_code` when it runs.
void add_commands(CLI::App& app, int& exit_code);

} // namespace stakecast::node
