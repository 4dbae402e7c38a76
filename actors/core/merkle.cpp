#include "actors/core/merkle.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "actors/core/sha256.hpp"

namespace stakecast::core {

namespace {

constexpr std::uint8_t leaf_prefix = 0x00;
constexpr std::uint8_t inner_prefix = 0x01;

// Preconditions are programmer errors: they crash in every build.
void require(bool condition, const char* what) {
  if (condition)
    return;
  std::fprintf(stderr, "stakecast: merkle precondition failed: %s\n", what);
  std::abort();
}

using padding_table = std::array<hash256, merkle_proof_depth_max + 1>;

padding_table make_padding_table() {
  padding_table table{};
  for (std::size_t height = 1; height < table.size(); ++height)
    table[height] = inner_hash(table[height - 1], table[height - 1]);
  return table;
}

std::vector<hash256> parent_level(const std::vector<hash256>& level, std::uint32_t height) {
  std::vector<hash256> parents;
  parents.reserve((level.size() + 1) / 2);
  for (std::size_t i = 0; i < level.size(); i += 2) {
    const hash256& right = i + 1 < level.size() ? level[i + 1] : padding_hash(height);
    parents.push_back(inner_hash(level[i], right));
  }
  return parents;
}

// Folds `level`, whose nodes sit at `height`, up to its single root.
hash256 fold_to_root(std::vector<hash256> level, std::uint32_t height) {
  while (level.size() > 1) {
    level = parent_level(level, height);
    ++height;
  }
  return level.front();
}

// ceil(leaf_count / 2^height): the nodes at `height` that cover real leaves.
std::uint64_t layer_size(std::uint64_t leaf_count, std::uint32_t height) {
  return ((leaf_count - 1) >> height) + 1;
}

bool proof_shape_fits(const merkle_proof& proof) {
  if (proof.leaf_count == 0 || proof.index >= proof.leaf_count)
    return false;
  if (proof.siblings.size() > merkle_proof_depth_max)
    return false;
  return proof.siblings.size() == merkle_depth(proof.leaf_count);
}

// REQUIRES: index < leaf_count.
bool block_size_fits(std::size_t size, std::uint32_t index, std::uint32_t leaf_count) {
  if (size > block_bytes)
    return false;
  if (index + 1 < leaf_count)
    return size == block_bytes;
  return size > 0 || leaf_count == 1;
}

} // namespace

std::uint32_t block_count(std::uint64_t content_bytes) {
  require(content_bytes <= content_bytes_max, "content_bytes <= content_bytes_max");
  if (content_bytes == 0)
    return 1;
  return static_cast<std::uint32_t>((content_bytes + block_bytes - 1) / block_bytes);
}

byte_span content_block(byte_span content, std::uint32_t index) {
  require(index < block_count(content.size()), "index < block_count(content.size())");
  std::size_t offset = static_cast<std::size_t>(index) * block_bytes;
  return content.subspan(offset, std::min(block_bytes, content.size() - offset));
}

hash256 leaf_hash(byte_span block) {
  require(block.size() <= block_bytes, "block.size() <= block_bytes");
  sha256_hasher hasher;
  hasher.update(std::array{leaf_prefix});
  hasher.update(block);
  return hasher.finish();
}

hash256 inner_hash(const hash256& left, const hash256& right) {
  std::array<std::uint8_t, 1 + 2 * hash256::size_bytes> input;
  input[0] = inner_prefix;
  std::copy(left.bytes.begin(), left.bytes.end(), input.begin() + 1);
  auto right_start = input.begin() + 1 + hash256::size_bytes;
  std::copy(right.bytes.begin(), right.bytes.end(), right_start);
  return sha256(input);
}

const hash256& padding_hash(std::uint32_t height) {
  require(height <= merkle_proof_depth_max, "height <= merkle_proof_depth_max");
  static const padding_table table = make_padding_table();
  return table[height];
}

hash256 subtree_root(std::span<const hash256> leaves, std::uint32_t height) {
  require(height <= merkle_proof_depth_max, "height <= merkle_proof_depth_max");
  require(!leaves.empty(), "1 <= leaves.size()");
  require(leaves.size() <= (std::uint64_t{1} << height), "leaves.size() <= 2^height");
  std::vector<hash256> level(leaves.begin(), leaves.end());
  for (std::uint32_t level_height = 0; level_height < height; ++level_height)
    level = parent_level(level, level_height);
  return level.front();
}

hash256 root_from_layer(std::span<const hash256> layer, std::uint32_t height,
                        std::uint32_t leaf_count) {
  require(leaf_count >= 1, "leaf_count >= 1");
  require(height <= merkle_depth(leaf_count), "height <= merkle_depth(leaf_count)");
  require(layer.size() == layer_size(leaf_count, height),
          "layer.size() == ceil(leaf_count / 2^height)");
  return fold_to_root(std::vector<hash256>(layer.begin(), layer.end()), height);
}

std::vector<hash256> layer_siblings(std::span<const hash256> layer, std::uint32_t height,
                                    std::uint32_t position, std::uint32_t levels) {
  require(position < layer.size(), "position < layer.size()");
  require(height + std::uint64_t{levels} <= merkle_proof_depth_max,
          "height + levels <= merkle_proof_depth_max");
  std::vector<hash256> siblings;
  siblings.reserve(levels);
  std::vector<hash256> level(layer.begin(), layer.end());
  for (std::uint32_t above = 0; above < levels; ++above) {
    std::size_t sibling = position ^ 1;
    siblings.push_back(sibling < level.size() ? level[sibling] : padding_hash(height + above));
    if (above + 1 < levels)
      level = parent_level(level, height + above);
    position /= 2;
  }
  return siblings;
}

merkle_tree::merkle_tree(std::vector<std::vector<hash256>> levels) noexcept
  : levels_(std::move(levels)) {
}

merkle_tree merkle_tree::build(std::vector<hash256> leaves) {
  require(!leaves.empty(), "1 <= leaves.size()");
  require(leaves.size() <= leaf_count_max, "leaves.size() <= leaf_count_max");
  std::vector<std::vector<hash256>> levels;
  levels.reserve(merkle_depth(static_cast<std::uint32_t>(leaves.size())) + 1);
  levels.push_back(std::move(leaves));
  while (levels.back().size() > 1) {
    auto height = static_cast<std::uint32_t>(levels.size() - 1);
    levels.push_back(parent_level(levels.back(), height));
  }
  return merkle_tree{std::move(levels)};
}

merkle_proof merkle_tree::proof(std::uint32_t index) const {
  require(index < leaf_count(), "index < leaf_count()");
  merkle_proof result{index, leaf_count(), {}};
  result.siblings.reserve(levels_.size() - 1);
  std::size_t position = index;
  for (std::uint32_t height = 0; height + 1 < levels_.size(); ++height) {
    const auto& level = levels_[height];
    std::size_t sibling = position ^ 1;
    bool sibling_is_padding = sibling >= level.size();
    result.siblings.push_back(sibling_is_padding ? padding_hash(height) : level[sibling]);
    position /= 2;
  }
  return result;
}

hash256 merkle_tree::node(std::uint32_t height, std::uint32_t index) const {
  require(height <= depth(), "height <= depth()");
  require(index < (std::uint64_t{1} << (depth() - height)), "index < 2^(depth() - height)");
  const auto& level = levels_[height];
  return index < level.size() ? level[index] : padding_hash(height);
}

std::vector<hash256> merkle_tree::layer(std::uint32_t height) const {
  require(height <= depth(), "height <= depth()");
  return levels_[height];
}

bool verify_leaf(const hash256& root, const hash256& leaf, const merkle_proof& proof) {
  if (!proof_shape_fits(proof))
    return false;
  hash256 node = leaf;
  std::uint64_t position = proof.index;
  std::uint64_t level_size = proof.leaf_count;
  for (std::uint32_t height = 0; height < proof.siblings.size(); ++height) {
    const hash256& sibling = proof.siblings[height];
    bool sibling_is_padding = (position ^ 1) >= level_size;
    if (sibling_is_padding != (sibling == padding_hash(height)))
      return false;
    node = position % 2 == 0 ? inner_hash(node, sibling) : inner_hash(sibling, node);
    position /= 2;
    level_size = (level_size + 1) / 2;
  }
  return node == root;
}

bool verify_block(const hash256& root, byte_span block, const merkle_proof& proof) {
  if (!proof_shape_fits(proof))
    return false;
  if (!block_size_fits(block.size(), proof.index, proof.leaf_count))
    return false;
  return verify_leaf(root, leaf_hash(block), proof);
}

std::vector<hash256> leaf_hashes(byte_span content) {
  const std::uint32_t count = block_count(content.size());
  std::vector<hash256> leaves;
  leaves.reserve(count);
  for (std::uint32_t index = 0; index < count; ++index)
    leaves.push_back(leaf_hash(content_block(content, index)));
  return leaves;
}

hash256 merkle_root(byte_span content) {
  return merkle_tree::build(leaf_hashes(content)).root();
}

} // namespace stakecast::core
