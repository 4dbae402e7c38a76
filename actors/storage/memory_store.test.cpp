// Pins memory_store against the world::store contract (actors/world/world.hpp):
// batches apply whole, in order (the same key twice: the last operation wins), or not
// at all when they would exceed the capacity, which the error text names; prefix scans
// visit keys in bytewise order and stop when the visitor says so; and size_bytes, the
// sum of key and value sizes, follows overwrites and erasures. Each test drives a
// fresh store through `write` and reads it back through the interface.
#include "actors/storage/memory_store.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace stakecast;
using stakecast::storage::memory_store;
using batch = world::store::write_batch;

namespace {

core::byte_buffer bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

using entries = std::vector<std::pair<std::string, core::byte_buffer>>;

// Every key and value under `prefix`, in visiting order, until `limit` visits.
entries scan(const world::store& store, std::string_view prefix, std::size_t limit = 1000) {
  entries visited;
  store.for_each_prefix(prefix, [&](std::string_view key, core::byte_span value) {
    visited.emplace_back(std::string{key}, core::byte_buffer{value.begin(), value.end()});
    return visited.size() < limit;
  });
  return visited;
}

std::vector<std::string> keys_of(const entries& visited) {
  std::vector<std::string> keys;
  for (const auto& entry : visited)
    keys.push_back(entry.first);
  return keys;
}

} // namespace

TEST_CASE("a batch puts and erases", "[memory_store]") {
  memory_store store;
  world::store& seam = store;
  CHECK_FALSE(seam.get("a").has_value());

  batch first;
  first.put("a", bytes_of("one"));
  first.put("b", bytes_of("two"));
  first.put("c", bytes_of("three"));
  REQUIRE(seam.write(first).empty());
  CHECK(seam.get("a") == bytes_of("one"));
  CHECK(seam.get("b") == bytes_of("two"));
  CHECK(seam.get("c") == bytes_of("three"));
  CHECK(store.key_count() == 3);

  batch second;
  second.erase("b");
  second.put("a", bytes_of("uno"));
  second.erase("never written");
  REQUIRE(seam.write(second).empty());
  CHECK(seam.get("a") == bytes_of("uno"));
  CHECK_FALSE(seam.get("b").has_value());
  CHECK(seam.get("c") == bytes_of("three"));
  CHECK_FALSE(seam.get("never written").has_value());
  CHECK(store.key_count() == 2);

  // An empty value is a value, not an erasure; an empty batch is a success.
  batch third;
  third.put("empty", {});
  REQUIRE(seam.write(third).empty());
  CHECK(seam.get("empty") == core::byte_buffer{});
  CHECK(seam.write(batch{}).empty());
  CHECK(store.key_count() == 3);
}

TEST_CASE("a batch that exceeds the capacity changes nothing", "[memory_store]") {
  memory_store store{20};
  batch setup;
  setup.put("k1", bytes_of("12345678")); // 10 bytes
  REQUIRE(store.write(setup).empty());
  REQUIRE(store.size_bytes() == 10);

  batch too_big;
  too_big.erase("k1");
  too_big.put("k2", bytes_of("abc"));
  too_big.put("k3", bytes_of("0123456789abcdefghij")); // 22 bytes on its own
  const std::string error = store.write(too_big);
  CHECK_FALSE(error.empty());
  CHECK_THAT(error, Catch::Contains("capacity") && Catch::Contains("20"));
  CHECK(store.get("k1") == bytes_of("12345678"));
  CHECK_FALSE(store.get("k2").has_value());
  CHECK_FALSE(store.get("k3").has_value());
  CHECK(store.size_bytes() == 10);
  CHECK(store.key_count() == 1);

  // Filling the store exactly to its capacity succeeds; one byte more does not.
  batch exactly_full;
  exactly_full.put("k2", bytes_of("12345678"));
  CHECK(store.write(exactly_full).empty());
  CHECK(store.size_bytes() == 20);
  batch one_more;
  one_more.put("x", {});
  CHECK_FALSE(store.write(one_more).empty());
  CHECK_FALSE(store.get("x").has_value());
  CHECK(store.size_bytes() == 20);

  // A full store still accepts batches that free space.
  batch shrink;
  shrink.erase("k1");
  shrink.put("k2", bytes_of("1"));
  CHECK(store.write(shrink).empty());
  CHECK(store.size_bytes() == 3);
}

TEST_CASE("the same key twice in one batch: the last operation wins", "[memory_store]") {
  SECTION("put then put") {
    memory_store store;
    batch twice;
    twice.put("k", bytes_of("first"));
    twice.put("k", bytes_of("second!"));
    REQUIRE(store.write(twice).empty());
    CHECK(store.get("k") == bytes_of("second!"));
    CHECK(store.key_count() == 1);
    CHECK(store.size_bytes() == 1 + 7);
  }
  SECTION("put then erase") {
    memory_store store;
    batch setup;
    setup.put("k", bytes_of("old"));
    REQUIRE(store.write(setup).empty());
    batch twice;
    twice.put("k", bytes_of("new"));
    twice.erase("k");
    REQUIRE(store.write(twice).empty());
    CHECK_FALSE(store.get("k").has_value());
    CHECK(store.key_count() == 0);
    CHECK(store.size_bytes() == 0);
  }
  SECTION("erase then put") {
    memory_store store;
    batch setup;
    setup.put("k", bytes_of("old"));
    REQUIRE(store.write(setup).empty());
    batch twice;
    twice.erase("k");
    twice.put("k", bytes_of("newer"));
    REQUIRE(store.write(twice).empty());
    CHECK(store.get("k") == bytes_of("newer"));
    CHECK(store.size_bytes() == 1 + 5);
  }
  SECTION("the capacity is checked against the batch's result, not its sum") {
    memory_store store{10};
    batch twice;
    twice.put("k", bytes_of("123456789")); // 10 bytes, then replaced
    twice.put("k", bytes_of("12"));        // 3 bytes
    twice.put("j", bytes_of("123456"));    // 7 bytes: 17 with the first "k"
    REQUIRE(store.write(twice).empty());
    CHECK(store.size_bytes() == 3 + 7);
  }
}

TEST_CASE("for_each_prefix visits in bytewise key order and stops early", "[memory_store]") {
  memory_store store;
  batch setup;
  for (const char* key : {"a/2", "b/1", "a/10", "a", "a0", "a/1", "a/\x80", "a/\x7f", "`"})
    setup.put(key, bytes_of(std::string{"v:"} + key));
  REQUIRE(store.write(setup).empty());

  const auto under_a = scan(store, "a/");
  // Bytewise: '1' < '2', "a/1" < "a/10", and 0x7f < 0x80 (bytes are unsigned).
  CHECK(keys_of(under_a) ==
        std::vector<std::string>{"a/1", "a/10", "a/2", "a/\x7f", "a/\x80"});
  CHECK(under_a.front().second == bytes_of("v:a/1"));

  CHECK(keys_of(scan(store, "a")) ==
        std::vector<std::string>{"a", "a/1", "a/10", "a/2", "a/\x7f", "a/\x80", "a0"});
  CHECK(scan(store, "").size() == 9);
  CHECK(keys_of(scan(store, "")).front() == "`");
  CHECK(scan(store, "c").empty());
  CHECK(scan(store, "a/3").empty());

  // The visitor's false stops the scan after that visit.
  CHECK(keys_of(scan(store, "a/", 2)) == std::vector<std::string>{"a/1", "a/10"});
  CHECK(keys_of(scan(store, "", 1)) == std::vector<std::string>{"`"});
}

TEST_CASE("size_bytes counts keys and values through overwrites and erasures",
          "[memory_store]") {
  memory_store store;
  CHECK(store.size_bytes() == 0);

  batch put;
  put.put("key", bytes_of("value")); // 3 + 5
  put.put("k", bytes_of("v"));       // 1 + 1
  REQUIRE(store.write(put).empty());
  CHECK(store.size_bytes() == 10);

  batch overwrite_longer;
  overwrite_longer.put("key", bytes_of("a longer value")); // 3 + 14
  REQUIRE(store.write(overwrite_longer).empty());
  CHECK(store.size_bytes() == 19);

  batch overwrite_shorter;
  overwrite_shorter.put("key", bytes_of("v")); // 3 + 1
  REQUIRE(store.write(overwrite_shorter).empty());
  CHECK(store.size_bytes() == 6);

  batch erase_missing;
  erase_missing.erase("missing");
  REQUIRE(store.write(erase_missing).empty());
  CHECK(store.size_bytes() == 6);

  batch erase_all;
  erase_all.erase("key");
  erase_all.erase("k");
  REQUIRE(store.write(erase_all).empty());
  CHECK(store.size_bytes() == 0);
  CHECK(store.key_count() == 0);
}
