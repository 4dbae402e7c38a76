// Property: seeded random transaction streams (valid and invalid mixed) over many
// blocks keep every invariant: the supply equation, no negative or overflowing
// amount, nonces equal to the count of accepted transactions, invalid blocks
// changing nothing, and a replica applying the same blocks reaching the same root,
// equal to the root computed from scratch. Seeds 1 ..= 3, 60 blocks each.
#include <catch2/catch.hpp>

#include "actors/core/random.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

namespace {

struct random_actions {
  test_chain& c;
  core::random_generator& random;
  std::vector<core::hash256> deposits;
  std::vector<core::content_id> contents;

  const core::key_pair& anyone() {
    switch (random.uniform(3)) {
      case 0:
        return c.user(random.uniform(4));
      case 1:
        return c.masternode(random.uniform(3));
      default:
        return c.validator(random.uniform(4));
    }
  }

  core::node_id target() {
    return random.uniform(2) == 0 ? c.validator(random.uniform(4)).public_key()
                                  : c.masternode(random.uniform(3)).public_key();
  }

  amount some_amount() {
    return random.uniform(4) == 0 ? random.uniform(20'000'000) : random.uniform(50'000);
  }

  transaction next() {
    const auto& sender = anyone();
    switch (random.uniform(7)) {
      case 0:
      case 1:
        return c.tx(sender, transfer_body{anyone().public_key(), some_amount()});
      case 2:
        return c.tx(sender, delegate_body{target(), some_amount()});
      case 3:
        return c.tx(sender, unbond_body{target(), some_amount()});
      case 4: {
        core::content_id id;
        id.bytes[0] = static_cast<std::uint8_t>(random.uniform(256));
        id.bytes[1] = static_cast<std::uint8_t>(random.uniform(4));
        contents.push_back(id);
        auto size = random.uniform(100'000);
        return c.tx(sender, publish_content_body{id, {}, core::block_count(size), size,
                                                 static_cast<std::uint32_t>(random.uniform(4))});
      }
      case 5: {
        auto tx = c.tx(c.user(random.uniform(4)), open_deposit_body{some_amount()});
        deposits.push_back(deposit_id(tx.sender, tx.nonce));
        return tx;
      }
      default:
        return claim();
    }
  }

  transaction claim() {
    std::size_t m = random.uniform(3);
    receipt r;
    r.chain = c.chain();
    r.deposit = deposits.empty() ? core::hash256{} : deposits[random.uniform(deposits.size())];
    r.masternode = c.masternode(m).public_key();
    r.content = contents.empty() ? core::content_id{} : contents[random.uniform(contents.size())];
    r.bytes = random.uniform(1ull << 32);
    sign(r, c.user(random.uniform(4)));
    return c.tx(c.masternode(m), claim_receipts_body{{r}});
  }
};

void check_invariants(test_chain& c, test_chain& replica,
                      const std::map<core::node_id, std::uint64_t>& accepted) {
  auto& s = c.current();
  REQUIRE(supply_invariant_ok(s));
  REQUIRE(s.commitment.root == state_root_from_scratch(s));
  REQUIRE(s.commitment.root == replica.current().commitment.root);
  for (const auto& [id, count] : accepted)
    REQUIRE(nonce(s, id) == count);
  for (const auto& [id, d] : s.deposits.entries())
    REQUIRE(d.remaining + d.paid > 0);
}

} // namespace

TEST_CASE("random transaction streams keep every invariant") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    INFO("seed " << seed);
    test_chain c;
    test_chain replica;
    core::random_generator random{core::derive_seed(seed, "rules-property")};
    random_actions actions{c, random, {}, {}};
    std::map<core::node_id, std::uint64_t> accepted;
    std::size_t valid_total = 0;
    std::size_t invalid_total = 0;
    for (int height = 0; height < 60; ++height) {
      // A mempool's check state picks the valid candidates, in order.
      state check_state = c.current();
      std::vector<transaction> valid;
      std::vector<transaction> invalid;
      for (int i = 0; i < 8; ++i) {
        auto tx = actions.next();
        if (apply_tx(check_state, tx, {}, c.verifier()))
          invalid.push_back(tx);
        else
          valid.push_back(tx);
      }
      if (!invalid.empty()) {
        auto root = c.current().commitment.root;
        auto with_invalid = valid;
        with_invalid.push_back(invalid.front());
        REQUIRE(c.commit(with_invalid));
        REQUIRE(state_root(c.current()) == root);
      }
      auto b = c.make_block(valid);
      REQUIRE_FALSE(c.commit_block(b));
      REQUIRE_FALSE(replica.commit_block(b));
      for (const auto& tx : valid)
        accepted[tx.sender] += 1;
      valid_total += valid.size();
      invalid_total += invalid.size();
      c.forget_nonces();
      check_invariants(c, replica, accepted);
    }
    CHECK(valid_total > 60);
    CHECK(invalid_total > 60);
  }
}
