// Content manifests: how a video is cut into segments and blocks, and how it is named.
//
// A video is cut into segments (playback units, the unit of scheduling and of
// receipts), each made of whole 16 KiB blocks (merkle.hpp's `block_bytes`, the unit of
// hashing); only the last segment, and in it the last block, may be short. A manifest
// lists the segments as byte ranges with durations, and the Merkle root over all
// blocks. A content's id is the SHA-256 of its manifest's encoding (`id_of`).
//
// Encoding (`encode_manifest`), the fields in `inspect` order, laid out as the wire
// codec (codec.hpp) lays out a nested struct, so that a manifest carried inside a
// future wire message costs the same bytes:
//   u16 version | u32 title length, title bytes | u64 content_bytes | u32 bitrate_bps
//   | u32 segment count, per segment (u64 offset_bytes, u32 size_bytes, u32 duration_ms)
//   | 32 bytes merkle_root
// Integers are little-endian; there is no type byte. The encoding is canonical: a
// decoded manifest re-encodes to the same bytes, so `id_of` is well defined for it.
//
// Decoding is for hostile input (a manifest arrives from any peer): lengths and counts
// are checked against content_limits.hpp and against the bytes left before anything
// is allocated. `decode_manifest` checks the encoding, `validate` the meaning (the
// segments tile the content at block boundaries); a receiver calls both, then compares
// `id_of` with the id it asked for. Decoding errors are `wire::codec_errc` values
// (category "codec"), meaning errors `content_errc` values (category "content").
//
// All functions are pure and may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/content_limits.hpp"
#include "actors/core/messages.hpp"

namespace stakecast::core {

/// One playback unit: a byte range of the content and how long it plays.
struct segment_entry {
  /// A multiple of block_bytes.
  std::uint64_t offset_bytes = 0;
  /// 1 ..= limits::segment_bytes_max; a multiple of block_bytes except in the last.
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
  /// In playback order, contiguous from offset 0 to content_bytes; at most
  /// limits::segment_count_max.
  std::vector<segment_entry> segments;
  /// The root of the Merkle tree over the content's blocks (merkle.hpp); never zero.
  hash256 merkle_root;

  bool operator==(const manifest&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, manifest& x) {
    return f(caf::meta::type_name("manifest"), x.version, x.title, x.content_bytes,
             x.bitrate_bps, wire::count_max<limits::segment_count_max>, x.segments,
             x.merkle_root);
  }
};

enum class content_errc : std::uint8_t {
  /// An argument of make_manifest is out of range (see there).
  invalid_parameter = 1,
  /// The manifest's version is not limits::manifest_version.
  unsupported_version,
  /// A header field is out of range: title length, content_bytes, bitrate, a zero
  /// root, segment count, a segment's size or duration.
  invalid_field,
  /// A segment starts after the end of the one before it (or the first after 0).
  segment_gap,
  /// A segment starts before the end of the one before it.
  segment_overlap,
  /// A segment starts, or a segment other than the last ends, off a block boundary.
  misaligned_segment,
  /// The segments end short of or past content_bytes, or cover a number of blocks
  /// other than block_count(content_bytes).
  coverage_mismatch,
};

std::string_view to_string(content_errc code) noexcept;
/// A caf::error in category "content" with text "<code>: <detail>".
caf::error make_error(content_errc code, std::string_view detail);

/// Cuts `content_bytes` of content at `bitrate_bps` into segments of about
/// `segment_duration_ms` each: every segment but the last is the same whole number of
/// blocks, the number of blocks nearest to segment_duration_ms of bytes at the bitrate
/// (at least one); the last segment holds what remains. A segment's duration is its
/// bytes' playback time at the bitrate, rounded to the nearest millisecond, at least 1.
/// The result passes `validate`.
/// Errors (invalid_parameter): a title above limits::manifest_title_bytes_max; content
/// bytes 0 or above content_bytes_max; a bitrate below limits::bitrate_bps_min; a
/// duration 0 or above limits::segment_duration_ms_max; segments that would exceed
/// limits::segment_bytes_max or number more than limits::segment_count_max; a zero
/// root.
caf::expected<manifest> make_manifest(std::string title, std::uint64_t content_bytes,
                                      std::uint32_t bitrate_bps,
                                      std::uint32_t segment_duration_ms,
                                      const hash256& merkle_root);

/// The encoding described at the top of this file.
/// REQUIRES: m.title.size() <= limits::manifest_title_bytes_max and
/// m.segments.size() <= limits::segment_count_max (a manifest no peer would accept is
/// a programmer error and aborts, as in the wire codec).
byte_buffer encode_manifest(const manifest& m);

/// Decodes exactly one manifest from `bytes`. Errors (wire::codec_errc): truncated;
/// oversize (input above limits::manifest_bytes_max, a title or segment count above
/// its limit); invalid_value (a version other than limits::manifest_version);
/// trailing_bytes. Allocates at most about the size of `bytes`.
caf::expected<manifest> decode_manifest(byte_span bytes);

/// The content id: sha256(encode_manifest(m)). REQUIRES: as encode_manifest.
content_id id_of(const manifest& m);

/// caf::none when `m` is well formed: a supported version, fields within their
/// bounds, and segments that start at 0, follow one another without gap or overlap,
/// start on block boundaries, end on block boundaries except the last, and end at
/// content_bytes, so that together they cover the block_count(content_bytes) blocks
/// of the Merkle tree (the leaf_count every proof for this content must carry) once.
/// Otherwise a content_errc error naming the first problem found.
caf::error validate(const manifest& m);

/// The blocks of segment `segment`: (index of its first block, number of blocks).
/// REQUIRES: validate(m) is none and segment < m.segments.size().
std::pair<std::uint32_t, std::uint32_t> blocks_of_segment(const manifest& m,
                                                          std::uint32_t segment);

} // namespace stakecast::core
