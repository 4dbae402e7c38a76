#include "actors/storage/memory_store.hpp"

#include <fmt/format.h>

namespace stakecast::storage {

std::optional<core::byte_buffer> memory_store::get(std::string_view key) const {
  auto found = entries_.find(key);
  if (found == entries_.end())
    return std::nullopt;
  return found->second;
}

std::string memory_store::write(const write_batch& batch) {
  // Compute the size after the batch first, so a batch that does not fit changes
  // nothing.
  std::map<std::string_view, std::ptrdiff_t> delta_by_key;
  std::ptrdiff_t delta = 0;
  for (const auto& operation : batch.operations) {
    auto found = entries_.find(operation.key);
    std::ptrdiff_t before = found == entries_.end()
                              ? 0
                              : static_cast<std::ptrdiff_t>(found->first.size() + found->second.size());
    auto previous = delta_by_key.find(operation.key);
    if (previous != delta_by_key.end())
      before = previous->second;
    std::ptrdiff_t after = operation.value
                             ? static_cast<std::ptrdiff_t>(operation.key.size() + operation.value->size())
                             : 0;
    delta += after - before;
    delta_by_key[operation.key] = after;
  }
  auto new_size = static_cast<std::ptrdiff_t>(size_bytes_) + delta;
  if (capacity_bytes_ != unlimited && new_size > static_cast<std::ptrdiff_t>(capacity_bytes_))
    return fmt::format("store full: the batch would bring the store to {} bytes, capacity is {} bytes",
                       new_size, capacity_bytes_);
  for (const auto& operation : batch.operations) {
    if (operation.value)
      entries_.insert_or_assign(operation.key, *operation.value);
    else
      entries_.erase(operation.key);
  }
  size_bytes_ = static_cast<std::size_t>(new_size);
  return {};
}

void memory_store::scan_prefix(std::string_view prefix, const scan_visitor& visit) const {
  for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0)
      return;
    if (!visit(it->first, it->second))
      return;
  }
}

} // namespace stakecast::storage
