// Audits: at an epoch boundary every active masternode gets challenges drawn from
// the chain over the contents it has held since the previous boundary (a content
// published or moved to it since then waits one more boundary, so an honest
// masternode has a whole epoch to fetch it); an honest masternode answers with the
// block and its Merkle path and is never slashed; a lazy one (no answers) is slashed
// audit_slash and jailed at the deadline, and earns nothing for that epoch; a wrong
// block is rejected.
#include <algorithm>

#include <catch2/catch.hpp>

#include "actors/core/merkle.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

namespace {

struct audited_content {
  core::content_id id;
  core::byte_buffer bytes;
  core::merkle_tree tree = core::merkle_tree::build({core::hash256{}});

  explicit audited_content(std::uint8_t tag) {
    id.bytes[0] = tag;
    bytes.resize(3 * core::block_bytes + 100);
    for (std::size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<std::uint8_t>(i * 31 + tag);
    std::vector<core::hash256> leaves;
    for (std::uint32_t i = 0; i < core::block_count(bytes.size()); ++i)
      leaves.push_back(core::leaf_hash(core::content_block(bytes, i)));
    tree = core::merkle_tree::build(std::move(leaves));
  }

  publish_content_body publish() const {
    return {id, tree.root(), tree.leaf_count(), bytes.size(), 3};
  }

  audit_response_body answer(std::uint64_t challenge, std::uint32_t index) const {
    auto block = core::content_block(bytes, index);
    auto proof = tree.proof(index);
    return {challenge, {block.begin(), block.end()}, proof.leaf_count, proof.siblings};
  }
};

// The test chain's masternode whose id is `id`.
std::size_t masternode_index(const test_chain& c, const core::node_id& id) {
  std::size_t i = 0;
  while (c.masternode(i).public_key() != id)
    ++i;
  return i;
}

// Publishes `content` and ends two epochs: the first boundary settles its placement,
// the second challenges its holders.
void publish_and_settle(test_chain& c, const audited_content& content) {
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), content.publish())}));
  c.finish_epoch();
  REQUIRE(c.current().challenges.size() == 0);
  c.finish_epoch();
}

// Answers every pending challenge of masternode `m` in one block.
void answer_all(test_chain& c, std::size_t m, const audited_content& content) {
  std::vector<transaction> answers;
  for (const auto& [id, challenge] : pending_challenges(c.current(), c.masternode(m).public_key()))
    answers.push_back(c.tx(c.masternode(m), content.answer(id, challenge.block_index)));
  REQUIRE_FALSE(c.commit(answers));
}

} // namespace

TEST_CASE("a lazy masternode is slashed and jailed at the deadline and an honest one never") {
  test_chain c;
  audited_content content{7};
  publish_and_settle(c, content);
  auto& s = c.current();
  auto lazy = c.masternode(0).public_key();
  auto lazy_stake = s.masternodes.find(lazy)->stake;
  REQUIRE(pending_challenges(s, lazy).size() == s.params.audit_challenges_per_masternode);

  // Honest masternodes 1 and 2 answer; masternode 0 does not.
  std::vector<transaction> answers;
  for (std::size_t m = 1; m < 3; ++m)
    for (const auto& [id, challenge] : pending_challenges(s, c.masternode(m).public_key()))
      answers.push_back(c.tx(c.masternode(m), content.answer(id, challenge.block_index)));
  REQUIRE_FALSE(c.commit(answers));
  c.advance(s.params.audit_window_blocks);

  CHECK(s.masternodes.find(lazy)->jailed);
  CHECK(s.masternodes.find(lazy)->stake == lazy_stake - ppm_of(lazy_stake, s.params.audit_slash));
  CHECK_FALSE(s.active_masternodes.contains(lazy));
  CHECK(s.epoch_service.find(lazy)->audit_failed);
  for (std::size_t m = 1; m < 3; ++m) {
    const auto* honest = s.masternodes.find(c.masternode(m).public_key());
    CHECK_FALSE(honest->jailed);
    CHECK(honest->stake == 100'000);
  }
  CHECK(s.challenges.size() == 0);
  CHECK(s.globals.slashed == ppm_of(lazy_stake, s.params.audit_slash));
  CHECK(supply_invariant_ok(s));
}

TEST_CASE("a wrong audit block is rejected and a correct one later still counts") {
  test_chain c;
  audited_content content{8};
  publish_and_settle(c, content);
  auto& s = c.current();
  auto m = c.masternode(1).public_key();
  auto [id, challenge] = pending_challenges(s, m).front();
  auto wrong = content.answer(id, challenge.block_index);
  wrong.block[0] ^= 1;
  auto error = check_tx(s, c.tx(c.masternode(1), wrong), c.verifier());
  c.forget_nonces();
  CHECK(is(error, tx_errc::audit_proof_invalid));
  error = check_tx(s, c.tx(c.masternode(2), content.answer(id, challenge.block_index)),
                   c.verifier());
  c.forget_nonces();
  CHECK(is(error, tx_errc::challenge_not_yours));
  REQUIRE_FALSE(c.commit({c.tx(c.masternode(1), content.answer(id, challenge.block_index))}));
  CHECK_FALSE(s.challenges.contains(id));
}

TEST_CASE("a content assigned at this boundary is not challenged until the next") {
  test_chain c;
  audited_content content{9};
  auto publish = content.publish();
  publish.replicas = 2;
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), publish)}));
  auto& s = c.current();
  const auto per_masternode = s.params.audit_challenges_per_masternode;
  auto holders = assigned_masternodes(s, content.id);
  REQUIRE(holders.size() == 2);
  auto lazy = masternode_index(c, holders[0]);
  auto honest = masternode_index(c, holders[1]);
  auto newcomer = 3 - lazy - honest; // the masternode without the content
  auto pending = [&](std::size_t m) { return pending_challenges(s, c.masternode(m).public_key()); };

  // Published during the epoch: not challenged at its end.
  c.finish_epoch();
  CHECK(s.challenges.size() == 0);

  // Held for a whole epoch: both holders are challenged. The lazy one answers nothing
  // and is slashed and jailed at the deadline, so the content moves to the newcomer.
  c.finish_epoch();
  CHECK(pending(lazy).size() == per_masternode);
  CHECK(pending(honest).size() == per_masternode);
  CHECK(pending(newcomer).empty());
  auto lazy_stake = s.masternodes.find(holders[0])->stake;
  answer_all(c, honest, content);
  c.advance(s.params.audit_window_blocks);
  CHECK(s.masternodes.find(holders[0])->jailed);
  CHECK(s.masternodes.find(holders[0])->stake
        == lazy_stake - ppm_of(lazy_stake, s.params.audit_slash));
  auto moved = assigned_masternodes(s, content.id);
  REQUIRE(std::find(moved.begin(), moved.end(), c.masternode(newcomer).public_key())
          != moved.end());

  // The newcomer holds the content at this boundary but did not at the one before.
  c.finish_epoch();
  CHECK(pending(newcomer).empty());
  CHECK(pending(honest).size() == per_masternode);
  CHECK(pending(lazy).empty());
  answer_all(c, honest, content);

  // A whole epoch later it must prove it holds the content.
  c.finish_epoch();
  auto challenges = pending(newcomer);
  CHECK(challenges.size() == per_masternode);
  for (const auto& [id, challenge] : challenges)
    CHECK(challenge.content == content.id);
  CHECK_FALSE(s.masternodes.find(c.masternode(newcomer).public_key())->jailed);
  CHECK(supply_invariant_ok(s));
}
