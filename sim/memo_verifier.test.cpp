// The simulator's verifier and blocks (memo_verifier.hpp): it accepts the stand-in of
// a virtual block with that block's proof, and rejects the stand-in of another index,
// of another seed, a flipped bit, and 40 bytes whose hash is the leaf at proof.index
// but whose index bytes name another block; a real block, even one shaped like a
// stand-in, still verifies as real bytes. The real node's verifier rejects every
// stand-in. Through the chain's rules, a masternode of a simulated world answers an
// audit of virtual content with a stand-in, and the same answer fails on the real
// node's verifier.
#include "sim/memo_verifier.hpp"

#include <string_view>

#include <catch2/catch.hpp>

#include "actors/core/merkle.hpp"
#include "actors/core/sha256.hpp"
#include "actors/core/virtual_content.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;

namespace {

core::virtual_content content_of(std::string_view label, std::uint64_t content_bytes) {
  return {core::sha256(core::as_bytes(label)), content_bytes};
}

} // namespace

TEST_CASE("the simulator's verifier accepts a virtual block's stand-in for that block only",
          "[memo_verifier]") {
  sim::memo_verifier memo;
  core::direct_verifier direct;
  auto content = content_of("audited", 300 * core::block_bytes - 7);
  auto other_seed = content_of("another seed", content.content_bytes);
  auto m = content.make("audited", 3'000'000, 2'000);
  for (std::uint32_t index : {0u, 70u, 299u}) {
    INFO("block " << index);
    auto proof = content.proof(m, index);
    CHECK(memo.verify_block(m.merkle_root, content.stand_in(index), proof));
    CHECK_FALSE(direct.verify_block(m.merkle_root, content.stand_in(index), proof));
    CHECK_FALSE(memo.verify_block(m.merkle_root, content.stand_in((index + 1) % 300), proof));
    CHECK_FALSE(memo.verify_block(m.merkle_root, other_seed.stand_in(index), proof));
    auto flipped = content.stand_in(index);
    flipped[5] ^= 0x10;
    CHECK_FALSE(memo.verify_block(m.merkle_root, flipped, proof));
  }
}

TEST_CASE("a stand-in whose index bytes disagree with the proof's index is rejected",
          "[memo_verifier]") {
  // A tree whose leaf 0 is the hash of block 1's stand-in: the hash verifies at
  // index 0, the index bytes do not.
  sim::memo_verifier memo;
  auto content = content_of("swapped", 2 * core::block_bytes);
  auto tree = core::merkle_tree::build({content.leaf(1), content.leaf(0)});
  auto proof = tree.proof(0);
  REQUIRE(core::verify_leaf(tree.root(), core::sha256(content.stand_in(1)), proof));
  CHECK_FALSE(memo.verify_block(tree.root(), content.stand_in(1), proof));
}

TEST_CASE("the simulator's verifier checks a real block as real bytes", "[memo_verifier]") {
  sim::memo_verifier memo;
  // The only block of a 40-byte content, shaped like a stand-in of block 0.
  core::byte_buffer bytes(core::virtual_content::stand_in_bytes, 0);
  for (std::size_t i = 0; i < 32; ++i)
    bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  auto tree = core::merkle_tree::build({core::leaf_hash(bytes)});
  CHECK(memo.verify_block(tree.root(), bytes, tree.proof(0)));
  bytes[0] ^= 1;
  CHECK_FALSE(memo.verify_block(tree.root(), bytes, tree.proof(0)));
}

TEST_CASE("a simulated masternode answers an audit of virtual content with a stand-in",
          "[memo_verifier]") {
  rules::testing::test_chain c;
  sim::memo_verifier memo;
  auto content = content_of("published", 300 * core::block_bytes - 7);
  auto m = content.make("published", 3'000'000, 2'000);
  auto id = core::id_of(m);
  REQUIRE_FALSE(c.commit(
      {c.tx(c.user(0), rules::publish_content_body{id, m.merkle_root, content.block_count(),
                                                   content.content_bytes, 3})}));
  c.finish_epoch();
  c.finish_epoch();
  auto& s = c.current();
  const auto& holder = c.masternode(0);
  auto challenges = rules::pending_challenges(s, holder.public_key());
  REQUIRE_FALSE(challenges.empty());
  auto [challenge, record] = challenges.front();
  REQUIRE(record.content == id);
  auto answer = [&](std::uint32_t index) {
    auto bytes = content.stand_in(index);
    auto proof = content.proof(m, record.block_index);
    return rules::audit_response_body{challenge, {bytes.begin(), bytes.end()}, proof.leaf_count,
                                      proof.siblings};
  };
  auto honest = c.tx(holder, answer(record.block_index));
  CHECK_FALSE(rules::check_tx(s, honest, memo));
  CHECK(rules::is(rules::check_tx(s, honest, c.verifier()), rules::tx_errc::audit_proof_invalid));
  c.forget_nonces();
  auto wrong = c.tx(holder, answer((record.block_index + 1) % content.block_count()));
  CHECK(rules::is(rules::check_tx(s, wrong, memo), rules::tx_errc::audit_proof_invalid));
  c.forget_nonces();
}
