// Pins down what a user sees for a bad scenario: every file in tests/bad_scenarios/
// names the error it must produce in its first line (`# expect: <part of the message>`)
// and optionally where (`# expect-at: <line>:<column>`); load_scenario must throw
// config_exception with one error that holds that text, the file's path and that
// position. Then the real binary runs two of the files and must exit with status 2,
// name the file on stderr and leave no run folder (nor a `.partial` one) behind. And
// every shipped scenario in scenarios/*.yaml must load without error.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/config/reader.hpp"
#include "sim/scenario/scenario.hpp"

namespace fs = std::filesystem;
using stakecast::sim::load_scenario;
using stakecast::config::config_error;
using stakecast::config::config_exception;

namespace {

// Fewer bad files than this means the folder was not found or lost files.
constexpr std::size_t bad_scenarios_min = 20;

const fs::path bad_scenarios_folder = fs::path(STAKECAST_SOURCE_DIR) / "tests" / "bad_scenarios";
const fs::path good_scenarios_folder = fs::path(STAKECAST_SOURCE_DIR) / "scenarios";

struct expectation {
  std::string message;           // a part of the error's to_string()
  std::optional<std::string> at; // "LINE:COLUMN"
};

std::vector<fs::path> yaml_files_in(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string_view without_trailing_space(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

// The header comment lines of a bad scenario; nullopt when the first line is not one.
std::optional<expectation> expectation_of(const fs::path& file) {
  constexpr std::string_view expect_prefix = "# expect: ";
  constexpr std::string_view expect_at_prefix = "# expect-at: ";
  std::ifstream in(file, std::ios::binary);
  std::string first;
  std::string second;
  std::getline(in, first);
  std::getline(in, second);
  if (!first.starts_with(expect_prefix))
    return std::nullopt;
  expectation result;
  result.message = without_trailing_space(std::string_view(first).substr(expect_prefix.size()));
  if (second.starts_with(expect_at_prefix))
    result.at = without_trailing_space(std::string_view(second).substr(expect_at_prefix.size()));
  return result;
}

// The errors of loading `file`; nullopt when it loads.
std::optional<std::vector<config_error>> load_errors(const fs::path& file) {
  try {
    load_scenario(file.string());
  } catch (const config_exception& failure) {
    return failure.errors();
  }
  return std::nullopt;
}

bool matches(const config_error& error, const fs::path& file, const expectation& expected) {
  const std::string text = error.to_string();
  if (text.find(expected.message) == std::string::npos)
    return false;
  if (text.find(file.filename().string()) == std::string::npos)
    return false;
  if (!expected.at)
    return true;
  const std::string position = std::to_string(error.line) + ":" + std::to_string(error.column);
  return position == *expected.at && text.find(":" + position + ": ") != std::string::npos;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A fresh folder under the system's temporary folder, removed with everything in it
// when the test ends, passed or failed.
class temporary_folder {
public:
  temporary_folder() {
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("stakecast-bad-scenarios-" + std::to_string(::getpid()) + "-" + std::to_string(ticks));
    fs::create_directories(path_);
  }
  ~temporary_folder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  temporary_folder(const temporary_folder&) = delete;
  temporary_folder& operator=(const temporary_folder&) = delete;

  const fs::path& path() const noexcept { return path_; }

private:
  fs::path path_;
};

struct command_result {
  int exit_status = -1; // -1 when the command did not exit normally
  std::string standard_error;
};

// Runs `stakecast sim FILE --out OUT --quiet`, its stdout and stderr into `scratch`.
command_result run_sim(const fs::path& file, const fs::path& out, const fs::path& scratch) {
  const fs::path stdout_file = scratch / "stdout.txt";
  const fs::path stderr_file = scratch / "stderr.txt";
  const std::string command = shell_quoted(STAKECAST_BINARY) + " sim " +
                              shell_quoted(file.string()) + " --out " +
                              shell_quoted(out.string()) + " --quiet > " +
                              shell_quoted(stdout_file.string()) + " 2> " +
                              shell_quoted(stderr_file.string());
  const int status = std::system(command.c_str());
  command_result result;
  if (status != -1 && WIFEXITED(status))
    result.exit_status = WEXITSTATUS(status);
  result.standard_error = read_text(stderr_file);
  fs::remove(stdout_file);
  fs::remove(stderr_file);
  return result;
}

bool has_partial_folder(const fs::path& folder) {
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename().string().find(".partial") != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("every bad scenario fails with the error its header names", "[scenario][bad]") {
  const std::vector<fs::path> files = yaml_files_in(bad_scenarios_folder);
  REQUIRE(files.size() >= bad_scenarios_min);
  for (const fs::path& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      const std::optional<expectation> expected = expectation_of(file);
      if (!expected)
        FAIL("the file must start with '# expect: <part of the message>'");
      REQUIRE_FALSE(expected->message.empty());
      INFO("expected: " << expected->message << " at " << expected->at.value_or("any position"));
      const std::optional<std::vector<config_error>> errors = load_errors(file);
      REQUIRE(errors);
      REQUIRE_FALSE(errors->empty());
      std::string all;
      for (const config_error& error : *errors)
        all += error.to_string() + "\n";
      INFO("errors:\n" << all);
      const auto expected_error = [&](const config_error& error) {
        return matches(error, file, *expected);
      };
      CHECK(std::any_of(errors->begin(), errors->end(), expected_error));
    }
  }
}

TEST_CASE("stakecast sim exits with 2 on a bad scenario and leaves no run folder",
          "[scenario][bad][binary]") {
  const temporary_folder scratch;
  const fs::path out = scratch.path() / "run";
  for (const char* name : {"unknown_top_level_key.yaml", "unclosed_bracket.yaml"}) {
    DYNAMIC_SECTION(name) {
      const fs::path file = bad_scenarios_folder / name;
      REQUIRE(fs::is_regular_file(file));
      const command_result result = run_sim(file, out, scratch.path());
      INFO("stderr: " << result.standard_error);
      CHECK(result.exit_status == 2);
      CHECK(result.standard_error.find(file.string()) != std::string::npos);
      CHECK_FALSE(fs::exists(out));
      CHECK_FALSE(has_partial_folder(scratch.path()));
    }
  }
}

TEST_CASE("every shipped scenario loads without error", "[scenario]") {
  const std::vector<fs::path> files = yaml_files_in(good_scenarios_folder);
  REQUIRE_FALSE(files.empty());
  for (const fs::path& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      const std::optional<std::vector<config_error>> errors = load_errors(file);
      std::string all;
      for (const config_error& error : errors.value_or(std::vector<config_error>{}))
        all += error.to_string() + "\n";
      INFO("errors:\n" << all);
      CHECK_FALSE(errors);
    }
  }
}
