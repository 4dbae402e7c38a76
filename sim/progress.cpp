#include "sim/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace stakecast::sim {

progress_line::progress_line(bool enabled, virtual_time total)
  : enabled_(enabled && ::isatty(STDERR_FILENO) == 1),
    total_(total),
    started_(std::chrono::steady_clock::now()),
    last_drawn_(started_) {}

void progress_line::update(virtual_time now, std::uint64_t events) {
  if (!enabled_)
    return;
  const auto wall_now = std::chrono::steady_clock::now();
  if (wall_now - last_drawn_ < std::chrono::milliseconds(500))
    return;
  last_drawn_ = wall_now;
  drawn_ = true;
  const double wall = std::chrono::duration<double>(wall_now - started_).count();
  const double virtual_seconds = std::chrono::duration<double>(now).count();
  const double total_seconds = std::chrono::duration<double>(total_).count();
  const double done = total_seconds > 0 ? virtual_seconds / total_seconds : 1.0;
  const double eta = done > 0 ? wall * (1.0 - done) / done : 0.0;
  fmt::print(stderr, "\r\033[K  virtual {:.1f}s / {:.0f}s  {:5.1f}%  {:.2f}M events/s  ETA {:.0f}s",
             virtual_seconds, total_seconds, 100.0 * done,
             wall > 0 ? static_cast<double>(events) / wall / 1e6 : 0.0, eta);
  std::fflush(stderr);
}

void progress_line::finish() {
  if (enabled_ && drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

} // namespace stakecast::sim
