// Pins down `stakecast sweep`, `stakecast worker` and `stakecast report` as processes:
// a sweep killed with SIGKILL and started again redoes only the runs missing from
// results.csv (summary.json of finished runs untouched, a torn last row redone);
// malformed sweep files exit 2 naming the key; two workers on 127.0.0.1 complete a
// sweep whose coordinator runs nothing itself, and the runs of a worker killed
// mid-run go to another; reports contain SVG plots with paths.
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

/// The address a sweep started with `--listen 127.0.0.1:0` says it listens on.
std::string listening_address(child_process& sweep, const fs::path& log) {
  std::smatch match;
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::regex_search(text = read_text(log), match, listening) &&
         std::chrono::steady_clock::now() < deadline && !sweep.poll())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(std::regex_search(text, match, listening));
  return "127.0.0.1:" + match[1].str();
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
  REQUIRE(run({"sweep", source("tests/sweeps/self-dealing.yaml"), "--out", out.string(), "--jobs", "2"},
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
