// An in-memory `world::store`: the simulator's default and the tests' stand-in for
// LMDB (as LevelDB's NewMemEnv). Single-threaded; batches apply whole. It can be
// told to fail writes once more than `capacity_bytes` are held, to stand for a full
// disk.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "actors/world/world.hpp"

namespace stakecast::storage {

class memory_store final : public world::store {
public:
  static constexpr std::size_t unlimited = static_cast<std::size_t>(-1);

  explicit memory_store(std::size_t capacity_bytes = unlimited) : capacity_bytes_(capacity_bytes) {}

  std::optional<core::byte_buffer> get(std::string_view key) const override;
  std::string write(const write_batch& batch) override;

  std::size_t size_bytes() const noexcept { return size_bytes_; }
  std::size_t key_count() const noexcept { return entries_.size(); }

protected:
  void scan_prefix(std::string_view prefix, const scan_visitor& visit) const override;

private:
  std::map<std::string, core::byte_buffer, std::less<>> entries_;
  std::size_t size_bytes_ = 0;
  std::size_t capacity_bytes_;
};

} // namespace stakecast::storage
