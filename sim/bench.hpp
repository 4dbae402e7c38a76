// `stakecast bench ...`: measurements of the simulator itself, printed as a table and
// recorded by hand in docs/benchmarks.md.
//   bench kernel  the kernel's cost per delivered message next to a bare CAF
//                 test_coordinator ping loop, measured in the same run
//   bench nodes   resident memory per virtual node of a gossip network
#pragma once

#include <cstdint>

#include <CLI/CLI.hpp>

namespace stakecast::sim {

struct kernel_bench_result {
  std::uint64_t bare_messages = 0;
  double bare_seconds = 0;
  std::uint64_t kernel_messages = 0; // network messages delivered
  double kernel_seconds = 0;

  double bare_ns_per_message() const { return 1e9 * bare_seconds / static_cast<double>(bare_messages); }
  double kernel_ns_per_message() const {
    return 1e9 * kernel_seconds / static_cast<double>(kernel_messages);
  }
};

/// `pairs` concurrent ping-pong pairs, `round_trips` round trips each, first as bare
/// CAF actors on a test_coordinator, then as simulated nodes through the network.
kernel_bench_result bench_kernel(std::uint32_t pairs, std::uint64_t round_trips);

void add_bench_commands(CLI::App& app, int& exit_code);

} // namespace stakecast::sim
