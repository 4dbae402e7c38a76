// Helpers shared by tests that drive real node processes through the `stakecast`
// command line: run a command and keep its output, poll a condition with a deadline,
// stop a devnet whatever the test's outcome, read a node's height, make a short
// H.264 MP4 with ffmpeg, and publish a file from a node.
//
// Every wait is bounded by its caller's timeout; nothing here runs in the background.
// Not thread-safe beyond what popen is: call from the test's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "node/devnet.hpp"
#include "node/http_client.hpp"

namespace stakecast::test {

struct command_output {
  int exit_code = -1;
  std::string text; // stdout and stderr, interleaved
};

/// Runs `command` through the shell and waits for it.
inline command_output run_command(const std::string& command) {
  command_output out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe))
    out.text.append(buffer, n);
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

/// `stakecast <arguments>` with the binary this test binary was built with.
inline command_output run_stakecast(const std::string& arguments) {
  return run_command(fmt::format("{} {}", STAKECAST_BINARY, arguments));
}

/// Polls `condition` every 250 ms until it holds or `timeout` passed.
template <class Condition> bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return condition();
}

/// Stops the devnet in `dir` and removes the folder, whatever the test's outcome.
struct devnet_guard {
  std::filesystem::path dir;
  ~devnet_guard() {
    node::devnet_down(dir, std::chrono::seconds(10));
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

/// The node's committed height, or -1 when it does not answer.
inline std::int64_t height_of(const node::devnet_node& n) {
  auto reply =
      node::http_request(*n.config.gateway, "GET", "/api/status", "", std::chrono::seconds(2));
  if (!reply || reply.value->status != 200)
    return -1;
  const auto status = nlohmann::json::parse(reply.value->body, nullptr, false);
  if (!status.is_object() || !status["height"].is_number())
    return -1;
  return status["height"].get<std::int64_t>();
}

/// Makes a `seconds` long H.264 MP4 (test pattern, 25 fps, moov atom first so a player
/// starts before the whole file is in), at `bitrate` (ffmpeg's notation, "2M") when
/// given. Returns ffmpeg's output when it failed.
inline std::optional<std::string> make_test_video(const std::filesystem::path& file, int seconds,
                                                  const std::string& bitrate = {}) {
  const auto made = run_command(fmt::format(
      "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=duration={}:size=640x360:rate=25 "
      "-c:v libx264 {} -pix_fmt yuv420p -movflags +faststart '{}'",
      seconds, bitrate.empty() ? std::string{} : "-preset ultrafast -b:v " + bitrate, file.string()));
  if (made.exit_code == 0 && std::filesystem::exists(file))
    return std::nullopt;
  return fmt::format("ffmpeg exited with {}: {}", made.exit_code, made.text);
}

/// `stakecast publish <file>` from `home`; the content id it printed, or "" (the
/// command's output is then in `output`).
inline std::string publish_file(const std::filesystem::path& file, const node::home_folder& home,
                                command_output& output) {
  output =
      run_stakecast(fmt::format("publish '{}' --home '{}'", file.string(), home.root.string()));
  constexpr std::string_view prefix = "content ";
  const auto at = output.text.find(prefix);
  if (output.exit_code != 0 || at == std::string::npos ||
      output.text.size() < at + prefix.size() + 64)
    return {};
  return output.text.substr(at + prefix.size(), 64);
}

} // namespace stakecast::test
