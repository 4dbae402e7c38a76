// Helpers shared by tests: node ids made from small integers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "actors/core/bytes.hpp"

namespace stakecast::test {

/// An id whose order among such ids is the order of `index` (index < 65536), so
/// tests can predict tie-breaks by node id.
inline core::node_id node(std::size_t index) {
  core::node_id id;
  id.bytes[0] = static_cast<std::uint8_t>(index >> 8);
  id.bytes[1] = static_cast<std::uint8_t>(index & 0xff);
  id.bytes[31] = 0x5c;
  return id;
}

} // namespace stakecast::test
