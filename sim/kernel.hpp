// The discrete-event kernel: one thread, CAF's `test_coordinator` and its virtual
// clock, plus a heap of world events (network arrivals and deliveries, faults,
// samples, workload callbacks).
//
// One step of the loop: run every ready CAF message; then take whichever comes first,
// the next world event or the next CAF timer, move virtual time to it and fire it.
// At equal times world events fire before timers, and world events fire in the order
// they were scheduled, so a run is a pure function of its inputs.
//
// Every loop is bounded: `messages_per_instant_max` stops a run whose actors send
// each other messages forever without time advancing (a livelock), and `run_until`
// stops at its end time.
//
// Not thread-safe: everything runs on the thread that calls `run_until`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

namespace stakecast::sim {

/// Time since the start of the run.
using virtual_time = std::chrono::nanoseconds;

/// Something that owns world events of its own kind (the network model).
class event_sink {
public:
  virtual ~event_sink() = default;
  virtual void fire(std::uint32_t tag, std::uint32_t slot) = 0;
};

struct kernel_stats {
  std::uint64_t messages = 0;     // CAF jobs run: messages, plus one start per actor
  std::uint64_t timers = 0;       // CAF timers fired
  std::uint64_t world_events = 0; // world events fired

  std::uint64_t events() const noexcept { return messages + timers + world_events; }
};

class kernel final : private event_sink {
public:
  static constexpr std::uint64_t messages_per_instant_max = 100'000'000;

  kernel();
  ~kernel() override;
  kernel(const kernel&) = delete;
  kernel& operator=(const kernel&) = delete;

  caf::actor_system& system() noexcept { return *system_; }
  virtual_time now() const noexcept;
  const kernel_stats& stats() const noexcept { return stats_; }

  /// Schedules `sink.fire(tag, slot)` at `at`. REQUIRES: at >= now().
  void schedule(virtual_time at, event_sink& sink, std::uint32_t tag, std::uint32_t slot);
  /// Schedules a callback at `at`, for rare events (faults, samples, workload steps).
  /// REQUIRES: at >= now().
  void at(virtual_time at, std::function<void()> callback);

  /// Runs until virtual time `end` or until nothing is left to do, then sets the
  /// clock to `end`. `progress` (if set) is called every `progress_every` steps.
  /// Returns an empty string, or why the run stopped early (a livelock).
  std::string run_until(virtual_time end, const std::function<void()>& progress = {},
                        std::uint64_t progress_every = 1u << 16);

  /// Runs every ready CAF message without advancing time (for setup and teardown).
  std::string run_ready();

private:
  struct world_event {
    std::int64_t at_ns;
    std::uint64_t sequence;
    event_sink* sink;
    std::uint32_t tag;
    std::uint32_t slot;
  };
  struct later {
    bool operator()(const world_event& a, const world_event& b) const noexcept {
      return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.sequence > b.sequence;
    }
  };

  void fire(std::uint32_t tag, std::uint32_t slot) override;
  void advance_to(virtual_time at) noexcept;
  std::int64_t next_timer_ns() const noexcept;

  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::scheduler::test_coordinator* scheduler_ = nullptr;
  caf::actor_clock::time_point origin_;
  std::vector<world_event> heap_;
  std::uint64_t next_sequence_ = 0;
  std::vector<std::function<void()>> callbacks_;
  std::vector<std::uint32_t> free_callback_slots_;
  kernel_stats stats_;
};

} // namespace stakecast::sim
