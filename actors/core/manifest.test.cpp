// Pins down content manifests (manifest.hpp): make_manifest cuts whole-block segments
// of about the asked duration (checked on a 20-minute 3 Mbit/s video and on edge
// sizes); the encoding round-trips, has the documented layout (golden bytes) and is
// what id_of hashes, so changing any field changes the id; every proper prefix of an
// encoding, an oversize title or segment count, a foreign version and a trailing byte
// are codec errors (a segment count of 0xffffffff would need 64 GiB if the decoder
// allocated before checking, so that test fails loudly if it did); 20,000 seeded
// mutations of an encoding either fail as codec errors or decode to a manifest that
// re-encodes to the same bytes (the encoding is canonical); validate names
// gaps, overlaps, misaligned segments and wrong coverage; and blocks_of_segment
// covers every block of the Merkle tree exactly once.
#include "actors/core/manifest.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
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

hash256 root_of(std::string_view label) {
  return sha256(as_bytes(label));
}

manifest make_valid(std::uint64_t content_bytes, std::uint32_t bitrate_bps = three_mbit_bps,
                    std::uint32_t duration_ms = two_seconds_ms) {
  auto m = make_manifest("a title", content_bytes, bitrate_bps, duration_ms, root_of("root"));
  REQUIRE(m);
  return *m;
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

// Offset of the segment count in an encoding of `m`.
std::size_t segment_count_offset(const manifest& m) {
  return 2 + 4 + m.title.size() + 8 + 4;
}

} // namespace

TEST_CASE("make_manifest cuts a 20-minute video into whole-block segments of about 2 s",
          "[manifest]") {
  auto m = make_valid(twenty_minutes_bytes);
  // 2 s at 3 Mbit/s is 750,000 bytes: 45.8 blocks, rounded to 46.
  constexpr std::uint32_t segment_bytes = 46 * block_bytes;
  std::uint32_t blocks = block_count(twenty_minutes_bytes);
  CHECK(blocks == 27'466);
  REQUIRE(m.segments.size() == (blocks + 45) / 46);
  CHECK(m.segments.size() == 598);
  for (std::size_t i = 0; i + 1 < m.segments.size(); ++i) {
    CHECK(m.segments[i].offset_bytes == i * segment_bytes);
    CHECK(m.segments[i].size_bytes == segment_bytes);
    CHECK(m.segments[i].duration_ms == 2'010); // 753,664 bytes at 3 Mbit/s
  }
  const auto& last = m.segments.back();
  CHECK(last.offset_bytes == 597ULL * segment_bytes);
  CHECK(last.offset_bytes + last.size_bytes == twenty_minutes_bytes);
  CHECK(last.size_bytes < segment_bytes);
  CHECK(m.version == limits::manifest_version);
  CHECK(m.title == "a title");
  CHECK(m.bitrate_bps == three_mbit_bps);
  CHECK(m.merkle_root == root_of("root"));
  CHECK(!validate(m));
}

TEST_CASE("make_manifest handles one byte and sizes around a segment boundary",
          "[manifest]") {
  // Low bitrate: 2 s at 64 kbit/s is 16,000 bytes, so one block per segment.
  auto tiny = make_valid(1, 64'000);
  REQUIRE(tiny.segments.size() == 1);
  CHECK(tiny.segments[0].size_bytes == 1);
  CHECK(tiny.segments[0].duration_ms == 1); // 0.125 ms, but never 0

  std::uint64_t segment_bytes = 46 * block_bytes;
  for (std::uint64_t size : {segment_bytes - 1, segment_bytes, segment_bytes + 1,
                             2 * segment_bytes, std::uint64_t{block_bytes} + 1}) {
    auto m = make_valid(size);
    CHECK(!validate(m));
    CHECK(m.segments.size() == (size + segment_bytes - 1) / segment_bytes);
    CHECK(m.segments.back().offset_bytes + m.segments.back().size_bytes == size);
  }
}

TEST_CASE("make_manifest rejects parameters out of range", "[manifest]") {
  auto root = root_of("root");
  auto rejects = [](const caf::expected<manifest>& m) {
    return !m && is_content_error(m.error(), content_errc::invalid_parameter);
  };
  CHECK(rejects(make_manifest(std::string(limits::manifest_title_bytes_max + 1, 't'), 1000,
                              three_mbit_bps, two_seconds_ms, root)));
  CHECK(make_manifest(std::string(limits::manifest_title_bytes_max, 't'), 1000,
                      three_mbit_bps, two_seconds_ms, root));
  CHECK(rejects(make_manifest("t", 0, three_mbit_bps, two_seconds_ms, root)));
  CHECK(rejects(make_manifest("t", content_bytes_max + 1, three_mbit_bps, 60'000, root)));
  CHECK(rejects(make_manifest("t", 1000, limits::bitrate_bps_min - 1, two_seconds_ms, root)));
  CHECK(rejects(make_manifest("t", 1000, three_mbit_bps, 0, root)));
  CHECK(rejects(make_manifest("t", 1000, three_mbit_bps, limits::segment_duration_ms_max + 1,
                              root)));
  CHECK(rejects(make_manifest("t", 1000, three_mbit_bps, two_seconds_ms, hash256{})));
  // 60 s at 4 Gbit/s (near the u32 bitrate ceiling) is 30 GB, above segment_bytes_max.
  CHECK(rejects(make_manifest("t", 1000, 4'000'000'000U, 60'000, root)));
  // One block per segment and more blocks than segment_count_max.
  CHECK(rejects(make_manifest("t", (limits::segment_count_max + 1) * block_bytes, 8'000,
                              two_seconds_ms, root)));
  CHECK(make_manifest("t", limits::segment_count_max * block_bytes, 8'000, two_seconds_ms,
                      root));
}

TEST_CASE("manifest encoding round-trips and has the documented layout", "[manifest]") {
  auto m = make_valid(3 * block_bytes + 5, 64'000);
  REQUIRE(m.segments.size() == 4);
  auto bytes = encode_manifest(m);
  REQUIRE(bytes.size() == 2 + 4 + 7 + 8 + 4 + 4 + 4 * 16 + 32);
  // version 1, then the title's u32 length and bytes.
  CHECK(bytes[0] == 1);
  CHECK(bytes[1] == 0);
  CHECK(bytes[2] == 7);
  CHECK(std::string(bytes.begin() + 6, bytes.begin() + 13) == "a title");
  // content_bytes 49,157 = 0xc005, little-endian u64.
  CHECK(bytes[13] == 0x05);
  CHECK(bytes[14] == 0xc0);
  // The second segment: offset 16,384 = 0x4000 after the u32 count of 4.
  std::size_t count_at = segment_count_offset(m);
  CHECK(bytes[count_at] == 4);
  CHECK(bytes[count_at + 4 + 16 + 1] == 0x40);
  // The root closes the encoding.
  CHECK(std::equal(m.merkle_root.bytes.begin(), m.merkle_root.bytes.end(), bytes.end() - 32));

  auto decoded = decode_manifest(bytes);
  REQUIRE(decoded);
  CHECK(*decoded == m);
  CHECK(encode_manifest(*decoded) == bytes);
  CHECK(id_of(m) == sha256(bytes));

  auto large = make_valid(twenty_minutes_bytes);
  auto large_decoded = decode_manifest(encode_manifest(large));
  REQUIRE(large_decoded);
  CHECK(*large_decoded == large);

  // CAF's own inspectors walk the same inspect (the count_max annotation is skipped).
  CHECK(caf::deep_to_string(m).find("a title") != std::string::npos);
}

TEST_CASE("every proper prefix of a manifest encoding is truncated", "[manifest]") {
  auto m = make_valid(5 * block_bytes, 64'000);
  auto bytes = encode_manifest(m);
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    auto decoded = decode_manifest(byte_span{bytes}.first(size));
    INFO("prefix of " << size << " bytes");
    REQUIRE(!decoded);
    CHECK(is_codec_error(decoded.error(), codec_errc::truncated));
  }
}

TEST_CASE("a trailing byte after a manifest is rejected", "[manifest]") {
  auto bytes = encode_manifest(make_valid(5 * block_bytes));
  bytes.push_back(0);
  auto decoded = decode_manifest(bytes);
  REQUIRE(!decoded);
  CHECK(is_codec_error(decoded.error(), codec_errc::trailing_bytes));
}

TEST_CASE("oversize segment counts and titles are rejected before allocating",
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
  check(content_errc::segment_overlap, [](manifest& m) { m.segments[2].size_bytes *= 2; });
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
}

TEST_CASE("blocks_of_segment covers every block exactly once", "[manifest]") {
  struct shape {
    std::uint64_t content_bytes;
    std::uint32_t bitrate_bps;
  };
  for (auto [content_bytes, bitrate_bps] :
       {shape{1, 64'000}, shape{block_bytes, 64'000}, shape{block_bytes + 1, 64'000},
        shape{46 * block_bytes, three_mbit_bps}, shape{46 * block_bytes + 1, three_mbit_bps},
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
