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

/// SHA-256(0x01 || left || right).
hash256 inner_hash(const hash256& left, const hash256& right);

/// The root of a subtree of `height` levels whose leaves are all zero hash256 values.
/// REQUIRES: height <= merkle_proof_depth_max.
const hash256& padding_hash(std::uint32_t height);

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
  /// REQUIRES: index < leaf_count().
  merkle_proof proof(std::uint32_t index) const;

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
