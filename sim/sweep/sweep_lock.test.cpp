// Pins down the sweep folder's lock: a second lock of a locked folder is refused and
// names the holder's pid; the lock is free once its holder is gone; and a child
// process that inherited the descriptor keeps the folder locked after its parent let
// go, as a sweep's runs do after the sweep is killed. Forked children are bounded
// and reaped.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sim/sweep/sweep_lock.hpp"
#include "tests/support/temporary_folder.hpp"

using stakecast::sim::sweep::lock_busy;
using stakecast::sim::sweep::sweep_lock;

TEST_CASE("A locked sweep folder refuses a second lock and names its holder", "[sweep]") {
  stakecast::test::temporary_folder folder("sweep-lock",
                                           stakecast::test::temporary_folder::made::yes);
  {
    auto first = sweep_lock::try_acquire(folder.path);
    REQUIRE(std::holds_alternative<sweep_lock>(first));
    auto second = sweep_lock::try_acquire(folder.path);
    REQUIRE(std::holds_alternative<lock_busy>(second));
    CHECK(std::get<lock_busy>(second).holder == fmt::format("pid {}", ::getpid()));
  }
  CHECK(std::holds_alternative<sweep_lock>(sweep_lock::try_acquire(folder.path)));
}

TEST_CASE("A child that inherited the lock holds it after its parent let go", "[sweep][process]") {
  stakecast::test::temporary_folder folder("sweep-lock",
                                           stakecast::test::temporary_folder::made::yes);
  std::optional<sweep_lock> lock;
  {
    auto attempt = sweep_lock::try_acquire(folder.path);
    REQUIRE(std::holds_alternative<sweep_lock>(attempt));
    lock.emplace(std::move(std::get<sweep_lock>(attempt)));
  }
  int to_child[2];
  REQUIRE(::pipe(to_child) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Holds the inherited descriptor until told to go (or the test goes away).
    ::close(to_child[1]);
    char ignored = 0;
    [[maybe_unused]] auto got = ::read(to_child[0], &ignored, 1);
    ::_exit(0);
  }
  ::close(to_child[0]);
  lock.reset(); // closes this process's descriptor
  CHECK(std::holds_alternative<lock_busy>(sweep_lock::try_acquire(folder.path)));
  ::close(to_child[1]); // the child reads end-of-file and exits
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(std::holds_alternative<sweep_lock>(sweep_lock::try_acquire(folder.path)));
}

TEST_CASE("A sweep folder that cannot hold a lock file is an error and not a lock", "[sweep]") {
  stakecast::test::temporary_folder folder("sweep-lock",
                                           stakecast::test::temporary_folder::made::yes);
  std::filesystem::create_directories(sweep_lock::file_in(folder.path)); // a folder in its place
  auto attempt = sweep_lock::try_acquire(folder.path);
  REQUIRE(std::holds_alternative<std::string>(attempt));
  CHECK(std::get<std::string>(attempt).find("sweep.lock") != std::string::npos);
}
