#include "node/content_saver.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace stakecast::node {

namespace {

/// How often a waiting save looks whether it was cancelled.
constexpr std::chrono::milliseconds cancel_check{100};

api_response error_response(unsigned status, std::string message) {
  return {status, {{"error", std::move(message)}}};
}

std::string system_error_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

/// A descriptor closed when it goes out of scope.
class unique_fd {
public:
  explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }

  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_;
};

/// The names between the slashes of `path`, without the empty ones and ".".
std::vector<std::string> components_of(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& part : std::filesystem::path(path))
    if (const auto name = part.string(); !name.empty() && name != "/" && name != ".")
      names.push_back(name);
  return names;
}

bool starts_with(const std::vector<std::string>& names, const std::vector<std::string>& prefix) {
  return names.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), names.begin());
}

/// What is below the allowed folder a path names: which folder and the names under it.
struct below_folder {
  std::filesystem::path folder;
  std::vector<std::string> names;
};

/// The folder of `folders` that `names` lie below, as spelt in the settings or as the
/// folder's canonical path (what `get` sends when its own path to it goes through a
/// link).
std::optional<below_folder> locate(const std::vector<std::filesystem::path>& folders,
                                   const std::vector<std::string>& names) {
  for (const auto& folder : folders) {
    std::error_code ignored;
    for (const auto& spelling : {folder, std::filesystem::weakly_canonical(folder, ignored)}) {
      const auto prefix = components_of(spelling.string());
      if (!spelling.empty() && starts_with(names, prefix))
        return below_folder{
            folder, {names.begin() + static_cast<std::ptrdiff_t>(prefix.size()), names.end()}};
    }
  }
  return std::nullopt;
}

std::string folder_list(const std::vector<std::filesystem::path>& folders) {
  if (folders.empty())
    return "none are configured";
  std::string list;
  for (const auto& folder : folders)
    list += (list.empty() ? "" : ", ") + folder.string();
  return list;
}

/// Why opening `name` in `directory` failed: a symbolic link is named as one (the
/// kernel says ELOOP or ENOTDIR for it, depending on the flags).
std::string open_failure(int directory, const std::string& name, int error) {
  struct stat info {};
  if (::fstatat(directory, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode))
    return fmt::format("'{}' is a symbolic link, and a save follows none", name);
  return fmt::format("cannot open '{}': {}", name, system_error_text(error));
}

/// The file a save writes: its descriptor, or the status and reason of a refusal.
struct opened_file {
  unique_fd fd;
  unsigned status = 0;
  std::string error;
};

opened_file refused(unsigned status, const std::string& path, std::string why) {
  return {unique_fd{}, status, fmt::format("path '{}': {}", path, why)};
}

/// Opens (or creates) the regular file `path` names below one of `folders`, walking
/// from the folder one name at a time without following a link (content_saver.hpp).
opened_file open_below(const std::vector<std::filesystem::path>& folders, const std::string& path) {
  const auto names = components_of(path);
  if (std::find(names.begin(), names.end(), "..") != names.end())
    return refused(403, path, "a save takes no '..' in its path");
  const auto below = locate(folders, names);
  if (!below)
    return refused(403, path,
                   fmt::format("outside the folders a save may write into ({}; config key "
                               "downloads.folders)",
                               folder_list(folders)));
  unique_fd directory(::open(below->folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0)
    return refused(403, path,
                   fmt::format("cannot open the folder {}: {}", below->folder.string(),
                               system_error_text(errno)));
  for (std::size_t i = 0; i + 1 < below->names.size(); ++i) {
    const auto& name = below->names[i];
    unique_fd next(
        ::openat(directory.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0)
      return refused(403, path, open_failure(directory.get(), name, errno));
    directory = std::move(next);
  }
  assert(!below->names.empty()); // locate: the path is longer than its folder
  const auto& name = below->names.back();
  unique_fd file(::openat(directory.get(), name.c_str(),
                          O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644));
  if (file.get() < 0)
    return errno == EISDIR ? refused(400, path, "not a regular file")
                           : refused(403, path, open_failure(directory.get(), name, errno));
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode))
    return refused(400, path, "not a regular file");
  // Written into, the file would change under its other names too, which may be
  // outside the folder.
  if (info.st_nlink > 1)
    return refused(403, path, fmt::format("the file has {} hard links", info.st_nlink));
  return {std::move(file), 0, {}};
}

/// One content_source::read, waited for on the save's thread.
struct pending_read {
  std::mutex mutex;
  std::condition_variable arrived;
  std::optional<content_source::read_result> result;
};

} // namespace

struct content_saver::job {
  enum class phase { running, done, failed };

  job(std::uint64_t n, const core::content_id& c, std::string p, int descriptor)
      : number(n), content(c), path(std::move(p)), fd(descriptor) {}

  const std::uint64_t number;
  const core::content_id content;
  const std::string path;
  const int fd; // owned by the save's thread, which closes it
  std::atomic<bool> cancelled{false};
  std::thread thread;

  mutable std::mutex mutex;
  phase state = phase::running;
  std::uint64_t bytes = 0;
  std::uint64_t size_bytes = 0;
  std::uint32_t segments_written = 0;
  std::uint32_t segments = 0;
  std::uint32_t resumed_from = 0;
  std::string error;
  std::chrono::steady_clock::time_point watched = std::chrono::steady_clock::now();

  bool running() const {
    std::lock_guard lock(mutex);
    return state == phase::running;
  }

  nlohmann::json describe() const {
    std::lock_guard lock(mutex);
    static constexpr const char* names[] = {"running", "done", "failed"};
    nlohmann::json out = {{"save", number},
                          {"content", content.to_hex()},
                          {"path", path},
                          {"state", names[static_cast<int>(state)]},
                          {"bytes", bytes},
                          {"size_bytes", size_bytes},
                          {"segments_written", segments_written},
                          {"segments", segments},
                          {"resumed_from", resumed_from}};
    if (!error.empty())
      out["error"] = error;
    return out;
  }
};

struct content_saver::state {
  manifest_lookup manifests;
  std::shared_ptr<content_source> source;
  save_settings settings;

  std::mutex mutex;
  std::map<std::uint64_t, std::shared_ptr<job>> jobs;
  std::uint64_t next_number = 1;
  bool stopped = false;

  /// Why the save should stop now, or "" to go on.
  std::string stop_reason(job& j) const {
    if (j.cancelled)
      return "cancelled: the node is stopping";
    std::lock_guard lock(j.mutex);
    if (std::chrono::steady_clock::now() - j.watched > settings.unwatched)
      return fmt::format("cancelled: nobody asked after it for {} ms", settings.unwatched.count());
    return {};
  }

  /// Copies the segment from the source to its place in the file, asking again after
  /// a failed read; false with `why` set when the save must stop.
  bool copy_segment(job& j, const core::segment_entry& segment, std::uint32_t index, std::string& why) {
    std::uint64_t copied = 0;
    int failures = 0;
    while (copied < segment.size_bytes) {
      auto pending = std::make_shared<pending_read>();
      source->read(j.content, segment.offset_bytes + copied, segment.size_bytes - copied,
                   [pending](content_source::read_result result) {
                     std::lock_guard lock(pending->mutex);
                     pending->result = std::move(result);
                     pending->arrived.notify_all();
                   });
      const auto deadline = std::chrono::steady_clock::now() + settings.read_timeout;
      std::optional<content_source::read_result> result;
      while (!result) {
        if (why = stop_reason(j); !why.empty())
          return false;
        std::unique_lock lock(pending->mutex);
        pending->arrived.wait_for(lock, cancel_check, [&] { return pending->result.has_value(); });
        if (pending->result)
          result = std::move(pending->result);
        else if (std::chrono::steady_clock::now() > deadline)
          result = fmt::format("no bytes within {} ms", settings.read_timeout.count());
      }
      if (const auto* error = std::get_if<std::string>(&*result)) {
        if (++failures > settings.read_retries) {
          why = fmt::format("segment {}: {}", index, *error);
          return false;
        }
        std::this_thread::sleep_for(settings.retry_pause);
        continue;
      }
      const auto bytes = std::get<content_source::shared_bytes>(*result).view;
      if (bytes.empty() || bytes.size() > segment.size_bytes - copied) {
        why = fmt::format("segment {}: the source answered {} bytes for {} asked", index,
                          bytes.size(), segment.size_bytes - copied);
        return false;
      }
      if (why = write_at(j, bytes, segment.offset_bytes + copied); !why.empty())
        return false;
      copied += bytes.size();
      failures = 0;
      std::lock_guard lock(j.mutex);
      j.bytes += bytes.size();
    }
    return true;
  }

  /// The whole segments at the start of the file (of `size` bytes) that match the
  /// manifest: how many.
  static std::uint32_t kept_segments(const job& j, const core::manifest& m, std::uint64_t size) {
    core::byte_buffer bytes;
    std::uint32_t kept = 0;
    for (; kept < m.segments.size(); ++kept) {
      const auto& segment = m.segments[kept];
      if (segment.offset_bytes + segment.size_bytes > size || j.cancelled)
        break;
      bytes.resize(segment.size_bytes);
      std::size_t got = 0;
      while (got < bytes.size()) {
        const auto n = ::pread(j.fd, bytes.data() + got, bytes.size() - got,
                               static_cast<off_t>(segment.offset_bytes + got));
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0)
          return kept;
        got += static_cast<std::size_t>(n);
      }
      if (!core::matches_segment(m, kept, bytes))
        break;
    }
    return kept;
  }

  /// "" or why the write failed.
  static std::string write_at(const job& j, core::byte_span bytes, std::uint64_t offset) {
    for (std::size_t at = 0; at < bytes.size();) {
      const auto n = ::pwrite(j.fd, bytes.data() + at, std::min(file_write_bytes, bytes.size() - at),
                              static_cast<off_t>(offset + at));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return fmt::format("cannot write {}: {}", j.path,
                           n < 0 ? system_error_text(errno) : std::string("nothing written"));
      at += static_cast<std::size_t>(n);
    }
    return {};
  }

  void finish(job& j, std::string error) {
    ::close(j.fd);
    std::lock_guard lock(j.mutex);
    j.state = error.empty() ? job::phase::done : job::phase::failed;
    j.error = std::move(error);
  }

  void run(job& j) {
    const auto manifest = manifests(j.content);
    if (!manifest)
      return finish(j, fmt::format("no content {} here or on the chain", j.content.to_hex()));
    const auto& m = *manifest;
    struct stat info {};
    if (::fstat(j.fd, &info) != 0)
      return finish(j, fmt::format("cannot read {}: {}", j.path, system_error_text(errno)));
    const auto size = static_cast<std::uint64_t>(info.st_size);
    const std::uint32_t from = kept_segments(j, m, size);
    const std::uint64_t start = from < m.segments.size() ? m.segments[from].offset_bytes : m.content_bytes;
    // Not on a file already that long (a new one): ext4 takes a truncation to 0 as a
    // file being replaced and writes all of it back when it is closed, which held the
    // save's end up by 0.1-0.2 s per 256 MiB.
    if (size != start && ::ftruncate(j.fd, static_cast<off_t>(start)) != 0)
      return finish(j, fmt::format("cannot cut {} to {} bytes: {}", j.path, start, system_error_text(errno)));
    {
      std::lock_guard lock(j.mutex);
      j.size_bytes = m.content_bytes;
      j.segments = static_cast<std::uint32_t>(m.segments.size());
      j.resumed_from = from;
      j.segments_written = from;
      j.bytes = start;
    }
    for (std::uint32_t i = from; i < m.segments.size(); ++i) {
      std::string why;
      if (!copy_segment(j, m.segments[i], i, why))
        return finish(j, std::move(why));
      std::lock_guard lock(j.mutex);
      j.segments_written = i + 1;
    }
    finish(j, {});
  }

  /// Past `finished_kept` finished saves, takes the oldest out (their threads are
  /// joined by the caller, outside the lock).
  std::vector<std::shared_ptr<job>> prune() {
    std::vector<std::shared_ptr<job>> finished;
    for (const auto& [number, j] : jobs)
      if (!j->running())
        finished.push_back(j);
    std::vector<std::shared_ptr<job>> dropped;
    for (std::size_t i = 0; finished.size() - i > settings.finished_kept; ++i) {
      jobs.erase(finished[i]->number);
      dropped.push_back(finished[i]);
    }
    return dropped;
  }
};

content_saver::content_saver(manifest_lookup manifests, std::shared_ptr<content_source> source,
                             save_settings settings)
    : state_(std::make_shared<state>()) {
  state_->manifests = std::move(manifests);
  state_->source = std::move(source);
  state_->settings = settings;
}

content_saver::~content_saver() {
  stop();
}

std::string path_characters_problem(std::string_view path) {
  for (std::size_t at = 0; at < path.size(); ++at) {
    const auto c = static_cast<unsigned char>(path[at]);
    if (c == 0)
      return fmt::format("the path holds a NUL byte at offset {}", at);
    if (c < 0x20 || c == 0x7f)
      return fmt::format("the path holds the control character 0x{:02x} at offset {}", c, at);
  }
  return {};
}

api_response content_saver::start(const core::content_id& content, const std::string& request_body) {
  const auto body = nlohmann::json::parse(request_body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("path") || !body["path"].is_string())
    return error_response(400, "expected a JSON object {\"path\": \"/absolute/path\"}");
  const auto path = body["path"].get<std::string>();
  // Checked before anything else looks at the path, or prints it.
  if (auto problem = path_characters_problem(path); !problem.empty())
    return error_response(400, std::move(problem));
  if (!std::filesystem::path(path).is_absolute())
    return error_response(400, fmt::format("path '{}': not absolute", path));
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped)
      return error_response(503, "the node is stopping");
    const auto running = std::count_if(state_->jobs.begin(), state_->jobs.end(),
                                       [](const auto& entry) { return entry.second->running(); });
    if (static_cast<std::size_t>(running) >= state_->settings.saves_max)
      return error_response(503, fmt::format("{} saves are running; try again later", running));
  }
  auto opened = open_below(state_->settings.folders, path);
  if (opened.fd.get() < 0)
    return error_response(opened.status, std::move(opened.error));
  std::shared_ptr<job> added;
  std::vector<std::shared_ptr<job>> dropped;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped)
      return error_response(503, "the node is stopping");
    added = std::make_shared<job>(state_->next_number++, content, path, opened.fd.release());
    state_->jobs.emplace(added->number, added);
    added->thread = std::thread([st = state_, j = added.get()] { st->run(*j); });
    dropped = state_->prune();
  }
  for (auto& j : dropped)
    j->thread.join();
  return {202, added->describe()};
}

api_response content_saver::status(const core::content_id& content, std::uint64_t save) {
  std::shared_ptr<job> found;
  {
    std::lock_guard lock(state_->mutex);
    if (const auto it = state_->jobs.find(save); it != state_->jobs.end() && it->second->content == content)
      found = it->second;
  }
  if (!found)
    return error_response(404, fmt::format("no save {} of content {}", save, content.to_hex()));
  {
    std::lock_guard lock(found->mutex);
    found->watched = std::chrono::steady_clock::now();
  }
  return {200, found->describe()};
}

void content_saver::stop() {
  std::map<std::uint64_t, std::shared_ptr<job>> ending;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    ending.swap(state_->jobs);
  }
  for (auto& [number, j] : ending)
    j->cancelled = true;
  for (auto& [number, j] : ending)
    if (j->thread.joinable())
      j->thread.join();
}

} // namespace stakecast::node
