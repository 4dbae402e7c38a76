// The bounds of a content manifest (manifest.hpp), named with their unit last.
//
// Kept apart from limits.hpp, which bounds wire messages, but in the same namespace so
// that every bound reads `limits::...`. A decoder rejects a manifest above these
// bounds before allocating; code that builds manifests REQUIRES staying below them.
// The relations between them, and with the Merkle tree's bounds, are checked here at
// compile time. Plain constants: no state, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "actors/core/limits.hpp"
#include "actors/core/merkle.hpp"

namespace stakecast::limits {

/// The current (and only) manifest layout.
inline constexpr std::uint16_t manifest_version = 1;

/// Segments in one manifest: about 51 hours of 64-block (2.8 s at 3 Mbit/s) segments.
inline constexpr std::size_t segment_count_max = 65536;
/// Bytes of a manifest's title. Equal to the wire codec's text bound, so a manifest
/// nested in a wire message encodes to the same bytes as `encode_manifest`.
inline constexpr std::size_t manifest_title_bytes_max = text_bytes_max;
/// A segment is 2^segment_height blocks (the last may be shorter): at most 2^12 =
/// 4,096 blocks.
inline constexpr std::uint8_t segment_height_max = 12;
/// Bytes of one segment: 4,096 blocks = 64 MiB, 268 Mbit/s at 2 s per segment.
inline constexpr std::size_t segment_bytes_max = 64 * 1024 * 1024;
/// The longest segment `make_manifest` is asked to cut (one minute).
inline constexpr std::uint32_t segment_duration_ms_max = 60'000;
/// The lowest bitrate a manifest may declare. A 1-block segment then lasts at most
/// 131 s, and a maximal segment's duration still fits its u32 milliseconds.
inline constexpr std::uint32_t bitrate_bps_min = 1'000;

/// The largest encoding of a manifest: version, title, content bytes, bitrate,
/// segment height, segment list (16 bytes a segment), piece layer (32 bytes a
/// segment) and Merkle root: 3,146,043 bytes.
inline constexpr std::size_t manifest_bytes_max = 2 + (4 + manifest_title_bytes_max) + 8
                                                  + 4 + 1 + (4 + segment_count_max * 16)
                                                  + (4 + segment_count_max * 32) + 32;

static_assert(manifest_title_bytes_max <= text_bytes_max,
              "a manifest title must fit the wire codec's text bound");
static_assert(segment_count_max <= std::numeric_limits<std::uint32_t>::max(),
              "segment indexes are u32");
static_assert(segment_bytes_max == core::block_bytes << segment_height_max,
              "a full segment of the largest height is exactly segment_bytes_max");
static_assert(segment_height_max <= core::merkle_proof_depth_max,
              "a segment is a subtree of the Merkle tree");
static_assert(segment_bytes_max <= std::numeric_limits<std::uint32_t>::max(),
              "segment_entry::size_bytes is a u32");
static_assert(segment_count_max * segment_bytes_max <= core::content_bytes_max,
              "every manifest within these bounds has a Merkle tree");
static_assert(std::uint64_t{segment_bytes_max} * 8'000 / bitrate_bps_min
                <= std::numeric_limits<std::uint32_t>::max(),
              "a maximal segment's duration at the lowest bitrate fits u32 milliseconds");
static_assert(manifest_bytes_max == 3'146'043, "the figure in the comment above");
static_assert(manifest_bytes_max <= frame_bytes_max,
              "a maximal manifest fits one frame (as a payload: it exceeds the envelope)");

} // namespace stakecast::limits
