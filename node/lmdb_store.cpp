#include "node/lmdb_store.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <set>
#include <shared_mutex>
#include <system_error>

#include <fmt/format.h>
#include <lmdb.h>
#include <spdlog/spdlog.h>

#include "actors/core/error.hpp"

namespace stakecast::node {

namespace {

using txn_ptr = std::unique_ptr<MDB_txn, decltype(&mdb_txn_abort)>;
using cursor_ptr = std::unique_ptr<MDB_cursor, decltype(&mdb_cursor_close)>;

/// Growth attempts of one write: the map at least doubles each time, so 64 reach
/// any size an address space holds.
constexpr int write_attempts_max = 64;
/// Read attempts: a second one after adopting a map another process grew.
constexpr int read_attempts_max = 2;
constexpr mdb_mode_t file_mode = 0600;

MDB_val as_val(std::string_view text) {
  return {text.size(), const_cast<char*>(text.data())};
}

MDB_val as_val(const core::byte_buffer& bytes) {
  return {bytes.size(), const_cast<std::uint8_t*>(bytes.data())};
}

std::string_view as_string(const MDB_val& value) {
  return {static_cast<const char*>(value.mv_data), value.mv_size};
}

core::byte_span as_span(const MDB_val& value) {
  return {static_cast<const std::uint8_t*>(value.mv_data), value.mv_size};
}

/// "name/" of `key`'s database, or empty when the key has none.
std::string_view database_of(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 ||
      key.substr(0, slash).find('\0') != std::string_view::npos)
    return {};
  return key.substr(0, slash + 1);
}

std::string shown(std::string_view key) {
  constexpr std::size_t shown_max = 80;
  return key.size() <= shown_max ? fmt::format("'{}'", key)
                                 : fmt::format("'{}...'", key.substr(0, shown_max));
}

/// Pages a batch may take, counted high: each value's own pages (with its node
/// header) and, per key, the leaf and branch pages a write copies on its path.
std::uint64_t pages_needed(const world::store::write_batch& batch, std::uint64_t page_bytes) {
  constexpr std::uint64_t node_header_bytes = 16;
  constexpr std::uint64_t path_pages_per_key = 4;
  std::uint64_t pages = 0;
  for (const auto& operation : batch.operations) {
    const std::uint64_t bytes =
        operation.key.size() + (operation.value ? operation.value->size() : 0) + node_header_bytes;
    pages += (bytes + page_bytes - 1) / page_bytes + path_pages_per_key;
  }
  return pages;
}

/// The registry of directories this process has open, so none is opened twice.
struct open_directories {
  std::mutex mutex;
  std::set<std::filesystem::path> paths;

  static open_directories& instance() {
    static open_directories registry;
    return registry;
  }
  bool add(const std::filesystem::path& path) {
    std::lock_guard lock(mutex);
    return paths.insert(path).second;
  }
  void remove(const std::filesystem::path& path) {
    std::lock_guard lock(mutex);
    paths.erase(path);
  }
};

caf::error open_error(const std::filesystem::path& directory, int code) {
  const auto text = fmt::format("LMDB store in {}: {}", directory.string(), mdb_strerror(code));
  switch (code) {
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
      return make_error(lmdb_errc::corrupted, text);
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOTDIR:
      return make_error(lmdb_errc::unusable_directory, text);
    default:
      return make_error(lmdb_errc::failure, text);
  }
}

caf::error check(const lmdb_options& options) {
  if (options.map_size_initial_bytes == 0 ||
      options.map_size_initial_bytes > options.map_size_max_bytes)
    return make_error(lmdb_errc::bad_options,
                      fmt::format("map_size_initial_bytes {} must be in 1..map_size_max_bytes ({})",
                                  options.map_size_initial_bytes, options.map_size_max_bytes));
  if (options.map_growth_factor < 2)
    return make_error(lmdb_errc::bad_options, fmt::format("map_growth_factor {} must be at least 2",
                                                          options.map_growth_factor));
  if (options.reserved_bytes >= options.map_size_max_bytes / 2)
    return make_error(lmdb_errc::bad_options,
                      fmt::format("reserved_bytes {} must be below half of map_size_max_bytes ({})",
                                  options.reserved_bytes, options.map_size_max_bytes));
  if (options.databases_max == 0 || options.databases_max > lmdb_options::databases_limit)
    return make_error(lmdb_errc::bad_options,
                      fmt::format("databases_max {} must be in 1..{}", options.databases_max,
                                  lmdb_options::databases_limit));
  if (options.readers_max == 0 || options.readers_max > lmdb_options::readers_limit)
    return make_error(lmdb_errc::bad_options,
                      fmt::format("readers_max {} must be in 1..{}", options.readers_max,
                                  lmdb_options::readers_limit));
  return {};
}

} // namespace

writer_preferring_mutex::writer_preferring_mutex() {
  pthread_rwlockattr_t attributes;
  pthread_rwlockattr_init(&attributes);
  pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  [[maybe_unused]] const int failed = pthread_rwlock_init(&lock_, &attributes);
  assert(failed == 0);
  pthread_rwlockattr_destroy(&attributes);
}

writer_preferring_mutex::~writer_preferring_mutex() {
  pthread_rwlock_destroy(&lock_);
}

// Failures of these are programmer errors (a lock not held, a deadlock): asserted.
void writer_preferring_mutex::lock() {
  [[maybe_unused]] const int failed = pthread_rwlock_wrlock(&lock_);
  assert(failed == 0);
}

void writer_preferring_mutex::unlock() {
  pthread_rwlock_unlock(&lock_);
}

void writer_preferring_mutex::lock_shared() {
  [[maybe_unused]] const int failed = pthread_rwlock_rdlock(&lock_);
  assert(failed == 0);
}

void writer_preferring_mutex::unlock_shared() {
  pthread_rwlock_unlock(&lock_);
}

std::string_view to_string(lmdb_errc code) noexcept {
  switch (code) {
    case lmdb_errc::bad_options:
      return "bad_options";
    case lmdb_errc::unusable_directory:
      return "unusable_directory";
    case lmdb_errc::corrupted:
      return "corrupted";
    case lmdb_errc::already_open:
      return "already_open";
    case lmdb_errc::failure:
      return "failure";
  }
  return "unknown";
}

caf::error make_error(lmdb_errc code, std::string_view detail) {
  return core::make_domain_error(caf::atom("lmdb"), static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

caf::expected<std::unique_ptr<lmdb_store>> lmdb_store::open(const std::filesystem::path& directory,
                                                            const lmdb_options& options) {
  if (auto error = check(options))
    return error;
  std::error_code failure;
  if (std::filesystem::exists(directory, failure) &&
      !std::filesystem::is_directory(directory, failure))
    failure = std::make_error_code(std::errc::not_a_directory);
  else if (!failure)
    std::filesystem::create_directories(directory, failure);
  const auto path = failure ? directory : std::filesystem::canonical(directory, failure);
  if (failure)
    return make_error(lmdb_errc::unusable_directory,
                      fmt::format("LMDB store in {}: {}", directory.string(), failure.message()));
  if (!open_directories::instance().add(path))
    return make_error(lmdb_errc::already_open,
                      fmt::format("LMDB store in {}: already open in this process", path.string()));

  MDB_env* env = nullptr;
  int code = mdb_env_create(&env);
  if (code == 0)
    code = mdb_env_set_maxdbs(env, options.databases_max);
  if (code == 0)
    code = mdb_env_set_maxreaders(env, options.readers_max);
  if (code == 0)
    code = mdb_env_set_mapsize(env, options.map_size_initial_bytes);
  if (code == 0)
    code = mdb_env_open(env, path.c_str(), MDB_NOTLS, file_mode);
  if (code != 0) {
    if (env != nullptr)
      mdb_env_close(env);
    open_directories::instance().remove(path);
    return open_error(path, code);
  }
  int stale_readers = 0;
  mdb_reader_check(env, &stale_readers); // slots of readers that died with their process
  std::unique_ptr<lmdb_store> store{new lmdb_store(env, path, options)};
  if (auto error = store->load_databases())
    return error;
  return store;
}

lmdb_store::lmdb_store(MDB_env* env, std::filesystem::path directory, const lmdb_options& options)
    : env_(env), directory_(std::move(directory)), options_(options),
      key_size_max_bytes_(static_cast<std::size_t>(mdb_env_get_maxkeysize(env))),
      reader_slots_(options.readers_max) {
}

lmdb_store::~lmdb_store() {
  mdb_env_close(env_);
  open_directories::instance().remove(directory_);
}

caf::error lmdb_store::load_databases() {
  // Handles are opened once, here, in a transaction that commits before any other
  // starts (LMDB's rule for sharing them); later ones only in a write transaction.
  MDB_txn* raw = nullptr;
  if (int code = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &raw))
    return open_error(directory_, code);
  txn_ptr txn{raw, &mdb_txn_abort};
  MDB_dbi main = 0;
  MDB_cursor* raw_cursor = nullptr;
  int code = mdb_dbi_open(txn.get(), nullptr, 0, &main);
  if (code == 0)
    code = mdb_cursor_open(txn.get(), main, &raw_cursor);
  if (code != 0)
    return open_error(directory_, code);
  cursor_ptr cursor{raw_cursor, &mdb_cursor_close};
  MDB_val key, value;
  for (code = mdb_cursor_get(cursor.get(), &key, &value, MDB_FIRST); code == 0;
       code = mdb_cursor_get(cursor.get(), &key, &value, MDB_NEXT)) {
    const std::string name{as_string(key)};
    MDB_dbi handle = 0;
    if (database_of(name + "/") != name + "/")
      return make_error(
          lmdb_errc::corrupted,
          fmt::format("LMDB store in {}: the main database holds {}, not a database name",
                      directory_.string(), shown(name)));
    if (int opened = mdb_dbi_open(txn.get(), name.c_str(), 0, &handle))
      return open_error(directory_, opened);
    databases_.emplace(name + "/", handle);
  }
  if (code != MDB_NOTFOUND)
    return open_error(directory_, code);
  cursor.reset();
  if (int committed = mdb_txn_commit(txn.release()))
    return open_error(directory_, committed);
  return {};
}

int lmdb_store::read(const std::function<int(MDB_txn*)>& body) const {
  reader_slots_.acquire();
  struct release_slot {
    std::counting_semaphore<lmdb_options::readers_limit>& slots;
    ~release_slot() { slots.release(); }
  } slot{reader_slots_};
  for (int attempt = 0; attempt < read_attempts_max; ++attempt) {
    std::shared_lock lock(env_mutex_);
    MDB_txn* raw = nullptr;
    const int code = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &raw);
    if (code == MDB_MAP_RESIZED) {
      lock.unlock();
      adopt_map_size();
      continue;
    }
    if (code != 0)
      return code;
    txn_ptr txn{raw, &mdb_txn_abort};
    return body(txn.get());
  }
  return MDB_MAP_RESIZED;
}

void lmdb_store::adopt_map_size() const {
  std::unique_lock lock(env_mutex_);
  mdb_env_set_mapsize(env_, 0);
}

void lmdb_store::note_read_error(std::string_view what, int code) const {
  read_errors_.fetch_add(1, std::memory_order_relaxed);
  spdlog::error("LMDB store in {}: {} failed: {}", directory_.string(), what, mdb_strerror(code));
}

std::optional<core::byte_buffer> lmdb_store::get(std::string_view key) const {
  const auto database = database_of(key);
  if (database.empty() || key.size() > key_size_max_bytes_)
    return std::nullopt;
  std::optional<core::byte_buffer> result;
  const int code = read([&](MDB_txn* txn) {
    const auto handle = databases_.find(database);
    if (handle == databases_.end())
      return 0;
    MDB_val k = as_val(key), value;
    const int found = mdb_get(txn, handle->second, &k, &value);
    if (found == 0)
      result.emplace(as_span(value).begin(), as_span(value).end());
    return found == MDB_NOTFOUND ? 0 : found;
  });
  if (code != 0)
    note_read_error(fmt::format("get {}", shown(key)), code);
  return result;
}

void lmdb_store::scan_prefix(std::string_view prefix, const scan_visitor& visit) const {
  if (prefix.size() > key_size_max_bytes_)
    return; // no key is that long
  const auto slash = prefix.find('/');
  const auto databases = slash == std::string_view::npos ? prefix : prefix.substr(0, slash + 1);
  const int failed = read([&](MDB_txn* txn) {
    for (auto it = databases_.lower_bound(databases);
         it != databases_.end() && it->first.starts_with(databases); ++it) {
      MDB_cursor* raw = nullptr;
      if (int opened = mdb_cursor_open(txn, it->second, &raw))
        return opened;
      cursor_ptr cursor{raw, &mdb_cursor_close};
      MDB_val key = as_val(prefix), value;
      int step =
          mdb_cursor_get(cursor.get(), &key, &value, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
      for (; step == 0; step = mdb_cursor_get(cursor.get(), &key, &value, MDB_NEXT)) {
        if (!as_string(key).starts_with(prefix))
          break;
        if (!visit(as_string(key), as_span(value)))
          return 0;
      }
      if (step != 0 && step != MDB_NOTFOUND)
        return step;
    }
    return 0;
  });
  if (failed != 0)
    note_read_error(fmt::format("scan of {}", shown(prefix)), failed);
}

std::string lmdb_store::write(const write_batch& batch) {
  if (batch.operations.empty())
    return {};
  std::set<std::string_view> created;
  std::lock_guard write_lock(write_mutex_);
  for (const auto& operation : batch.operations) {
    const auto database = database_of(operation.key);
    if (database.empty())
      return fmt::format("key {} names no database: keys are '<database>/<rest>' with a "
                         "non-empty database name; nothing of the batch was written",
                         shown(operation.key));
    if (operation.key.size() > key_size_max_bytes_)
      return fmt::format("key {} is {} bytes, more than the limit of {}; nothing of the batch "
                         "was written",
                         shown(operation.key), operation.key.size(), key_size_max_bytes_);
    if (!databases_.contains(database))
      created.insert(database);
  }
  if (databases_.size() + created.size() > options_.databases_max)
    return fmt::format("too many databases: the batch needs {} more than the {} held, the limit "
                       "is {}; nothing of the batch was written",
                       created.size(), databases_.size(), options_.databases_max);
  if (auto problem = check_room(batch); !problem.empty())
    return refuse(std::move(problem));
  for (int attempt = 0; attempt < write_attempts_max; ++attempt) {
    const int code = try_write(batch, !created.empty());
    if (code == 0) {
      if (refusing_ && !uses_reserve(batch)) {
        spdlog::info("LMDB store in {}: writes fit again", directory_.string());
        refusing_ = false;
      }
      return {};
    }
    if (code == MDB_MAP_RESIZED) {
      adopt_map_size();
      continue;
    }
    if (code == MDB_MAP_FULL && grow_map())
      continue;
    if (code == MDB_MAP_FULL)
      return refuse(fmt::format("store full: map size limit of {} bytes reached in {}; nothing "
                                "of the batch was written",
                                options_.map_size_max_bytes, directory_.string()));
    return fmt::format("store write failed in {}: {}{}; nothing of the batch was written",
                       directory_.string(), mdb_strerror(code),
                       code == MDB_PANIC ? " (the store must be reopened)" : "");
  }
  return fmt::format("store write failed in {}: no room after {} map resizes", directory_.string(),
                     write_attempts_max);
}

bool lmdb_store::uses_reserve(const write_batch& batch) const {
  const std::string reserve = options_.reserve_database + "/";
  return std::all_of(batch.operations.begin(), batch.operations.end(), [&](const auto& operation) {
    return !operation.value || database_of(operation.key) == reserve;
  });
}

std::string lmdb_store::check_room(const write_batch& batch) {
  if (options_.reserved_bytes == 0)
    return {};
  if (uses_reserve(batch))
    return {};
  std::string problem;
  const int failed = read([&](MDB_txn* txn) {
    MDB_envinfo info{};
    MDB_stat main{};
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &main);
    const std::uint64_t page_bytes = main.ms_psize;
    const std::uint64_t pages_max = options_.map_size_max_bytes / page_bytes;
    const std::uint64_t pages_kept = options_.reserved_bytes / page_bytes;
    const std::uint64_t needed = pages_needed(batch, page_bytes);
    std::uint64_t occupied = info.me_last_pgno + 1;
    if (occupied + needed + pages_kept <= pages_max)
      return 0; // fits even if no free page is reused: the free list need not be read
    occupied -= std::min(occupied, free_pages(txn));
    if (occupied + needed + pages_kept <= pages_max)
      return 0;
    const std::uint64_t room = pages_max > occupied ? (pages_max - occupied) * page_bytes : 0;
    const auto database = database_of(batch.operations.front().key);
    problem = fmt::format(
        "store full for {}: the batch needs about {} bytes and {} are free in {} (map size "
        "limit {}), of which the last {} are kept for the {}; nothing of the batch was written",
        database.substr(0, database.size() - 1), needed * page_bytes, room, directory_.string(),
        options_.map_size_max_bytes, options_.reserved_bytes, options_.reserve_database);
    return 0;
  });
  if (failed != 0)
    return fmt::format("store write failed in {}: cannot read how full it is: {}; nothing of the "
                       "batch was written",
                       directory_.string(), mdb_strerror(failed));
  return problem;
}

std::uint64_t lmdb_store::free_pages(MDB_txn* txn) {
  // The free list (database 0) maps a transaction id to the pages it freed: a list of
  // page numbers whose first element is their count (mdb_stat -f reads it the same way).
  // The last commit's pages are not counted: the previous meta page still points at
  // them, so LMDB reuses them only after one more commit.
  MDB_envinfo info{};
  mdb_env_info(mdb_txn_env(txn), &info);
  MDB_cursor* raw = nullptr;
  if (mdb_cursor_open(txn, 0, &raw) != 0)
    return 0;
  cursor_ptr cursor{raw, &mdb_cursor_close};
  std::uint64_t pages = 0;
  MDB_val key{}, value{};
  for (int code = mdb_cursor_get(raw, &key, &value, MDB_FIRST); code == 0;
       code = mdb_cursor_get(raw, &key, &value, MDB_NEXT))
    if (key.mv_size == sizeof(std::size_t) && value.mv_size >= sizeof(std::size_t) &&
        *static_cast<const std::size_t*>(key.mv_data) < info.me_last_txnid)
      pages += *static_cast<const std::size_t*>(value.mv_data);
  return pages;
}

std::string lmdb_store::refuse(std::string why) {
  refused_full_.fetch_add(1, std::memory_order_relaxed);
  if (!refusing_)
    spdlog::error("{}", why);
  refusing_ = true;
  std::lock_guard lock(refusal_mutex_);
  last_refusal_ = why;
  last_refusal_at_ = std::chrono::steady_clock::now();
  return why;
}

int lmdb_store::try_write(const write_batch& batch, bool creates_databases) {
  // A handle a transaction opens is its own until it commits, and readers must not
  // see a batch without its new databases: such a (rare) batch commits under the
  // exclusive lock and publishes its handles before any reader starts.
  std::shared_lock shared(env_mutex_, std::defer_lock);
  std::unique_lock exclusive(env_mutex_, std::defer_lock);
  creates_databases ? exclusive.lock() : shared.lock();
  MDB_txn* raw = nullptr;
  if (int code = mdb_txn_begin(env_, nullptr, 0, &raw))
    return code;
  txn_ptr txn{raw, &mdb_txn_abort};
  std::map<std::string, MDB_dbi, std::less<>> opened;
  for (const auto& operation : batch.operations) {
    const auto database = database_of(operation.key);
    auto handle = databases_.find(database);
    if (handle == databases_.end()) {
      handle = opened.find(database);
      if (handle == opened.end()) {
        MDB_dbi created = 0;
        const std::string name{database.substr(0, database.size() - 1)};
        if (int code = mdb_dbi_open(txn.get(), name.c_str(), MDB_CREATE, &created))
          return code;
        handle = opened.emplace(std::string{database}, created).first;
      }
    }
    MDB_val key = as_val(operation.key);
    int code = 0;
    if (operation.value) {
      MDB_val value = as_val(*operation.value);
      code = mdb_put(txn.get(), handle->second, &key, &value, 0);
    } else if ((code = mdb_del(txn.get(), handle->second, &key, nullptr)) == MDB_NOTFOUND) {
      code = 0;
    }
    if (code != 0)
      return code; // the transaction aborts: nothing of the batch stays
  }
  if (int code = mdb_txn_commit(txn.release())) // frees the transaction, even on failure
    return code;
  assert(opened.empty() || creates_databases);
  databases_.merge(opened);
  return 0;
}

bool lmdb_store::grow_map() {
  std::unique_lock lock(env_mutex_);
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  const std::uint64_t current = info.me_mapsize;
  if (current >= options_.map_size_max_bytes)
    return false;
  const std::uint64_t grown = current > options_.map_size_max_bytes / options_.map_growth_factor
                                  ? options_.map_size_max_bytes
                                  : current * options_.map_growth_factor;
  if (int code = mdb_env_set_mapsize(env_, grown)) {
    spdlog::error("LMDB store in {}: growing the map to {} bytes failed: {}", directory_.string(),
                  grown, mdb_strerror(code));
    return false;
  }
  spdlog::info("LMDB store in {}: map grown from {} to {} bytes", directory_.string(), current,
               grown);
  return true;
}

lmdb_stats lmdb_store::stats() const {
  lmdb_stats result;
  result.map_size_max_bytes = options_.map_size_max_bytes;
  const int failed = read([&](MDB_txn* txn) {
    MDB_envinfo info{};
    MDB_stat main{};
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &main);
    result.map_size_bytes = info.me_mapsize;
    result.page_size_bytes = main.ms_psize;
    result.pages_used = info.me_last_pgno + 1;
    result.used_bytes = result.pages_used * result.page_size_bytes;
    result.pages_free = std::min(result.pages_used, free_pages(txn));
    const std::uint64_t occupied_bytes =
        (result.pages_used - result.pages_free) * result.page_size_bytes;
    result.room_bytes = options_.map_size_max_bytes > occupied_bytes
                            ? options_.map_size_max_bytes - occupied_bytes
                            : 0;
    result.reader_slots_used = info.me_numreaders;
    result.readers_max = info.me_maxreaders;
    for (const auto& [name, handle] : databases_) {
      MDB_stat stat{};
      if (int code = mdb_stat(txn, handle, &stat))
        return code;
      result.databases.push_back(
          {name.substr(0, name.size() - 1), stat.ms_entries,
           stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages});
    }
    return 0;
  });
  if (failed != 0)
    note_read_error("stats", failed);
  result.read_errors = read_errors_.load(std::memory_order_relaxed);
  result.reserved_bytes = options_.reserved_bytes;
  result.refused_full = refused_full_.load(std::memory_order_relaxed);
  std::lock_guard lock(refusal_mutex_);
  result.last_refusal = last_refusal_;
  result.last_refusal_at = last_refusal_at_;
  return result;
}

} // namespace stakecast::node
