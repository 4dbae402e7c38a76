// The `stakecast` executable: the composition root, and the one place that sees both
// worlds. The simulator's commands (sim, bench) come from sim/; the real node's
// commands (init, node, status, wallet, devnet) from node/; report from analysis/. Nothing below this file
// crosses between them.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "analysis/commands.hpp"
#include "node/commands.hpp"
#include "sim/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"StakeCast: peer-to-peer video distribution with on-chain incentives"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stakecast 0.1.0");
  int exit_code = 0;
  // Options of the top level (--home) may also follow the subcommand.
  app.fallthrough();
  stakecast::sim::add_commands(app, exit_code);
  stakecast::node::add_commands(app, exit_code);
  stakecast::analysis::add_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  } catch (const std::exception& error) {
    // Operating errors are reported where they happen; this is the last line of
    // defence, so that nothing ends the process with an uncaught exception.
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return exit_code;
}
