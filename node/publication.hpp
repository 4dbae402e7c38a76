// `stakecast publish`'s first step: a file cut into segments and named by its manifest
// (actors/core/manifest.hpp), computed on the command line's side before anything is
// sent to the node.
//
// The file is read once, 16 KiB block by block, into the leaf hashes of its Merkle
// tree; memory is 32 bytes a block (2 MiB for a 1 GiB file), not the file. The bitrate
// the segments are cut at is the caller's, or an MP4's own (its size over the duration
// in the `mvhd` box of its `moov`), or `default_bitrate_bps`.
//
// Pure apart from reading the file; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "actors/core/bytes.hpp"
#include "actors/core/manifest.hpp"
#include "node/home.hpp"

namespace stakecast::node {

/// The bitrate of a file that says nothing of its own: 4 Mbit/s, a 720p video.
inline constexpr std::uint32_t default_bitrate_bps = 4'000'000;

struct publication {
  core::manifest manifest;
};

/// Errors name the file and what is wrong (missing, empty, too large, unreadable).
result<publication> make_publication(const std::string& path, const std::string& title,
                                     std::optional<std::uint32_t> bitrate_bps,
                                     std::chrono::milliseconds segment_duration);

/// An MP4's duration from its moov/mvhd box; nullopt when `head` (the file's bytes
/// up to the end of its moov box) is not an MP4 or says no duration.
std::optional<std::chrono::milliseconds> mp4_duration(core::byte_span file);

} // namespace stakecast::node
