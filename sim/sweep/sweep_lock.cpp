#include "sim/sweep/sweep_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace stakecast::sim::sweep {

namespace {

// The holder's line is "pid N\n": a few bytes; more is not ours.
constexpr std::size_t holder_bytes_max = 64;

std::string read_holder(int descriptor) {
  char text[holder_bytes_max] = {};
  const ssize_t got = ::pread(descriptor, text, sizeof text - 1, 0);
  if (got <= 0)
    return {};
  std::string holder(text, static_cast<std::size_t>(got));
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
    holder.pop_back();
  return holder;
}

// Replaces the file's content with this process's pid. REQUIRES: the lock is held.
bool write_holder(int descriptor) {
  const std::string line = fmt::format("pid {}\n", ::getpid());
  assert(line.size() < holder_bytes_max);
  if (::ftruncate(descriptor, 0) != 0)
    return false;
  return ::pwrite(descriptor, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size());
}

} // namespace

std::variant<sweep_lock, lock_busy, std::string>
sweep_lock::try_acquire(const std::filesystem::path& folder) {
  assert(std::filesystem::is_directory(folder));
  const auto file = file_in(folder);
  // No O_CLOEXEC: the sweep's runs are to hold the lock too (see the header).
  const int descriptor = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
  if (descriptor < 0)
    return fmt::format("cannot open {}: {}", file.string(), std::strerror(errno));
  if (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string holder = error == EWOULDBLOCK ? read_holder(descriptor) : std::string();
    ::close(descriptor);
    if (error == EWOULDBLOCK)
      return lock_busy{holder};
    return fmt::format("cannot lock {}: {}", file.string(), std::strerror(error));
  }
  if (!write_holder(descriptor)) {
    const int error = errno;
    ::close(descriptor);
    return fmt::format("cannot write {}: {}", file.string(), std::strerror(error));
  }
  return sweep_lock(descriptor);
}

sweep_lock::sweep_lock(sweep_lock&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, -1)) {
}

sweep_lock& sweep_lock::operator=(sweep_lock&& other) noexcept {
  if (this != &other) {
    if (descriptor_ >= 0)
      ::close(descriptor_);
    descriptor_ = std::exchange(other.descriptor_, -1);
  }
  return *this;
}

sweep_lock::~sweep_lock() {
  if (descriptor_ >= 0)
    ::close(descriptor_);
}

} // namespace stakecast::sim::sweep
