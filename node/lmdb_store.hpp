// The real node's store: a `world::store` on an LMDB environment in one directory
// (data.mdb, lock.mdb). Everything the node keeps goes through it: contents
// (`content/...`), the chain (`chain/...`), receipts, state.
//
// Layout: a key's first component, up to its first '/', names an LMDB named database
// ("content", "chain", ...), created on the first write to it, at most
// `lmdb_options::databases_max` of them. Keys are stored whole (component included)
// in their database, so a visited key is LMDB's own bytes. A key without a '/', with
// an empty component or a NUL in it, or longer than LMDB's key limit (511 bytes) is
// refused by `write` and absent for `get`.
//
// Order: within a database LMDB sorts bytewise (memcmp, shorter first), as
// world::store requires. Every key of database D starts with "D/", and since a
// component holds no '/', no "D/" is a prefix of another "E/": the databases' key
// ranges are disjoint and ordered as the strings "D/". A scan therefore walks the
// databases in the order of "D/" and each one in LMDB's order; a prefix without a '/'
// (the empty prefix included) spans every database whose name starts with it, a
// prefix with a '/' lies in one database.
//
// Durability: LMDB's default flags (no MDB_NOSYNC, MDB_NOMETASYNC, MDB_WRITEMAP):
// a commit writes the data pages, fdatasyncs them, then writes the meta page through
// an O_DSYNC handle, and only then does `write` return success. Pages are copied on
// write, so the last committed state survives kill -9 and power loss (given a disk
// that honours flushes). A failed commit (full disk, file size limit, I/O error)
// leaves the previous state as it was.
//
// Map size: LMDB maps the data file up to a fixed size. `write` starts with
// `map_size_initial_bytes`; when a batch does not fit it aborts, multiplies the map by
// `map_growth_factor` (at most `map_size_max_bytes`) and tries again. Growing the map
// needs every transaction of this process to be finished, so transactions hold a
// shared lock and the resize an exclusive one (writer-preferring, so reads cannot
// starve it).
//
// Reserve: the last `reserved_bytes` of the map are kept for batches that write the
// `reserve_database` only ("chain": the node's chain must go on committing when its
// contents fill the store), or that only delete. Another batch is refused ("store full
// for content: ...") when the pages it needs, estimated from its keys and values, would
// cut into the reserve. Occupancy is the committed state's pages less the free ones
// LMDB will reuse (its free list, read only when the estimate comes near the limit).
// The estimate counts each value's own pages and a few per key for the copied path of
// the tree: close for the node's large segments, and the reserve absorbs the rest.
//
// Concurrency: `get`, `scan_prefix` (through `for_each_prefix`), `write` and `stats`
// may be called from any number of threads at once. Reads run in parallel (LMDB read
// transactions with MDB_NOTLS, so a transaction is not tied to its thread, at most
// `readers_max` at once: more wait for a slot); writes are serialized. A scan's
// visitor runs inside a read transaction: REQUIRES: it does not call back into the
// store (its shared lock is not recursive: with a writer waiting, that deadlocks), and
// the key and value it sees are valid only during the call.
//
// One process opens a directory once (LMDB's locks break if a process opens the same
// environment twice); a second `open` of it in the same process is an error.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/world/world.hpp"

struct MDB_env;
struct MDB_txn;

namespace stakecast::node {

inline constexpr std::uint64_t mebibyte_bytes = std::uint64_t{1} << 20;
inline constexpr std::uint64_t gibibyte_bytes = std::uint64_t{1} << 30;

struct lmdb_options {
  /// The map at open; an environment that already holds more opens with its size.
  std::uint64_t map_size_initial_bytes = 64 * mebibyte_bytes;
  /// The map never grows past this: a batch that needs more is refused ("store full").
  /// The map is address space, not disk: the file grows only as data is written.
  std::uint64_t map_size_max_bytes = 64 * gibibyte_bytes;
  /// Each growth multiplies the map by this, at least 2.
  std::uint32_t map_growth_factor = 2;
  /// The map's last bytes kept for `reserve_database` (see the file comment); below
  /// half of map_size_max_bytes. 0: no reserve.
  std::uint64_t reserved_bytes = 0;
  std::string reserve_database = "chain";
  /// Named databases (distinct first key components), 1 to databases_limit.
  std::uint32_t databases_max = 16;
  /// Read transactions at once, 1 to readers_limit; further readers wait for a slot.
  std::uint32_t readers_max = 126;

  /// LMDB scans every handle when a transaction starts: keep the count small.
  static constexpr std::uint32_t databases_limit = 256;
  static constexpr std::uint32_t readers_limit = 4096;
};

enum class lmdb_errc : std::uint8_t {
  /// An lmdb_options value out of its range.
  bad_options = 1,
  /// The directory cannot be created or used (not a directory, permission denied).
  unusable_directory,
  /// data.mdb or lock.mdb is not an LMDB environment this library can read (garbage,
  /// truncated, another LMDB version, a database that is not ours).
  corrupted,
  /// This process already has the directory open.
  already_open,
  /// Any other failure LMDB reports.
  failure,
};

std::string_view to_string(lmdb_errc code) noexcept;
caf::error make_error(lmdb_errc code, std::string_view detail);

struct lmdb_database_stats {
  std::string name;
  std::uint64_t entries = 0;
  /// Branch, leaf and overflow pages.
  std::uint64_t pages = 0;
};

struct lmdb_stats {
  std::uint64_t map_size_bytes = 0;
  std::uint64_t map_size_max_bytes = 0;
  std::uint64_t page_size_bytes = 0;
  /// Pages of the data file in use (free pages included: LMDB reuses them).
  std::uint64_t pages_used = 0;
  std::uint64_t used_bytes = 0;
  /// Of `pages_used`, pages on LMDB's free list (reused by later writes).
  std::uint64_t pages_free = 0;
  /// map_size_max_bytes less the pages in use and not free: what writes may still
  /// fill, the reserve included.
  std::uint64_t room_bytes = 0;
  std::uint64_t reserved_bytes = 0;
  /// Batches refused because the map (or the room outside the reserve) was full, and
  /// the last refusal: why, and when (steady clock; 0 when none).
  std::uint64_t refused_full = 0;
  std::string last_refusal;
  std::chrono::steady_clock::time_point last_refusal_at{};
  /// The most reader slots ever taken at once (in every process), of readers_max.
  std::uint32_t reader_slots_used = 0;
  std::uint32_t readers_max = 0;
  /// Reads that failed (a damaged page); `get` reported the key as absent.
  std::uint64_t read_errors = 0;
  /// In key order.
  std::vector<lmdb_database_stats> databases;
};

/// A shared mutex under which no new reader starts while a writer waits (glibc's
/// writer-preferring rwlock). std::shared_mutex lets readers in ahead of a waiting
/// writer, so steady reads would starve a map resize for as long as they last.
class writer_preferring_mutex {
public:
  writer_preferring_mutex();
  ~writer_preferring_mutex();
  writer_preferring_mutex(const writer_preferring_mutex&) = delete;
  writer_preferring_mutex& operator=(const writer_preferring_mutex&) = delete;
  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

private:
  pthread_rwlock_t lock_;
};

class lmdb_store final : public world::store {
public:
  /// Opens (creating it and the directory if missing) the environment in `directory`.
  /// The error names the directory and what is wrong with it.
  static caf::expected<std::unique_ptr<lmdb_store>> open(const std::filesystem::path& directory,
                                                         const lmdb_options& options = {});

  /// REQUIRES: no call on the store is running.
  ~lmdb_store() override;
  lmdb_store(const lmdb_store&) = delete;
  lmdb_store& operator=(const lmdb_store&) = delete;

  /// A copy of the value, or nullopt when the key is absent or invalid (or its page
  /// is damaged: counted in `stats().read_errors` and logged).
  std::optional<core::byte_buffer> get(std::string_view key) const override;
  /// One transaction: all of `batch` or nothing of it. Returns an empty string once
  /// the batch is durable, else what went wrong, naming the key, the limit or the
  /// system error ("store full: map size limit of N bytes reached", a full disk).
  std::string write(const write_batch& batch) override;
  lmdb_stats stats() const;
  const std::filesystem::path& directory() const noexcept { return directory_; }

protected:
  void scan_prefix(std::string_view prefix, const scan_visitor& visit) const override;

private:
  lmdb_store(MDB_env* env, std::filesystem::path directory, const lmdb_options& options);
  caf::error load_databases();
  /// Runs `body` in a read transaction; returns LMDB's error code (0: success).
  int read(const std::function<int(MDB_txn*)>& body) const;
  /// One attempt at `batch`; takes the exclusive lock when it creates databases.
  int try_write(const write_batch& batch, bool creates_databases);
  /// Whether `batch` may fill the reserve: it writes the reserve's database only, or
  /// only deletes.
  bool uses_reserve(const write_batch& batch) const;
  /// "" when `batch` may be written without cutting into the reserve, else why not.
  /// REQUIRES: write_mutex_ is held (no other write changes the occupancy meanwhile).
  std::string check_room(const write_batch& batch);
  /// The pages on LMDB's free list that the next write may reuse, in a read
  /// transaction of the caller's.
  static std::uint64_t free_pages(MDB_txn* txn);
  /// A refused batch: counted, and logged when the store was not refusing before.
  std::string refuse(std::string why);
  /// Grows the map for a batch that did not fit; false when it is at its maximum.
  bool grow_map();
  /// Adopts a map another process grew (MDB_MAP_RESIZED).
  void adopt_map_size() const;
  void note_read_error(std::string_view what, int code) const;

  MDB_env* env_;
  std::filesystem::path directory_;
  lmdb_options options_;
  std::size_t key_size_max_bytes_ = 0;
  /// Serializes writers (LMDB allows one write transaction).
  std::mutex write_mutex_;
  /// Shared by every transaction, exclusive to resize the map or publish new handles.
  mutable writer_preferring_mutex env_mutex_;
  mutable std::counting_semaphore<lmdb_options::readers_limit> reader_slots_;
  /// "name/" -> handle, in scan order. Changed only under both locks above.
  std::map<std::string, unsigned int, std::less<>> databases_;
  mutable std::atomic<std::uint64_t> read_errors_ = 0;
  std::atomic<std::uint64_t> refused_full_ = 0;
  /// Whether the last batch was refused for room (so a run of refusals logs once).
  bool refusing_ = false; // under write_mutex_
  mutable std::mutex refusal_mutex_;
  std::string last_refusal_;                                // under refusal_mutex_
  std::chrono::steady_clock::time_point last_refusal_at_{}; // under refusal_mutex_
};

} // namespace stakecast::node
