#include "sim/sweep/run_board.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace stakecast::sim::sweep {

run_board::run_board(std::vector<std::size_t> runs, clock::duration lease)
    : lease_(lease), runs_(runs.begin(), runs.end()), queue_(runs.begin(), runs.end()) {
  assert(runs_.size() == queue_.size()); // each run once
}

std::optional<std::size_t> run_board::take(const std::string& holder) {
  std::lock_guard lock(mutex_);
  if (queue_.empty())
    return std::nullopt;
  const std::size_t run = queue_.front();
  queue_.pop_front();
  held_[run] = {holder, clock::now() + lease_};
  return run;
}

bool run_board::finish(std::size_t run, run_outcome outcome) {
  std::lock_guard lock(mutex_);
  if (!runs_.contains(run) || done_.contains(run))
    return false;
  done_.insert(run);
  held_.erase(run);
  std::erase(queue_, run);
  outcomes_.emplace_back(run, std::move(outcome));
  return true;
}

template <class Predicate> std::size_t run_board::requeue_if(Predicate matches) {
  std::size_t requeued = 0;
  for (auto it = held_.begin(); it != held_.end();) {
    if (matches(it->second)) {
      queue_.push_front(it->first);
      it = held_.erase(it);
      ++requeued;
    } else {
      ++it;
    }
  }
  return requeued;
}

std::size_t run_board::release_holder(const std::string& holder) {
  std::lock_guard lock(mutex_);
  return requeue_if([&](const lease_entry& lease) { return lease.holder == holder; });
}

std::size_t run_board::expire(clock::time_point now) {
  std::lock_guard lock(mutex_);
  return requeue_if([&](const lease_entry& lease) { return lease.deadline <= now; });
}

std::vector<std::pair<std::size_t, run_outcome>> run_board::drain() {
  std::lock_guard lock(mutex_);
  return std::exchange(outcomes_, {});
}

std::size_t run_board::remaining() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + held_.size();
}

std::size_t run_board::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

} // namespace stakecast::sim::sweep
