// Content manifests: how a video is cut into segments and blocks, and how it is named.
//
// A video is cut into segments (playback units, the unit of scheduling, of receipts
// and of verification), each made of 16 KiB blocks (merkle.hpp's `block_bytes`, the
// unit of hashing). Every segment is exactly 2^segment_height blocks, except the last,
// which holds 1 to 2^segment_height blocks and whose last block may be short. So
// segment i is exactly the subtree of the content's Merkle tree under node i at height
// segment_height (BitTorrent v2's piece layer; docs/architecture.md, "Verification by
// piece layer"). A manifest lists the segments as byte ranges with durations, that
// layer (`segment_roots`, one node per segment), and the Merkle root over all blocks.
// A content's id is the SHA-256 of its manifest's encoding (`id_of`).
//
// Segment height: the power of two nearest, on a log scale, to the asked duration's
// bytes at the bitrate, so that the real duration is within a factor sqrt(2) of the
// asked one: 2 s at 3 Mbit/s is 750,000 bytes = 45.8 blocks, between 32 (1.4 s) and
// 64 (2.8 s); log2(45.8) = 5.52 rounds to 6, so 64 blocks. At least 1 block (height
// 0), at most limits::segment_height_max. A content no longer than one such segment
// gets the tree's depth as its height instead (the same single segment), so that its
// one segment root is the Merkle root: a layer above the root is not part of the tree.
//
// Verification: `validate` folds `segment_roots` up to `merkle_root` once
// (root_from_layer, one inner hash a segment), so a receiver that trusts the root
// trusts every entry. A received segment is then checked on its own: the real node
// computes `segment_root_of` over the leaf hashes of the bytes it received, the
// simulator takes the root a virtual payload claims (virtual_content.hpp), and both
// call `verify_segment`, one comparison.
//
// Encoding (`encode_manifest`), the fields in `inspect` order, laid out as the wire
// codec (codec.hpp) lays out a nested struct, so that a manifest carried inside a
// future wire message costs the same bytes:
//   u16 version | u32 title length, title bytes | u64 content_bytes | u32 bitrate_bps
//   | u8 segment_height
//   | u32 segment count, per segment (u64 offset_bytes, u32 size_bytes, u32 duration_ms)
//   | u32 segment root count, 32 bytes per root | 32 bytes merkle_root
// Integers are little-endian; there is no type byte. The encoding is canonical: a
// decoded manifest re-encodes to the same bytes, so `id_of` is well defined for it.
//
// Decoding is for hostile input (a manifest arrives from any peer): lengths and counts
// are checked against content_limits.hpp and against the bytes left before anything
// is allocated. `decode_manifest` checks the encoding, `validate` the meaning (the
// segments tile the content as subtrees, the piece layer hashes up to the root); a
// receiver calls both, then compares `id_of` with the id it asked for. Decoding errors
// are `wire::codec_errc` values (category "codec"), meaning errors `content_errc`
// values (category "content").
//
// All functions are pure and may be called from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/content_limits.hpp"
#include "actors/core/merkle.hpp"
#include "actors/core/messages.hpp"

namespace stakecast::core {

/// One playback unit: a byte range of the content and how long it plays.
struct segment_entry {
  /// index * 2^segment_height * block_bytes.
  std::uint64_t offset_bytes = 0;
  /// 2^segment_height * block_bytes, except in the last segment: 1 ..= that.
  std::uint32_t size_bytes = 0;
  /// At least 1.
  std::uint32_t duration_ms = 0;

  bool operator==(const segment_entry&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, segment_entry& x) {
    return f(caf::meta::type_name("segment_entry"), x.offset_bytes, x.size_bytes,
             x.duration_ms);
  }
};

struct manifest {
  std::uint16_t version = limits::manifest_version;
  /// At most limits::manifest_title_bytes_max bytes.
  std::string title;
  /// 1 ..= content_bytes_max; the blocks are block_count(content_bytes).
  std::uint64_t content_bytes = 0;
  /// The nominal bitrate the durations were computed from; >= limits::bitrate_bps_min.
  std::uint32_t bitrate_bps = 0;
  /// A segment is 2^segment_height blocks (the last may be shorter);
  /// <= limits::segment_height_max and <= merkle_depth(block_count(content_bytes)).
  std::uint8_t segment_height = 0;
  /// In playback order, contiguous from offset 0 to content_bytes; at most
  /// limits::segment_count_max.
  std::vector<segment_entry> segments;
  /// The piece layer: entry i is the Merkle tree's node i at height segment_height,
  /// the root of segment i's blocks (padded as merkle.hpp pads). One per segment.
  std::vector<hash256> segment_roots;
  /// The root of the Merkle tree over the content's blocks (merkle.hpp); never zero.
  hash256 merkle_root;

  bool operator==(const manifest&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, manifest& x) {
    return f(caf::meta::type_name("manifest"), x.version, x.title, x.content_bytes,
             x.bitrate_bps, x.segment_height, wire::count_max<limits::segment_count_max>,
             x.segments, wire::count_max<limits::segment_count_max>, x.segment_roots,
             x.merkle_root);
  }
};

enum class content_errc : std::uint8_t {
  /// An argument of make_manifest is out of range (see there).
  invalid_parameter = 1,
  /// The manifest's version is not limits::manifest_version.
  unsupported_version,
  /// A header field is out of range: title length, content_bytes, bitrate, segment
  /// height, a zero root, segment count, a segment's size or duration.
  invalid_field,
  /// A segment starts after the end of the one before it (or the first after 0).
  segment_gap,
  /// A segment starts before the end of the one before it.
  segment_overlap,
  /// A segment is not one subtree at segment_height: it starts off a block boundary,
  /// or it is not 2^segment_height blocks (more than that, for the last).
  misaligned_segment,
  /// The segments end short of or past content_bytes, or cover a number of blocks
  /// other than block_count(content_bytes).
  coverage_mismatch,
  /// segment_roots has a count other than the segments', or does not hash up to
  /// merkle_root.
  piece_layer_mismatch,
};

std::string_view to_string(content_errc code) noexcept;
/// A caf::error in category "content" with text "<code>: <detail>".
caf::error make_error(content_errc code, std::string_view detail);

/// Cuts `content_bytes` of content at `bitrate_bps` into segments of about
/// `segment_duration_ms` each: every segment but the last is 2^segment_height blocks,
/// the height chosen as at the top of this file; the last segment holds what remains.
/// A segment's duration is its bytes' playback time at the bitrate, rounded to the
/// nearest millisecond, at least 1. Fills segment_roots from `tree`'s layer at that
/// height and merkle_root with its root. The result passes `validate`.
/// Errors (invalid_parameter): a title above limits::manifest_title_bytes_max; content
/// bytes 0 or above content_bytes_max; a tree whose leaf count is not
/// block_count(content_bytes); a bitrate below limits::bitrate_bps_min; a duration 0
/// or above limits::segment_duration_ms_max; a nearest height above
/// limits::segment_height_max; more than limits::segment_count_max segments; a zero
/// root.
caf::expected<manifest> make_manifest(std::string title, std::uint64_t content_bytes,
                                      std::uint32_t bitrate_bps,
                                      std::uint32_t segment_duration_ms,
                                      const merkle_tree& tree);

/// The encoding described at the top of this file.
/// REQUIRES: m.title.size() <= limits::manifest_title_bytes_max and
/// m.segments.size() and m.segment_roots.size() <= limits::segment_count_max (a
/// manifest no peer would accept is
/// a programmer error and aborts, as in the wire codec).
byte_buffer encode_manifest(const manifest& m);

/// Decodes exactly one manifest from `bytes`. Errors (wire::codec_errc): truncated;
/// oversize (input above limits::manifest_bytes_max, a title or segment count above
/// its limit); invalid_value (a version other than limits::manifest_version);
/// trailing_bytes. Allocates at most about the size of `bytes`. A decoded manifest
/// may still be meaningless: call `validate`.
caf::expected<manifest> decode_manifest(byte_span bytes);

/// The content id: sha256(encode_manifest(m)). REQUIRES: as encode_manifest.
content_id id_of(const manifest& m);

/// caf::none when `m` is well formed: a supported version, fields within their
/// bounds, segments that start at 0, follow one another without gap or overlap and
/// are each exactly 2^segment_height blocks but the last (1 to 2^segment_height
/// blocks), ending at content_bytes, so that together they cover the
/// block_count(content_bytes) blocks of the Merkle tree (the leaf_count every proof
/// for this content must carry) once, each as one subtree; and one segment root per
/// segment, the layer folding up to merkle_root. Otherwise a content_errc error naming
/// the first problem found. Costs one inner hash a segment (430 for a 20-minute
/// 3 Mbit/s video): a receiver validates a manifest once and keeps it.
caf::error validate(const manifest& m);

/// The blocks of segment `segment`: (index of its first block, number of blocks).
/// REQUIRES: validate(m) is none and segment < m.segments.size().
std::pair<std::uint32_t, std::uint32_t> blocks_of_segment(const manifest& m,
                                                          std::uint32_t segment);

/// The root of one segment's blocks, as a receiver computes it from what it received:
/// subtree_root(block_leaf_hashes, segment_height), the leaf hashes being
/// leaf_hash(block bytes) of the segment's blocks in order (blocks_of_segment).
/// REQUIRES: 1 <= block_leaf_hashes.size() <= 2^segment_height and
/// segment_height <= limits::segment_height_max.
hash256 segment_root_of(std::span<const hash256> block_leaf_hashes,
                        std::uint8_t segment_height);

/// True when `computed_root` is m.segment_roots[segment]: the segment's blocks are
/// the content's. False for a segment past the end (a peer may name any index).
/// REQUIRES: validate(m) is none (the piece layer was checked against the root).
bool verify_segment(const manifest& m, std::uint32_t segment, const hash256& computed_root);

/// Whether `bytes` are segment `index` of `m`: its size, then the root of their blocks
/// (segment_root_of over their leaf hashes) against the piece layer. What a receiver of
/// real bytes checks. REQUIRES: validate(m) is none.
bool matches_segment(const manifest& m, std::uint32_t index, byte_span bytes);

/// The Merkle proof of block `index` (the whole content's tree) made from the leaf
/// hashes of its segment's blocks (blocks_of_segment, in order) and the manifest's piece
/// layer, without the whole tree: about 2^segment_height + segment count hashes.
/// REQUIRES: validate(m) is none, index < the content's block count, and
/// `segment_leaves` are the leaf hashes of the blocks of segment index >> segment_height.
merkle_proof block_proof(const manifest& m, std::span<const hash256> segment_leaves,
                         std::uint32_t index);

} // namespace stakecast::core
