// The lock of a sweep folder: at most one sweep works in a folder at a time.
//
// FOLDER/sweep.lock is locked with flock(LOCK_EX) for the sweep's whole life and
// holds the pid of the sweep that locked it, for the message of a sweep refused.
// The descriptor is deliberately not close-on-exec: every run the sweep starts
// inherits it (child_process.hpp), and an flock lock lasts until the last descriptor
// of its open file is closed. So the folder is free only once the sweep *and every
// run it started* have ended: a sweep killed with SIGKILL frees it when its last run
// has died of the death signal, not before, and a sweep started meanwhile waits for
// that instead of racing those runs for their run folders. The kernel drops the lock
// with the last process, so no crash leaves a stale lock. The file itself is never
// removed: a lock file that is unlinked and created again lets two processes hold
// "the" lock on two different files.
//
// Locks conflict between descriptors, so two sweep_lock objects of one folder in one
// process conflict as two processes do. Not thread-safe; one owner.
#pragma once

#include <filesystem>
#include <string>
#include <variant>

namespace stakecast::sim::sweep {

/// The lock is held by another sweep (or by runs it started, or by another
/// sweep_lock object): who holds it, as the file says ("pid 1234"), or "" if unknown.
struct lock_busy {
  std::string holder;
};

class sweep_lock {
public:
  /// Tries once to lock `folder`/sweep.lock (creating it). REQUIRES: `folder` exists.
  /// Returns the lock, lock_busy, or what is wrong (the file cannot be opened or
  /// written, the file system does not lock).
  static std::variant<sweep_lock, lock_busy, std::string>
  try_acquire(const std::filesystem::path& folder);

  sweep_lock(sweep_lock&& other) noexcept;
  sweep_lock& operator=(sweep_lock&& other) noexcept;
  sweep_lock(const sweep_lock&) = delete;
  sweep_lock& operator=(const sweep_lock&) = delete;
  /// Closes this descriptor; the lock stays held while a run still has it.
  ~sweep_lock();

  static std::filesystem::path file_in(const std::filesystem::path& folder) {
    return folder / "sweep.lock";
  }

private:
  explicit sweep_lock(int descriptor) : descriptor_(descriptor) {}
  int descriptor_ = -1;
};

} // namespace stakecast::sim::sweep
