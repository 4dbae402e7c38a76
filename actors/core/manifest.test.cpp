// Pins down content manifests (manifest.hpp): make_manifest cuts segments of 2^k blocks,
// k nearest the asked duration on a log scale (checked on a 20-minute 3 Mbit/s video,
// at the sqrt(2) boundary between 32 and 64 blocks, at the height limit and on edge
// sizes), and fills the piece layer from the tree; the encoding round-trips, has the
// documented layout (golden bytes) and is what id_of hashes, so changing any field
// changes the id; every proper prefix of an encoding, an oversize title, segment count
// or segment root count, a foreign version and a trailing byte are codec errors (a
// count of 0xffffffff would need 64 GiB if the decoder allocated before checking, so
// those tests fail loudly if it did); 20,000 seeded mutations of an encoding either
// fail as codec errors or decode to a manifest that re-encodes to the same bytes (the
// encoding is canonical); validate names gaps, overlaps, segments that are not one
// subtree, wrong coverage, bad segment heights and a piece layer (count or any entry,
// also tampered in the encoded bytes) that does not hash up to the root;
// blocks_of_segment covers every block of the Merkle tree exactly once; and a segment
// verifies against its entry when its blocks' leaf hashes (real bytes) are right, and
// fails when one byte is wrong, the height is wrong or the index is another.
#include "actors/core/manifest.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/deep_to_string.hpp>

#include <catch2/catch.hpp>

#include "actors/core/codec.hpp"
#include "actors/core/error.hpp"
#include "actors/core/merkle.hpp"
#include "actors/core/random.hpp"
#include "actors/core/sha256.hpp"

using namespace stakecast;
using namespace stakecast::core;
using wire::codec_errc;

namespace {

constexpr std::uint32_t three_mbit_bps = 3'000'000;
constexpr std::uint32_t two_seconds_ms = 2'000;
// 20 minutes at 3 Mbit/s.
constexpr std::uint64_t twenty_minutes_bytes = 1'200ULL * three_mbit_bps / 8;

// Distinct leaves standing in for the blocks of `content_bytes` of content.
std::vector<hash256> leaves_for(std::uint64_t content_bytes) {
  std::vector<hash256> leaves;
  std::uint32_t count = block_count(content_bytes);
  leaves.reserve(count);
  for (std::uint32_t index = 0; index < count; ++index)
    leaves.push_back(sha256(as_bytes("leaf " + std::to_string(index))));
  return leaves;
}

merkle_tree tree_for(std::uint64_t content_bytes) {
  return merkle_tree::build(leaves_for(content_bytes));
}

manifest make_valid(std::uint64_t content_bytes, std::uint32_t bitrate_bps = three_mbit_bps,
                    std::uint32_t duration_ms = two_seconds_ms) {
  auto m = make_manifest("a title", content_bytes, bitrate_bps, duration_ms,
                         tree_for(content_bytes));
  REQUIRE(m);
  return *m;
}

hash256 flipped(hash256 value) {
  value.bytes[7] ^= 0x10;
  return value;
}

bool is_codec_error(const caf::error& error, codec_errc code) {
  return error.category() == caf::atom("codec")
         && error.code() == static_cast<std::uint8_t>(code);
}

bool is_content_error(const caf::error& error, content_errc code) {
  return error.category() == caf::atom("content")
         && error.code() == static_cast<std::uint8_t>(code);
}

void put_u32(byte_buffer& bytes, std::size_t offset, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i)
    bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// Offset of the segment height in an encoding of `m`.
std::size_t segment_height_offset(const manifest& m) {
  return 2 + 4 + m.title.size() + 8 + 4;
}

// Offset of the segment count in an encoding of `m`.
std::size_t segment_count_offset(const manifest& m) {
  return segment_height_offset(m) + 1;
}

// Offset of the segment root count in an encoding of `m`.
std::size_t segment_root_count_offset(const manifest& m) {
  return segment_count_offset(m) + 4 + 16 * m.segments.size();
}

} // namespace

TEST_CASE("make_manifest cuts a 20-minute video into 64-block segments", "[manifest]") {
  merkle_tree tree = tree_for(twenty_minutes_bytes);
  auto made = make_manifest("a title", twenty_minutes_bytes, three_mbit_bps, two_seconds_ms,
                            tree);
  REQUIRE(made);
  const manifest& m = *made;
  // 2 s at 3 Mbit/s is 750,000 bytes: 45.8 blocks, 2^5.52, so 64 blocks (2.8 s).
  constexpr std::uint32_t segment_bytes = 64 * block_bytes;
  std::uint32_t blocks = block_count(twenty_minutes_bytes);
  CHECK(blocks == 27'466);
  CHECK(m.segment_height == 6);
  REQUIRE(m.segments.size() == (blocks + 63) / 64);
  CHECK(m.segments.size() == 430);
  for (std::size_t i = 0; i + 1 < m.segments.size(); ++i) {
    CHECK(m.segments[i].offset_bytes == i * segment_bytes);
    CHECK(m.segments[i].size_bytes == segment_bytes);
    CHECK(m.segments[i].duration_ms == 2'796); // 1,048,576 bytes at 3 Mbit/s
  }
  const auto& last = m.segments.back();
  CHECK(last.offset_bytes == 429ULL * segment_bytes);
  CHECK(last.offset_bytes + last.size_bytes == twenty_minutes_bytes);
  CHECK(last.size_bytes == 160'896); // 10 blocks, the last short
  CHECK(last.duration_ms == 429);
  REQUIRE(m.segment_roots.size() == m.segments.size());
  for (std::uint32_t i = 0; i < m.segment_roots.size(); ++i)
    CHECK(m.segment_roots[i] == tree.node(6, i));
  CHECK(m.version == limits::manifest_version);
  CHECK(m.title == "a title");
  CHECK(m.bitrate_bps == three_mbit_bps);
  CHECK(m.merkle_root == tree.root());
  CHECK(!validate(m));
}

TEST_CASE("the segment height is the power of two nearest the duration on a log scale",
          "[manifest]") {
  // 5,000 blocks: a tree of depth 13, deep enough for every height up to the limit.
  constexpr std::uint64_t content_bytes = 5'000ULL * block_bytes;
  merkle_tree tree = tree_for(content_bytes);
  auto height = [&](std::uint32_t bitrate_bps, std::uint32_t duration_ms) {
    auto m = make_manifest("t", content_bytes, bitrate_bps, duration_ms, tree);
    REQUIRE(m);
    return int{m->segment_height};
  };
  // The boundary between 32 and 64 blocks is 32 * sqrt(2) = 45.25 blocks = 741,455
  // bytes: 1,977 ms at 3 Mbit/s is 741,375 bytes, 1,978 ms is 741,750.
  CHECK(height(three_mbit_bps, 1'977) == 5);
  CHECK(height(three_mbit_bps, 1'978) == 6);
  CHECK(height(three_mbit_bps, 1'400) == 5);   // 32.0 blocks
  CHECK(height(three_mbit_bps, 2'800) == 6);   // 64.1 blocks
  CHECK(height(three_mbit_bps, 1) == 0);       // 375 bytes: at least one block
  CHECK(height(64'000, two_seconds_ms) == 0);  // 16,000 bytes: 0.98 blocks
  CHECK(height(three_mbit_bps, 60'000) == 10); // 1,373 blocks, 2^10.4
  // 60 s at 12 Mbit/s is 5,493 blocks, below 2^12.5 = 5,793: the largest height.
  CHECK(height(12'000'000, 60'000) == limits::segment_height_max);
  // 60 s at 13 Mbit/s is 5,951 blocks, nearest 2^13: above the limit.
  auto above = make_manifest("t", content_bytes, 13'000'000, 60'000, tree);
  REQUIRE(!above);
  CHECK(is_content_error(above.error(), content_errc::invalid_parameter));
}

TEST_CASE("make_manifest handles one byte and sizes around a segment boundary",
          "[manifest]") {
  // Low bitrate: 2 s at 64 kbit/s is 16,000 bytes, so one block per segment.
  auto tiny = make_valid(1, 64'000);
  REQUIRE(tiny.segments.size() == 1);
  CHECK(tiny.segments[0].size_bytes == 1);
  CHECK(tiny.segments[0].duration_ms == 1); // 0.125 ms, but never 0
  CHECK(tiny.segment_height == 0);
  REQUIRE(tiny.segment_roots.size() == 1);
  CHECK(tiny.segment_roots[0] == tiny.merkle_root);

  std::uint64_t segment_bytes = 64 * block_bytes;
  for (std::uint64_t size : {segment_bytes - 1, segment_bytes, segment_bytes + 1,
                             2 * segment_bytes, std::uint64_t{block_bytes} + 1,
                             5 * std::uint64_t{block_bytes}}) {
    INFO("content_bytes " << size);
    auto m = make_valid(size);
    CHECK(!validate(m));
    CHECK(m.segments.size() == (size + segment_bytes - 1) / segment_bytes);
    CHECK(m.segments.back().offset_bytes + m.segments.back().size_bytes == size);
    // Content of one segment takes the tree's depth, so its one root is the root.
    std::uint32_t depth = merkle_depth(block_count(size));
    CHECK(m.segment_height == std::min<std::uint32_t>(6, depth));
    if (m.segments.size() == 1)
      CHECK(m.segment_roots == std::vector{m.merkle_root});
  }
}

TEST_CASE("make_manifest rejects parameters out of range", "[manifest]") {
  auto rejects = [](const caf::expected<manifest>& m) {
    return !m && is_content_error(m.error(), content_errc::invalid_parameter);
  };
  merkle_tree tree = tree_for(1000);
  CHECK(rejects(make_manifest(std::string(limits::manifest_title_bytes_max + 1, 't'), 1000,
                              three_mbit_bps, two_seconds_ms, tree)));
  CHECK(make_manifest(std::string(limits::manifest_title_bytes_max, 't'), 1000,
                      three_mbit_bps, two_seconds_ms, tree));
  CHECK(rejects(make_manifest("t", 0, three_mbit_bps, two_seconds_ms, tree)));
  CHECK(rejects(make_manifest("t", content_bytes_max + 1, three_mbit_bps, 60'000, tree)));
  CHECK(rejects(make_manifest("t", 1000, limits::bitrate_bps_min - 1, two_seconds_ms, tree)));
  CHECK(rejects(make_manifest("t", 1000, three_mbit_bps, 0, tree)));
  CHECK(rejects(make_manifest("t", 1000, three_mbit_bps, limits::segment_duration_ms_max + 1,
                              tree)));
  // A tree of another leaf count than the content's blocks.
  CHECK(rejects(make_manifest("t", 2 * block_bytes, three_mbit_bps, two_seconds_ms, tree)));
  // One block whose leaf is zero: the root is zero.
  CHECK(rejects(make_manifest("t", 1000, three_mbit_bps, two_seconds_ms,
                              merkle_tree::build({hash256{}}))));
  // 60 s at 4 Gbit/s (near the u32 bitrate ceiling) is 30 GB, above segment_bytes_max.
  CHECK(rejects(make_manifest("t", 1000, 4'000'000'000U, 60'000, tree)));
  // One block per segment and more blocks than segment_count_max.
  CHECK(rejects(make_manifest("t", (limits::segment_count_max + 1) * block_bytes, 8'000,
                              two_seconds_ms,
                              tree_for((limits::segment_count_max + 1) * block_bytes))));
  CHECK(make_manifest("t", limits::segment_count_max * block_bytes, 8'000, two_seconds_ms,
                      tree_for(limits::segment_count_max * block_bytes)));
}

TEST_CASE("manifest encoding round-trips and has the documented layout", "[manifest]") {
  auto m = make_valid(3 * block_bytes + 5, 64'000);
  REQUIRE(m.segments.size() == 4);
  auto bytes = encode_manifest(m);
  REQUIRE(m.segment_height == 0);
  REQUIRE(bytes.size() == 2 + 4 + 7 + 8 + 4 + 1 + 4 + 4 * 16 + 4 + 4 * 32 + 32);
  // version 1, then the title's u32 length and bytes.
  CHECK(bytes[0] == 1);
  CHECK(bytes[1] == 0);
  CHECK(bytes[2] == 7);
  CHECK(std::string(bytes.begin() + 6, bytes.begin() + 13) == "a title");
  // content_bytes 49,157 = 0xc005, little-endian u64.
  CHECK(bytes[13] == 0x05);
  CHECK(bytes[14] == 0xc0);
  // bitrate 64,000 = 0xfa00, then the segment height.
  CHECK(bytes[21] == 0x00);
  CHECK(bytes[22] == 0xfa);
  CHECK(bytes[segment_height_offset(m)] == 0);
  // The second segment: offset 16,384 = 0x4000 after the u32 count of 4.
  std::size_t count_at = segment_count_offset(m);
  CHECK(bytes[count_at] == 4);
  CHECK(bytes[count_at + 4 + 16 + 1] == 0x40);
  // Then the u32 count of 4 segment roots; at height 0 they are the leaves.
  std::size_t roots_at = segment_root_count_offset(m);
  CHECK(bytes[roots_at] == 4);
  auto leaves = leaves_for(m.content_bytes);
  CHECK(std::equal(leaves[1].bytes.begin(), leaves[1].bytes.end(),
                   bytes.begin() + roots_at + 4 + 32));
  // The root closes the encoding.
  CHECK(std::equal(m.merkle_root.bytes.begin(), m.merkle_root.bytes.end(), bytes.end() - 32));

  auto decoded = decode_manifest(bytes);
  REQUIRE(decoded);
  CHECK(*decoded == m);
  CHECK(encode_manifest(*decoded) == bytes);
  CHECK(id_of(m) == sha256(bytes));

  auto large = make_valid(twenty_minutes_bytes);
  auto large_bytes = encode_manifest(large);
  CHECK(large_bytes[segment_height_offset(large)] == 6);
  CHECK(large_bytes.size() == 2 + 4 + 7 + 8 + 4 + 1 + 4 + 430 * 16 + 4 + 430 * 32 + 32);
  auto large_decoded = decode_manifest(large_bytes);
  REQUIRE(large_decoded);
  CHECK(*large_decoded == large);
  CHECK(!validate(*large_decoded));

  // CAF's own inspectors walk the same inspect (the count_max annotation is skipped).
  CHECK(caf::deep_to_string(m).find("a title") != std::string::npos);
}

TEST_CASE("every proper prefix of a manifest encoding is truncated", "[manifest]") {
  // One block a segment, and 2 segments of 64 blocks: both have a piece layer.
  for (const auto& m : {make_valid(5 * block_bytes, 64'000), make_valid(100 * block_bytes)}) {
    auto bytes = encode_manifest(m);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      auto decoded = decode_manifest(byte_span{bytes}.first(size));
      INFO("prefix of " << size << " bytes");
      REQUIRE(!decoded);
      CHECK(is_codec_error(decoded.error(), codec_errc::truncated));
    }
  }
}

TEST_CASE("a trailing byte after a manifest is rejected", "[manifest]") {
  auto bytes = encode_manifest(make_valid(5 * block_bytes));
  bytes.push_back(0);
  auto decoded = decode_manifest(bytes);
  REQUIRE(!decoded);
  CHECK(is_codec_error(decoded.error(), codec_errc::trailing_bytes));
}

TEST_CASE("oversize segment counts and root counts and titles are rejected before allocating",
          "[manifest]") {
  auto m = make_valid(5 * block_bytes);
  auto bytes = encode_manifest(m);
  auto count_at = segment_count_offset(m);

  SECTION("a count above segment_count_max is oversize") {
    for (std::uint64_t count : {std::uint64_t{limits::segment_count_max} + 1,
                                std::uint64_t{0xffff'ffff}}) {
      put_u32(bytes, count_at, static_cast<std::uint32_t>(count));
      auto decoded = decode_manifest(bytes);
      REQUIRE(!decoded);
      CHECK(is_codec_error(decoded.error(), codec_errc::oversize));
    }
  }
  SECTION("a count within the limit but beyond the bytes left is truncated") {
    put_u32(bytes, count_at, static_cast<std::uint32_t>(limits::segment_count_max));
    auto decoded = decode_manifest(bytes);
    REQUIRE(!decoded);
    CHECK(is_codec_error(decoded.error(), codec_errc::truncated));
  }
  SECTION("a segment root count above segment_count_max is oversize") {
    for (std::uint64_t count : {std::uint64_t{limits::segment_count_max} + 1,
                                std::uint64_t{0xffff'ffff}}) {
      put_u32(bytes, segment_root_count_offset(m), static_cast<std::uint32_t>(count));
      auto decoded = decode_manifest(bytes);
      REQUIRE(!decoded);
      CHECK(is_codec_error(decoded.error(), codec_errc::oversize));
    }
  }
  SECTION("a segment root count within the limit but beyond the bytes left is truncated") {
    put_u32(bytes, segment_root_count_offset(m),
            static_cast<std::uint32_t>(limits::segment_count_max));
    auto decoded = decode_manifest(bytes);
    REQUIRE(!decoded);
    CHECK(is_codec_error(decoded.error(), codec_errc::truncated));
  }
  SECTION("a title length above its limit is oversize") {
    put_u32(bytes, 2, static_cast<std::uint32_t>(limits::manifest_title_bytes_max + 1));
    auto decoded = decode_manifest(bytes);
    REQUIRE(!decoded);
    CHECK(is_codec_error(decoded.error(), codec_errc::oversize));
  }
  SECTION("input above manifest_bytes_max is oversize") {
    bytes.resize(limits::manifest_bytes_max + 1);
    auto decoded = decode_manifest(bytes);
    REQUIRE(!decoded);
    CHECK(is_codec_error(decoded.error(), codec_errc::oversize));
  }
}

TEST_CASE("seeded mutations of a manifest decode canonically or fail", "[manifest]") {
  auto original = encode_manifest(make_valid(7 * block_bytes + 3, 64'000));
  random_generator random{derive_seed(3, "manifest mutations")};
  std::size_t decoded_count = 0;
  for (int round = 0; round < 20'000; ++round) {
    auto bytes = original;
    auto flips = 1 + random.uniform(4);
    for (std::uint64_t i = 0; i < flips; ++i)
      bytes[random.uniform(bytes.size())] ^= static_cast<std::uint8_t>(1 + random.uniform(255));
    if (random.bernoulli(0.2))
      bytes.resize(random.uniform(bytes.size() + 1));
    auto decoded = decode_manifest(bytes);
    if (!decoded) {
      CHECK(decoded.error().category() == caf::atom("codec"));
      continue;
    }
    ++decoded_count;
    CHECK(encode_manifest(*decoded) == bytes);
  }
  CHECK(decoded_count > 0);
}

TEST_CASE("a manifest of another version does not decode", "[manifest]") {
  auto m = make_valid(5 * block_bytes);
  auto bytes = encode_manifest(m);
  bytes[0] = 2;
  auto decoded = decode_manifest(bytes);
  REQUIRE(!decoded);
  CHECK(is_codec_error(decoded.error(), codec_errc::invalid_value));
  m.version = 2;
  CHECK(is_content_error(validate(m), content_errc::unsupported_version));
}

TEST_CASE("the content id changes with every field", "[manifest]") {
  auto base = make_valid(5 * block_bytes + 100, 64'000);
  REQUIRE(base.segments.size() >= 2);
  auto base_id = id_of(base);
  CHECK(base_id == id_of(base));
  std::vector<std::function<void(manifest&)>> changes{
    [](manifest& m) { m.version += 1; },
    [](manifest& m) { m.title += "!"; },
    [](manifest& m) { m.title.clear(); },
    [](manifest& m) { m.content_bytes += 1; },
    [](manifest& m) { m.bitrate_bps += 1; },
    [](manifest& m) { m.segment_height += 1; },
    [](manifest& m) { m.segment_roots[1] = flipped(m.segment_roots[1]); },
    [](manifest& m) { m.segment_roots.pop_back(); },
    [](manifest& m) { m.segments.pop_back(); },
    [](manifest& m) { m.segments.push_back(m.segments.back()); },
    [](manifest& m) { m.segments[1].offset_bytes += 1; },
    [](manifest& m) { m.segments[1].size_bytes += 1; },
    [](manifest& m) { m.segments[1].duration_ms += 1; },
    [](manifest& m) { m.merkle_root.bytes[31] ^= 1; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto changed = base;
    changes[i](changed);
    INFO("change " << i);
    CHECK(id_of(changed) != base_id);
  }
}

TEST_CASE("validate names gaps overlaps misalignment and wrong coverage", "[manifest]") {
  auto base = make_valid(10 * block_bytes + 100, 64'000); // one block per segment
  REQUIRE(base.segments.size() == 11);
  REQUIRE(!validate(base));

  auto check = [&](content_errc expected, const std::function<void(manifest&)>& change) {
    auto m = base;
    change(m);
    auto error = validate(m);
    INFO(describe(error));
    CHECK(is_content_error(error, expected));
  };
  check(content_errc::segment_gap, [](manifest& m) { m.segments[3].offset_bytes += block_bytes; });
  check(content_errc::segment_gap, [](manifest& m) { m.segments.erase(m.segments.begin() + 4); });
  check(content_errc::segment_gap, [](manifest& m) { m.segments[0].offset_bytes = block_bytes; });
  check(content_errc::segment_overlap,
        [](manifest& m) { m.segments[3].offset_bytes -= block_bytes; });
  check(content_errc::segment_overlap,
        [](manifest& m) { m.segments.insert(m.segments.begin() + 4, m.segments[3]); });
  // Segment 2 now spans two blocks: not one subtree at height 0.
  check(content_errc::misaligned_segment, [](manifest& m) { m.segments[2].size_bytes *= 2; });
  // Contiguous, but the boundary between segments 2 and 3 is off a block boundary.
  check(content_errc::misaligned_segment, [](manifest& m) {
    m.segments[2].size_bytes += 100;
    m.segments[3].offset_bytes += 100;
    m.segments[3].size_bytes -= 100;
  });
  check(content_errc::misaligned_segment, [](manifest& m) {
    m.segments[2].size_bytes -= 100;
    m.segments[3].offset_bytes -= 100;
    m.segments[3].size_bytes += 100;
  });
  check(content_errc::coverage_mismatch, [](manifest& m) { m.segments.pop_back(); });
  check(content_errc::coverage_mismatch, [](manifest& m) { m.content_bytes += 1; });
  check(content_errc::coverage_mismatch, [](manifest& m) { m.segments.back().size_bytes += 1; });
  check(content_errc::invalid_field, [](manifest& m) { m.segments[5].size_bytes = 0; });
  check(content_errc::invalid_field, [](manifest& m) { m.segments[5].duration_ms = 0; });
  check(content_errc::invalid_field, [](manifest& m) { m.segments.clear(); });
  check(content_errc::invalid_field, [](manifest& m) { m.content_bytes = 0; });
  check(content_errc::invalid_field, [](manifest& m) { m.bitrate_bps = 0; });
  check(content_errc::invalid_field, [](manifest& m) { m.merkle_root = hash256{}; });
  check(content_errc::invalid_field, [](manifest& m) {
    m.title.assign(limits::manifest_title_bytes_max + 1, 't');
  });
  // 11 blocks: depth 4. Height 1 fits the tree but not these one-block segments.
  check(content_errc::misaligned_segment, [](manifest& m) { m.segment_height = 1; });
  check(content_errc::invalid_field, [](manifest& m) { m.segment_height = 5; });
  check(content_errc::invalid_field,
        [](manifest& m) { m.segment_height = limits::segment_height_max + 1; });
  check(content_errc::invalid_field, [](manifest& m) { m.segment_height = 0xff; });
  check(content_errc::piece_layer_mismatch, [](manifest& m) { m.segment_roots.pop_back(); });
  check(content_errc::piece_layer_mismatch,
        [](manifest& m) { m.segment_roots.push_back(m.segment_roots.back()); });
  check(content_errc::piece_layer_mismatch, [](manifest& m) { m.segment_roots.clear(); });
  check(content_errc::piece_layer_mismatch,
        [](manifest& m) { std::swap(m.segment_roots[0], m.segment_roots[1]); });
  for (std::size_t i = 0; i < base.segment_roots.size(); ++i)
    check(content_errc::piece_layer_mismatch,
          [i](manifest& m) { m.segment_roots[i] = flipped(m.segment_roots[i]); });
  check(content_errc::piece_layer_mismatch,
        [](manifest& m) { m.merkle_root = flipped(m.merkle_root); });
}

TEST_CASE("validate holds segments of 2^k blocks to their height", "[manifest]") {
  // 4 segments of 64 blocks and a last one of 10 blocks and 100 bytes.
  auto base = make_valid(266 * block_bytes + 100);
  REQUIRE(base.segment_height == 6);
  REQUIRE(base.segments.size() == 5);
  REQUIRE(!validate(base));
  auto check = [&](content_errc expected, const std::function<void(manifest&)>& change) {
    auto m = base;
    change(m);
    auto error = validate(m);
    INFO(describe(error));
    CHECK(is_content_error(error, expected));
  };
  // Whole blocks and contiguous, but segment 1 is 63 blocks and segment 2 65.
  check(content_errc::misaligned_segment, [](manifest& m) {
    m.segments[1].size_bytes -= block_bytes;
    m.segments[2].offset_bytes -= block_bytes;
    m.segments[2].size_bytes += block_bytes;
  });
  // The last segment may be short, never longer: merging the last two makes one of 75.
  check(content_errc::misaligned_segment, [](manifest& m) {
    m.segments[3].size_bytes += m.segments[4].size_bytes;
    m.segments.pop_back();
  });
  // The same segments read at height 5 or 7.
  check(content_errc::misaligned_segment, [](manifest& m) { m.segment_height = 5; });
  check(content_errc::misaligned_segment, [](manifest& m) { m.segment_height = 7; });
  check(content_errc::piece_layer_mismatch,
        [](manifest& m) { m.segment_roots[4] = flipped(m.segment_roots[4]); });
}

TEST_CASE("a tampered segment root in the encoding decodes but fails validate",
          "[manifest]") {
  auto m = make_valid(266 * block_bytes + 100);
  auto bytes = encode_manifest(m);
  for (std::size_t segment = 0; segment < m.segment_roots.size(); ++segment) {
    auto tampered = bytes;
    tampered[segment_root_count_offset(m) + 4 + 32 * segment + 9] ^= 0x04;
    auto decoded = decode_manifest(tampered);
    REQUIRE(decoded);
    INFO("segment " << segment);
    CHECK(is_content_error(validate(*decoded), content_errc::piece_layer_mismatch));
    CHECK(id_of(*decoded) != id_of(m));
  }
}

TEST_CASE("blocks_of_segment covers every block exactly once", "[manifest]") {
  struct shape {
    std::uint64_t content_bytes;
    std::uint32_t bitrate_bps;
  };
  for (auto [content_bytes, bitrate_bps] :
       {shape{1, 64'000}, shape{block_bytes, 64'000}, shape{block_bytes + 1, 64'000},
        shape{64 * block_bytes, three_mbit_bps}, shape{64 * block_bytes + 1, three_mbit_bps},
        shape{twenty_minutes_bytes, three_mbit_bps}, shape{12'345'678, 8'000'000}}) {
    auto m = make_valid(content_bytes, bitrate_bps);
    std::uint32_t blocks = block_count(content_bytes);
    std::vector<int> covered(blocks, 0);
    std::uint32_t next_block = 0;
    for (std::uint32_t segment = 0; segment < m.segments.size(); ++segment) {
      auto [first, count] = blocks_of_segment(m, segment);
      CHECK(first == next_block); // in order, no gap
      CHECK(count >= 1);
      REQUIRE(std::uint64_t{first} + count <= blocks);
      for (std::uint32_t block = first; block < first + count; ++block)
        ++covered[block];
      next_block = first + count;
    }
    INFO("content_bytes " << content_bytes);
    CHECK(next_block == blocks);
    CHECK(std::all_of(covered.begin(), covered.end(), [](int n) { return n == 1; }));
  }
}

TEST_CASE("a segment verifies against its piece layer entry from the bytes received",
          "[manifest]") {
  // Real bytes: 2 segments of 64 blocks and a last one of 5 blocks, the last short.
  byte_buffer content(133 * block_bytes - 100);
  for (std::size_t i = 0; i < content.size(); ++i)
    content[i] = static_cast<std::uint8_t>((i * 131 + 7) % 251);
  std::vector<hash256> leaves;
  for (std::uint32_t index = 0; index < block_count(content.size()); ++index)
    leaves.push_back(leaf_hash(content_block(content, index)));
  auto made = make_manifest("bytes", content.size(), three_mbit_bps, two_seconds_ms,
                            merkle_tree::build(leaves));
  REQUIRE(made);
  const manifest& m = *made;
  REQUIRE(m.segments.size() == 3);
  REQUIRE(m.merkle_root == merkle_root(content));

  // What a receiver does: hash the blocks it received, fold them, compare.
  auto received_root = [&](const byte_buffer& bytes, std::uint32_t segment) {
    auto [first, count] = blocks_of_segment(m, segment);
    std::vector<hash256> received;
    for (std::uint32_t index = first; index < first + count; ++index)
      received.push_back(leaf_hash(content_block(bytes, index)));
    return segment_root_of(received, m.segment_height);
  };
  for (std::uint32_t segment = 0; segment < m.segments.size(); ++segment) {
    INFO("segment " << segment);
    CHECK(verify_segment(m, segment, received_root(content, segment)));
    // One flipped byte in the segment's last block.
    auto [first, count] = blocks_of_segment(m, segment);
    byte_buffer poisoned = content;
    std::size_t end = std::min<std::size_t>(std::size_t{first + count} * block_bytes,
                                            content.size());
    poisoned[end - 1] ^= 0x01;
    CHECK_FALSE(verify_segment(m, segment, received_root(poisoned, segment)));
    // Right bytes claimed for another segment.
    CHECK_FALSE(verify_segment(m, (segment + 1) % 3, received_root(content, segment)));
  }
  // Blocks folded at another height, or too few of them, do not match.
  auto [first, count] = blocks_of_segment(m, 2);
  std::span<const hash256> last_leaves{leaves.data() + first, count};
  CHECK(verify_segment(m, 2, segment_root_of(last_leaves, 6)));
  CHECK_FALSE(verify_segment(m, 2, segment_root_of(last_leaves, 7)));
  CHECK_FALSE(verify_segment(m, 2, segment_root_of(last_leaves.first(4), 6)));
  // A segment index a peer made up.
  CHECK_FALSE(verify_segment(m, 3, m.segment_roots[0]));
  CHECK_FALSE(verify_segment(m, 0xffff'ffff, m.segment_roots[0]));
}
