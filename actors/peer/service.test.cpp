// The viewer's side of the paid service: a receipt_signer opens the deposit when the
// session starts, signs cumulative receipts per masternode no more often than its
// interval (and once more when the session ends), each verifiable by the viewer's key
// and naming the deposit the chain derives from its nonce; it never signs for bytes it
// was not told of, and keeps a bounded table of masternodes.
#include <catch2/catch.hpp>

#include <chrono>

#include "actors/core/record_codec.hpp"
#include "actors/peer/service.hpp"
#include "actors/validator/rules/test_chain.hpp"
#include "tests/support/world_fakes.hpp"

using namespace stakecast;
using rules::testing::key;

namespace {

core::node_id id(std::uint8_t tag) {
  core::node_id out;
  out.bytes[0] = tag;
  out.bytes[1] = 0xee;
  return out;
}

struct signer_setup {
  test::recording_transport transport;
  test::counting_metrics metrics;
  world::node_context context;
  core::key_pair viewer = key(1);
  peer::receipt_signer_config config;

  signer_setup() {
    context.id = id(9);
    context.network = &transport;
    context.telemetry = &metrics;
    config.chain.bytes[0] = 0xc1;
    config.content.bytes[0] = 0xc2;
    config.validator = id(3);
    config.deposit = 2'000'000;
    config.nonce = 4;
    config.fee = 1'000;
    config.receipt_interval = std::chrono::seconds(10);
  }

  /// The receipts sent so far, decoded, with their receivers.
  std::vector<std::pair<core::node_id, rules::receipt>> receipts() const {
    std::vector<std::pair<core::node_id, rules::receipt>> out;
    for (const auto& [to, message] : transport.sent)
      if (const auto* r = std::get_if<wire::service_receipt>(&message))
        out.emplace_back(to, *core::decode_record<rules::receipt>(r->encoded, "receipt"));
    return out;
  }
};

constexpr std::int64_t second = 1'000'000'000;

} // namespace

TEST_CASE("a receipt signer opens the deposit and signs cumulative receipts per masternode",
          "[service]") {
  signer_setup s;
  peer::receipt_signer signer(key(1), s.config);
  CHECK(signer.deposit() == rules::deposit_id(s.viewer.public_key(), 4));
  signer.start(s.context, 0);
  REQUIRE(s.transport.sent.size() == 1);
  CHECK(s.transport.sent[0].first == id(3));
  const auto* deposit = std::get_if<wire::chain_tx>(&s.transport.sent[0].second);
  REQUIRE(deposit != nullptr);
  auto tx = core::decode_record<rules::transaction>(deposit->encoded, "transaction");
  REQUIRE(tx);
  CHECK(tx->nonce == 4);
  CHECK(tx->fee == 1'000);
  CHECK(tx->sender == s.viewer.public_key());
  CHECK(rules::verify(*tx, core::direct_verifier{}));
  CHECK(rules::decode_body<rules::open_deposit_body>(*tx)->value == 2'000'000);

  // The first delivery from a masternode is signed at once; more within the interval
  // wait; the next one after it carries the total.
  signer.delivered(id(5), 1'000, 10 * second);
  signer.delivered(id(5), 2'000, 12 * second);
  signer.delivered(id(6), 500, 13 * second);
  signer.delivered(id(5), 4'000, 21 * second);
  auto sent = s.receipts();
  REQUIRE(sent.size() == 3);
  CHECK(sent[0].first == id(5));
  CHECK(sent[0].second.bytes == 1'000);
  CHECK(sent[1].first == id(6));
  CHECK(sent[1].second.bytes == 500);
  CHECK(sent[2].second.bytes == 7'000);
  for (const auto& [to, r] : sent) {
    CHECK(r.masternode == to);
    CHECK(r.deposit == signer.deposit());
    CHECK(r.viewer == s.viewer.public_key());
    CHECK(r.chain == s.config.chain);
    CHECK(r.content == s.config.content);
    CHECK(rules::verify(r, core::direct_verifier{}));
  }

  // The session's end signs what is still unsigned, and only that.
  signer.delivered(id(6), 700, 22 * second);
  signer.finish(23 * second);
  sent = s.receipts();
  REQUIRE(sent.size() == 4);
  CHECK(sent[3].first == id(6));
  CHECK(sent[3].second.bytes == 1'200);
  CHECK(s.metrics.value("service.receipts_signed") == 4);
}

TEST_CASE("a receipt signer keeps at most masternodes_max masternodes", "[service]") {
  signer_setup s;
  peer::receipt_signer signer(key(1), s.config);
  signer.start(s.context, 0);
  for (std::size_t i = 0; i < peer::receipt_signer::masternodes_max + 10; ++i)
    signer.delivered(id(static_cast<std::uint8_t>(i + 10)), 100, second);
  CHECK(s.receipts().size() == peer::receipt_signer::masternodes_max);
}
