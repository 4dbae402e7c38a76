// Merkle trees over 16 KiB blocks: how a piece of content is cut, hashed and proven
// block by block (BitTorrent v2 style, simplified).
//
// Construction, exactly:
//  - Content is cut into blocks of `block_bytes`; the last block may be shorter.
//    Empty content is one empty block, so every content has a root.
//  - leaf  = SHA-256(0x00 || block bytes)
//  - inner = SHA-256(0x01 || left || right)
//    The prefixes keep a leaf from ever being read as an inner node.
//  - The leaves are padded with zero hash256 values up to the next power of two, and
//    every level above is built from pairs: inner nodes over padding are hashed like
//    any other (the root of an all-padding subtree of height h is `padding_hash(h)`,
//    not zero). The tree stores no padding; it uses `padding_hash` where a level has
//    no right neighbour, which gives the same root.
//  - One block: the root is its leaf hash. Depth = ceil(log2(leaf count)).
//
// Layers: the nodes at height h (0 = leaves) are the roots of the subtrees of 2^h leaf
// slots; node i covers slots [i * 2^h, (i + 1) * 2^h). `layer(h)` is the
// ceil(leaf_count / 2^h) nodes that cover at least one real leaf; a node past them
// covers only padding and is `padding_hash(h)`. Heights run from 0 to the depth: a
// layer above the root is not part of the tree (a 2^h-slot subtree root above it
// would be the root padded further, which `root()` is not). A layer determines the
// root (`root_from_layer`), which is how a manifest's piece layer is checked once
// against its root (manifest.hpp); `subtree_root` is how a receiver recomputes one
// node of that layer from the leaves it holds.
//
// A `merkle_proof` for leaf `index` lists the sibling of each node on the path from
// the leaf to the root, bottom first. Verifying one checks that the proof has exactly
// the depth its `leaf_count` implies (at most `merkle_proof_depth_max`), that siblings
// are padding exactly where that count puts padding, that a block has the size its
// position implies, and that folding the path gives the root.
//
// What a root does not prove: the leaf count. Two counts with the same depth can
// share a path (5 and 6 leaves, index 0), so a verifier compares `proof.leaf_count`
// with the count it expects (from the manifest's content length) before trusting it.
//
// Memory: a tree keeps every level, about 2 hashes per leaf.
// Concurrency: all functions are pure; a built `merkle_tree` may be read from many
// threads.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"

namespace stakecast::core {

inline constexpr std::size_t block_bytes = 16 * 1024;
/// A leaf index and count must fit in 32 bits.
inline constexpr std::uint64_t leaf_count_max = 0xffff'ffff;
inline constexpr std::uint64_t content_bytes_max = block_bytes * leaf_count_max;
inline constexpr std::uint32_t merkle_proof_depth_max = 32;

/// The number of levels above the leaves: ceil(log2(leaf_count)).
/// REQUIRES: leaf_count >= 1.
constexpr std::uint32_t merkle_depth(std::uint32_t leaf_count) noexcept {
  return static_cast<std::uint32_t>(std::bit_width(leaf_count - 1));
}

static_assert(merkle_depth(1) == 0);
static_assert(merkle_depth(static_cast<std::uint32_t>(leaf_count_max))
              == merkle_proof_depth_max);

/// The number of blocks `content_bytes` of content is cut into (1 for empty content).
/// REQUIRES: content_bytes <= content_bytes_max.
std::uint32_t block_count(std::uint64_t content_bytes);

/// Block `index` of `content`: `block_bytes` long, except possibly the last.
/// REQUIRES: index < block_count(content.size()).
byte_span content_block(byte_span content, std::uint32_t index);

/// SHA-256(0x00 || block).
/// REQUIRES: block.size() <= block_bytes.
hash256 leaf_hash(byte_span block);

/// leaf_hash of each block of `content`, in order (block_count(content.size()) of them).
/// REQUIRES: content.size() <= content_bytes_max.
std::vector<hash256> leaf_hashes(byte_span content);

/// SHA-256(0x01 || left || right).
hash256 inner_hash(const hash256& left, const hash256& right);

/// The root of a subtree of `height` levels whose leaves are all zero hash256 values.
/// REQUIRES: height <= merkle_proof_depth_max.
const hash256& padding_hash(std::uint32_t height);

/// The root of a subtree of 2^height leaf slots whose first leaves.size() slots hold
/// `leaves` and the rest padding (zero leaves). subtree_root({x}, 0) == x.
/// REQUIRES: height <= merkle_proof_depth_max and 1 <= leaves.size() <= 2^height.
hash256 subtree_root(std::span<const hash256> leaves, std::uint32_t height);

/// The root of the tree of `leaf_count` leaves whose nodes at `height` are `layer`:
/// equal to merkle_tree::build(leaves).root() for the same leaves. Costs about
/// layer.size() inner hashes.
/// REQUIRES: leaf_count >= 1, height <= merkle_depth(leaf_count) and
/// layer.size() == ceil(leaf_count / 2^height) (a caller holding hostile input
/// checks the last two first, as manifest.cpp's validate does). Like a root, a layer
/// does not prove `leaf_count`: counts giving the same depth and layer size fold alike.
hash256 root_from_layer(std::span<const hash256> layer, std::uint32_t height,
                        std::uint32_t leaf_count);

/// The siblings that a proof through node `position` of `layer` carries over the
/// next `levels` levels, bottom first: merkle_tree::proof's siblings from `height` to
/// `height + levels` for the tree whose nodes at `height` are `layer` (the nodes that
/// cover real leaves, as merkle_tree::layer returns them; a node past them is
/// padding). Computed from the layer alone, at about layer.size() inner hashes: how a
/// proof is made from a manifest's piece layer without the whole tree.
/// REQUIRES: position < layer.size() and height + levels <= merkle_proof_depth_max.
std::vector<hash256> layer_siblings(std::span<const hash256> layer, std::uint32_t height,
                                    std::uint32_t position, std::uint32_t levels);

struct merkle_proof {
  std::uint32_t index = 0;
  std::uint32_t leaf_count = 0;
  /// Bottom first; exactly merkle_depth(leaf_count) of them in a well-formed proof.
  std::vector<hash256> siblings;

  bool operator==(const merkle_proof&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, merkle_proof& x) {
    return f(caf::meta::type_name("merkle_proof"), x.index, x.leaf_count, x.siblings);
  }
};

class merkle_tree {
public:
  /// REQUIRES: 1 <= leaves.size() <= leaf_count_max.
  static merkle_tree build(std::vector<hash256> leaves);

  hash256 root() const noexcept {
    return levels_.back().front();
  }
  std::uint32_t leaf_count() const noexcept {
    return static_cast<std::uint32_t>(levels_.front().size());
  }
  /// merkle_depth(leaf_count()): the root's height.
  std::uint32_t depth() const noexcept {
    return static_cast<std::uint32_t>(levels_.size() - 1);
  }
  /// REQUIRES: index < leaf_count().
  merkle_proof proof(std::uint32_t index) const;

  /// Node `index` at `height`: layer(height)[index], or padding_hash(height) for a
  /// node that covers only padding. node(depth(), 0) == root().
  /// REQUIRES: height <= depth() and index < 2^(depth() - height).
  hash256 node(std::uint32_t height, std::uint32_t index) const;

  /// The nodes at `height` that cover real leaves: ceil(leaf_count() / 2^height) of
  /// them, a copy. layer(0) is the leaves, layer(depth()) the root alone.
  /// REQUIRES: height <= depth().
  std::vector<hash256> layer(std::uint32_t height) const;

private:
  explicit merkle_tree(std::vector<std::vector<hash256>> levels) noexcept;

  /// levels_[0] holds the leaves, levels_.back() the root alone; no padding is stored.
  std::vector<std::vector<hash256>> levels_;
};

/// True when `leaf` is leaf `proof.index` of a tree of `proof.leaf_count` leaves whose
/// root is `root`, and `proof` is well formed (see the top of this file).
bool verify_leaf(const hash256& root, const hash256& leaf, const merkle_proof& proof);

/// verify_leaf for the leaf hash of `block`, which must also have the size its
/// position implies: `block_bytes` unless it is the last block, which holds 1 to
/// `block_bytes` bytes (0 to `block_bytes` when it is the only block).
bool verify_block(const hash256& root, byte_span block, const merkle_proof& proof);

/// The root of the tree over `content`'s blocks.
/// REQUIRES: content.size() <= content_bytes_max.
hash256 merkle_root(byte_span content);

} // namespace stakecast::core
