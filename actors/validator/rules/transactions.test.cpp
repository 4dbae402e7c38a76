// Transactions: every rejection reason is reachable and named, a rejected transaction
// changes nothing (its sender's nonce included), and a block holding one invalid
// transaction is rejected whole with the state left as it was.
#include <catch2/catch.hpp>

#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;
using rules::testing::text;

namespace {

// The error check_tx gives, and a check that the state did not change.
caf::error rejected(test_chain& c, const transaction& tx) {
  auto before = state_root_from_scratch(c.current());
  auto error = check_tx(c.current(), tx, c.verifier());
  CHECK(state_root_from_scratch(c.current()) == before);
  c.forget_nonces();
  return error;
}

} // namespace

TEST_CASE("a transfer moves funds pays its fee to the proposer and bumps the nonce") {
  test_chain c;
  auto from = c.user(0).public_key();
  auto to = c.user(1).public_key();
  auto proposer = active_validators(c.current()).front().id;
  auto proposer_before = balance(c.current(), proposer);
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), transfer_body{to, 1'234}, 50)}));
  CHECK(balance(c.current(), from) == 10'000'000 - 1'234 - 50);
  CHECK(balance(c.current(), to) == 10'000'000 + 1'234);
  CHECK(balance(c.current(), proposer) == proposer_before + 50);
  CHECK(nonce(c.current(), from) == 1);
  CHECK(supply_invariant_ok(c.current()));
}

TEST_CASE("envelope rejections name their reason") {
  test_chain c;
  auto to = c.user(1).public_key();
  auto good = c.tx(c.user(0), transfer_body{to, 1});
  c.forget_nonces();

  auto t = good;
  t.chain.bytes[0] ^= 1;
  CHECK(is(rejected(c, t), tx_errc::wrong_chain));

  t = good;
  t.kind = 99;
  CHECK(is(rejected(c, t), tx_errc::unknown_kind));

  t = make_transaction(c.chain(), c.user(0), 0, 1, transfer_body{to, 1});
  CHECK(is(rejected(c, t), tx_errc::fee_too_low));

  t = make_transaction(c.chain(), c.user(0), 7, 10, transfer_body{to, 1});
  auto error = rejected(c, t);
  CHECK(is(error, tx_errc::bad_nonce));
  CHECK_THAT(text(error), Catch::Contains("bad_nonce: expected 0, got 7"));

  t = good;
  t.signature.bytes[3] ^= 1;
  CHECK(is(rejected(c, t), tx_errc::bad_signature));

  t = make_transaction(c.chain(), rules::testing::key(200), 0, 10, transfer_body{to, 1});
  CHECK(is(rejected(c, t), tx_errc::insufficient_funds));

  t = good;
  t.body = {1, 2, 3};
  sign(t, c.user(0));
  CHECK(is(rejected(c, t), tx_errc::malformed_body));

  CHECK(nonce(c.current(), c.user(0).public_key()) == 0);
}

TEST_CASE("transfer and registration rejections name their reason") {
  test_chain c;
  auto to = c.user(1).public_key();
  CHECK(is(rejected(c, c.tx(c.user(0), transfer_body{to, 0})), tx_errc::invalid_amount));
  CHECK(is(rejected(c, c.tx(c.user(0), transfer_body{to, 20'000'000})),
           tx_errc::insufficient_funds));
  CHECK(is(rejected(c, c.tx(c.validator(0), register_validator_body{5'000, 0})),
           tx_errc::already_registered));
  CHECK(is(rejected(c, c.tx(c.user(0), register_validator_body{10, 0})),
           tx_errc::bond_too_low));
  CHECK(is(rejected(c, c.tx(c.user(0), register_validator_body{5'000, 1'000'001})),
           tx_errc::commission_too_high));
  CHECK(is(rejected(c, c.tx(c.user(0), register_masternode_body{5'000, 0, "", 1})),
           tx_errc::bad_endpoint));
  CHECK(is(rejected(c, c.tx(c.user(0), register_masternode_body{10, 0, "a:1", 1})),
           tx_errc::bond_too_low));
  CHECK_FALSE(rejected(c, c.tx(c.user(0), register_masternode_body{5'000, 0, "a:1", 1})));
}

TEST_CASE("delegation and unbonding rejections name their reason") {
  test_chain c;
  auto v = c.validator(0).public_key();
  auto stranger = rules::testing::key(77).public_key();
  CHECK(is(rejected(c, c.tx(c.user(0), delegate_body{stranger, 10})), tx_errc::unknown_target));
  CHECK(is(rejected(c, c.tx(c.user(0), delegate_body{v, 0})), tx_errc::invalid_amount));
  CHECK(is(rejected(c, c.tx(c.user(0), unbond_body{v, 10})), tx_errc::delegation_not_found));
  CHECK(is(rejected(c, c.tx(c.user(0), unbond_body{stranger, 10})), tx_errc::unknown_target));
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), delegate_body{v, 1'000})}));
  CHECK(c.current().validators.find(v)->delegated == 1'000);
  CHECK(is(rejected(c, c.tx(c.user(0), unbond_body{v, 1'001})), tx_errc::unbond_exceeds_bond));
  CHECK(is(rejected(c, c.tx(c.validator(0), unbond_body{v, 100'001})),
           tx_errc::unbond_exceeds_bond));
  std::vector<transaction> txs;
  for (std::size_t i = 0; i < chain_limits::unbonding_entries_per_account_max; ++i)
    txs.push_back(c.tx(c.user(0), unbond_body{v, 1}));
  REQUIRE_FALSE(c.commit(txs));
  CHECK(is(rejected(c, c.tx(c.user(0), unbond_body{v, 1})), tx_errc::too_many_unbondings));
}

TEST_CASE("unbonded funds return at the release height and not before") {
  test_chain c;
  auto v = c.validator(0).public_key();
  auto u = c.user(0).public_key();
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), delegate_body{v, 5'000})}));
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), unbond_body{v, 2'000})}));
  auto unbond_height = c.current().globals.height;
  auto after_unbond = balance(c.current(), u);
  CHECK(c.current().delegations.find({v, u})->value == 3'000);
  c.advance(c.current().params.unbonding_blocks - 1);
  CHECK(balance(c.current(), u) == after_unbond);
  c.advance(1);
  CHECK(c.current().globals.height == unbond_height + c.current().params.unbonding_blocks);
  CHECK(balance(c.current(), u) == after_unbond + 2'000);
  CHECK(c.current().unbondings.size() == 0);
}

TEST_CASE("content and deposit rejections name their reason") {
  test_chain c;
  core::content_id id;
  id.bytes[0] = 9;
  publish_content_body publish{id, {}, 2, 20'000, 3};
  auto bad = publish;
  bad.block_count = 3;
  CHECK(is(rejected(c, c.tx(c.user(0), bad)), tx_errc::bad_content));
  bad = publish;
  bad.replicas = 0;
  CHECK(is(rejected(c, c.tx(c.user(0), bad)), tx_errc::bad_replicas));
  bad.replicas = 9;
  CHECK(is(rejected(c, c.tx(c.user(0), bad)), tx_errc::bad_replicas));
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), publish)}));
  CHECK(find_content(c.current(), id) != nullptr);
  CHECK(assigned_masternodes(c.current(), id).size() == 3);
  CHECK(is(rejected(c, c.tx(c.user(1), publish)), tx_errc::content_exists));
  CHECK(is(rejected(c, c.tx(c.user(0), open_deposit_body{0})), tx_errc::invalid_amount));
  CHECK(is(rejected(c, c.tx(c.user(0), claim_receipts_body{})), tx_errc::not_a_masternode));
  CHECK(is(rejected(c, c.tx(c.masternode(0), claim_receipts_body{})), tx_errc::empty_claim));
}

TEST_CASE("audit evidence and unjail rejections name their reason") {
  test_chain c;
  audit_response_body response;
  response.challenge = 42;
  CHECK(is(rejected(c, c.tx(c.masternode(0), response)), tx_errc::challenge_not_found));
  vote a;
  a.chain = c.chain();
  a.height = 1;
  a.kind = static_cast<std::uint8_t>(vote_kind::prevote);
  sign(a, c.user(0));
  auto b = a;
  b.block.bytes[0] = 1;
  sign(b, c.user(0));
  CHECK(is(rejected(c, c.tx(c.user(1), evidence_body{a, a})), tx_errc::evidence_not_conflicting));
  CHECK(is(rejected(c, c.tx(c.user(1), evidence_body{a, b})), tx_errc::unknown_validator));
  CHECK(is(rejected(c, c.tx(c.user(1), unjail_body{})), tx_errc::not_registered));
  CHECK(is(rejected(c, c.tx(c.validator(0), unjail_body{})), tx_errc::not_jailed));
}

TEST_CASE("a block with one invalid transaction is rejected whole and changes nothing") {
  test_chain c;
  auto to = c.user(1).public_key();
  c.advance(1);
  auto root = c.current().commitment.root;
  auto height = c.current().globals.height;
  std::vector<transaction> txs{c.tx(c.user(0), transfer_body{to, 5}),
                               c.tx(c.user(2), transfer_body{to, 0})};
  auto error = c.commit(txs);
  CHECK(is(error, block_errc::invalid_tx));
  CHECK_THAT(text(error), Catch::Contains("tx 1") && Catch::Contains("invalid_amount"));
  CHECK(c.current().globals.height == height);
  CHECK(state_root(c.current()) == root);
  CHECK(state_root_from_scratch(c.current()) == root);
  CHECK(nonce(c.current(), c.user(0).public_key()) == 0);
  CHECK_FALSE(c.commit({c.tx(c.user(0), transfer_body{to, 5})}));
}

TEST_CASE("a claim whose later receipt fails rolls back its earlier receipts") {
  test_chain c;
  core::content_id id;
  id.bytes[0] = 5;
  REQUIRE_FALSE(c.commit({c.tx(c.user(0), publish_content_body{id, {}, 1, 100, 3}),
                          c.tx(c.user(1), open_deposit_body{1'000'000})}));
  auto deposit = deposit_id(c.user(1).public_key(), 0);
  receipt r{c.chain(), deposit, {}, c.masternode(0).public_key(), id, 1 << 20, {}};
  sign(r, c.user(1));
  auto replay = r;
  auto tx = c.tx(c.masternode(0), claim_receipts_body{{r, replay}});
  auto before = state_root_from_scratch(c.current());
  auto error = check_tx(c.current(), tx, c.verifier());
  CHECK(is(error, tx_errc::receipt_replayed));
  CHECK_THAT(text(error), Catch::Contains("receipt 1"));
  CHECK(state_root_from_scratch(c.current()) == before);
}

TEST_CASE("block header checks name their reason") {
  test_chain c;
  c.advance(2);
  auto base = c.make_block({});
  auto expect = [&](block b, block_errc code) {
    seal(b);
    auto error = apply(c.current(), b, c.verifier());
    CHECK(is(error, code));
  };
  auto b = base;
  b.header.height += 1;
  expect(b, block_errc::wrong_height);
  b = base;
  b.header.previous.bytes[0] ^= 1;
  expect(b, block_errc::wrong_previous);
  b = base;
  b.header.chain.bytes[0] ^= 1;
  expect(b, block_errc::wrong_chain);
  b = base;
  b.header.time_ms = 0;
  expect(b, block_errc::time_went_back);
  b = base;
  b.header.proposer = c.user(0).public_key();
  expect(b, block_errc::proposer_not_active);
  b = base;
  b.header.app_hash.bytes[0] ^= 1;
  expect(b, block_errc::bad_app_hash);
  b = base;
  b.last_commit.pop_back();
  b.last_commit.pop_back();
  expect(b, block_errc::bad_commit);
  b = base;
  b.last_commit[0].signature.bytes[0] ^= 1;
  expect(b, block_errc::bad_commit);
  b = base;
  b.txs.push_back(c.tx(c.user(0), transfer_body{c.user(1).public_key(), 1}));
  auto error = apply(c.current(), b, c.verifier()); // not sealed: tx_root is stale
  CHECK(is(error, block_errc::bad_tx_root));
  CHECK_FALSE(apply(c.current(), base, c.verifier()));
}
