#include "actors/core/manifest.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>

#include <caf/atom.hpp>
#include <caf/meta/annotation.hpp>

#include <fmt/format.h>

#include "actors/core/codec.hpp"
#include "actors/core/error.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/merkle.hpp"
#include "actors/core/sha256.hpp"

namespace stakecast::core {

namespace {

using wire::codec_errc;

using wire::detail::require;

constexpr std::uint64_t milliseconds_per_second = 1'000;
constexpr std::uint64_t bits_per_byte = 8;

// Playback time of `size_bytes` at `bitrate_bps`, to the nearest millisecond, >= 1.
// REQUIRES: size_bytes <= segment_bytes_max and bitrate_bps >= bitrate_bps_min (so the
// result fits u32, see content_limits.hpp).
std::uint32_t playback_ms(std::uint64_t size_bytes, std::uint32_t bitrate_bps) {
  std::uint64_t bit_milliseconds = size_bytes * bits_per_byte * milliseconds_per_second;
  std::uint64_t rounded = (bit_milliseconds + bitrate_bps / 2) / bitrate_bps;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(rounded, 1));
}

std::uint64_t blocks_covering(std::uint64_t size_bytes) {
  return (size_bytes + block_bytes - 1) / block_bytes;
}

// Bytes of a segment of 2^segment_height full blocks.
// REQUIRES: segment_height <= limits::segment_height_max.
std::uint64_t full_segment_bytes(std::uint32_t segment_height) {
  return std::uint64_t{block_bytes} << segment_height;
}

caf::error invalid_parameter(std::string detail) {
  return make_error(content_errc::invalid_parameter, detail);
}

// The header fields of make_manifest, checked before any arithmetic on them.
caf::error check_parameters(const std::string& title, std::uint64_t content_bytes,
                            std::uint32_t bitrate_bps, std::uint32_t segment_duration_ms,
                            const merkle_tree& tree) {
  if (title.size() > limits::manifest_title_bytes_max)
    return invalid_parameter(fmt::format("title has {} bytes, above {}", title.size(),
                                         limits::manifest_title_bytes_max));
  if (content_bytes == 0 || content_bytes > content_bytes_max)
    return invalid_parameter(
      fmt::format("content_bytes {} is outside 1..={}", content_bytes, content_bytes_max));
  if (tree.leaf_count() != block_count(content_bytes))
    return invalid_parameter(fmt::format("the tree has {} leaves, the content {} blocks",
                                         tree.leaf_count(), block_count(content_bytes)));
  if (bitrate_bps < limits::bitrate_bps_min)
    return invalid_parameter(
      fmt::format("bitrate {} bps is below {}", bitrate_bps, limits::bitrate_bps_min));
  if (segment_duration_ms == 0 || segment_duration_ms > limits::segment_duration_ms_max)
    return invalid_parameter(fmt::format("segment duration {} ms is outside 1..={}",
                                         segment_duration_ms,
                                         limits::segment_duration_ms_max));
  if (tree.root().is_zero())
    return invalid_parameter("the Merkle root is zero");
  return caf::none;
}

// The height whose 2^height blocks are nearest `target_bytes` on a log scale: the
// number of heights h >= 1 with target_bytes > 2^(h - 0.5) blocks, counted in integers
// as 2 * target_bytes^2 > (2^h * block_bytes)^2 (no tie: the right side over 2 is an
// odd power of two, never a square). Stops at segment_height_max + 1, which means
// "above the limit".
std::uint32_t nearest_segment_height(std::uint64_t target_bytes) {
  constexpr std::uint32_t above_limit = limits::segment_height_max + 1;
  // Beyond 2^(segment_height_max + 1) blocks the answer is above the limit; below it,
  // every square here fits 64 bits (2 * 2^54).
  constexpr std::uint64_t target_bytes_ceiling = std::uint64_t{block_bytes} << above_limit;
  if (target_bytes >= target_bytes_ceiling)
    return above_limit;
  std::uint32_t height = 0;
  while (height < above_limit) {
    std::uint64_t next_bytes = std::uint64_t{block_bytes} << (height + 1);
    if (2 * target_bytes * target_bytes <= next_bytes * next_bytes)
      break;
    ++height;
  }
  return height;
}

caf::error check_header(const manifest& m) {
  if (m.version != limits::manifest_version)
    return make_error(content_errc::unsupported_version,
                      fmt::format("version {}, expected {}", m.version,
                                  limits::manifest_version));
  auto invalid = [](std::string detail) {
    return make_error(content_errc::invalid_field, detail);
  };
  if (m.title.size() > limits::manifest_title_bytes_max)
    return invalid(fmt::format("title has {} bytes, above {}", m.title.size(),
                               limits::manifest_title_bytes_max));
  if (m.content_bytes == 0 || m.content_bytes > content_bytes_max)
    return invalid(fmt::format("content_bytes {} is outside 1..={}", m.content_bytes,
                               content_bytes_max));
  if (m.bitrate_bps < limits::bitrate_bps_min)
    return invalid(
      fmt::format("bitrate {} bps is below {}", m.bitrate_bps, limits::bitrate_bps_min));
  if (m.segment_height > limits::segment_height_max)
    return invalid(fmt::format("segment height {}, above {}", m.segment_height,
                               limits::segment_height_max));
  std::uint32_t depth = merkle_depth(block_count(m.content_bytes));
  if (m.segment_height > depth)
    return invalid(fmt::format("segment height {}, above the Merkle tree's depth {}",
                               m.segment_height, depth));
  if (m.merkle_root.is_zero())
    return invalid("the Merkle root is zero");
  if (m.segments.empty() || m.segments.size() > limits::segment_count_max)
    return invalid(fmt::format("{} segments, outside 1..={}", m.segments.size(),
                               limits::segment_count_max));
  return caf::none;
}

// Segment `index` of `m`, which should start at `expected_offset_bytes`.
// REQUIRES: expected_offset_bytes <= m.content_bytes <= content_bytes_max.
caf::error check_segment(const manifest& m, std::size_t index,
                         std::uint64_t expected_offset_bytes) {
  const segment_entry& s = m.segments[index];
  if (s.size_bytes == 0 || s.size_bytes > limits::segment_bytes_max)
    return make_error(content_errc::invalid_field,
                      fmt::format("segment {} has {} bytes, outside 1..={}", index,
                                  s.size_bytes, limits::segment_bytes_max));
  if (s.duration_ms == 0)
    return make_error(content_errc::invalid_field,
                      fmt::format("segment {} lasts 0 ms", index));
  if (s.offset_bytes > expected_offset_bytes)
    return make_error(content_errc::segment_gap,
                      fmt::format("segment {} starts at {}, {} bytes after the previous end",
                                  index, s.offset_bytes,
                                  s.offset_bytes - expected_offset_bytes));
  if (s.offset_bytes < expected_offset_bytes)
    return make_error(content_errc::segment_overlap,
                      fmt::format("segment {} starts at {}, {} bytes before the previous end",
                                  index, s.offset_bytes,
                                  expected_offset_bytes - s.offset_bytes));
  if (s.offset_bytes % block_bytes != 0)
    return make_error(content_errc::misaligned_segment,
                      fmt::format("segment {} starts at {}, not a multiple of {}", index,
                                  s.offset_bytes, block_bytes));
  bool is_last = index + 1 == m.segments.size();
  std::uint64_t full_bytes = full_segment_bytes(m.segment_height);
  if (is_last ? s.size_bytes > full_bytes : s.size_bytes != full_bytes)
    return make_error(content_errc::misaligned_segment,
                      fmt::format("segment {} of {} bytes is not one subtree of 2^{} "
                                  "blocks ({} bytes{})",
                                  index, s.size_bytes, m.segment_height, full_bytes,
                                  is_last ? " at most" : ""));
  if (s.offset_bytes + s.size_bytes > m.content_bytes)
    return make_error(content_errc::coverage_mismatch,
                      fmt::format("segment {} ends at {}, past content_bytes {}", index,
                                  s.offset_bytes + s.size_bytes, m.content_bytes));
  return caf::none;
}

// The piece layer of `m`, whose header and segments have been checked: one root a
// segment, folding up to merkle_root. The segments tile the blocks as subtrees at
// segment_height <= the tree's depth, so their count is the layer's size and
// root_from_layer's preconditions hold.
caf::error check_piece_layer(const manifest& m) {
  if (m.segment_roots.size() != m.segments.size())
    return make_error(content_errc::piece_layer_mismatch,
                      fmt::format("{} segment roots for {} segments", m.segment_roots.size(),
                                  m.segments.size()));
  hash256 root = root_from_layer(m.segment_roots, m.segment_height, block_count(m.content_bytes));
  if (root != m.merkle_root)
    return make_error(content_errc::piece_layer_mismatch,
                      fmt::format("the segment roots hash to {}, the Merkle root is {}",
                                  root.to_hex(), m.merkle_root.to_hex()));
  return caf::none;
}

} // namespace

std::string_view to_string(content_errc code) noexcept {
  switch (code) {
    case content_errc::invalid_parameter:
      return "invalid_parameter";
    case content_errc::unsupported_version:
      return "unsupported_version";
    case content_errc::invalid_field:
      return "invalid_field";
    case content_errc::segment_gap:
      return "segment_gap";
    case content_errc::segment_overlap:
      return "segment_overlap";
    case content_errc::misaligned_segment:
      return "misaligned_segment";
    case content_errc::coverage_mismatch:
      return "coverage_mismatch";
    case content_errc::piece_layer_mismatch:
      return "piece_layer_mismatch";
  }
  return "unknown";
}

caf::error make_error(content_errc code, std::string_view detail) {
  return make_domain_error(caf::atom("content"), static_cast<std::uint8_t>(code),
                           to_string(code), detail);
}

caf::expected<manifest> make_manifest(std::string title, std::uint64_t content_bytes,
                                      std::uint32_t bitrate_bps,
                                      std::uint32_t segment_duration_ms,
                                      const merkle_tree& tree) {
  if (auto error =
        check_parameters(title, content_bytes, bitrate_bps, segment_duration_ms, tree))
    return error;
  std::uint64_t target_bytes = std::uint64_t{segment_duration_ms} * bitrate_bps
                               / (bits_per_byte * milliseconds_per_second);
  std::uint32_t nearest_height = nearest_segment_height(target_bytes);
  if (nearest_height > limits::segment_height_max)
    return invalid_parameter(fmt::format(
      "{} ms at {} bps makes segments of 2^{} blocks or more, above segment_bytes_max {}",
      segment_duration_ms, bitrate_bps, nearest_height, limits::segment_bytes_max));
  // A content of one segment takes the tree's depth: see manifest.hpp.
  std::uint32_t height = std::min(nearest_height, tree.depth());
  std::uint64_t blocks = tree.leaf_count();
  std::uint64_t segment_count = ((blocks - 1) >> height) + 1;
  if (segment_count > limits::segment_count_max)
    return invalid_parameter(
      fmt::format("{} segments of {} ms, above segment_count_max {}: use longer segments",
                  segment_count, segment_duration_ms, limits::segment_count_max));

  manifest result;
  result.title = std::move(title);
  result.content_bytes = content_bytes;
  result.bitrate_bps = bitrate_bps;
  result.segment_height = static_cast<std::uint8_t>(height);
  result.segments.reserve(segment_count);
  std::uint64_t full_bytes = full_segment_bytes(height);
  for (std::uint64_t offset = 0; offset < content_bytes; offset += full_bytes) {
    std::uint64_t size = std::min(full_bytes, content_bytes - offset);
    result.segments.push_back({offset, static_cast<std::uint32_t>(size),
                               playback_ms(size, bitrate_bps)});
  }
  result.segment_roots = tree.layer(height);
  result.merkle_root = tree.root();
  require(result.segments.size() == segment_count, "one segment per 2^height blocks");
  require(result.segment_roots.size() == segment_count, "one layer node per segment");
  require(!validate(result), "make_manifest's result validates");
  return result;
}

byte_buffer encode_manifest(const manifest& m) {
  return encode_record(m);
}

caf::expected<manifest> decode_manifest(byte_span bytes) {
  if (bytes.size() > limits::manifest_bytes_max)
    return wire::make_error(codec_errc::oversize,
                            fmt::format("manifest of {} bytes, above manifest_bytes_max {}",
                                        bytes.size(), limits::manifest_bytes_max));
  // The version decides the layout: check it before reading anything else.
  if (bytes.size() >= sizeof(std::uint16_t)) {
    auto version = static_cast<std::uint16_t>(bytes[0] | (bytes[1] << 8));
    if (version != limits::manifest_version)
      return wire::make_error(codec_errc::invalid_value,
                              fmt::format("manifest version {}, expected {}", version,
                                          limits::manifest_version));
  }
  return decode_record<manifest>(bytes, "manifest");
}

content_id id_of(const manifest& m) {
  return sha256(encode_manifest(m));
}

caf::error validate(const manifest& m) {
  if (auto error = check_header(m))
    return error;
  std::uint64_t end_bytes = 0;
  std::uint64_t blocks = 0;
  for (std::size_t index = 0; index < m.segments.size(); ++index) {
    if (auto error = check_segment(m, index, end_bytes))
      return error;
    end_bytes = m.segments[index].offset_bytes + m.segments[index].size_bytes;
    blocks += blocks_covering(m.segments[index].size_bytes);
  }
  if (end_bytes != m.content_bytes)
    return make_error(content_errc::coverage_mismatch,
                      fmt::format("segments end at {}, content_bytes is {}", end_bytes,
                                  m.content_bytes));
  // Implied by the checks above; kept because proofs depend on it (manifest.hpp).
  if (blocks != block_count(m.content_bytes))
    return make_error(content_errc::coverage_mismatch,
                      fmt::format("segments cover {} blocks, the Merkle tree has {}", blocks,
                                  block_count(m.content_bytes)));
  return check_piece_layer(m);
}

std::pair<std::uint32_t, std::uint32_t> blocks_of_segment(const manifest& m,
                                                          std::uint32_t segment) {
  require(segment < m.segments.size(), "segment < m.segments.size()");
  const segment_entry& s = m.segments[segment];
  require(s.offset_bytes % block_bytes == 0, "the segment starts on a block boundary");
  require(s.size_bytes > 0, "the segment is not empty");
  std::uint64_t first = s.offset_bytes / block_bytes;
  std::uint64_t count = blocks_covering(s.size_bytes);
  require(first + count <= leaf_count_max, "the segment's blocks have u32 indexes");
  return {static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count)};
}

hash256 segment_root_of(std::span<const hash256> block_leaf_hashes,
                        std::uint8_t segment_height) {
  require(segment_height <= limits::segment_height_max,
          "segment_height <= limits::segment_height_max");
  return subtree_root(block_leaf_hashes, segment_height);
}

bool verify_segment(const manifest& m, std::uint32_t segment, const hash256& computed_root) {
  if (segment >= m.segment_roots.size())
    return false;
  return m.segment_roots[segment] == computed_root;
}

bool matches_segment(const manifest& m, std::uint32_t index, byte_span bytes) {
  if (index >= m.segments.size() || bytes.size() != m.segments[index].size_bytes || bytes.empty())
    return false;
  const auto leaves = leaf_hashes(bytes);
  if (leaves.size() > (std::size_t{1} << m.segment_height))
    return false;
  return verify_segment(m, index, segment_root_of(leaves, m.segment_height));
}

merkle_proof block_proof(const manifest& m, std::span<const hash256> segment_leaves,
                         std::uint32_t index) {
  const std::uint32_t count = block_count(m.content_bytes);
  const std::uint32_t height = m.segment_height;
  const std::uint32_t segment = index >> height;
  const std::uint32_t first = blocks_of_segment(m, segment).first;
  merkle_proof result{index, count, layer_siblings(segment_leaves, 0, index - first, height)};
  auto above = layer_siblings(m.segment_roots, height, segment, merkle_depth(count) - height);
  result.siblings.insert(result.siblings.end(), above.begin(), above.end());
  return result;
}

} // namespace stakecast::core

