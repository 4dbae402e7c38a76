// A devnet of real node processes on loopback, driven through the `stakecast` command
// line as a user would: `devnet up` starts four validators, a masternode and a viewer
// over TLS, the
// chain commits blocks, `wallet transfer` moves tokens that show up in the receiver's
// balance, a validator killed with SIGKILL and started again catches up with the
// others from its LMDB store and block sync, and `devnet down` leaves no process.
// Bounds: every wait polls with a deadline of at most 60 s.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "node/devnet.hpp"
#include "node/http_client.hpp"

namespace node = stakecast::node;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct command_output {
  int exit_code = -1;
  std::string text;
};

command_output run(const std::string& arguments) {
  const auto command = fmt::format("{} {} 2>&1", STAKECAST_BINARY, arguments);
  command_output out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe))
    out.text.append(buffer, n);
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

/// The node's committed height, or -1 when it does not answer.
std::int64_t height_of(const node::devnet_node& n) {
  auto reply = node::http_request(*n.config.gateway, "GET", "/api/status", "", 2s);
  if (!reply || reply.value->status != 200)
    return -1;
  const auto status = nlohmann::json::parse(reply.value->body, nullptr, false);
  if (!status.is_object() || !status["height"].is_number())
    return -1;
  return status["height"].get<std::int64_t>();
}

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(250ms);
  }
  return condition();
}

/// Stops the devnet whatever the test's outcome.
struct devnet_guard {
  fs::path dir;
  ~devnet_guard() {
    node::devnet_down(dir, 10s);
    fs::remove_all(dir);
  }
};

} // namespace

TEST_CASE("a devnet of real processes commits blocks and moves tokens and survives kill -9",
          "[node][devnet]") {
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-devnet-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};

  const auto up = run(fmt::format("devnet up --dir {} --validators 4 --masternodes 1 --viewers 1", dir.string()));
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  auto nodes = node::devnet_nodes(dir);
  REQUIRE(nodes.size() == 6);
  for (const auto& n : nodes)
    REQUIRE(n.pid != 0);

  // Blocks commit on every node.
  REQUIRE(eventually([&] { return height_of(nodes[5]) >= 3; }, 60s));

  // A transfer from a validator to the viewer, through the CLI and the node's API.
  const auto viewer = nodes[5];
  const auto before = run(fmt::format("wallet balance --home {}", viewer.home.root.string()));
  REQUIRE(before.exit_code == 0);
  const auto sent = run(fmt::format("wallet transfer {} 12.5 --home {}", viewer.id,
                                    nodes[0].home.root.string()));
  INFO(sent.text);
  REQUIRE(sent.exit_code == 0);
  CHECK_THAT(sent.text, Catch::Contains("committed by height"));
  const auto after = run(fmt::format("wallet balance --home {}", viewer.home.root.string()));
  REQUIRE(after.exit_code == 0);
  CHECK_THAT(after.text, Catch::Contains("balance 1000012.500000 tokens"));

  // kill -9 a validator; the other three keep committing; it comes back and catches up.
  const auto victim = nodes[1];
  REQUIRE(::kill(victim.pid, SIGKILL) == 0);
  const auto height_at_kill = height_of(nodes[0]);
  REQUIRE(eventually([&] { return height_of(nodes[0]) >= height_at_kill + 3; }, 60s));
  REQUIRE(node::start_node_process(STAKECAST_BINARY, victim.home));
  REQUIRE(eventually(
      [&] {
        const auto target = height_of(nodes[0]);
        const auto caught = height_of(victim);
        return target > 0 && caught >= target - 1;
      },
      60s));

  // Bad input through the CLI: clear errors, no crash.
  const auto bad_amount = run(fmt::format("wallet transfer {} 1.2345678 --home {}", viewer.id,
                                          nodes[0].home.root.string()));
  CHECK(bad_amount.exit_code == 2);
  CHECK_THAT(bad_amount.text, Catch::Contains("at most 6 decimals"));
  const auto no_home = run(fmt::format("status --home {}", (dir / "nowhere").string()));
  CHECK(no_home.exit_code == 2);
  CHECK_THAT(no_home.text, Catch::Contains("stakecast init"));

  const auto down = run(fmt::format("devnet down --dir {}", dir.string()));
  INFO(down.text);
  CHECK(down.exit_code == 0);
  for (const auto& n : node::devnet_nodes(dir))
    CHECK(n.pid == 0);
}
