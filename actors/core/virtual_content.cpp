#include "actors/core/virtual_content.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/core/error.hpp"
#include "actors/core/sha256.hpp"

namespace stakecast::core {

namespace {

constexpr std::size_t index_bytes = 8;

[[noreturn]] void contract_violated(std::string_view what) {
  std::fprintf(stderr, "stakecast: virtual content precondition failed: %.*s\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

void require(bool condition, std::string_view what) {
  if (!condition)
    contract_violated(what);
}

} // namespace

std::uint32_t virtual_content::block_count() const {
  require(content_bytes >= 1, "content_bytes >= 1");
  return core::block_count(content_bytes);
}

std::uint32_t virtual_content::block_size(std::uint32_t index) const {
  require(index < block_count(), "index < block_count()");
  std::uint64_t offset = std::uint64_t{index} * block_bytes;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(block_bytes, content_bytes - offset));
}

hash256 virtual_content::leaf(std::uint32_t index) const {
  require(index < block_count(), "index < block_count()");
  std::array<std::uint8_t, hash256::size_bytes + index_bytes> input;
  std::copy(seed.bytes.begin(), seed.bytes.end(), input.begin());
  std::uint64_t little_endian_index = index;
  for (std::size_t i = 0; i < index_bytes; ++i)
    input[hash256::size_bytes + i] = static_cast<std::uint8_t>(little_endian_index >> (8 * i));
  return sha256(input);
}

merkle_tree virtual_content::tree() const {
  std::uint32_t count = block_count();
  std::vector<hash256> leaves;
  leaves.reserve(count);
  for (std::uint32_t index = 0; index < count; ++index)
    leaves.push_back(leaf(index));
  return merkle_tree::build(std::move(leaves));
}

manifest virtual_content::make(const std::string& title, std::uint32_t bitrate_bps,
                               std::uint32_t segment_duration_ms) const {
  auto result = make_manifest(title, content_bytes, bitrate_bps, segment_duration_ms, tree());
  if (!result)
    contract_violated(describe(result.error()));
  return std::move(*result);
}

hash256 virtual_content::segment_root(const manifest& m, std::uint32_t segment) const {
  require(m.content_bytes == content_bytes, "m.content_bytes == content_bytes");
  require(segment < m.segments.size(), "segment < m.segments.size()");
  auto [first, count] = blocks_of_segment(m, segment);
  require(std::uint64_t{first} + count <= block_count(), "the segment's blocks exist");
  std::vector<hash256> leaves;
  leaves.reserve(count);
  for (std::uint32_t index = first; index < first + count; ++index)
    leaves.push_back(leaf(index));
  return segment_root_of(leaves, m.segment_height);
}

} // namespace stakecast::core
