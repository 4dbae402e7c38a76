// Pins content_saver (content_saver.hpp), what `stakecast get` has its node do: against
// a content source in memory (1 MiB of pseudo-random bytes cut into 8 segments), a save
// writes the content byte for byte; a file that already holds the first segments keeps
// them and has the rest (and anything past the content) rewritten; a relative path, a
// folder and a path the node cannot open are refused with 400, 400 and 403; a path with
// a NUL or a control character, a '..', a path outside the allowed folder, a symbolic
// link inside it (as a folder on the way and as the file) and a file with another hard
// link are refused, and nothing is written outside (the "outside" is a folder of the
// test's own); a source that keeps failing fails the save naming the segment; a save
// nobody asks after is cancelled; at most saves_max run at once. Every wait is bounded
// (10 s).
#include "node/content_saver.hpp"

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
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
  fixture() {
    std::filesystem::create_directories(allowed);
    std::filesystem::create_directories(outside);
    settings.folders = {allowed};
  }

  temporary_folder folder{"saver", temporary_folder::made::yes};
  /// Where saves may write, and a folder beside it that they must never touch.
  const std::filesystem::path allowed = folder.path / "downloads";
  const std::filesystem::path outside = folder.path / "outside";
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
  const auto target = f.allowed / "copy.bin";
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
  const auto target = f.allowed / "partial.bin";
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
  const auto missing = saver->start(f.source->id, body_for(f.allowed / "no-such-folder" / "x"));
  CHECK(missing.status == 403);
  CHECK_THAT(missing.body["error"].get<std::string>(), Contains("no-such-folder"));
  std::filesystem::create_directories(f.allowed / "sub");
  const auto folder = saver->start(f.source->id, body_for(f.allowed / "sub"));
  CHECK(folder.status == 400);
  CHECK_THAT(folder.body["error"].get<std::string>(), Contains("not a regular file"));
  CHECK(saver->status(f.source->id, 99).status == 404);
}

/// Every file below `folder`, as "relative/path" names.
std::set<std::string> files_below(const std::filesystem::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder))
    names.insert(std::filesystem::relative(entry.path(), folder).string());
  return names;
}

TEST_CASE("a save refuses a path with a NUL or a control character and writes nothing",
          "[node][saver]") {
  fixture f;
  auto saver = f.saver();
  // What the kernel would take for the path ends at the NUL: allowed/x.
  const auto nul =
      (f.allowed / "x").string() + std::string(1, '\0') + (f.outside / "victim").string();
  const auto with_nul = saver->start(f.source->id, nlohmann::json{{"path", nul}}.dump());
  CHECK(with_nul.status == 400);
  CHECK_THAT(with_nul.body["error"].get<std::string>(), Contains("NUL byte at offset"));
  const auto with_newline = saver->start(f.source->id, body_for(f.allowed / "a\nb.bin"));
  CHECK(with_newline.status == 400);
  CHECK_THAT(with_newline.body["error"].get<std::string>(), Contains("control character 0x0a"));
  const auto with_escape = saver->start(f.source->id, body_for(f.allowed / "a\x1b[2Jb.bin"));
  CHECK(with_escape.status == 400);
  saver->stop();
  CHECK(files_below(f.allowed).empty());
  CHECK(files_below(f.outside).empty());
}

TEST_CASE("a save refuses paths outside its folders and never follows a link out",
          "[node][saver]") {
  fixture f;
  // An outside file that a link or a hard link inside the allowed folder names.
  const auto victim = f.outside / "victim.bin";
  write_all(victim, "keep me");
  std::filesystem::create_directory_symlink(f.outside, f.allowed / "link");
  std::filesystem::create_symlink(victim, f.allowed / "victim.bin");
  std::filesystem::create_symlink(f.outside / "new.bin", f.allowed / "dangling.bin");
  std::filesystem::create_hard_link(victim, f.allowed / "hard.bin");
  auto saver = f.saver();
  struct refusal {
    std::filesystem::path path;
    std::string reason;
  };
  const std::vector<refusal> refusals = {
      {f.allowed / ".." / "outside" / "escaped.bin", "no '..'"},
      {f.allowed / "sub" / ".." / ".." / "outside" / "escaped.bin", "no '..'"},
      {f.outside / "direct.bin", "outside the folders"},
      {f.folder.path / "downloads-not" / "x.bin", "outside the folders"},
      {f.allowed / "link" / "through.bin", "'link' is a symbolic link"},
      {f.allowed / "victim.bin", "'victim.bin' is a symbolic link"},
      {f.allowed / "dangling.bin", "'dangling.bin' is a symbolic link"},
      {f.allowed / "hard.bin", "hard links"},
  };
  for (const auto& [path, reason] : refusals) {
    INFO(path.string());
    const auto answer = saver->start(f.source->id, body_for(path));
    CHECK(answer.status == 403);
    CHECK_THAT(answer.body.value("error", std::string{}), Contains(reason));
  }
  saver->stop();
  CHECK(files_below(f.outside) == std::set<std::string>{"victim.bin"});
  CHECK(read_all(victim) == "keep me");
  CHECK_FALSE(std::filesystem::exists(f.folder.path / "downloads-not"));
}

TEST_CASE("a save writes below its folder however the folder's own path is spelt",
          "[node][saver]") {
  fixture f;
  // The configured spelling goes through a link (the owner's choice); `get` sends the
  // canonical one.
  const auto via = f.folder.path / "via";
  std::filesystem::create_directory_symlink(f.allowed, via);
  f.settings.folders = {via};
  auto saver = f.saver();
  std::filesystem::create_directories(f.allowed / "sub");
  const auto spelt = saved(*saver, f.source->id, via / "sub" / "one.bin");
  CHECK(spelt["state"] == "done");
  CHECK(read_all(f.allowed / "sub" / "one.bin") == f.source->bytes);
  const auto canonical =
      saved(*saver, f.source->id, std::filesystem::canonical(f.allowed) / "." / "two.bin");
  CHECK(canonical["state"] == "done");
  CHECK(read_all(f.allowed / "two.bin") == f.source->bytes);
  // No folder configured: nothing may be written.
  f.settings.folders = {};
  const auto none = f.saver()->start(f.source->id, body_for(f.allowed / "three.bin"));
  CHECK(none.status == 403);
  CHECK_THAT(none.body["error"].get<std::string>(), Contains("none are configured"));
}

TEST_CASE("a save whose source keeps failing fails and names the segment", "[node][saver]") {
  fixture f;
  f.settings.retry_pause = 1ms;
  f.settings.read_retries = 2;
  f.source->fail_from = f.source->manifest->segments[5].offset_bytes;
  auto saver = f.saver();
  const auto target = f.allowed / "broken.bin";
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
  const auto first = saver->start(f.source->id, body_for(f.allowed / "a.bin"));
  const auto second = saver->start(f.source->id, body_for(f.allowed / "b.bin"));
  REQUIRE(first.status == 202);
  REQUIRE(second.status == 202);
  const auto third = saver->start(f.source->id, body_for(f.allowed / "c.bin"));
  CHECK(third.status == 503);
  std::this_thread::sleep_for(1500ms); // unwatched: both give up (they look every 100 ms)
  const auto done = finished(*saver, f.source->id, first.body["save"].get<std::uint64_t>());
  CHECK(done["state"] == "failed");
  CHECK_THAT(done["error"].get<std::string>(), Contains("nobody asked after it"));
  CHECK(finished(*saver, f.source->id, second.body["save"].get<std::uint64_t>())["state"] == "failed");
  CHECK(saver->start(f.source->id, body_for(f.allowed / "c.bin")).status == 202);
  saver->stop(); // joins the running one
  CHECK(saver->start(f.source->id, body_for(f.allowed / "d.bin")).status == 503);
}
