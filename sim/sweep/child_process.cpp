#include "sim/sweep/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace stakecast::sim::sweep {

namespace {

// What a child exits with when its parent died before the child could arm its
// death signal. Nobody reads it (the parent is gone); it is distinct for strace.
constexpr int orphan_exit_code = 126;
constexpr int exec_failed_exit_code = 127;
static_assert(orphan_exit_code != exec_failed_exit_code);

child_exit decode(int status) {
  if (WIFSIGNALED(status))
    return {0, WTERMSIG(status)};
  return {WEXITSTATUS(status), 0};
}

} // namespace

std::string child_exit::describe() const {
  if (signal != 0)
    return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
  return fmt::format("exit code {}", code);
}

std::variant<child_process, std::string> child_process::start(const child_spec& spec) {
  const int log = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0)
    return fmt::format("cannot open {}: {}", spec.log_file.string(), std::strerror(errno));
  std::vector<char*> argv;
  for (const auto& argument : spec.argv)
    argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(log);
    return fmt::format("cannot start a run: fork: {}", std::strerror(error));
  }
  if (pid == 0) {
    // The child: async-signal-safe calls only. A run dies with its sweep (or worker),
    // so a killed sweep leaves no run behind to race the resumed one. The death signal
    // is armed only from here on: a parent that died between fork and prctl (likely on
    // a loaded machine, where the child may first run after its parent is gone) has
    // already handed the child to another process, so the child must notice and go.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
      ::_exit(orphan_exit_code);
    if (spec.memory_bytes_max > 0) {
      const rlimit limit{spec.memory_bytes_max, spec.memory_bytes_max};
      ::setrlimit(RLIMIT_AS, &limit);
    }
    const int null_input = ::open("/dev/null", O_RDONLY);
    if (null_input >= 0)
      ::dup2(null_input, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    static constexpr char message[] = "cannot execute the simulator\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(exec_failed_exit_code);
  }
  ::close(log);
  return child_process(pid);
}

child_process::child_process(child_process&& other) noexcept
    : pid_(other.pid_), exit_(other.exit_) {
  other.pid_ = -1;
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_)
      kill();
    pid_ = other.pid_;
    exit_ = other.exit_;
    other.pid_ = -1;
  }
  return *this;
}

child_process::~child_process() {
  if (pid_ > 0 && !exit_)
    kill();
}

std::optional<child_exit> child_process::poll() {
  if (exit_ || pid_ <= 0)
    return exit_;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_)
    exit_ = decode(status);
  else if (done < 0 && errno == ECHILD)
    exit_ = child_exit{0, SIGKILL}; // reaped elsewhere: treat as lost
  return exit_;
}

child_exit child_process::kill() {
  if (exit_ || pid_ <= 0)
    return exit_.value_or(child_exit{});
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_ = decode(status);
  return *exit_;
}

std::string last_line_of(const std::filesystem::path& file, std::size_t chars_max) {
  std::ifstream in(file);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (!line.empty())
      last = line;
  }
  if (last.size() > chars_max)
    last = last.substr(0, chars_max) + "...";
  return last;
}

} // namespace stakecast::sim::sweep
