// Votes: a signed vote verifies, any change to a signed field breaks it, and two votes
// conflict exactly when one validator signed two blocks for one height, round and kind.
#include "actors/validator/rules/vote.hpp"

#include <utility>

#include <catch2/catch.hpp>

#include "actors/core/sha256.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using rules::testing::key;

namespace {

rules::vote signed_vote(const core::key_pair& k, std::uint8_t block_byte) {
  rules::vote v;
  v.chain.bytes[0] = 7;
  v.height = 10;
  v.round = 2;
  v.kind = static_cast<std::uint8_t>(rules::vote_kind::precommit);
  v.block.bytes[0] = block_byte;
  rules::sign(v, k);
  return v;
}

} // namespace

TEST_CASE("a signed vote verifies and a changed field breaks its signature") {
  auto k = key(1);
  auto v = signed_vote(k, 1);
  core::direct_verifier direct;
  CHECK(v.validator == k.public_key());
  CHECK(rules::verify(v, direct));
  auto changed = v;
  changed.height += 1;
  CHECK_FALSE(rules::verify(changed, direct));
  changed = v;
  changed.kind = static_cast<std::uint8_t>(rules::vote_kind::prevote);
  CHECK_FALSE(rules::verify(changed, direct));
  changed = v;
  changed.chain.bytes[0] ^= 1;
  CHECK_FALSE(rules::verify(changed, direct));
  changed = v;
  changed.validator = key(2).public_key();
  CHECK_FALSE(rules::verify(changed, direct));
  changed = v;
  changed.kind = 9;
  CHECK_FALSE(rules::verify(changed, direct));
}

TEST_CASE("votes conflict only for two blocks at one height round and kind") {
  auto k = key(1);
  auto a = signed_vote(k, 1);
  auto b = signed_vote(k, 2);
  CHECK(rules::conflicting(a, b));
  auto nil = a;
  nil.block = {};
  CHECK(nil.is_nil());
  CHECK(rules::conflicting(a, nil));
  CHECK_FALSE(rules::conflicting(a, a));
  auto later_round = b;
  later_round.round += 1;
  CHECK_FALSE(rules::conflicting(a, later_round));
  auto other_kind = b;
  other_kind.kind = static_cast<std::uint8_t>(rules::vote_kind::prevote);
  CHECK_FALSE(rules::conflicting(a, other_kind));
  auto other_validator = signed_vote(key(2), 2);
  CHECK_FALSE(rules::conflicting(a, other_validator));
}
