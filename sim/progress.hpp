// A progress line for long runs on a terminal: virtual time, percent done, events
// per wall second and the estimated time left, redrawn at most twice a second.
// Prints nothing when standard error is not a terminal, or when disabled.
#pragma once

#include <chrono>
#include <cstdint>

#include "sim/kernel.hpp"

namespace stakecast::sim {

class progress_line {
public:
  progress_line(bool enabled, virtual_time total);
  void update(virtual_time now, std::uint64_t events);
  /// Clears the line.
  void finish();

private:
  bool enabled_;
  virtual_time total_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_drawn_;
  bool drawn_ = false;
};

} // namespace stakecast::sim
