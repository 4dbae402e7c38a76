// Pins down that the chain's clients never go back in time: an answer from a validator
// at a lower height than one already taken (a validator still catching up) is not
// taken. The node's chain client asks the next validator instead and fails, naming the
// height it waits for, once every validator is behind; a masternode's service agent
// ignores the answer (its assignments stay) and asks again the next round. Real actors
// on CAF's threads; every wait is bounded (5 s).
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/core/error.hpp"
#include "actors/peer/service.hpp"
#include "node/chain_client.hpp"
#include "tests/support/ids.hpp"
#include "tests/support/world_fakes.hpp"

using namespace stakecast;
using namespace std::chrono_literals;

namespace {

struct sent_query {
  core::node_id to;
  wire::chain_query query;
};

/// The `n`-th chain_query sent (from 1), once it was; nullopt after 5 s.
std::optional<sent_query> nth_query(test::locked_transport& transport, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(transport.mutex);
      std::size_t seen = 0;
      for (const auto& [to, message] : transport.inner.sent)
        if (const auto* q = std::get_if<wire::chain_query>(&message); q && ++seen == n)
          return sent_query{to, *q};
    }
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

wire::chain_answer answer_at(const sent_query& asked, std::uint64_t height,
                             std::vector<core::content_id> assigned = {}) {
  wire::chain_answer answer;
  answer.query_id = asked.query.query_id;
  answer.height = height;
  answer.assigned = std::move(assigned);
  return answer;
}

caf::actor_system_config quiet_config() {
  caf::actor_system_config config;
  config.set("logger.file-verbosity", caf::atom("quiet"));
  config.set("logger.console-verbosity", caf::atom("quiet"));
  return config;
}

struct null_blocks final : peer::audit_source {
  std::optional<peer::audit_block> read(const core::content_id&, std::uint32_t) const override {
    return std::nullopt;
  }
};

} // namespace

TEST_CASE("the node's chain client never takes an answer older than one it took",
          "[node][chain_client]") {
  test::locked_transport transport;
  test::locked_metrics metrics;
  auto config = quiet_config();
  caf::actor_system system{config};
  world::node_context context;
  context.id = test::node(1);
  context.network = &transport;
  context.telemetry = &metrics;
  node::chain_client_config settings;
  settings.validators = {test::node(2), test::node(3)};
  auto client = system.spawn(node::chain_client, context, settings);
  caf::scoped_actor self{system};
  std::size_t queries = 0;

  // Asks the client for an account and answers its queries at `heights`, in turn;
  // returns the height the client took, or the text of its error, and where each
  // query went.
  std::vector<core::node_id> asked_of;
  const auto ask = [&](std::vector<std::uint64_t> heights) {
    asked_of.clear();
    auto handle = self->request(client, 5s, node::account_query_atom::value, test::node(9),
                                std::vector<core::content_id>{});
    for (const auto height : heights) {
      const auto asked = nth_query(transport, ++queries);
      REQUIRE(asked);
      asked_of.push_back(asked->to);
      caf::anon_send(client, world::inbound{asked->to, answer_at(*asked, height)});
    }
    std::string outcome;
    handle.receive([&](const wire::chain_answer& a) { outcome = std::to_string(a.height); },
                   [&](const caf::error& e) { outcome = core::describe(e); });
    return outcome;
  };

  CHECK(ask({10}) == "10");
  // Validator 3 is at 7: validator 2 is asked again, and is at 12.
  CHECK(ask({7, 12}) == "12");
  REQUIRE(asked_of.size() == 2);
  CHECK(asked_of[0] == test::node(3));
  CHECK(asked_of[1] == test::node(2));
  // Both behind 12: the query fails and says why.
  CHECK_THAT(ask({8, 9}), Catch::Contains("below 12"));
  {
    std::lock_guard lock(metrics.mutex);
    CHECK(metrics.inner.value("chain_client.stale_answers") == 3);
  }
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

TEST_CASE("a masternode's service agent ignores an answer older than one it took",
          "[service][chain_client]") {
  test::locked_transport transport;
  test::locked_metrics metrics;
  core::direct_verifier verifier;
  auto config = quiet_config();
  caf::actor_system system{config};
  auto key = std::make_shared<const core::key_pair>(
      std::move(*core::key_pair::from_seed(core::hash256{})));
  world::node_context context;
  context.id = key->public_key();
  context.network = &transport;
  context.telemetry = &metrics;
  std::mutex assignments_mutex;
  std::vector<std::vector<core::content_id>> assignments;
  peer::service_agent_config settings;
  settings.validators = {test::node(2), test::node(3)};
  settings.claim_interval = std::chrono::hours(1); // rounds come from the test
  settings.blocks = std::make_shared<null_blocks>();
  settings.signatures = &verifier;
  settings.on_assignments = [&](const std::vector<core::content_id>& contents) {
    std::lock_guard lock(assignments_mutex);
    assignments.push_back(contents);
  };
  auto agent = system.spawn(peer::service_agent, context, key, settings);
  core::content_id a;
  a.bytes[0] = 0xa1;
  core::content_id b;
  b.bytes[0] = 0xb2;

  // The first round comes by itself after 1 s; the next ones when the test ticks.
  const auto round = [&](std::size_t n, std::uint64_t height,
                         std::vector<core::content_id> assigned) {
    if (n > 1)
      caf::anon_send(agent, peer::claim_tick_atom::value);
    const auto asked = nth_query(transport, n);
    REQUIRE(asked);
    caf::anon_send(agent,
                   world::inbound{asked->to, answer_at(*asked, height, std::move(assigned))});
  };
  const auto assignments_seen = [&](std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(assignments_mutex);
        if (assignments.size() >= count)
          return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  };

  round(1, 10, {a});
  REQUIRE(assignments_seen(1));
  round(2, 7, {}); // a validator catching up: it does not know of `a` yet
  round(3, 11, {a, b});
  REQUIRE(assignments_seen(2));
  {
    std::lock_guard lock(assignments_mutex);
    CHECK(assignments.size() == 2);
    CHECK(assignments[0] == std::vector<core::content_id>{a});
    CHECK(assignments[1] == std::vector<core::content_id>{a, b});
  }
  {
    std::lock_guard lock(metrics.mutex);
    CHECK(metrics.inner.value("service.answers_stale") == 1);
  }
  caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
}
