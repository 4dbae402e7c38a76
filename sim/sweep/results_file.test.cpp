// Pins down how results.csv is read back and appended: a torn last line is cut off,
// a row whose run id an earlier row has (what two sweeps writing one file at once
// leave) is dropped and the file rewritten without it, and a row is appended whole or,
// when the disk is full, not at all (the part written is cut back off; a forked child
// plays the full disk with a file size limit). Checked on small files in a temporary
// folder.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "sim/sweep/results_file.hpp"
#include "tests/support/temporary_folder.hpp"

using namespace stakecast::sim::sweep;

namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

const std::string header = "run,point,seed,fee_burn,status,worker,wall_s,error,chain.burned\n";

} // namespace

TEST_CASE("Reading results drops repeated rows and a torn last line", "[sweep]") {
  stakecast::test::temporary_folder folder("results-file",
                                           stakecast::test::temporary_folder::made::yes);
  const auto file = folder.path / "results.csv";
  const std::string first = "p000-s1,0,1,0%,ok,local,0.5,,10\n";
  const std::string second = "p000-s2,0,2,0%,ok,local,0.6,,11\n";
  const std::string again = "p000-s1,0,1,0%,ok,local,0.7,,10\n";
  write_text(file, header + first + second + again + "p001-s1,1,1,5");
  auto read = read_results(file, {"fee_burn"});
  REQUIRE(std::holds_alternative<results_state>(read));
  const auto& state = std::get<results_state>(read);
  CHECK(state.done.size() == 2);
  CHECK(state.done.contains("p000-s1"));
  CHECK(state.done.contains("p000-s2"));
  CHECK(state.dropped_torn_line);
  CHECK(read_text(file) == header + first + second);
}

TEST_CASE("A row is appended whole or not at all", "[sweep][process]") {
  stakecast::test::temporary_folder folder("results-file",
                                           stakecast::test::temporary_folder::made::yes);
  const auto file = folder.path / "results.csv";
  write_text(file, header + "p000-s1,0,1,0%,ok,local,0.5,,10\np000-s2,0,2");
  REQUIRE(std::holds_alternative<results_state>(read_results(file, {"fee_burn"})));
  {
    auto opened = results_writer::open(file);
    REQUIRE(std::holds_alternative<results_writer>(opened));
    CHECK(std::get<results_writer>(opened).write_row(
              {"p000-s2", "0", "2", "0%", "failed", "local", "0.1", "a, \"b\"", ""}) == "");
  }
  const std::string kept = header + "p000-s1,0,1,0%,ok,local,0.5,,10\n" +
                           "p000-s2,0,2,0%,failed,local,0.1,\"a, \"\"b\"\"\",\n";
  REQUIRE(read_text(file) == kept);
  // A full disk, played by a file size limit a few bytes past the file's end (in a
  // child, so the limit stays there): the row that does not fit leaves no part behind.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlim_t size_max = static_cast<rlim_t>(kept.size()) + 10;
    const rlimit limit{size_max, size_max};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0)
      ::_exit(2);
    auto opened = results_writer::open(file);
    if (!std::holds_alternative<results_writer>(opened))
      ::_exit(3);
    const std::string error = std::get<results_writer>(opened).write_row(
        {"p001-s1", "1", "1", "50%", "ok", "local", "0.5", "", "12345678901234567890"});
    ::_exit(error.find("cannot write") != std::string::npos ? 0 : 4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(read_text(file) == kept);
}
