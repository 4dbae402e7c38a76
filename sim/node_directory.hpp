// Maps node ids to the simulator's dense node indices: the network looks one up for
// every message sent, so this is a flat open-addressing table (linear probing, a
// power-of-two capacity at most half full) instead of std::unordered_map, whose
// chained buckets cost a division and a cache miss per probe. Ids are SHA-256
// digests or public keys, so their first 8 bytes are already a good hash.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "actors/core/bytes.hpp"

namespace stakecast::sim {

class node_directory {
public:
  /// REQUIRES: `id` is not in the directory yet.
  void insert(const core::node_id& id, std::uint32_t index);
  std::optional<std::uint32_t> find(const core::node_id& id) const noexcept {
    if (slots_.empty())
      return std::nullopt;
    for (std::size_t at = id.prefix64() & mask_;; at = (at + 1) & mask_) {
      const auto& slot = slots_[at];
      if (slot.index == empty)
        return std::nullopt;
      if (slot.id == id)
        return slot.index;
    }
  }
  std::size_t size() const noexcept { return size_; }

private:
  static constexpr std::uint32_t empty = UINT32_MAX;
  struct entry {
    core::node_id id;
    std::uint32_t index = empty;
  };

  void grow();

  std::vector<entry> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

} // namespace stakecast::sim
