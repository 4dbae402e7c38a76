#include "sim/kernel.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

#include <fmt/format.h>

namespace stakecast::sim {

namespace {

constexpr std::int64_t never_ns = std::numeric_limits<std::int64_t>::max();

std::unique_ptr<caf::actor_system_config> testing_config() {
  auto config = std::make_unique<caf::actor_system_config>();
  config->set("scheduler.policy", caf::atom("testing"));
  config->set("logger.file-verbosity", caf::atom("quiet"));
  config->set("logger.console-verbosity", caf::atom("quiet"));
  return config;
}

} // namespace

kernel::kernel()
  : config_(testing_config()),
    system_(std::make_unique<caf::actor_system>(*config_)),
    scheduler_(&dynamic_cast<caf::scheduler::test_coordinator&>(system_->scheduler())),
    origin_(scheduler_->clock().current_time) {
  // Actors still alive at the end are simply dropped with the system: a simulation
  // ends at its end time, not when its actors are done.
  system_->await_actors_before_shutdown(false);
}

kernel::~kernel() {
  scheduler_->clock().cancel_all();
  scheduler_->jobs.clear();
}

virtual_time kernel::now() const noexcept {
  return std::chrono::duration_cast<virtual_time>(scheduler_->clock().current_time - origin_);
}

void kernel::schedule(virtual_time at, event_sink& sink, std::uint32_t tag, std::uint32_t slot) {
  assert(at >= now());
  heap_.push_back({at.count(), next_sequence_++, &sink, tag, slot});
  std::push_heap(heap_.begin(), heap_.end(), later{});
}

void kernel::at(virtual_time at, std::function<void()> callback) {
  std::uint32_t slot;
  if (free_callback_slots_.empty()) {
    slot = static_cast<std::uint32_t>(callbacks_.size());
    callbacks_.push_back(std::move(callback));
  } else {
    slot = free_callback_slots_.back();
    free_callback_slots_.pop_back();
    callbacks_[slot] = std::move(callback);
  }
  schedule(at, *this, 0, slot);
}

void kernel::fire(std::uint32_t, std::uint32_t slot) {
  auto callback = std::move(callbacks_[slot]);
  callbacks_[slot] = nullptr;
  free_callback_slots_.push_back(slot);
  callback();
}

void kernel::advance_to(virtual_time at) noexcept {
  auto target = origin_ + std::chrono::duration_cast<caf::actor_clock::duration_type>(at);
  auto& current = scheduler_->clock().current_time;
  if (target > current)
    current = target;
}

std::int64_t kernel::next_timer_ns() const noexcept {
  const auto& schedule = scheduler_->clock().schedule();
  if (schedule.empty())
    return never_ns;
  return std::chrono::duration_cast<virtual_time>(schedule.begin()->first - origin_).count();
}

std::string kernel::run_ready() {
  std::uint64_t messages_this_instant = 0;
  while (scheduler_->try_run_once()) {
    if (++messages_this_instant > messages_per_instant_max)
      return fmt::format("livelock: more than {} messages at virtual time {} ns without time "
                         "advancing",
                         messages_per_instant_max, now().count());
  }
  stats_.messages += messages_this_instant;
  return {};
}

std::string kernel::run_until(virtual_time end, const std::function<void()>& progress,
                              std::uint64_t progress_every) {
  std::uint64_t steps = 0;
  for (;;) {
    if (auto failure = run_ready(); !failure.empty())
      return failure;
    const std::int64_t next_world = heap_.empty() ? never_ns : heap_.front().at_ns;
    const std::int64_t next_timer = next_timer_ns();
    const std::int64_t next = std::min(next_world, next_timer);
    if (next == never_ns || next > end.count())
      break;
    if (next_world <= next_timer) {
      std::pop_heap(heap_.begin(), heap_.end(), later{});
      world_event event = heap_.back();
      heap_.pop_back();
      advance_to(virtual_time{event.at_ns});
      ++stats_.world_events;
      event.sink->fire(event.tag, event.slot);
    } else {
      scheduler_->clock().trigger_timeout();
      ++stats_.timers;
    }
    if (progress && ++steps % progress_every == 0)
      progress();
  }
  advance_to(end);
  return {};
}

} // namespace stakecast::sim
