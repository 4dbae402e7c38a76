#include "node/publication.hpp"

#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "actors/core/content_limits.hpp"
#include "actors/core/error.hpp"
#include "actors/core/merkle.hpp"

namespace stakecast::node {

namespace {

std::uint64_t big_endian(core::byte_span bytes) {
  std::uint64_t value = 0;
  for (const auto byte : bytes)
    value = (value << 8) | byte;
  return value;
}

/// The box of type `type` among the boxes laid end to end in `boxes`: its body.
std::optional<core::byte_span> find_box(core::byte_span boxes, std::string_view type) {
  std::size_t at = 0;
  while (at + 8 <= boxes.size()) {
    std::uint64_t size = big_endian(boxes.subspan(at, 4));
    std::size_t header = 8;
    if (size == 1 && at + 16 <= boxes.size()) { // a 64-bit size follows the type
      size = big_endian(boxes.subspan(at + 8, 8));
      header = 16;
    } else if (size == 0) {
      size = boxes.size() - at; // to the end
    }
    if (size < header || size > boxes.size() - at)
      return std::nullopt;
    const auto name = boxes.subspan(at + 4, 4);
    if (std::equal(name.begin(), name.end(), type.begin(), type.end()))
      return boxes.subspan(at + header, size - header);
    at += size;
  }
  return std::nullopt;
}

} // namespace

std::optional<std::chrono::milliseconds> mp4_duration(core::byte_span file) {
  const auto moov = find_box(file, "moov");
  if (!moov)
    return std::nullopt;
  const auto mvhd = find_box(*moov, "mvhd");
  if (!mvhd || mvhd->empty())
    return std::nullopt;
  const bool wide = (*mvhd)[0] == 1; // version 1: 64-bit times
  const std::size_t timescale_at = wide ? 20 : 12;
  const std::size_t duration_bytes = wide ? 8 : 4;
  if (mvhd->size() < timescale_at + 4 + duration_bytes)
    return std::nullopt;
  const auto timescale = big_endian(mvhd->subspan(timescale_at, 4));
  const auto duration = big_endian(mvhd->subspan(timescale_at + 4, duration_bytes));
  if (timescale == 0 || duration == 0 || duration / timescale > 365ull * 24 * 3600)
    return std::nullopt;
  return std::chrono::milliseconds(duration * 1000 / timescale);
}

result<publication> make_publication(const std::string& path, const std::string& title,
                                     std::optional<std::uint32_t> bitrate_bps,
                                     std::chrono::milliseconds segment_duration) {
  using out = result<publication>;
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error)
    return out::failure(fmt::format("{}: {}", path, error.message()));
  if (size == 0 || size > core::content_bytes_max)
    return out::failure(fmt::format("{}: {} bytes; a content holds 1 to {} bytes", path, size,
                                    core::content_bytes_max));
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return out::failure(fmt::format("{}: cannot open it", path));
  std::vector<core::hash256> leaves;
  leaves.reserve(core::block_count(size));
  std::vector<std::uint8_t> block(core::block_bytes);
  // An MP4's moov box is usually at the start (faststart) or the end: both are kept.
  core::byte_buffer head;
  constexpr std::size_t head_bytes_max = 8 << 20;
  for (std::uint64_t at = 0; at < size; at += core::block_bytes) {
    const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(core::block_bytes, size - at));
    file.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(count));
    if (static_cast<std::size_t>(file.gcount()) != count)
      return out::failure(fmt::format("{}: cannot read it at byte {} (did it change?)", path, at));
    leaves.push_back(core::leaf_hash(core::byte_span(block.data(), count)));
    if (head.size() < head_bytes_max)
      head.insert(head.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(count));
  }
  std::uint32_t bitrate = default_bitrate_bps;
  if (bitrate_bps) {
    bitrate = *bitrate_bps;
  } else if (const auto duration = mp4_duration(head); duration && duration->count() > 0) {
    bitrate = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(
        size * 8 * 1000 / static_cast<std::uint64_t>(duration->count()), limits::bitrate_bps_min,
        UINT32_MAX));
  }
  auto manifest = core::make_manifest(title, size, bitrate,
                                      static_cast<std::uint32_t>(segment_duration.count()),
                                      core::merkle_tree::build(std::move(leaves)));
  if (!manifest)
    return out::failure(fmt::format("{}: {}", path, core::describe(manifest.error())));
  return out::success({std::move(*manifest)});
}

} // namespace stakecast::node
