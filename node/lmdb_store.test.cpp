// Pins lmdb_store against the world::store contract (actors/world/world.hpp) and its
// own promises (node/lmdb_store.hpp): values round-trip (up to 4 MiB and beyond),
// batches apply whole and survive a close and reopen, scans visit keys in the same
// bytewise order as storage::memory_store (the oracle) across named databases, the
// map grows from 1 MiB on demand and a batch beyond map_size_max_bytes fails whole,
// damaged files and bad directories are error values on open, readers on several
// threads never see half a batch while a writer grows the map and adds databases,
// and a write that hits the file size limit (RLIMIT_FSIZE in a forked child, a full
// disk's stand-in) fails and leaves the committed data intact. Each test works in its
// own directory under the system's temp directory and removes it.
#include "node/lmdb_store.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/storage/memory_store.hpp"
#include "actors/storage/storage_actor.hpp"
#include "tests/support/temporary_folder.hpp"

using namespace stakecast;
using node::lmdb_options;
using node::lmdb_store;
using batch = world::store::write_batch;

namespace {

/// A fresh directory, removed with everything in it at the end of the test.
struct temp_dir : test::temporary_folder {
  temp_dir() : temporary_folder("lmdb-test") {}
};

std::unique_ptr<lmdb_store> open_store(const std::filesystem::path& path,
                                       const lmdb_options& options = {}) {
  auto opened = lmdb_store::open(path, options);
  INFO((opened ? std::string{"opened"} : core::describe(opened.error())));
  REQUIRE(opened);
  return std::move(*opened);
}

core::byte_buffer bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

/// `size` bytes that differ with `seed`, so a value read back is the one written.
core::byte_buffer pattern(std::size_t size, std::uint32_t seed) {
  core::byte_buffer bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::uint8_t>((i * 131 + seed * 7 + i / 4096) & 0xff);
  return bytes;
}

using entries = std::vector<std::pair<std::string, core::byte_buffer>>;

entries scan(const world::store& store, std::string_view prefix, std::size_t limit = 100000) {
  entries visited;
  store.for_each_prefix(prefix, [&](std::string_view key, core::byte_span value) {
    visited.emplace_back(std::string{key}, core::byte_buffer{value.begin(), value.end()});
    return visited.size() < limit;
  });
  return visited;
}

std::uint64_t entries_of(const node::lmdb_stats& stats, std::string_view database) {
  for (const auto& each : stats.databases)
    if (each.name == database)
      return each.entries;
  return 0;
}

} // namespace

TEST_CASE("lmdb store round trips small empty and 4 MiB values", "[node][lmdb]") {
  temp_dir dir;
  auto store = open_store(dir.path);
  batch first;
  first.put("chain/tip", bytes_of("42"));
  first.put("state/empty", {});
  first.put("content/big", pattern(4 * node::mebibyte_bytes + 1, 1));
  REQUIRE(store->write(first).empty());
  CHECK(store->get("chain/tip") == bytes_of("42"));
  CHECK(store->get("state/empty") == core::byte_buffer{});
  CHECK(store->get("content/big") == pattern(4 * node::mebibyte_bytes + 1, 1));
  CHECK_FALSE(store->get("chain/other"));
  CHECK_FALSE(store->get("receipts/none"));
  CHECK_FALSE(store->get("no-database"));
  CHECK_FALSE(store->get("/empty-database"));
}

TEST_CASE("lmdb store keeps a batch across a reopen", "[node][lmdb]") {
  temp_dir dir;
  {
    auto store = open_store(dir.path);
    batch first;
    for (std::uint32_t i = 0; i < 100; ++i)
      first.put(fmt::format("chain/block/{:020}", i), pattern(1000, i));
    first.put("receipts/a", bytes_of("signed"));
    REQUIRE(store->write(first).empty());
  }
  auto store = open_store(dir.path);
  for (std::uint32_t i = 0; i < 100; ++i)
    CHECK(store->get(fmt::format("chain/block/{:020}", i)) == pattern(1000, i));
  CHECK(store->get("receipts/a") == bytes_of("signed"));
  const auto stats = store->stats();
  CHECK(entries_of(stats, "chain") == 100);
  CHECK(entries_of(stats, "receipts") == 1);
  CHECK(stats.databases.size() == 2);
  CHECK(stats.used_bytes > 100 * 1000);
  CHECK(stats.used_bytes <= stats.map_size_bytes);
}

TEST_CASE("lmdb store erases keys and lets the last operation on a key win", "[node][lmdb]") {
  temp_dir dir;
  auto store = open_store(dir.path);
  batch first;
  first.put("state/a", bytes_of("one"));
  first.put("state/b", bytes_of("two"));
  first.put("state/b", bytes_of("three"));
  REQUIRE(store->write(first).empty());
  CHECK(store->get("state/b") == bytes_of("three"));

  batch second;
  second.erase("state/a");
  second.erase("state/never-written");
  second.put("state/c", bytes_of("four"));
  second.erase("state/c");
  REQUIRE(store->write(second).empty());
  CHECK_FALSE(store->get("state/a"));
  CHECK_FALSE(store->get("state/c"));
  CHECK(store->get("state/b") == bytes_of("three"));
  CHECK(entries_of(store->stats(), "state") == 1);
}

TEST_CASE("lmdb store scans in the same bytewise order as the memory store", "[node][lmdb]") {
  // Database names chosen so that their order differs from the order of the names
  // alone: "a-b/" < "a/" ('-' < '/') although "a" < "a-b".
  temp_dir dir;
  storage::memory_store oracle;
  batch all;
  for (std::string_view key :
       {"a/x", "a/", "a/\xff", "a/x/y", "a-b/y", "ab/z", "a0/w", "b/1", "b/10", "b/2", "chain/tip",
        "content/00/manifest", "content/00/segment/00000001", "content/01/manifest"})
    all.put(std::string{key}, bytes_of(key));
  REQUIRE(oracle.write(all).empty());
  {
    auto store = open_store(dir.path);
    REQUIRE(store->write(all).empty());
  }
  auto store = open_store(dir.path); // the databases come back from the file
  for (std::string_view prefix : {"", "a", "a/", "a/x", "a-", "ab", "b/1", "c", "content/",
                                  "content/00/", "d", "\xff", "a/\xff"}) {
    INFO("prefix '" << prefix << "'");
    CHECK(scan(*store, prefix) == scan(oracle, prefix));
  }
  CHECK(scan(*store, "", 3) == scan(oracle, "", 3));
  CHECK(scan(*store, "a", 4) == scan(oracle, "a", 4));
  CHECK(scan(*store, "content/", 1) == scan(oracle, "content/", 1));
  CHECK(scan(*store, "").size() == 14);
}

TEST_CASE("lmdb store refuses keys without a database and databases over the limit",
          "[node][lmdb]") {
  temp_dir dir;
  lmdb_options options;
  options.databases_max = 2;
  auto store = open_store(dir.path, options);
  batch no_database;
  no_database.put("chain/tip", bytes_of("1"));
  no_database.put("tip", bytes_of("2"));
  const auto refused = store->write(no_database);
  CHECK(refused.find("'tip' names no database") != std::string::npos);
  CHECK_FALSE(store->get("chain/tip"));

  batch too_long;
  too_long.put("chain/" + std::string(600, 'x'), bytes_of("1"));
  CHECK(store->write(too_long).find("more than the limit of 511") != std::string::npos);

  batch two;
  two.put("chain/tip", bytes_of("1"));
  two.put("state/x", bytes_of("2"));
  REQUIRE(store->write(two).empty());
  batch third;
  third.put("chain/tip", bytes_of("3"));
  third.put("receipts/r", bytes_of("4"));
  CHECK(store->write(third).find("too many databases") != std::string::npos);
  CHECK(store->get("chain/tip") == bytes_of("1"));
  CHECK_FALSE(store->get("receipts/r"));
}

TEST_CASE("the storage actor's contents survive a reopen of the lmdb store", "[node][lmdb]") {
  temp_dir dir;
  core::content_id content;
  content.bytes[0] = 7;
  const auto segment = pattern(64 * 1024, 3);
  auto load = [&](world::store& store) {
    caf::actor_system_config config;
    config.set("logger.file-verbosity", caf::atom("quiet"));
    config.set("logger.console-verbosity", caf::atom("quiet"));
    caf::actor_system system{config};
    world::node_context context;
    context.storage = &store;
    auto actor = system.spawn(storage::storage, context);
    caf::scoped_actor self{system};
    std::vector<storage::stored_content> loaded;
    std::vector<std::string> errors;
    auto failed = [&](const caf::error& error) { errors.push_back(core::describe(error)); };
    if (store.get(storage::manifest_key(content)) == std::nullopt) {
      self->request(actor, std::chrono::seconds(10), storage::put_manifest_atom::value, content,
                    bytes_of("manifest"))
          .receive([](caf::ok_atom) {}, failed);
      for (std::uint32_t index : {2u, 0u})
        self->request(actor, std::chrono::seconds(10), storage::put_segment_atom::value, content,
                      index, wire::payload::materialized(segment))
            .receive([](caf::ok_atom) {}, failed);
    }
    self->request(actor, std::chrono::seconds(10), storage::load_contents_atom::value)
        .receive([&](const std::vector<storage::stored_content>& contents) { loaded = contents; },
                 failed);
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    CHECK(errors.empty());
    return loaded;
  };
  {
    auto store = open_store(dir.path);
    const auto loaded = load(*store);
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].segments == std::vector<std::uint32_t>{0, 2});
  }
  auto store = open_store(dir.path);
  const auto loaded = load(*store);
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].content == content);
  CHECK(loaded[0].manifest == bytes_of("manifest"));
  CHECK(loaded[0].segments == std::vector<std::uint32_t>{0, 2});
  const auto stored = store->get(storage::segment_key(content, 2));
  REQUIRE(stored);
  CHECK(core::byte_buffer(stored->begin() + 1, stored->end()) == segment);
}

TEST_CASE("lmdb store grows its map from 1 MiB to hold 20 MiB", "[node][lmdb]") {
  temp_dir dir;
  lmdb_options options;
  options.map_size_initial_bytes = node::mebibyte_bytes;
  options.map_size_max_bytes = 256 * node::mebibyte_bytes;
  {
    auto store = open_store(dir.path, options);
    CHECK(store->stats().map_size_bytes == node::mebibyte_bytes);
    for (std::uint32_t i = 0; i < 12; ++i) {
      batch one;
      one.put(fmt::format("content/{:04}", i), pattern(node::mebibyte_bytes, i));
      REQUIRE(store->write(one) == "");
    }
    batch large; // 8 MiB in one batch: several growths for one write
    for (std::uint32_t i = 12; i < 20; ++i)
      large.put(fmt::format("content/{:04}", i), pattern(node::mebibyte_bytes, i));
    REQUIRE(store->write(large) == "");
    CHECK(store->stats().map_size_bytes >= 20 * node::mebibyte_bytes);
  }
  auto store = open_store(dir.path, options);
  CHECK(store->stats().used_bytes >= 20 * node::mebibyte_bytes);
  for (std::uint32_t i = 0; i < 20; ++i)
    CHECK(store->get(fmt::format("content/{:04}", i)) == pattern(node::mebibyte_bytes, i));
}

TEST_CASE("lmdb store refuses a batch beyond the map size limit whole and stays usable",
          "[node][lmdb]") {
  temp_dir dir;
  lmdb_options options;
  options.map_size_initial_bytes = node::mebibyte_bytes;
  options.map_size_max_bytes = 4 * node::mebibyte_bytes;
  auto store = open_store(dir.path, options);
  batch small;
  small.put("state/kept", bytes_of("kept"));
  REQUIRE(store->write(small).empty());

  batch huge;
  huge.put("state/kept", bytes_of("overwritten"));
  for (std::uint32_t i = 0; i < 3; ++i)
    huge.put(fmt::format("content/{}", i), pattern(2 * node::mebibyte_bytes, i));
  const auto refused = store->write(huge);
  CHECK(refused.find("store full: map size limit of 4194304 bytes reached") != std::string::npos);
  CHECK(store->get("state/kept") == bytes_of("kept"));
  for (std::uint32_t i = 0; i < 3; ++i)
    CHECK_FALSE(store->get(fmt::format("content/{}", i)));
  CHECK(store->stats().map_size_bytes == 4 * node::mebibyte_bytes);

  batch after;
  after.put("content/0", pattern(node::mebibyte_bytes, 9));
  REQUIRE(store->write(after).empty());
  CHECK(store->get("content/0") == pattern(node::mebibyte_bytes, 9));
  store.reset();
  store = open_store(dir.path, options);
  CHECK(store->get("state/kept") == bytes_of("kept"));
  CHECK(store->get("content/0") == pattern(node::mebibyte_bytes, 9));
}

TEST_CASE("content fills a store up to its reserve and the chain still writes", "[node][lmdb]") {
  temp_dir dir;
  lmdb_options options;
  options.map_size_initial_bytes = node::mebibyte_bytes;
  options.map_size_max_bytes = 16 * node::mebibyte_bytes;
  options.reserved_bytes = 4 * node::mebibyte_bytes;
  auto store = open_store(dir.path, options);

  // Segments of 1 MiB until the store refuses one: it must do so before the reserve.
  std::uint32_t stored = 0;
  std::string refused;
  for (; stored < 16 && refused.empty(); ++stored) {
    batch segment;
    segment.put(fmt::format("content/{:04}", stored), pattern(node::mebibyte_bytes, stored));
    refused = store->write(segment);
  }
  INFO(refused);
  CHECK_THAT(refused, Catch::Contains("store full for content"));
  CHECK_THAT(refused, Catch::Contains("the last 4194304 are kept for the chain"));
  CHECK(stored >= 8); // the room outside the reserve was used
  const auto full = store->stats();
  CHECK(full.refused_full == 1);
  CHECK(full.room_bytes >= options.reserved_bytes / 2);

  // The chain goes on: many blocks of a few KiB, 2 MiB in all, in the reserve.
  for (std::uint32_t height = 0; height < 512; ++height) {
    batch block;
    block.put(fmt::format("chain/block/{:020}", height), pattern(4096, height));
    block.put("chain/tip", bytes_of(fmt::format("{}", height)));
    REQUIRE(store->write(block).empty());
  }
  const auto chain_grown = store->stats();
  CHECK(chain_grown.room_bytes < options.reserved_bytes); // the chain took from the reserve
  CHECK_THAT(chain_grown.last_refusal, Catch::Contains("store full for content"));
  // A batch that only deletes frees room and may use the reserve; then content fits again.
  batch cleanup;
  for (std::uint32_t i = 0; i + 1 < stored; ++i)
    cleanup.erase(fmt::format("content/{:04}", i));
  REQUIRE(store->write(cleanup).empty());
  batch block;
  block.put("chain/tip", bytes_of("after the cleanup")); // LMDB reuses freed pages a commit later
  REQUIRE(store->write(block).empty());
  batch again;
  again.put("content/again", pattern(node::mebibyte_bytes, 7));
  CHECK(store->write(again).empty());
  CHECK(store->stats().pages_free > 0);
}

TEST_CASE("lmdb store open gives an error value for a damaged file or an unusable directory",
          "[node][lmdb]") {
  temp_dir dir;
  const auto data = dir.path / "data.mdb";
  auto expect_error = [&](const std::filesystem::path& path, node::lmdb_errc code,
                          std::string_view says, const lmdb_options& options = {}) {
    auto opened = lmdb_store::open(path, options);
    REQUIRE_FALSE(opened);
    const auto text = core::describe(opened.error());
    INFO(text);
    CHECK(opened.error().code() == static_cast<std::uint8_t>(code));
    CHECK(text.find(says) != std::string::npos);
  };
  {
    auto store = open_store(dir.path);
    batch first;
    first.put("chain/tip", bytes_of("1"));
    REQUIRE(store->write(first).empty());
    auto again = lmdb_store::open(dir.path);
    REQUIRE_FALSE(again);
    CHECK(core::describe(again.error()).find("already open in this process") != std::string::npos);
  }
  const auto size = std::filesystem::file_size(data);
  {
    std::ofstream garbage(data, std::ios::binary | std::ios::trunc);
    const std::string noise(size, '\x5a');
    garbage.write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }
  expect_error(dir.path, node::lmdb_errc::corrupted, data.parent_path().string());
  std::filesystem::resize_file(data, 10);
  expect_error(dir.path, node::lmdb_errc::corrupted, "not an LMDB file");

  const auto file = dir.path / "a-file";
  std::ofstream{file} << "not a directory";
  expect_error(file, node::lmdb_errc::unusable_directory, "a-file");
  expect_error(file / "below", node::lmdb_errc::unusable_directory, "below");

  lmdb_options bad;
  bad.map_size_initial_bytes = 2 * bad.map_size_max_bytes;
  expect_error(dir.path / "fresh", node::lmdb_errc::bad_options, "map_size_initial_bytes", bad);
  bad = {};
  bad.databases_max = 0;
  expect_error(dir.path / "fresh", node::lmdb_errc::bad_options, "databases_max", bad);
  bad = {};
  bad.reserved_bytes = bad.map_size_max_bytes / 2;
  expect_error(dir.path / "fresh", node::lmdb_errc::bad_options, "reserved_bytes", bad);
}

TEST_CASE("lmdb store readers on several threads never see half a batch while the map grows",
          "[node][lmdb]") {
  // Each batch i sets "a/counter" and "b/counter" to i (two databases) with a
  // 64 KiB filler, and every tenth batch opens a new database "d<i/10>": readers must
  // see the two counters equal, never going back, and exactly i/10 new databases,
  // while the map grows under them and new database handles are published.
  temp_dir dir;
  lmdb_options options;
  options.map_size_initial_bytes = node::mebibyte_bytes;
  options.databases_max = 32;
  auto store = open_store(dir.path, options);
  constexpr std::uint32_t batches = 120;
  constexpr int readers = 3;
  constexpr int reads_max = 2000000;
  std::atomic<bool> writing{true};
  std::atomic<int> torn{0}, backwards{0};
  std::atomic<std::uint64_t> reads{0};
  auto counter_of = [](core::byte_span value) {
    return std::stoul(std::string{value.begin(), value.end()});
  };
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r)
    threads.emplace_back([&] {
      unsigned long last = 0;
      for (int i = 0; i < reads_max && writing.load(); ++i) {
        std::optional<unsigned long> a, b;
        unsigned long opened = 0;
        store->for_each_prefix("", [&](std::string_view key, core::byte_span value) {
          if (key == "a/counter")
            a = counter_of(value);
          if (key == "b/counter")
            b = counter_of(value);
          if (key.ends_with("/opened"))
            ++opened;
          return !key.starts_with("f/"); // the rest is filler
        });
        if (a != b || opened != a.value_or(0) / 10)
          ++torn;
        if (a && *a < last)
          ++backwards;
        last = a.value_or(last);
        if (auto single = store->get("b/counter"); single && counter_of(*single) < last)
          ++backwards;
        ++reads;
      }
    });
  std::string failure;
  for (std::uint32_t i = 1; i <= batches && failure.empty(); ++i) {
    batch next;
    next.put("a/counter", bytes_of(std::to_string(i)));
    next.put("b/counter", bytes_of(std::to_string(i)));
    next.put(fmt::format("f/{:04}", i), pattern(64 * 1024, i));
    if (i % 10 == 0)
      next.put(fmt::format("d{}/opened", i / 10), bytes_of("new database"));
    failure = store->write(next);
  }
  writing = false;
  for (auto& thread : threads)
    thread.join();
  CHECK(failure == "");
  CHECK(torn == 0);
  CHECK(backwards == 0);
  CHECK(reads > 0);
  const auto stats = store->stats();
  CHECK(stats.map_size_bytes > options.map_size_initial_bytes);
  CHECK(stats.databases.size() == 3 + batches / 10);
  CHECK(store->get("a/counter") == bytes_of(std::to_string(batches)));
}

TEST_CASE("lmdb store write that hits the file size limit fails and keeps committed data",
          "[node][lmdb]") {
  // A forked child lowers RLIMIT_FSIZE to the data file's size (SIGXFSZ ignored, so
  // growing the file fails with EFBIG, as on a full disk), writes, reopens and reports
  // through its exit code. It only makes plain calls and ends with _exit; alarm()
  // bounds it.
  temp_dir dir;
  {
    auto store = open_store(dir.path);
    batch first;
    first.put("chain/tip", bytes_of("committed"));
    first.put("content/a", pattern(256 * 1024, 1));
    REQUIRE(store->write(first).empty());
  }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::alarm(60);
    std::signal(SIGXFSZ, SIG_IGN);
    auto opened = lmdb_store::open(dir.path);
    if (!opened)
      ::_exit(10);
    auto& store = **opened;
    rlimit limit{};
    ::getrlimit(RLIMIT_FSIZE, &limit);
    const rlimit before = limit;
    limit.rlim_cur = std::filesystem::file_size(dir.path / "data.mdb");
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0)
      ::_exit(11);
    batch grow;
    grow.put("chain/tip", bytes_of("lost"));
    grow.put("content/b", pattern(4 * node::mebibyte_bytes, 2));
    const auto failure = store.write(grow);
    ::setrlimit(RLIMIT_FSIZE, &before);
    if (failure.empty())
      ::_exit(12);
    if (failure.find("File too large") == std::string::npos &&
        failure.find("Input/output error") == std::string::npos)
      ::_exit(13);
    opened->reset();
    auto reopened = lmdb_store::open(dir.path);
    if (!reopened)
      ::_exit(14);
    if ((*reopened)->get("chain/tip") != bytes_of("committed") ||
        (*reopened)->get("content/a") != pattern(256 * 1024, 1))
      ::_exit(15);
    if ((*reopened)->get("content/b"))
      ::_exit(16);
    batch after;
    after.put("chain/tip", bytes_of("after"));
    if (!(*reopened)->write(after).empty())
      ::_exit(17);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("child status " << status);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto store = open_store(dir.path);
  CHECK(store->get("chain/tip") == bytes_of("after"));
}
