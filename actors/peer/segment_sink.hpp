// Where a viewing session hands what it verified, for a consumer outside the actors: the
// real node's gateway plays a session's bytes into a browser, `stakecast get` writes
// them to a file. The simulator has no consumer (its payloads are virtual).
#pragma once

#include <cstdint>
#include <memory>

#include "actors/core/manifest.hpp"
#include "actors/core/messages.hpp"

namespace stakecast::peer {

/// Called from the viewer actor's handlers (one at a time, but from any CAF worker):
/// an implementation shared with other threads locks its own state.
class segment_sink {
public:
  virtual ~segment_sink() = default;
  /// The manifest arrived and checked out: the session starts.
  virtual void manifest(std::shared_ptr<const core::manifest> manifest) = 0;
  /// Segment `index` passed verification against the manifest (a first copy only).
  virtual void segment(std::uint32_t index, const wire::payload& body) = 0;
  /// The session ended (finished, timed out, failed to start, or was told to stop).
  virtual void ended() = 0;
};

} // namespace stakecast::peer
