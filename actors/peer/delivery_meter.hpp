// What a viewer tells about the bytes masternodes delivered to it, for the receipts
// it pays with (actors/peer/service.hpp has the chain's side).
#pragma once

#include <cstdint>

#include "actors/core/bytes.hpp"
#include "actors/world/world.hpp"

namespace stakecast::peer {

/// Where a viewer reports the bytes masternodes delivered to it.
class delivery_meter {
public:
  virtual ~delivery_meter() = default;
  /// The session starts on the node of `context`.
  virtual void start(const world::node_context& context, std::int64_t now_ns) = 0;
  /// `bytes` from masternode `from` passed verification.
  virtual void delivered(const core::node_id& from, std::uint64_t bytes, std::int64_t now_ns) = 0;
  /// The session ends.
  virtual void finish(std::int64_t now_ns) = 0;
};

} // namespace stakecast::peer
