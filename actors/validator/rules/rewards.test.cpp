// Epoch rewards and inflation, against hand-computed numbers: inflation steps toward
// the bonded-ratio target within its bounds; the mint is supply * inflation /
// epochs_per_year; the validator pool is split by power * signed blocks; the operator
// keeps its commission and its own bond's share, delegators get the rest pro rata;
// a pool nobody earned is not minted.
#include <catch2/catch.hpp>

#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

namespace {

// One validator (own bond 600'000, commission 10%) with a delegator (400'000), one
// user holding 1'000'000: supply 2'000'000, bonded ratio 50%, target 60%.
test_chain one_validator() {
  auto p = rules::testing::small_parameters();
  p.inflation_initial = 100'000;
  p.inflation_change = 10'000;
  p.inflation_max = 115'000;
  p.target_bonded_ratio = 600'000;
  p.epochs_per_year = 10;
  p.validator_reward_share = 500'000;
  rules::testing::chain_shape shape;
  shape.validators = 1;
  shape.masternodes = 0;
  shape.users = 1;
  shape.user_balance = 0;
  shape.validator_bond = 600'000;
  shape.commission = 100'000;
  test_chain c{p, shape};
  auto& g = c.genesis_record();
  g.accounts.back().balance = 1'000'000;
  g.delegations.push_back({c.user(0).public_key(), c.validator(0).public_key(), 400'000});
  c.reset();
  return c;
}

} // namespace

TEST_CASE("an epoch reward splits by commission and delegation as computed by hand") {
  auto c = one_validator();
  auto& s = c.current();
  auto v = c.validator(0).public_key();
  auto u = c.user(0).public_key();
  REQUIRE(total_supply(s) == 2'000'000);
  c.finish_epoch();
  // Ratio 50% < 60%: inflation 100'000 -> 110'000 ppm.
  CHECK(s.globals.inflation == 110'000);
  // Mint 2'000'000 * 0.11 / 10 = 22'000; validators' half 11'000; the masternodes'
  // half has no recipient and is not minted.
  CHECK(s.globals.minted == 11'000);
  CHECK(s.globals.rewards_validators == 11'000);
  CHECK(s.globals.rewards_masternodes == 0);
  // Commission 1'100; the 9'900 rest: delegator 9'900 * 0.4 = 3'960, operator 7'040.
  CHECK(balance(s, u) == 1'000'000 + 3'960);
  CHECK(balance(s, v) == 7'040);
  CHECK(supply_invariant_ok(s));

  c.finish_epoch();
  // Ratio 1'000'000 / 2'011'000 < 60%: 110'000 + 10'000 clamps at the 115'000 max.
  CHECK(s.globals.inflation == 115'000);
  // Mint 2'011'000 * 0.115 / 10 = 23'126 (floor of 23'126.5); half 11'563.
  CHECK(s.globals.minted == 11'000 + 11'563);
}

TEST_CASE("inflation falls toward its minimum when the bonded ratio is above target") {
  auto c = one_validator();
  auto& s = c.current();
  s.params.target_bonded_ratio = 100'000;
  s.params.inflation_min = 95'000;
  c.finish_epoch();
  CHECK(s.globals.inflation == 95'000); // 100'000 - 10'000 clamps at the minimum
  c.finish_epoch();
  CHECK(s.globals.inflation == 95'000);
}

TEST_CASE("validator rewards follow power times signed blocks") {
  rules::testing::chain_shape shape;
  shape.masternodes = 0;
  test_chain c{rules::testing::small_parameters(), shape};
  auto& s = c.current();
  auto absent = c.validator(3).public_key();
  auto before = balance(s, absent);
  c.advance(s.params.epoch_blocks, {absent});
  // Block 1 carries no commit; blocks 2 ..= 10 carry 9 commits; the absent one
  // signed none (and is jailed for it), the others signed all 9 with equal power.
  CHECK(s.validators.find(absent)->jailed);
  CHECK(balance(s, absent) == before);
  auto paid = s.globals.rewards_validators;
  CHECK(paid > 0);
  CHECK(paid % 3 == 0);
  CHECK(balance(s, c.validator(0).public_key()) == 10'000'000 + paid / 3);
}
