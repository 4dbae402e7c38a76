// Pins how content_service (content_service.hpp) ends viewing sessions nobody reads:
// a read of a content the node does not hold opens a session (the chain, a stand-in
// actor here, places the content on a masternode that never answers); a session read
// every 100 ms stays open, and one left unread for `session_idle` (1 s here) is ended
// within about 1.5 s, well before its viewer would give up waiting for the manifest
// (6 s). Every wait is bounded.
#include "node/content_service.hpp"

#include <chrono>
#include <future>
#include <thread>

#include <caf/actor_system_config.hpp>
#include <catch2/catch.hpp>

#include "actors/storage/memory_store.hpp"
#include "tests/support/ids.hpp"
#include "tests/support/world_fakes.hpp"

using namespace stakecast;
using namespace stakecast::node;
using namespace std::chrono_literals;

namespace {

/// Answers every account query with the same chain_answer.
chain_client_actor::behavior_type answering_chain(chain_client_actor::pointer, wire::chain_answer answer) {
  return {
      [](const world::inbound&) {},
      [answer](account_query_atom, const core::node_id&, const std::vector<core::content_id>&) {
        return answer;
      },
      [](submit_tx_atom, const core::byte_buffer&) { return caf::ok_atom::value; },
      [](query_timeout_atom, std::uint64_t) {},
  };
}

/// Reads byte 0 of `content` and returns what the read answered (an error before the
/// manifest arrives: the read only has to reach the session).
std::string read_once(content_service& service, const core::content_id& content) {
  std::promise<std::string> answered;
  service.read(content, 0, 100, [&](content_source::read_result result) {
    const auto* error = std::get_if<std::string>(&result);
    answered.set_value(error != nullptr ? *error : std::string("bytes"));
  });
  auto future = answered.get_future();
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  return future.get();
}

bool open_within(content_service& service, const core::content_id& content, bool open,
                 std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (static_cast<bool>(service.session_for(content)) != open) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

} // namespace

TEST_CASE("a viewing session nobody reads is ended and a read one is kept", "[node][content]") {
  // What the actors use is made before the actor system, so it outlives them (the
  // system's destructor waits for every actor); they run on several threads.
  storage::memory_store store;
  test::locked_transport transport;
  test::locked_metrics metrics;
  caf::actor_system_config config;
  config.set("logger.file-verbosity", caf::atom("quiet"));
  config.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system system{config};
  world::node_context context;
  context.id = test::node(1);
  context.storage = &store;
  context.network = &transport;
  context.telemetry = &metrics;

  core::content_id read_one;
  read_one.bytes[0] = 0xa1;
  core::content_id left_one;
  left_one.bytes[0] = 0xa2;
  wire::chain_answer answer;
  for (const auto& content : {read_one, left_one})
    answer.placements.push_back({content, true, test::node(2), {test::node(3)}});

  content_settings settings;
  settings.key = std::make_shared<const core::key_pair>(std::move(*core::key_pair::from_seed(core::hash256{})));
  settings.session_idle = 1s;
  auto storage = system.spawn(storage::storage, context);
  auto chain = system.spawn(answering_chain, answer);
  auto service = std::make_shared<content_service>(system, context, settings, storage,
                                                   peer::masternode_actor{}, chain);

  CHECK_THAT(read_once(*service, read_one), Catch::Contains("manifest"));
  CHECK_THAT(read_once(*service, left_one), Catch::Contains("manifest"));
  REQUIRE(open_within(*service, read_one, true, 5s));
  REQUIRE(open_within(*service, left_one, true, 5s));
  // 2.5 s: the unread one goes (idle 1 s, looked at every 0.5 s), the read one stays.
  for (int i = 0; i < 25; ++i) {
    read_once(*service, read_one);
    std::this_thread::sleep_for(100ms);
  }
  CHECK(open_within(*service, left_one, false, 1s));
  CHECK(service->session_for(read_one));
  service->stop();
  CHECK_FALSE(service->session_for(read_one));
  caf::anon_send_exit(storage, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(chain, caf::exit_reason::user_shutdown);
}
