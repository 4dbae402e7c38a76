#include "sim/node_directory.hpp"

#include <cassert>

namespace stakecast::sim {

void node_directory::insert(const core::node_id& id, std::uint32_t index) {
  assert(index != empty);
  assert(!find(id));
  if (2 * (size_ + 1) > slots_.size())
    grow();
  std::size_t at = id.prefix64() & mask_;
  while (slots_[at].index != empty)
    at = (at + 1) & mask_;
  slots_[at] = {id, index};
  ++size_;
}

void node_directory::grow() {
  std::vector<entry> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : 2 * old.size(), entry{});
  mask_ = slots_.size() - 1;
  size_ = 0;
  for (const auto& existing : old)
    if (existing.index != empty)
      insert(existing.id, existing.index);
}

} // namespace stakecast::sim
