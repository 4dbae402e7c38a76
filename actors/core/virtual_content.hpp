// Virtual content: content whose blocks are never materialized (DESIGN.md, "payload
// bytes are not materialized"), for the simulator.
//
// A virtual content is named by a 32-byte seed and a length. Block `index` has no
// bytes, only a leaf hash:
//
//     leaf(index) = SHA-256(seed || le64(index))
//
// (the seed's 32 bytes, then the index as 8 little-endian bytes), in place of
// merkle.hpp's leaf_hash(block bytes). The Merkle tree over those leaves (`tree`) is
// built exactly as merkle.hpp builds any tree, and its root goes into the manifest
// (`make`). Verification is the same function in both worlds: the real node checks
// verify_leaf(manifest.merkle_root, leaf_hash(received bytes), proof), the simulator
// checks verify_leaf(manifest.merkle_root, leaf(index), proof). A poisoned block in
// simulation is a message that carries a wrong leaf hash (anything but leaf(index));
// it then fails verify_leaf exactly as wrong bytes fail it in the real world.
// Sizes are those of real content: block_bytes each, the last possibly shorter.
//
// Segments are verified the same way, a layer up (manifest.hpp, "Verification"): the
// manifest carries the tree's layer at segment_height, checked once against the root.
// A virtual payload carries the segment root its sender claims; the receiver calls
// verify_segment(manifest, segment, claimed root), one comparison. The honest claim
// for segment s is manifest.segment_roots[s] of the manifest `make` returned (one
// lookup: what a simulated honest sender should read in a hot path, holding the
// manifest it cached). `segment_root` derives the same value from the seed alone,
// 2^segment_height leaf hashes and as many inner hashes (about 16.5 us for 64 blocks,
// measured below), without reading the manifest's roots: the reference the tests
// check those roots against. A poisoned segment is a payload whose claimed root is
// anything else, and it fails verify_segment as wrong bytes would.
//
// Cost, measured: building the tree of a 20-minute 3 Mbit/s video (450,000,000 bytes,
// 27,466 leaves: 27,466 leaf hashes and 27,472 inner hashes) takes 9 ms on the
// project's machine (AMD EPYC, g++ 12 -O2; 9 ms in each of 5 runs, at the 1 ms
// resolution Catch2 prints), about 160 ns a hash, with the hidden test "virtual
// content tree build time for a 20-minute video" in virtual_content.test.cpp:
//     g++ -std=c++20 -O2 -I. tests/main.cpp actors/core/*.cpp -lcaf_core -lcrypto -lfmt
//       -o /tmp/content_tests && /tmp/content_tests "[virtual_content_timing]" -d yes
// A tree keeps about 2 hashes per leaf (merkle.hpp): 1.8 MB for that video, so a
// simulation builds each content's manifest once (`make` builds the tree once and
// drops it) and shares it; the manifest keeps only the piece layer (430 hashes,
// 14 KB for that video).
// segment_root over one 64-block segment (64 leaf and 63 inner hashes) takes about
// 16.5 us: the hidden test "segment_root time for 10 rounds of the 430 segments of a
// 20-minute video" (4,300 calls after one make()) took 80 to 81 ms in 4 of 5 quiet
// runs (113 ms in one), against the 9 ms of make() alone, built with
//     g++ -std=c++20 -O2 -DNDEBUG -I. tests/main.cpp actors/core/{bytes,error,sha256,
//       merkle,manifest,virtual_content,codec,random}.cpp actors/core/{merkle,manifest,
//       virtual_content}.test.cpp -lcaf_core -lcrypto -lfmt -o /tmp/piece_tests
// and run as above.
//
//
// Audits (the chain's audit_response) are the one place where a protocol must show a
// block rather than its leaf hash. A virtual block is shown by its stand-in, the 40
// bytes `stand_in(index)` = seed || le64(index), whose SHA-256 is leaf(index) (leaf
// is computed from it, so the two cannot drift). The simulator's verifier
// (sim/memo_verifier.hpp, through core/verifier.hpp's verify_block) accepts a
// stand-in when verify_leaf(root, SHA-256(stand-in), proof) holds and its index is
// the proof's; the real node's verifier hashes real bytes and never does. A simulated
// masternode answers a challenge with stand_in(index) and `proof(m, index)`, which is
// tree().proof(index) made from the manifest's piece layer: 2^segment_height leaves of
// the block's segment and the layer folded upward, about 560 hashes for a 20-minute
// video against 55,000 for the whole tree. Measured: the hidden test "proof time for
// 100 blocks of a 20-minute video" (one make(), then 100 proofs each checked with
// verify_leaf) took 16, 16 and 21 ms in 3 runs on a shared 2-core machine, of which
// make() is 9 ms, so under 0.12 ms a proof; built as RelWithDebInfo (-O2) by CMake
// and run as build/stakecast_tests "[virtual_content_timing]" -d yes.
//
// All functions are pure; a virtual_content may be read from many threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "actors/core/bytes.hpp"
#include "actors/core/manifest.hpp"
#include "actors/core/merkle.hpp"

namespace stakecast::core {

struct virtual_content {
  /// The seed, then the block index as 8 little-endian bytes.
  static constexpr std::size_t stand_in_bytes = hash256::size_bytes + 8;
  static_assert(stand_in_bytes == 40);

  hash256 seed;
  /// REQUIRES for every member function: 1 <= content_bytes <= content_bytes_max.
  std::uint64_t content_bytes = 0;

  bool operator==(const virtual_content&) const = default;

  /// block_count(content_bytes): the tree's leaf count.
  std::uint32_t block_count() const;

  /// Bytes of block `index`: block_bytes, except the last, which holds the rest.
  /// REQUIRES: index < block_count().
  std::uint32_t block_size(std::uint32_t index) const;

  /// The bytes that stand for block `index` where a protocol must show a block, such
  /// as an audit answer: seed || le64(index). SHA-256 of them is leaf(index).
  /// REQUIRES: index < block_count().
  std::array<std::uint8_t, stand_in_bytes> stand_in(std::uint32_t index) const;

  /// The block index that `block` names if it is a stand-in (le64 of its last 8
  /// bytes), or none when it is not stand_in_bytes long. Says nothing about the seed:
  /// only a Merkle proof does.
  static std::optional<std::uint64_t> stand_in_index(byte_span block);

  /// SHA-256(seed || le64(index)) = SHA-256(stand_in(index)).
  /// REQUIRES: index < block_count().
  hash256 leaf(std::uint32_t index) const;

  /// The Merkle tree over leaf(0) .. leaf(block_count() - 1).
  merkle_tree tree() const;

  /// tree().proof(index), made from `m`'s piece layer instead of the whole tree: the
  /// siblings inside the block's segment from that segment's 2^m.segment_height
  /// leaves, those above from m.segment_roots folded upward (merkle.hpp,
  /// layer_siblings).
  /// REQUIRES: validate(m) is none, m.content_bytes == content_bytes, m is this
  /// content's manifest (its piece layer is this tree's) and index < block_count().
  merkle_proof proof(const manifest& m, std::uint32_t index) const;

  /// The manifest of this content: make_manifest with tree(), so with the piece layer
  /// (segment_roots) and the root. Builds the tree once.
  /// REQUIRES: the arguments are within make_manifest's bounds (a scenario is checked
  /// when it is loaded; out-of-range values here are a programmer error and abort).
  manifest make(const std::string& title, std::uint32_t bitrate_bps,
                std::uint32_t segment_duration_ms) const;

  /// The root an honest sender claims for segment `segment` of `m`, derived from the
  /// seed: segment_root_of(leaf(first) .. leaf(first + count - 1), m.segment_height)
  /// over the segment's blocks (blocks_of_segment). Equals m.segment_roots[segment]
  /// when `m` is make()'s manifest; costs 2^segment_height leaves and inner hashes,
  /// never the whole tree.
  /// REQUIRES: validate(m) is none, m.content_bytes == content_bytes and
  /// segment < m.segments.size().
  hash256 segment_root(const manifest& m, std::uint32_t segment) const;
};

} // namespace stakecast::core
