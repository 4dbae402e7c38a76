// Pins down the mempool's bounds and order (mempool.hpp): block-building order is fee
// descending then nonce ascending; a sender's next nonces are admitted against the
// check state; a full pool evicts the cheapest for a better-paying transaction and
// refuses the rest; duplicates and invalid transactions are refused; after a commit
// the recheck drops what the block included. Built on rules::testing::test_chain.
#include <catch2/catch.hpp>

#include "actors/core/record_codec.hpp"
#include "actors/validator/mempool.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::validator;
using rules::testing::test_chain;

namespace {

rules::transaction transfer(test_chain& chain, std::size_t user, std::uint64_t nonce,
                            rules::amount fee) {
  return rules::make_transaction(chain.chain(), chain.user(user), nonce, fee,
                                 rules::transfer_body{chain.user((user + 1) % 4).public_key(), 5});
}

std::size_t size_of(const rules::transaction& tx) {
  return core::encode_record(tx).size();
}

std::vector<std::pair<rules::amount, std::uint64_t>> order_of(const mempool& pool) {
  std::vector<std::pair<rules::amount, std::uint64_t>> out;
  pool.for_each_in_order([&](const mempool::entry& e) {
    out.emplace_back(e.tx.fee, e.tx.nonce);
    return true;
  });
  return out;
}

} // namespace

TEST_CASE("the mempool orders by fee then nonce and admits a sender's next nonces", "[mempool]") {
  test_chain chain;
  mempool pool({}, chain.current(), chain.validator(0).public_key(), chain.verifier());
  for (std::uint64_t nonce = 0; nonce < 3; ++nonce) {
    auto tx = transfer(chain, 0, nonce, 100);
    CHECK(pool.add(tx, size_of(tx)) == mempool_outcome::added);
  }
  auto rich = transfer(chain, 1, 0, 500);
  CHECK(pool.add(rich, size_of(rich)) == mempool_outcome::added);
  using order = std::vector<std::pair<rules::amount, std::uint64_t>>;
  CHECK(order_of(pool) == order{{500, 0}, {100, 0}, {100, 1}, {100, 2}});
  CHECK(pool.next_nonce(chain.user(0).public_key()) == 3);
}

TEST_CASE("the mempool refuses duplicates and nonce gaps and low fees", "[mempool]") {
  test_chain chain;
  mempool pool({}, chain.current(), chain.validator(0).public_key(), chain.verifier());
  auto tx = transfer(chain, 0, 0, 100);
  CHECK(pool.add(tx, size_of(tx)) == mempool_outcome::added);
  CHECK(pool.add(tx, size_of(tx)) == mempool_outcome::duplicate);
  auto same_nonce = transfer(chain, 0, 0, 200);
  CHECK(pool.add(same_nonce, size_of(same_nonce)) == mempool_outcome::duplicate);
  auto gap = transfer(chain, 0, 5, 100);
  CHECK(pool.add(gap, size_of(gap)) == mempool_outcome::invalid);
  auto cheap = transfer(chain, 1, 0, 1); // below tx_fee_min
  CHECK(pool.add(cheap, size_of(cheap)) == mempool_outcome::invalid);
  CHECK(pool.add(tx, mempool_config::tx_bytes_max + 1) == mempool_outcome::too_large);
  CHECK(pool.size() == 1);
}

TEST_CASE("a full mempool evicts the cheapest for a better fee and refuses the rest", "[mempool]") {
  // Bound: txs_count_max = 2.
  test_chain chain;
  mempool_config config;
  config.txs_count_max = 2;
  mempool pool(config, chain.current(), chain.validator(0).public_key(), chain.verifier());
  auto a = transfer(chain, 0, 0, 100);
  auto b = transfer(chain, 1, 0, 200);
  auto c = transfer(chain, 2, 0, 100);
  auto d = transfer(chain, 3, 0, 300);
  CHECK(pool.add(a, size_of(a)) == mempool_outcome::added);
  CHECK(pool.add(b, size_of(b)) == mempool_outcome::added);
  CHECK(pool.add(c, size_of(c)) == mempool_outcome::full);
  CHECK(pool.add(d, size_of(d)) == mempool_outcome::added);
  CHECK(pool.size() == 2);
  CHECK(pool.evicted() == 1);
  CHECK_FALSE(pool.contains(rules::tx_hash(a)));
}

TEST_CASE("recheck after a commit drops what the block included", "[mempool]") {
  test_chain chain;
  mempool pool({}, chain.current(), chain.validator(0).public_key(), chain.verifier());
  auto first = transfer(chain, 0, 0, 100);
  auto second = transfer(chain, 0, 1, 100);
  REQUIRE(pool.add(first, size_of(first)) == mempool_outcome::added);
  REQUIRE(pool.add(second, size_of(second)) == mempool_outcome::added);
  REQUIRE_FALSE(chain.commit({first}));
  CHECK(pool.recheck(chain.current()) == 1);
  CHECK(pool.size() == 1);
  CHECK(pool.contains(rules::tx_hash(second)));
}
