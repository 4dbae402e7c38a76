// Pins the segment cache of segment_cache.hpp: put and has; eviction least recently
// used, where touch is a use; held bytes and segments never exceed their bounds, and a
// put that would need pinned room refuses without evicting; pins protect segments held
// before and after pinning; ranges merge adjacent segments and keep the largest when
// capped; every eviction is reported; contents are bounded and kept apart. Scripted
// puts with fixed sizes and times make every answer exact; one randomized run with a
// fixed seed checks the bounds after each of its calls.
#include "actors/storage/segment_cache.hpp"

#include <cstdint>
#include <vector>

#include "actors/core/random.hpp"

#include <catch2/catch.hpp>

using namespace stakecast;
using storage::put_status;
using storage::segment_cache;
using storage::segment_cache_config;
using storage::segment_range;
using storage::segment_ref;

namespace {

core::content_id content(std::uint8_t tag) {
  core::content_id id;
  id.bytes[0] = tag;
  id.bytes[31] = 0x11;
  return id;
}

segment_cache_config config_of(std::uint64_t capacity_bytes, std::size_t contents_max = 4,
                               std::size_t segments_max = 1000) {
  segment_cache_config config;
  config.capacity_bytes = capacity_bytes;
  config.contents_max = contents_max;
  config.segments_max = segments_max;
  return config;
}

std::vector<std::uint32_t> segments_of(const std::vector<segment_ref>& evicted) {
  std::vector<std::uint32_t> result;
  for (const segment_ref& ref : evicted)
    result.push_back(ref.segment);
  return result;
}

} // namespace

TEST_CASE("put records a segment and has finds it") {
  segment_cache cache{config_of(10'000)};
  const auto a = content(1);
  CHECK_FALSE(cache.has(a, 0));
  CHECK(cache.put(a, 0, 1000, 1).status == put_status::stored);
  CHECK(cache.put(a, 7, 500, 2).status == put_status::stored);
  CHECK(cache.has(a, 0));
  CHECK(cache.has(a, 7));
  CHECK_FALSE(cache.has(a, 1));
  CHECK_FALSE(cache.has(content(2), 0));
  CHECK(cache.bytes_held() == 1500);
  CHECK(cache.segment_count() == 2);
  CHECK(cache.content_count() == 1);

  CHECK(cache.put(a, 0, 1000, 3).status == put_status::already_held);
  CHECK(cache.bytes_held() == 1500);
  CHECK(cache.last_use_ns(a, 0) == 3);
  CHECK(cache.bytes_stored() == 1500);

  CHECK(cache.put(a, 1, 0, 4).status == put_status::invalid);
  CHECK(cache.put(a, 65536, 10, 4).status == put_status::invalid);
  CHECK(cache.put(a, 2, 10'001, 4).status == put_status::refused_too_large);
  CHECK(cache.puts_refused() == 3);
  CHECK(cache.bytes_held() == 1500);
}

TEST_CASE("the least recently used segment goes first and touch is a use") {
  segment_cache cache{config_of(3000)};
  const auto a = content(1);
  for (std::uint32_t segment = 0; segment < 3; ++segment)
    REQUIRE(cache.put(a, segment, 1000, segment).evicted.empty());
  CHECK(cache.touch(a, 0, 10));
  CHECK_FALSE(cache.touch(a, 9, 10));
  CHECK(cache.hits() == 1);
  CHECK(cache.misses() == 1);

  CHECK(segments_of(cache.put(a, 3, 1000, 11).evicted) == std::vector<std::uint32_t>{1});
  CHECK(segments_of(cache.put(a, 4, 1000, 12).evicted) == std::vector<std::uint32_t>{2});
  CHECK(segments_of(cache.put(a, 5, 1000, 13).evicted) == std::vector<std::uint32_t>{0});
  // Uses at the same time still order by call.
  CHECK(cache.touch(a, 4, 13));
  CHECK(cache.touch(a, 3, 13));
  CHECK(segments_of(cache.put(a, 6, 2000, 13).evicted) == std::vector<std::uint32_t>{5, 4});
  CHECK(cache.bytes_held() == 3000);
}

TEST_CASE("every eviction is reported with its size") {
  segment_cache cache{config_of(5000)};
  const auto a = content(1);
  const auto b = content(2);
  REQUIRE(cache.put(a, 0, 2000, 0).status == put_status::stored);
  REQUIRE(cache.put(b, 4, 1500, 1).status == put_status::stored);
  REQUIRE(cache.put(a, 1, 1000, 2).status == put_status::stored);
  const auto result = cache.put(b, 5, 4500, 3);
  REQUIRE(result.status == put_status::stored);
  CHECK(result.evicted == std::vector<segment_ref>{{a, 0, 2000}, {b, 4, 1500}, {a, 1, 1000}});
  CHECK(cache.evictions() == 3);
  CHECK(cache.bytes_evicted() == 4500);
  CHECK(cache.bytes_held() == 4500);
  CHECK(cache.content_count() == 1); // a, emptied, is forgotten
}

TEST_CASE("pinned segments are never evicted") {
  segment_cache cache{config_of(3000)};
  const auto a = content(1);
  REQUIRE(cache.put(a, 0, 1000, 0).status == put_status::stored);
  REQUIRE(cache.pin(a, 0, 2)); // 0 is held, 1 is pinned before it arrives
  REQUIRE(cache.put(a, 1, 1000, 1).status == put_status::stored);
  REQUIRE(cache.put(a, 2, 1000, 2).status == put_status::stored);
  CHECK(cache.bytes_pinned() == 2000);

  // 0 and 1 are older than 2 but pinned.
  CHECK(segments_of(cache.put(a, 3, 1000, 3).evicted) == std::vector<std::uint32_t>{2});
  CHECK(cache.has(a, 0));
  CHECK(cache.has(a, 1));

  SECTION("pinned data alone at capacity: put refuses and evicts nothing") {
    REQUIRE(cache.pin(a, 0, 10)); // moves the window over 3 as well
    CHECK(cache.bytes_pinned() == 3000);
    const auto refused = cache.put(a, 4, 1000, 4);
    CHECK(refused.status == put_status::refused_pinned);
    CHECK(refused.evicted.empty());
    CHECK(cache.put(content(2), 0, 1, 4).status == put_status::refused_pinned);
    CHECK(cache.bytes_held() == 3000);

    REQUIRE(cache.unpin(a));
    CHECK_FALSE(cache.unpin(a));
    CHECK(cache.bytes_pinned() == 0);
    CHECK(segments_of(cache.put(a, 4, 1000, 5).evicted) == std::vector<std::uint32_t>{0});
  }

  SECTION("moving the window releases what it leaves") {
    REQUIRE(cache.pin(a, 1, 4));
    CHECK(cache.bytes_pinned() == 2000);
    CHECK(segments_of(cache.put(a, 5, 1000, 4).evicted) == std::vector<std::uint32_t>{0});
  }
}

TEST_CASE("held bytes and segments never exceed their bounds") {
  segment_cache cache{config_of(50'000, 3, 40)};
  core::random_generator generator{2024};
  std::int64_t now = 0;
  std::uint64_t refused = 0;
  for (int step = 0; step < 20'000; ++step) {
    now += static_cast<std::int64_t>(generator.uniform(3));
    const auto id = content(static_cast<std::uint8_t>(generator.uniform(5)));
    const auto segment = static_cast<std::uint32_t>(generator.uniform(100));
    switch (generator.uniform(10)) {
      case 0: {
        const auto first = static_cast<std::uint32_t>(generator.uniform(100));
        cache.pin(id, first, first + static_cast<std::uint32_t>(generator.uniform(20)));
        break;
      }
      case 1:
        cache.unpin(id);
        break;
      case 2:
        cache.touch(id, segment, now);
        break;
      default: {
        const auto size = 1 + static_cast<std::uint32_t>(generator.uniform(6000));
        const auto result = cache.put(id, segment, size, now);
        for (const segment_ref& gone : result.evicted)
          REQUIRE_FALSE(cache.has(gone.content, gone.segment));
        if (result.status == put_status::stored)
          REQUIRE(cache.has(id, segment));
        else if (result.status != put_status::already_held)
          refused += 1;
      }
    }
    REQUIRE(cache.bytes_held() <= 50'000);
    REQUIRE(cache.segment_count() <= 40);
    REQUIRE(cache.content_count() <= 3);
    REQUIRE(cache.bytes_pinned() <= cache.bytes_held());
  }
  CHECK(cache.evictions() > 1000);
  CHECK(refused == cache.puts_refused());
  CHECK(refused > 0);
  CHECK(cache.bytes_stored() - cache.bytes_evicted() == cache.bytes_held());
}

TEST_CASE("ranges merge adjacent segments and keep the largest when capped") {
  segment_cache cache{config_of(100'000)};
  const auto a = content(1);
  for (const std::uint32_t segment : {14u, 0u, 1u, 2u, 5u, 7u, 8u, 10u, 11u, 12u, 13u})
    REQUIRE(cache.put(a, segment, 100, 0).status == put_status::stored);
  using ranges = std::vector<segment_range>;
  CHECK(cache.ranges(a, 10) == ranges{{0, 3}, {5, 6}, {7, 9}, {10, 15}});
  CHECK(cache.ranges(a, 4) == ranges{{0, 3}, {5, 6}, {7, 9}, {10, 15}});
  CHECK(cache.ranges(a, 3) == ranges{{0, 3}, {7, 9}, {10, 15}});
  CHECK(cache.ranges(a, 2) == ranges{{0, 3}, {10, 15}});
  CHECK(cache.ranges(a, 1) == ranges{{10, 15}});
  CHECK(cache.ranges(a, 0).empty());
  CHECK(cache.ranges(content(2), 4).empty());

  SECTION("equal ranges: the earlier is kept") {
    segment_cache even{config_of(100'000)};
    for (const std::uint32_t segment : {6u, 7u, 0u, 1u, 3u, 4u})
      REQUIRE(even.put(a, segment, 100, 0).status == put_status::stored);
    CHECK(even.ranges(a, 2) == ranges{{0, 2}, {3, 5}});
  }
}

TEST_CASE("contents are bounded and kept apart") {
  segment_cache cache{config_of(100'000, 2)};
  const auto a = content(1);
  const auto b = content(2);
  const auto c = content(3);
  REQUIRE(cache.put(a, 0, 100, 0).status == put_status::stored);
  REQUIRE(cache.put(a, 1, 100, 1).status == put_status::stored);
  REQUIRE(cache.put(b, 0, 100, 2).status == put_status::stored);
  CHECK(cache.ranges(a, 4) == std::vector<segment_range>{{0, 2}});
  CHECK(cache.ranges(b, 4) == std::vector<segment_range>{{0, 1}});
  CHECK(cache.touch(a, 1, 3)); // a is now the more recent

  // A third content evicts all of the content used least recently: b.
  const auto result = cache.put(c, 5, 100, 4);
  REQUIRE(result.status == put_status::stored);
  CHECK(result.evicted == std::vector<segment_ref>{{b, 0, 100}});
  CHECK(cache.has(a, 0));
  CHECK(cache.content_count() == 2);

  // With every content pinned, a new one is refused, and cannot be pinned either.
  REQUIRE(cache.pin(a, 0, 1));
  REQUIRE(cache.pin(c, 100, 200)); // a window with nothing held yet still pins c
  CHECK(cache.put(b, 0, 100, 5).status == put_status::refused_contents);
  CHECK_FALSE(cache.pin(b, 0, 1));
  CHECK(cache.has(a, 1));
  REQUIRE(cache.unpin(c));
  CHECK(cache.put(b, 0, 100, 6).evicted == std::vector<segment_ref>{{c, 5, 100}});
}

TEST_CASE("ranges stay equal to the held segments through puts and evictions") {
  // The runs are kept incrementally; after every step they must equal the runs
  // recomputed from `has` over every segment index.
  segment_cache cache{config_of(40'000, 2, 30)};
  core::random_generator generator{77};
  const auto id = content(1);
  for (int step = 0; step < 5'000; ++step) {
    const auto segment = static_cast<std::uint32_t>(generator.uniform(60));
    if (generator.uniform(8) == 0)
      cache.put(content(2), segment, 1000, step); // another content evicts ours too
    else
      cache.put(id, segment, 1 + static_cast<std::uint32_t>(generator.uniform(3000)), step);
    std::vector<storage::segment_range> expected;
    for (std::uint32_t s = 0; s < 60; ++s) {
      if (!cache.has(id, s))
        continue;
      if (!expected.empty() && expected.back().end == s)
        expected.back().end += 1;
      else
        expected.push_back({s, s + 1});
    }
    REQUIRE(cache.ranges(id, 1000) == expected);
  }
}
