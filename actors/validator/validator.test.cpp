// Pins down validator_node without CAF or the simulator, through its public inputs and
// a hand-driven world (a manual clock, a recording transport, an in-memory store):
// a lone validator commits a block per block interval from its own timers, writes
// each commit to the store, and a new validator on the same store resumes at the same
// height and state root; a committed block is served by height with the precommits
// that decided it; hostile bytes are counted and dropped.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"
#include "actors/storage/memory_store.hpp"
#include "actors/validator/rules/test_chain.hpp"
#include "actors/validator/validator.hpp"
#include "tests/support/world_fakes.hpp"

using namespace stakecast;
using namespace stakecast::validator;
using test::counting_metrics;
using test::recording_transport;

namespace {

struct manual_clock final : world::clock {
  std::int64_t now_ms = 1'700'000'000'000;
  world::utc_time now_utc() const override {
    return world::utc_time{std::chrono::milliseconds(now_ms)};
  }
};

/// One validator in a hand-driven world; timers fire in time order from `run_until`.
struct lone_validator {
  static constexpr std::size_t timer_firings_max = 10'000;

  manual_clock clock;
  recording_transport transport;
  counting_metrics metrics;
  storage::memory_store* store;
  core::direct_verifier verifier;
  std::multimap<std::int64_t, std::function<void()>> timers;
  std::unique_ptr<validator_node> node;

  lone_validator(storage::memory_store& shared_store, const rules::genesis& genesis,
                 const core::hash256& seed, std::int64_t start_ms = 1'700'000'000'000)
      : store(&shared_store) {
    clock.now_ms = start_ms;
    world::node_context context;
    context.id = (*core::key_pair::from_seed(seed)).public_key();
    context.wall_clock = &clock;
    context.network = &transport;
    context.storage = store;
    context.telemetry = &metrics;
    validator_config config;
    config.genesis = genesis;
    config.key_seed = seed;
    config.signatures = &verifier;
    config.block_interval_ms = 1000;
    validator_timers hooks;
    hooks.timeout = [this](const schedule_timeout& t) {
      timers.emplace(clock.now_ms + t.delay_ms, [this, t] { node->on_timeout(t); });
    };
    hooks.build = [this](std::int64_t delay_ms, std::uint64_t height, std::uint32_t round) {
      timers.emplace(clock.now_ms + delay_ms,
                     [this, height, round] { node->on_build(height, round); });
    };
    node = std::make_unique<validator_node>(context, std::move(config), std::move(hooks));
    node->start();
  }

  void run_until(std::int64_t end_ms) {
    for (std::size_t fired = 0; !timers.empty() && timers.begin()->first <= end_ms; ++fired) {
      REQUIRE(fired < timer_firings_max);
      auto next = timers.extract(timers.begin());
      clock.now_ms = std::max(clock.now_ms, next.key());
      next.mapped()();
    }
    clock.now_ms = std::max(clock.now_ms, end_ms);
  }
};

core::hash256 seed_of(std::uint8_t n) {
  core::hash256 seed;
  seed.bytes[0] = n;
  seed.bytes[1] = 0x7a;
  return seed;
}

rules::genesis lone_genesis(const core::hash256& seed) {
  rules::genesis g;
  g.chain_name = "lone";
  g.genesis_time_ms = 1'700'000'000'000;
  g.params = rules::testing::small_parameters();
  const auto id = (*core::key_pair::from_seed(seed)).public_key();
  g.validators.push_back({id, 100'000, 0});
  g.accounts.push_back({id, 1'000'000});
  return g;
}

} // namespace

TEST_CASE("a lone validator commits one block per interval and resumes from its store",
          "[validator]") {
  // Bounds: 10 s of 1 s blocks give 9 to 11 heights; the restarted node starts exactly
  // where the store left it.
  const auto seed = seed_of(1);
  const auto genesis = lone_genesis(seed);
  storage::memory_store store;
  core::hash256 root;
  std::uint64_t height = 0;
  std::int64_t crashed_at_ms = 0;
  {
    lone_validator v(store, genesis, seed);
    v.run_until(v.clock.now_ms + 10'000);
    height = v.node->height();
    CHECK(height >= 9);
    CHECK(height <= 11);
    CHECK(v.metrics.value("chain.commits") == static_cast<std::int64_t>(height));
    CHECK(v.metrics.value("chain.store_errors") == 0);
    root = v.node->state().commitment.root;
    crashed_at_ms = v.clock.now_ms;
  }
  lone_validator restarted(store, genesis, seed, crashed_at_ms);
  CHECK(restarted.node->height() == height);
  CHECK(restarted.node->state().commitment.root == root);
  restarted.run_until(restarted.clock.now_ms + 3'000);
  CHECK(restarted.node->height() > height);
}

TEST_CASE("a committed block is served by height with the precommits that decided it",
          "[validator]") {
  const auto seed = seed_of(2);
  storage::memory_store store;
  lone_validator v(store, lone_genesis(seed), seed);
  v.run_until(v.clock.now_ms + 5'000);
  REQUIRE(v.node->height() >= 3);
  const core::node_id asker = core::sha256(core::as_bytes("asker"));
  v.transport.sent.clear();
  v.node->on_message(asker, wire::chain_block_request{2});
  v.node->on_message(asker, wire::chain_block_request{v.node->height() + 5}); // not yet: ignored
  REQUIRE(v.transport.sent.size() == 1);
  CHECK(v.transport.sent[0].first == asker);
  const auto& response = std::get<wire::chain_block_response>(v.transport.sent[0].second);
  CHECK(response.height == 2);
  CHECK(response.tip == v.node->height());
  auto block = core::decode_record<rules::block>(response.block_encoded.view(), "block");
  REQUIRE(block);
  REQUIRE(response.precommits.size() == 1);
  CHECK(response.precommits[0].block == rules::block_hash(*block));
  CHECK(response.precommits[0].height == 2);
}

TEST_CASE("hostile transactions are counted and dropped", "[validator]") {
  const auto seed = seed_of(3);
  storage::memory_store store;
  lone_validator v(store, lone_genesis(seed), seed);
  const core::node_id client = core::sha256(core::as_bytes("client"));
  v.node->on_message(client, wire::chain_tx{{1, 2, 3}});
  auto tx =
      rules::make_transaction(rules::chain_id(lone_genesis(seed)), *core::key_pair::from_seed(seed),
                              7, 1000, rules::transfer_body{client, 5}); // nonce gap
  v.node->on_message(client, wire::chain_tx{core::encode_record(tx)});
  CHECK(v.metrics.value("chain.mempool.invalid") == 2);
  CHECK(v.node->pool().size() == 0);
  auto good =
      rules::make_transaction(rules::chain_id(lone_genesis(seed)), *core::key_pair::from_seed(seed),
                              0, 1000, rules::transfer_body{client, 5});
  v.node->on_message(client, wire::chain_tx{core::encode_record(good)});
  CHECK(v.node->pool().size() == 1);
  v.run_until(v.clock.now_ms + 3'000);
  CHECK(v.node->pool().size() == 0); // committed, then dropped by the recheck
  CHECK(rules::balance(v.node->state(), client) == 5);
}
