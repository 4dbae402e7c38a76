// Pins down `stakecast sweep`, `stakecast worker` and `stakecast report` as processes:
// a sweep killed with SIGKILL and started again redoes only the runs missing from
// results.csv (summary.json of finished runs untouched, a torn last row redone);
// malformed sweep files exit 2 naming the key; two workers on 127.0.0.1 complete a
// sweep whose coordinator runs nothing itself, and the runs of a worker killed
// mid-run go to another; a sweep or a coordinator killed with runs in flight and then
// resumed by two sweeps at once ends with exactly one row per run (the folder lock);
// reports contain SVG plots with paths.
// A run that dies is a failed row, not a failed sweep. A sweep of the fee burn over the
// adversaries' scenario finds self-dealing profitable with no burn and not with half.
// The sweeps run the two-minute tests/sweeps/economy-tiny.yaml (under a second a
// run); every wait is bounded and every process is reaped.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "sim/sweep/child_process.hpp"
#include "tests/support/temporary_folder.hpp"

namespace fs = std::filesystem;
using stakecast::sim::sweep::child_exit;
using stakecast::sim::sweep::child_process;
using stakecast::sim::sweep::child_spec;

namespace {

constexpr auto process_timeout = std::chrono::seconds(120);

struct temp_folder : stakecast::test::temporary_folder {
  temp_folder() : temporary_folder("sweep-test", made::yes) {}
};

std::string source(const std::string& relative) {
  return std::string(STAKECAST_SOURCE_DIR) + "/" + relative;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

child_process start(std::vector<std::string> arguments, const fs::path& log) {
  arguments.insert(arguments.begin(), STAKECAST_BINARY);
  auto started = child_process::start(child_spec{arguments, log, 0});
  REQUIRE(std::holds_alternative<child_process>(started));
  return std::move(std::get<child_process>(started));
}

/// tests/sweeps/grid.yaml swept into `out` by workers only: it runs nothing itself and
/// listens on 127.0.0.1 at a port the system picks.
child_process start_coordinator(const fs::path& out, const fs::path& log) {
  return start({"sweep", source("tests/sweeps/grid.yaml"), "--out", out.string(), "--jobs", "0",
                "--listen", "127.0.0.1:0"},
               log);
}

/// The address that the log of a sweep started with `--listen 127.0.0.1:0` says it
/// listens on, if it says so yet.
std::optional<std::string> listening_address_in(const fs::path& log) {
  std::smatch match;
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  const std::string text = read_text(log);
  if (!std::regex_search(text, match, listening))
    return std::nullopt;
  return "127.0.0.1:" + match[1].str();
}

/// The address a sweep started with `--listen 127.0.0.1:0` says it listens on.
std::string listening_address(child_process& sweep, const fs::path& log) {
  std::optional<std::string> address;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!(address = listening_address_in(log)) && std::chrono::steady_clock::now() < deadline &&
         !sweep.poll())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(address.has_value());
  return *address;
}

child_exit wait_for(child_process& child) {
  const auto deadline = std::chrono::steady_clock::now() + process_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto exit = child.poll())
      return *exit;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child.kill();
  FAIL("a process did not end within the timeout");
  return {};
}

child_exit run(std::vector<std::string> arguments, const fs::path& log) {
  auto child = start(std::move(arguments), log);
  return wait_for(child);
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::vector<std::string> lines;
  std::istringstream in(read_text(file));
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

std::string first_field(const std::string& line) {
  return line.substr(0, line.find(','));
}

/// Each run id in `results` (header left out) with the number of rows it has.
std::map<std::string, int> rows_per_run(const fs::path& results) {
  std::map<std::string, int> rows;
  const auto lines = lines_of(results);
  for (std::size_t i = 1; i < lines.size(); ++i)
    ++rows[first_field(lines[i])];
  return rows;
}

/// Waits until `results` has at least `rows` rows after its header, or `sweep` ends.
void wait_for_rows(child_process& sweep, const fs::path& results, std::size_t rows) {
  const auto deadline = std::chrono::steady_clock::now() + process_timeout;
  while (lines_of(results).size() < rows + 1 && std::chrono::steady_clock::now() < deadline &&
         !sweep.poll())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

/// Of sweeps started on one folder at once, one has it and ends 0; another either waits
/// for it and then ends 0 too, or gives up waiting and ends 1 saying the folder is in use.
void check_ran_or_refused(const child_exit& exit, const fs::path& log) {
  INFO(log.filename().string() << ": " << read_text(log));
  if (!exit.ok()) {
    CHECK(exit.code == 1);
    CHECK(read_text(log).find("is in use by another sweep") != std::string::npos);
  }
}

/// Every run of the sweep has exactly one row.
void check_one_row_per_run(const fs::path& results, std::size_t runs) {
  const auto rows = rows_per_run(results);
  INFO(read_text(results));
  CHECK(rows.size() == runs);
  for (const auto& [id, count] : rows) {
    INFO(id);
    CHECK(count == 1);
  }
}

} // namespace

TEST_CASE("A sweep killed with SIGKILL resumes without redoing finished runs", "[sweep][process]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  const fs::path results = out / "results.csv";
  auto sweep =
      start({"sweep", source("tests/sweeps/grid.yaml"), "--out", out.string(), "--jobs", "1"},
            folder.path / "first.log");
  // Kill it once three runs have their rows (header + 3 lines).
  const auto deadline = std::chrono::steady_clock::now() + process_timeout;
  while (lines_of(results).size() < 4 && std::chrono::steady_clock::now() < deadline &&
         !sweep.poll())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE_FALSE(sweep.poll().has_value());
  sweep.kill();
  auto rows = lines_of(results);
  REQUIRE(rows.size() >= 4);
  REQUIRE(rows.size() < 9);
  // Tear the last row as a crash in the middle of a write would.
  const std::string torn_id = first_field(rows.back());
  fs::resize_file(results, fs::file_size(results) - 5);
  std::map<std::string, fs::file_time_type> finished;
  for (std::size_t i = 1; i + 1 < rows.size(); ++i)
    finished[first_field(rows[i])] =
        fs::last_write_time(out / "runs" / first_field(rows[i]) / "summary.json");
  const auto torn_time = fs::last_write_time(out / "runs" / torn_id / "summary.json");

  const auto exit =
      run({"sweep", source("tests/sweeps/grid.yaml"), "--out", out.string(), "--jobs", "2"},
          folder.path / "second.log");
  REQUIRE(exit.ok());
  const std::string log = read_text(folder.path / "second.log");
  INFO(log);
  CHECK(log.find("torn last line was dropped") != std::string::npos);
  CHECK(log.find("its run is done again: \"" + torn_id + ",") != std::string::npos);
  const std::size_t kept = finished.size();
  CHECK(log.find("done: " + std::to_string(8 - kept) + " runs ran") != std::string::npos);
  for (const auto& [id, time] : finished)
    CHECK(fs::last_write_time(out / "runs" / id / "summary.json") == time);
  CHECK(fs::last_write_time(out / "runs" / torn_id / "summary.json") != torn_time);
  rows = lines_of(results);
  REQUIRE(rows.size() == 9);
  std::set<std::string> ids;
  for (std::size_t i = 1; i < rows.size(); ++i)
    ids.insert(first_field(rows[i]));
  CHECK(ids.size() == 8);

  // The same folder refuses another sweep's runs.
  const auto other =
      run({"sweep", source("tests/sweeps/pair.yaml"), "--out", out.string(), "--jobs", "1"},
          folder.path / "other.log");
  CHECK(other.code == 2);
  CHECK(read_text(folder.path / "other.log").find("different sweep") != std::string::npos);
}

TEST_CASE("A sweep killed with runs in flight and resumed twice at once has one row per run",
          "[sweep][process]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  const fs::path results = out / "results.csv";
  // Sixteen short runs on two slots: whenever it is killed, two runs are in flight.
  const std::vector<std::string> command{
      "sweep", source("tests/sweeps/many.yaml"), "--out", out.string(), "--jobs", "2"};
  auto sweep = start(command, folder.path / "first.log");
  wait_for_rows(sweep, results, 4);
  REQUIRE_FALSE(sweep.poll().has_value());
  sweep.kill();
  REQUIRE(rows_per_run(results).size() < 16);
  // Resumed from two shells at once (or by a script that retries): one sweep must not
  // redo the runs the other is doing.
  const fs::path first_log = folder.path / "resume1.log";
  const fs::path second_log = folder.path / "resume2.log";
  auto first = start(command, first_log);
  auto second = start(command, second_log);
  const child_exit first_exit = wait_for(first);
  const child_exit second_exit = wait_for(second);
  check_ran_or_refused(first_exit, first_log);
  check_ran_or_refused(second_exit, second_log);
  CHECK((first_exit.ok() || second_exit.ok()));
  check_one_row_per_run(results, 16);
}

TEST_CASE("A coordinator killed with runs out on a worker and resumed twice at once has one row "
          "per run",
          "[sweep][process]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  const fs::path results = out / "results.csv";
  const fs::path killed_log = folder.path / "killed.log";
  auto killed = start_coordinator(out, killed_log);
  const std::string where = listening_address(killed, killed_log);
  // The worker is killed at the end: keep its temporary folder inside ours.
  const std::string previous_tmpdir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "";
  ::setenv("TMPDIR", folder.path.c_str(), 1);
  auto orphaned =
      start({"worker", "--connect", where, "--jobs", "2"}, folder.path / "orphaned.log");
  if (previous_tmpdir.empty())
    ::unsetenv("TMPDIR");
  else
    ::setenv("TMPDIR", previous_tmpdir.c_str(), 1);
  wait_for_rows(killed, results, 3);
  REQUIRE_FALSE(killed.poll().has_value());
  killed.kill();
  REQUIRE(rows_per_run(results).size() < 8);
  // The orphaned worker goes on with the runs it holds while the sweep is resumed; it
  // has nobody to report them to, so they are done again, and recorded once.

  std::vector<fs::path> logs{folder.path / "resume1.log", folder.path / "resume2.log"};
  std::vector<child_process> coordinators;
  for (const auto& log : logs)
    coordinators.push_back(start_coordinator(out, log));
  // A worker for each coordinator once it listens (one may wait for the folder first).
  std::vector<child_process> workers;
  std::vector<bool> served(coordinators.size(), false);
  std::vector<std::optional<child_exit>> exits(coordinators.size());
  const auto deadline = std::chrono::steady_clock::now() + process_timeout;
  while (std::chrono::steady_clock::now() < deadline &&
         std::any_of(exits.begin(), exits.end(), [](const auto& exit) { return !exit; })) {
    for (std::size_t i = 0; i < coordinators.size(); ++i) {
      if (!exits[i])
        exits[i] = coordinators[i].poll();
      if (served[i])
        continue;
      if (auto address = listening_address_in(logs[i])) {
        workers.push_back(start({"worker", "--connect", *address, "--jobs", "2"},
                                folder.path / ("worker" + std::to_string(i) + ".log")));
        served[i] = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& worker : workers)
    wait_for(worker);
  // It would give up by itself once its report to the killed sweep times out (30 s).
  orphaned.kill();
  bool one_ran = false;
  for (std::size_t i = 0; i < coordinators.size(); ++i) {
    const child_exit exit = exits[i] ? *exits[i] : wait_for(coordinators[i]);
    check_ran_or_refused(exit, logs[i]);
    one_ran = one_ran || exit.ok();
  }
  CHECK(one_ran);
  check_one_row_per_run(results, 8);
}

TEST_CASE("Malformed sweep files exit with code 2 and name the key", "[sweep][process]") {
  temp_folder folder;
  const std::map<std::string, std::string> expected{
      {"unknown_key.yaml", "sedes"},
      {"bad_value.yaml", "workloads.chain.parameters.fee_burn: must be between 0% and 100%"},
      {"missing_base.yaml", "base: the base scenario"},
      {"duplicate_name.yaml", "parameters[1]: the column name 'fee_burn' is taken"}};
  for (const auto& [file, message] : expected) {
    const fs::path log = folder.path / (file + ".log");
    const auto exit = run(
        {"sweep", source("tests/bad_sweeps/" + file), "--out", (folder.path / file).string()}, log);
    INFO(file << ": " << read_text(log));
    CHECK(exit.code == 2);
    CHECK(read_text(log).find(message) != std::string::npos);
    CHECK_FALSE(fs::exists(folder.path / file / "results.csv"));
  }
}

TEST_CASE("Runs that die are recorded as failed with their error and the sweep completes",
          "[sweep][process]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  const auto exit =
      run({"sweep", source("tests/sweeps/starved.yaml"), "--out", out.string(), "--jobs", "2"},
          folder.path / "sweep.log");
  INFO(read_text(folder.path / "sweep.log"));
  CHECK(exit.ok());
  const auto rows = lines_of(out / "results.csv");
  REQUIRE(rows.size() == 3);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i].find(",failed,local,") != std::string::npos);
    // The loader either fails (exit code 127) or crashes (a signal): both are errors.
    CHECK(std::regex_search(rows[i], std::regex("exit code|killed by signal")));
  }
  CHECK(read_text(folder.path / "sweep.log").find("2 runs ran (2 failed)") != std::string::npos);
}

TEST_CASE("Two workers complete a sweep whose coordinator runs nothing itself",
          "[sweep][process]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  const fs::path sweep_log = folder.path / "sweep.log";
  auto sweep = start_coordinator(out, sweep_log);
  const std::string where = listening_address(sweep, sweep_log);
  auto first = start({"worker", "--connect", where, "--jobs", "1"}, folder.path / "worker1.log");
  auto second = start({"worker", "--connect", where, "--jobs", "1"}, folder.path / "worker2.log");
  CHECK(wait_for(sweep).ok());
  CHECK(wait_for(first).ok());
  CHECK(wait_for(second).ok());
  INFO(read_text(sweep_log));
  const auto rows = lines_of(out / "results.csv");
  REQUIRE(rows.size() == 9);
  std::set<std::string> workers;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i].find(",ok,") != std::string::npos);
    CHECK(rows[i].find(",local,") == std::string::npos);
    const auto at = rows[i].find(",ok,") + 4;
    workers.insert(rows[i].substr(at, rows[i].find(',', at) - at));
    CHECK(fs::exists(out / "runs" / first_field(rows[i]) / "summary.json"));
  }
  CHECK(workers.size() == 2);
}

TEST_CASE("The runs of a worker killed mid-run go to another worker", "[sweep][process]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  const fs::path sweep_log = folder.path / "sweep.log";
  auto sweep = start_coordinator(out, sweep_log);
  const std::string where = listening_address(sweep, sweep_log);
  // A killed worker cannot remove its temporary folder: keep it inside ours.
  const std::string previous_tmpdir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "";
  ::setenv("TMPDIR", folder.path.c_str(), 1);
  auto doomed = start({"worker", "--connect", where, "--jobs", "2"}, folder.path / "doomed.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (read_text(sweep_log).find(" sent to ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  doomed.kill();
  auto survivor =
      start({"worker", "--connect", where, "--jobs", "2"}, folder.path / "survivor.log");
  if (previous_tmpdir.empty())
    ::unsetenv("TMPDIR");
  else
    ::setenv("TMPDIR", previous_tmpdir.c_str(), 1);
  CHECK(wait_for(sweep).ok());
  CHECK(wait_for(survivor).ok());
  const std::string log = read_text(sweep_log);
  INFO(log);
  CHECK(log.find("went away") != std::string::npos);
  const auto rows = lines_of(out / "results.csv");
  REQUIRE(rows.size() == 9);
  std::set<std::string> ids;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i].find(",ok,") != std::string::npos);
    ids.insert(first_field(rows[i]));
  }
  CHECK(ids.size() == 8);
}

TEST_CASE("Reports of a sweep and of a run contain their SVG plots", "[sweep][process][report]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  REQUIRE(run({"sweep", source("tests/sweeps/pair.yaml"), "--out", out.string(), "--jobs", "2"},
              folder.path / "sweep.log")
              .ok());
  for (const fs::path& target : {out, out / "runs" / "p000-s1"}) {
    INFO(target.string());
    REQUIRE(run({"report", target.string()}, folder.path / "report.log").ok());
    const std::string index = read_text(target / "report" / "index.html");
    std::size_t plots = 0;
    for (const auto& entry : fs::directory_iterator(target / "report" / "plots")) {
      ++plots;
      CHECK(index.find("plots/" + entry.path().filename().string()) != std::string::npos);
      const std::string svg = read_text(entry.path());
      CHECK(svg.find("<svg") != std::string::npos);
      CHECK(svg.find("<path") != std::string::npos);
    }
    CHECK(plots >= 2);
    CHECK(index.find("http") == std::string::npos);
  }
  CHECK(read_text(out / "report" / "index.html").find("chain.burned against fee_burn") !=
        std::string::npos);
  CHECK(run({"report", (folder.path / "nothing").string()}, folder.path / "bad.log").code == 2);
}

TEST_CASE("A fee burn sweep finds where self-dealing stops paying", "[sweep][process][econ]") {
  temp_folder folder;
  const fs::path out = folder.path / "sweep";
  REQUIRE(
      run({"sweep", source("tests/sweeps/self-dealing.yaml"), "--out", out.string(), "--jobs", "2"},
          folder.path / "sweep.log")
          .ok());
  const auto rows = lines_of(out / "results.csv");
  REQUIRE(rows.size() == 3);
  auto fields = [](const std::string& row) {
    std::vector<std::string> split;
    std::stringstream in(row);
    for (std::string field; std::getline(in, field, ',');)
      split.push_back(field);
    return split;
  };
  const auto header = fields(rows[0]);
  auto column = [&](const std::string& name) {
    const auto at = std::find(header.begin(), header.end(), name);
    REQUIRE(at != header.end());
    return static_cast<std::size_t>(at - header.begin());
  };
  const auto burn = column("fee_burn");
  const auto profitable = column("econ.attacks.self_dealing.profitable");
  std::map<std::string, std::string> profitable_at;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    INFO(rows[i]);
    const auto row = fields(rows[i]);
    REQUIRE(row.size() == header.size());
    profitable_at[row[burn]] = row[profitable];
  }
  CHECK(profitable_at["0%"] == "1");
  CHECK(profitable_at["50%"] == "0");
}
