// The state root: two states built by the same blocks have the same root, any change
// to any table changes it, and the incrementally cached root always equals the root
// computed from scratch.
#include <catch2/catch.hpp>

#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

TEST_CASE("states built by the same blocks have equal roots") {
  test_chain a;
  test_chain b;
  auto to = a.user(1).public_key();
  for (int i = 0; i < 12; ++i) {
    auto block = a.make_block({a.tx(a.user(0), transfer_body{to, 10u + i})});
    REQUIRE_FALSE(a.commit_block(block));
    REQUIRE_FALSE(b.commit_block(block));
    CHECK(a.current().commitment.root == b.current().commitment.root);
    CHECK(a.current().commitment.root == state_root_from_scratch(a.current()));
  }
}

TEST_CASE("any change to the state changes its root") {
  test_chain c;
  c.advance(1);
  auto& s = c.current();
  auto root = state_root(s);
  auto changed = [&](auto mutate) {
    state copy = s;
    mutate(copy);
    auto incremental = state_root(copy);
    CHECK(incremental == state_root_from_scratch(copy));
    return incremental != root;
  };
  auto u = c.user(0).public_key();
  CHECK(changed([&](state& x) { x.accounts.find_mut(u)->balance += 1; }));
  CHECK(changed([&](state& x) { x.accounts.find_mut(u)->nonce += 1; }));
  CHECK(changed([&](state& x) { x.accounts.erase(u); }));
  CHECK(changed([&](state& x) { x.validators.find_mut(c.validator(0).public_key())->commission = 1; }));
  CHECK(changed([&](state& x) { x.masternodes.find_mut(c.masternode(0).public_key())->endpoint = "x:1"; }));
  CHECK(changed([&](state& x) { x.contents.put({}, {}); }));
  CHECK(changed([&](state& x) { x.deposits.put({}, {}); }));
  CHECK(changed([&](state& x) { x.claims.put({}, {}); }));
  CHECK(changed([&](state& x) { x.challenges.put(1, {}); }));
  CHECK(changed([&](state& x) { x.delegations.put({}, {}); }));
  CHECK(changed([&](state& x) { x.unbondings.put({}, {}); }));
  CHECK(changed([&](state& x) { x.epoch_service.put({}, {}); }));
  CHECK(changed([&](state& x) { x.epoch_signing.put({}, {}); }));
  CHECK(changed([&](state& x) { x.active_validators.erase(c.validator(0).public_key()); }));
  CHECK(changed([&](state& x) { x.last_validators.erase(c.validator(0).public_key()); }));
  CHECK(changed([&](state& x) { x.active_masternodes.erase(c.masternode(0).public_key()); }));
  CHECK(changed([&](state& x) { x.globals.burned += 1; }));
  CHECK_FALSE(changed([&](state& x) { x.accounts.find_mut(u)->balance += 0; }));
}
