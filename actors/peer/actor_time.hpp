// Time as the peer actors count it: nanoseconds since the actor started, on CAF's
// actor clock (virtual in the simulator).
#pragma once

#include <chrono>
#include <cstdint>

namespace stakecast::peer {

/// Nanoseconds from `self->state.origin` (the actor's start) to now.
template <class Self> std::int64_t now_ns(Self self) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(self->clock().now() -
                                                              self->state.origin)
      .count();
}

} // namespace stakecast::peer
