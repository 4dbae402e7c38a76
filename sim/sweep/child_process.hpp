// A child process of the sweep: one simulation run in its own address space, so a
// crash or a memory blowup of one run cannot take the sweep down.
//
// start() forks and execs `argv` with standard output and error appended to
// `log_file` and, when `memory_bytes_max` > 0, RLIMIT_AS set to it. poll() never
// blocks; kill() sends SIGKILL and reaps. The destructor kills a child still running.
// Not thread-safe: one owner per child. Only async-signal-safe calls run between
// fork and exec, so it may be used from a process with threads (the coordinator's).
//
// A child never outlives its parent: it gets SIGKILL when the parent dies
// (PR_SET_PDEATHSIG), and a child whose parent died before it could arm that signal
// exits before exec. The signal follows the *thread* that called start(), not the
// process. REQUIRES: that thread outlives the child (the sweep's main thread, a
// worker's slot thread).
// The child inherits every descriptor of the parent that is not close-on-exec; the
// sweep relies on that to hand its folder lock to its runs (sweep_lock.hpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace stakecast::sim::sweep {

struct child_exit {
  int code = 0;   ///< exit code when not signaled
  int signal = 0; ///< the signal that ended it, or 0
  bool ok() const { return signal == 0 && code == 0; }
  /// "exit code 2", "killed by signal 9 (Killed)".
  std::string describe() const;
};

struct child_spec {
  std::vector<std::string> argv; ///< argv[0] is the executable's path
  std::filesystem::path log_file;
  std::uint64_t memory_bytes_max = 0;
};

class child_process {
public:
  /// The running child, or what went wrong (fork failed, log not writable).
  static std::variant<child_process, std::string> start(const child_spec& spec);

  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  /// The exit, once the child has ended (reaped); nullopt while it runs.
  std::optional<child_exit> poll();
  /// Kills the child (SIGKILL) and waits for it.
  child_exit kill();
  pid_t pid() const { return pid_; }

private:
  explicit child_process(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<child_exit> exit_;
};

/// The last non-empty line of `file` (at most `chars_max` characters of it), or "".
std::string last_line_of(const std::filesystem::path& file, std::size_t chars_max = 300);

} // namespace stakecast::sim::sweep
