// Pins content_saver (content_saver.hpp), what `stakecast get` has its node do: against
// a content source in memory (1 MiB of pseudo-random bytes cut into 8 segments), a save
// writes the content byte for byte; a file that already holds the first segments keeps
// them and has the rest (and anything past the content) rewritten; a relative path, a
// folder and a path the node cannot open are refused with 400, 400 and 403; a source
// that keeps failing fails the save naming the segment; a save nobody asks after is
// cancelled; at most saves_max run at once. Every wait is bounded (10 s).
#include "node/content_saver.hpp"

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/core/random.hpp"
#include "node/publication.hpp"
#include "tests/support/temporary_folder.hpp"

using namespace stakecast;
using namespace stakecast::node;
using namespace std::chrono_literals;
using Catch::Contains;
using test::temporary_folder;

namespace {

constexpr std::size_t sample_bytes = 1 << 20;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// One content in memory, answered from a thread of its own like a viewing session's.
/// Reads at or past `fail_from` fail; with `silent`, reads are never answered.
class memory_content final : public content_source {
public:
  explicit memory_content(const std::filesystem::path& folder) {
    core::random_generator random(core::derive_seed(7, "content_saver.test"));
    bytes.resize(sample_bytes);
    for (auto& byte : bytes)
      byte = static_cast<char>(random.next());
    const auto file = folder / "source.bin";
    write_all(file, bytes);
    auto made = make_publication(file.string(), "source.bin", 1'000'000, 1000ms);
    REQUIRE(made);
    manifest = std::make_shared<const core::manifest>(std::move(made.value->manifest));
    id = core::id_of(*manifest);
  }
  ~memory_content() override {
    for (auto& answer : answers)
      answer.join();
  }

  std::optional<description> describe(const core::content_id&) override {
    return description{bytes.size(), ""};
  }
  void read(const core::content_id& content, std::uint64_t offset, std::size_t max_bytes,
            std::function<void(read_result)> done) override {
    ++reads;
    if (silent)
      return;
    std::lock_guard lock(mutex);
    answers.emplace_back([this, content, offset, max_bytes, done = std::move(done)] {
      if (content != id || offset >= fail_from)
        return done(std::string("the swarm has no such bytes"));
      // Half a segment at most: the saver must put a segment together from pieces.
      const auto count = std::min<std::uint64_t>({max_bytes, 64 * 1024, bytes.size() - offset});
      done(shared_bytes::of(core::byte_buffer(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                                              bytes.begin() + static_cast<std::ptrdiff_t>(offset + count))));
    });
  }

  std::string bytes;
  std::shared_ptr<const core::manifest> manifest;
  core::content_id id;
  std::atomic<std::uint64_t> fail_from{~std::uint64_t{0}};
  std::atomic<bool> silent{false};
  std::atomic<int> reads{0};

private:
  std::mutex mutex;
  std::vector<std::thread> answers;
};

struct fixture {
  temporary_folder folder{"saver", temporary_folder::made::yes};
  std::shared_ptr<memory_content> source = std::make_shared<memory_content>(folder.path);
  save_settings settings;

  std::unique_ptr<content_saver> saver() {
    return std::make_unique<content_saver>(
        [s = source](const core::content_id& id) { return id == s->id ? s->manifest : nullptr; },
        source, settings);
  }
};

std::string body_for(const std::filesystem::path& path) {
  return nlohmann::json{{"path", path.string()}}.dump();
}

/// Polls the save (which keeps it watched) until it is no longer running.
nlohmann::json finished(content_saver& saver, const core::content_id& id, std::uint64_t save) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto status = saver.status(id, save);
    REQUIRE(status.status == 200);
    if (status.body["state"] != "running" || std::chrono::steady_clock::now() > deadline)
      return status.body;
    std::this_thread::sleep_for(5ms);
  }
}

/// Starts a save into `target` and waits for its end.
nlohmann::json saved(content_saver& saver, const core::content_id& id, const std::filesystem::path& target) {
  const auto started = saver.start(id, body_for(target));
  REQUIRE(started.status == 202);
  return finished(saver, id, started.body["save"].get<std::uint64_t>());
}

} // namespace

TEST_CASE("a save writes the content byte for byte", "[node][saver]") {
  fixture f;
  REQUIRE(f.source->manifest->segments.size() == 8);
  auto saver = f.saver();
  const auto target = f.folder.path / "copy.bin";
  const auto done = saved(*saver, f.source->id, target);
  CHECK(done["state"] == "done");
  CHECK(done["bytes"] == sample_bytes);
  CHECK(done["segments_written"] == 8);
  CHECK(done["resumed_from"] == 0);
  CHECK(read_all(target) == f.source->bytes);
}

TEST_CASE("a save keeps the whole segments a file already holds and rewrites the rest",
          "[node][saver]") {
  fixture f;
  auto saver = f.saver();
  const auto target = f.folder.path / "partial.bin";
  const auto& third = f.source->manifest->segments[3];
  // Segments 0-2 right, a byte of segment 3 wrong, and more bytes than the content.
  auto partial = f.source->bytes;
  partial[third.offset_bytes + 10] ^= 0x55;
  partial += "trailing junk";
  write_all(target, partial);
  const auto done = saved(*saver, f.source->id, target);
  CHECK(done["state"] == "done");
  CHECK(done["resumed_from"] == 3);
  CHECK(read_all(target) == f.source->bytes);
}

TEST_CASE("a save refuses paths it cannot use and says why", "[node][saver]") {
  fixture f;
  auto saver = f.saver();
  const auto relative = saver->start(f.source->id, body_for("copy.bin"));
  CHECK(relative.status == 400);
  CHECK_THAT(relative.body["error"].get<std::string>(), Contains("not absolute"));
  CHECK(saver->start(f.source->id, "{\"file\": 1}").status == 400);
  CHECK(saver->start(f.source->id, "not json").status == 400);
  const auto missing = saver->start(f.source->id, body_for(f.folder.path / "no-such-folder" / "x"));
  CHECK(missing.status == 403);
  CHECK_THAT(missing.body["error"].get<std::string>(), Contains("no-such-folder"));
  const auto folder = saver->start(f.source->id, body_for(f.folder.path));
  CHECK((folder.status == 400 || folder.status == 403));
  CHECK(saver->status(f.source->id, 99).status == 404);
}

TEST_CASE("a save whose source keeps failing fails and names the segment", "[node][saver]") {
  fixture f;
  f.settings.retry_pause = 1ms;
  f.settings.read_retries = 2;
  f.source->fail_from = f.source->manifest->segments[5].offset_bytes;
  auto saver = f.saver();
  const auto target = f.folder.path / "broken.bin";
  const auto done = saved(*saver, f.source->id, target);
  CHECK(done["state"] == "failed");
  CHECK_THAT(done["error"].get<std::string>(), Contains("segment 5") && Contains("no such bytes"));
  CHECK(done["segments_written"] == 5);
  // What was written stays: the next save keeps it.
  f.source->fail_from = ~std::uint64_t{0};
  const auto redone = saved(*saver, f.source->id, target);
  CHECK(redone["resumed_from"] == 5);
  CHECK(read_all(target) == f.source->bytes);
}

TEST_CASE("a save nobody asks after is cancelled and saves_max bounds the running ones",
          "[node][saver]") {
  fixture f;
  f.settings.unwatched = 200ms;
  f.settings.saves_max = 2;
  f.source->silent = true;
  auto saver = f.saver();
  const auto first = saver->start(f.source->id, body_for(f.folder.path / "a.bin"));
  const auto second = saver->start(f.source->id, body_for(f.folder.path / "b.bin"));
  REQUIRE(first.status == 202);
  REQUIRE(second.status == 202);
  const auto third = saver->start(f.source->id, body_for(f.folder.path / "c.bin"));
  CHECK(third.status == 503);
  std::this_thread::sleep_for(1500ms); // unwatched: both give up (they look every 100 ms)
  const auto done = finished(*saver, f.source->id, first.body["save"].get<std::uint64_t>());
  CHECK(done["state"] == "failed");
  CHECK_THAT(done["error"].get<std::string>(), Contains("nobody asked after it"));
  CHECK(finished(*saver, f.source->id, second.body["save"].get<std::uint64_t>())["state"] == "failed");
  CHECK(saver->start(f.source->id, body_for(f.folder.path / "c.bin")).status == 202);
  saver->stop(); // joins the running one
  CHECK(saver->start(f.source->id, body_for(f.folder.path / "d.bin")).status == 503);
}
