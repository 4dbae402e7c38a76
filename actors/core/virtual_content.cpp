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

std::array<std::uint8_t, virtual_content::stand_in_bytes>
virtual_content::stand_in(std::uint32_t index) const {
  require(index < block_count(), "index < block_count()");
  std::array<std::uint8_t, stand_in_bytes> bytes;
  std::copy(seed.bytes.begin(), seed.bytes.end(), bytes.begin());
  std::uint64_t little_endian_index = index;
  for (std::size_t i = 0; i < index_bytes; ++i)
    bytes[hash256::size_bytes + i] = static_cast<std::uint8_t>(little_endian_index >> (8 * i));
  return bytes;
}

std::optional<std::uint64_t> virtual_content::stand_in_index(byte_span block) {
  if (block.size() != stand_in_bytes)
    return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < index_bytes; ++i)
    index |= std::uint64_t{block[hash256::size_bytes + i]} << (8 * i);
  return index;
}

hash256 virtual_content::leaf(std::uint32_t index) const {
  return sha256(stand_in(index));
}

merkle_tree virtual_content::tree() const {
  std::uint32_t count = block_count();
  std::vector<hash256> leaves;
  leaves.reserve(count);
  for (std::uint32_t index = 0; index < count; ++index)
    leaves.push_back(leaf(index));
  return merkle_tree::build(std::move(leaves));
}

merkle_proof virtual_content::proof(const manifest& m, std::uint32_t index) const {
  require(m.content_bytes == content_bytes, "m.content_bytes == content_bytes");
  const std::uint32_t count = block_count();
  require(index < count, "index < block_count()");
  const std::uint32_t height = m.segment_height;
  const std::uint32_t depth = merkle_depth(count);
  require(height <= depth, "m.segment_height <= merkle_depth(block_count())");
  const std::uint32_t segment = index >> height;
  require(segment < m.segment_roots.size(), "segment < m.segment_roots.size()");
  auto [first, blocks] = blocks_of_segment(m, segment);
  std::vector<hash256> leaves;
  leaves.reserve(blocks);
  for (std::uint32_t block = first; block < first + blocks; ++block)
    leaves.push_back(leaf(block));
  return block_proof(m, leaves, index);
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
