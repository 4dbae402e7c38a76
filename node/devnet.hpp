// A local development network: N real node processes on loopback with a generated
// genesis (`stakecast devnet up|down|status`).
//
// Layout of the devnet folder:
//   <dir>/genesis.json     the shared genesis
//   <dir>/node-1 ...       one home per node (home.hpp); `stakecast node --home` runs it,
//                          logging to <home>/node.log and holding <home>/node.pid
//
// The first `validators` nodes are validators, the next `masternodes` masternodes
// (each staked in the genesis, its endpoint its listening address), the rest viewers
// only; every node is also a viewer. Every node lists every other as a peer. Ports are on
// 127.0.0.1 only, fixed when the devnet is made: with `base_port`, node i listens on
// base_port + 2(i-1) and serves its gateway on the next port; without, on free ports
// picked below the ephemeral range.
//
// `up` makes the folder when it holds no devnet yet (or starts the nodes of an
// existing one), starts every node that is not running, and waits, bounded, until
// each answers on its gateway. `down` stops them: SIGTERM, then SIGKILL after a
// bounded wait, and removes what a stopped node leaves behind (its pid file and api
// token). Processes are only ever signalled by the pid their own node wrote.
//
// Not thread-safe: one command at a time per folder.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "node/home.hpp"

namespace stakecast::node {

struct devnet_options {
  static constexpr std::uint32_t nodes_max = 32;

  std::filesystem::path dir = "devnet";
  /// At least 1. Four tolerate one faulty validator.
  std::uint32_t validators = 4;
  std::uint32_t masternodes = 2;
  /// Viewer-only nodes.
  std::uint32_t viewers = 1;
  std::chrono::milliseconds block_interval{1000};
  /// The first of the 2 ports per node, when the devnet is made; 0: free ports. An
  /// existing devnet keeps the ports it was made with.
  std::uint16_t base_port = 0;
  /// How long `up` waits for every node to answer.
  std::chrono::milliseconds start_timeout{30'000};
  /// The `stakecast` executable that runs each node.
  std::filesystem::path executable;
};

struct devnet_node {
  home_folder home;
  node_config config;
  std::string id;         // hex
  int pid = 0;            // 0: not running
  std::string status;     // "running at height 12", "stopped", or what is wrong
};

/// The nodes of the devnet in `dir` (none when there is none), with whether each runs.
std::vector<devnet_node> devnet_nodes(const std::filesystem::path& dir);

/// Makes (if needed) and starts the devnet. Returns the nodes or what went wrong.
result<std::vector<devnet_node>> devnet_up(const devnet_options& options);
/// Stops every node of the devnet in `dir`. Returns what went wrong, or "".
std::string devnet_down(const std::filesystem::path& dir, std::chrono::milliseconds timeout);

/// Starts `stakecast node --home <home>` in the background (its own session, output to
/// the home's node.log). Returns the pid.
result<int> start_node_process(const std::filesystem::path& executable, const home_folder& home);
/// The pid in the home's pid file when that process is alive, else 0.
int running_pid(const home_folder& home);
/// SIGTERM, then SIGKILL after `timeout`; waits until the process is gone (bounded),
/// then removes the home's pid file and api token.
std::string stop_node_process(const home_folder& home, std::chrono::milliseconds timeout);

} // namespace stakecast::node
