// Slashing: double-sign evidence slashes the validator, its delegators and its recent
// unbonding entries exactly once and tombstones it; evidence against it again is
// rejected. Downtime jails (with a small slash) and an unjail is accepted only after
// jail_blocks; validators that sign are never touched.
#include <catch2/catch.hpp>

#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

namespace {

evidence_body double_sign(const test_chain& c, std::size_t validator, std::uint64_t height) {
  vote a;
  a.chain = c.chain();
  a.height = height;
  a.kind = static_cast<std::uint8_t>(vote_kind::precommit);
  a.block.bytes[0] = 1;
  auto b = a;
  b.block.bytes[0] = 2;
  sign(a, c.validator(validator));
  sign(b, c.validator(validator));
  return {a, b};
}

} // namespace

TEST_CASE("double-sign evidence slashes bond delegators and unbonding once and tombstones") {
  test_chain c;
  auto& s = c.current();
  auto v = c.validator(3).public_key();
  auto u = c.user(0).public_key();
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), delegate_body{v, 40'000})}));
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), unbond_body{v, 10'000})}));
  auto evidence = double_sign(c, 3, s.globals.height - 1);
  REQUIRE_FALSE(c.commit({c.tx(c.user(1), evidence)}));
  // 5%: 100'000 -> 95'000, 30'000 -> 28'500, the unbonding 10'000 -> 9'500.
  const auto* record = s.validators.find(v);
  CHECK(record->tombstoned);
  CHECK(record->jailed);
  CHECK(record->self_bond == 95'000);
  CHECK(record->delegated == 28'500);
  CHECK(s.delegations.find({v, u})->value == 28'500);
  CHECK(s.unbondings.entries().begin()->second.value == 9'500);
  CHECK(s.globals.slashed == 5'000 + 1'500 + 500);
  CHECK_FALSE(s.active_validators.contains(v));
  auto again = c.tx(c.user(2), evidence);
  CHECK(is(check_tx(s, again, c.verifier()), tx_errc::already_tombstoned));
  c.forget_nonces();
  CHECK(is(check_tx(s, c.tx(c.validator(3), unjail_body{}), c.verifier()),
           tx_errc::already_tombstoned));
  c.forget_nonces();
  c.finish_epoch();
  CHECK_FALSE(s.active_validators.contains(v));
  CHECK(s.globals.slashed == 7'000);
  CHECK(supply_invariant_ok(s));
}

TEST_CASE("evidence with a forged vote or too old is rejected") {
  test_chain c;
  auto evidence = double_sign(c, 0, 1);
  evidence.second.signature.bytes[0] ^= 1;
  CHECK(is(check_tx(c.current(), c.tx(c.user(0), evidence), c.verifier()),
           tx_errc::bad_evidence_signature));
  c.forget_nonces();
  c.advance(c.current().params.unbonding_blocks + 2);
  CHECK(is(check_tx(c.current(), c.tx(c.user(0), double_sign(c, 0, 1)), c.verifier()),
           tx_errc::evidence_too_old));
}

TEST_CASE("a validator missing too many commits is jailed then unjails after jail_blocks") {
  test_chain c;
  auto& s = c.current();
  const auto& p = s.params;
  auto v = c.validator(2).public_key();
  std::set<core::node_id> absent{v};
  // Block 1 has no commit; from block 2 on, each block's commit lacks v.
  std::uint64_t blocks = 0;
  while (!s.validators.find(v)->jailed) {
    c.advance(1, absent);
    ++blocks;
    REQUIRE(blocks < 20);
  }
  // Missed in blocks 2 ..= blocks + 1: jailed when missed > downtime_missed_max.
  CHECK(blocks == p.downtime_missed_max + 2);
  CHECK(s.validators.find(v)->self_bond == 100'000 - ppm_of(100'000, p.downtime_slash));
  CHECK_FALSE(s.active_validators.contains(v));
  auto jailed_until = s.validators.find(v)->jailed_until;
  for (std::size_t i = 0; i < 4; ++i)
    if (i != 2)
      CHECK_FALSE(s.validators.find(c.validator(i).public_key())->jailed);

  auto early = c.tx(c.validator(2), unjail_body{});
  auto error = check_tx(s, early, c.verifier());
  c.forget_nonces();
  CHECK(is(error, tx_errc::still_jailed));
  while (s.globals.height + 1 < jailed_until)
    c.advance(1);
  REQUIRE_FALSE(c.commit({c.tx(c.validator(2), unjail_body{})}));
  CHECK_FALSE(s.validators.find(v)->jailed);
  c.finish_epoch();
  CHECK(s.active_validators.contains(v));
  CHECK(supply_invariant_ok(s));
}
