// Receipts: a claim pays the increase of cumulative bytes at price_per_gib with
// fee_burn burned (hand-computed), rounding never leaks across many small claims, and
// forged receipts (bad signature, replayed, beyond the deposit, content not assigned,
// wrong viewer) are rejected.
#include <catch2/catch.hpp>

#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;
using rules::testing::test_chain;

namespace {

struct receipt_setup {
  test_chain c;
  core::content_id content;
  core::hash256 deposit;

  explicit receipt_setup(amount deposit_value = 5'000'000, std::uint32_t replicas = 3) {
    content.bytes[0] = 0x42;
    const auto& viewer = c.user(1);
    REQUIRE_FALSE(c.commit({c.tx(c.user(0), publish_content_body{content, {}, 1, 100, replicas}),
                            c.tx(viewer, open_deposit_body{deposit_value})}));
    deposit = deposit_id(viewer.public_key(), 0);
  }

  receipt signed_receipt(std::size_t masternode, std::uint64_t bytes) {
    receipt r{c.chain(), deposit, {}, c.masternode(masternode).public_key(), content, bytes, {}};
    sign(r, c.user(1));
    return r;
  }

  caf::error claim(std::size_t masternode, std::vector<receipt> receipts) {
    return c.commit({c.tx(c.masternode(masternode), claim_receipts_body{std::move(receipts)})});
  }
};

} // namespace

TEST_CASE("a receipt claim pays the increase and burns fee_burn of it") {
  receipt_setup r;
  auto& s = r.c.current();
  auto m = r.c.masternode(0).public_key();
  auto before = balance(s, m);
  auto fee = s.params.tx_fee_min;
  // 1.5 GiB at 1'000'000 per GiB: 1'500'000 paid, 10% burned.
  REQUIRE_FALSE(r.claim(0, {r.signed_receipt(0, 3ull << 29)}));
  CHECK(balance(s, m) == before - fee + 1'350'000);
  CHECK(s.globals.burned == 150'000);
  CHECK(s.deposits.find(r.deposit)->remaining == 5'000'000 - 1'500'000);
  // 2 GiB + 7 bytes in total: floor(2'000'000.0065) - 1'500'000 = 500'000 more.
  REQUIRE_FALSE(r.claim(0, {r.signed_receipt(0, (2ull << 30) + 7)}));
  CHECK(balance(s, m) == before - 2 * fee + 1'350'000 + 450'000);
  CHECK(s.globals.burned == 200'000);
  CHECK(s.epoch_service.find(m)->bytes == (2ull << 30) + 7);
  CHECK(supply_invariant_ok(s));
}

TEST_CASE("many small receipts pay exactly what one cumulative receipt pays") {
  receipt_setup r;
  auto& s = r.c.current();
  std::vector<receipt> receipts;
  std::uint64_t bytes = 0;
  for (int i = 0; i < 50; ++i) {
    bytes += 777'777; // not a multiple of the price's byte resolution
    receipts.push_back(r.signed_receipt(0, bytes));
  }
  REQUIRE_FALSE(r.claim(0, receipts));
  CHECK(s.deposits.find(r.deposit)->paid == static_cast<amount>(payment_for(bytes, 1'000'000)));
}

TEST_CASE("forged receipts are rejected with their reason") {
  receipt_setup r{1'000'000, 1};
  auto& c = r.c;
  auto assigned = assigned_masternodes(c.current(), r.content);
  REQUIRE(assigned.size() == 1);
  std::size_t holder = 0;
  std::size_t other = 0;
  for (std::size_t i = 0; i < 3; ++i)
    (c.masternode(i).public_key() == assigned[0] ? holder : other) = i;
  auto check = [&](std::size_t masternode, receipt rc, tx_errc code) {
    auto tx = c.tx(c.masternode(masternode), claim_receipts_body{{rc}});
    auto error = check_tx(c.current(), tx, c.verifier());
    c.forget_nonces();
    CHECK(is(error, code));
    INFO(rules::testing::text(error));
  };
  auto good = r.signed_receipt(holder, 1 << 20);

  auto forged = good;
  forged.bytes += 1; // the viewer did not sign this
  check(holder, forged, tx_errc::bad_receipt_signature);

  check(other, r.signed_receipt(other, 1 << 20), tx_errc::content_not_assigned);

  forged = good;
  sign(forged, c.user(2)); // a viewer who does not own the deposit
  check(holder, forged, tx_errc::wrong_viewer);

  check(other, good, tx_errc::receipt_not_for_sender);

  forged = good;
  forged.deposit.bytes[0] ^= 1;
  sign(forged, c.user(1));
  check(holder, forged, tx_errc::deposit_not_found);

  forged = good;
  forged.chain.bytes[0] ^= 1;
  sign(forged, c.user(1));
  check(holder, forged, tx_errc::receipt_wrong_chain);

  // 1'000'000 buys exactly 1 GiB; one byte more is beyond the deposit.
  check(holder, r.signed_receipt(holder, (1ull << 30) + (1ull << 20)),
        tx_errc::receipt_beyond_deposit);

  REQUIRE_FALSE(r.claim(holder, {good}));
  check(holder, good, tx_errc::receipt_replayed);
  check(holder, r.signed_receipt(holder, 1 << 19), tx_errc::receipt_replayed);
}
