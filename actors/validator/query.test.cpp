// A validator's answer to a chain_query: the asker's nonce and balance, the contents
// placed on it, its open challenges (earliest deadline first) and the deposits asked
// about, with what the asker claimed from each, and the placements of the contents
// asked about, all from the committed state.
#include <catch2/catch.hpp>

#include <algorithm>

#include "actors/validator/query.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

TEST_CASE("a chain_query is answered from the committed state", "[validator]") {
  test_chain c;
  core::content_id content;
  content.bytes[0] = 0x51;
  const auto& viewer = c.user(1);
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), publish_content_body{content, {}, 1, 100, 3}),
                          c.tx(viewer, open_deposit_body{5'000'000})}));
  const auto deposit = deposit_id(viewer.public_key(), 0);
  auto& s = c.current();
  const auto placed = assigned_masternodes(s, content);
  REQUIRE_FALSE(placed.empty());
  const auto m = placed.front();
  std::size_t masternode = 0;
  while (c.masternode(masternode).public_key() != m)
    ++masternode;
  receipt r{c.chain(), deposit, viewer.public_key(), m, content, 1ull << 30, {}};
  sign(r, viewer);
  REQUIRE_FALSE(c.commit({c.tx(c.masternode(masternode), claim_receipts_body{{r}})}));

  core::hash256 unknown;
  unknown.bytes[0] = 0x77;
  const auto answer = validator::answer_query(s, {9, m, {deposit, unknown}, {content, unknown}});
  CHECK(answer.query_id == 9);
  CHECK(answer.chain == c.chain());
  CHECK(answer.height == s.globals.height);
  CHECK(answer.nonce == nonce(s, m));
  CHECK(answer.balance == balance(s, m));
  CHECK(answer.price_per_gib == s.params.price_per_gib);
  CHECK_FALSE(answer.jailed);
  CHECK(answer.assigned == std::vector<core::content_id>{content});
  REQUIRE(answer.deposits.size() == 2);
  CHECK(answer.deposits[0].found);
  CHECK(answer.deposits[0].viewer == viewer.public_key());
  CHECK(answer.deposits[0].claimed == 1ull << 30);
  CHECK(answer.deposits[0].remaining == s.deposits.find(deposit)->remaining);
  CHECK_FALSE(answer.deposits[1].found);
  CHECK(answer.challenges.empty());
  // The placements asked about: the publisher and the masternodes it is placed on.
  REQUIRE(answer.placements.size() == 2);
  CHECK(answer.placements[0].content == content);
  CHECK(answer.placements[0].found);
  CHECK(answer.placements[0].publisher == c.user(0).public_key());
  CHECK(answer.placements[0].masternodes == placed);
  CHECK(answer.placements[1].content == unknown);
  CHECK_FALSE(answer.placements[1].found);
  CHECK(answer.placements[1].masternodes.empty());

  // Two boundaries later the content is settled and challenged.
  c.finish_epoch();
  c.finish_epoch();
  const auto later = validator::answer_query(s, {10, m, {}, {}});
  const auto pending = pending_challenges(s, m);
  REQUIRE(later.challenges.size() == pending.size());
  REQUIRE_FALSE(later.challenges.empty());
  for (std::size_t i = 0; i + 1 < later.challenges.size(); ++i)
    CHECK(later.challenges[i].deadline_height <= later.challenges[i + 1].deadline_height);
  CHECK(later.challenges[0].content == content);

  // Someone with nothing: zero nonce, nothing placed, no challenges.
  const auto nobody = validator::answer_query(s, {11, c.user(2).public_key(), {}, {}});
  CHECK(nobody.nonce == 0);
  CHECK(nobody.assigned.empty());
  CHECK(nobody.challenges.empty());
}
