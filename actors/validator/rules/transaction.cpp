#include "actors/validator/rules/transaction.hpp"

#include <string_view>

#include "actors/core/error.hpp"
#include "actors/core/sha256.hpp"
#include "actors/validator/rules/errors.hpp"

namespace stakecast::rules {

namespace {

constexpr std::string_view tx_domain_tag = "stakecast/tx/v1";
constexpr std::string_view receipt_domain_tag = "stakecast/receipt/v1";
constexpr std::string_view deposit_domain_tag = "stakecast/deposit/v1";

template <class Record>
core::byte_buffer tagged_unsigned(std::string_view tag, Record record) {
  record.signature = {};
  core::byte_buffer out(tag.begin(), tag.end());
  auto body = core::encode_record(record);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

} // namespace

core::byte_buffer signing_bytes(const transaction& tx) {
  return tagged_unsigned(tx_domain_tag, tx);
}

void sign(transaction& tx, const core::key_pair& key) {
  tx.sender = key.public_key();
  tx.signature = key.sign(signing_bytes(tx));
}

bool verify(const transaction& tx, const core::verifier& signatures) {
  return signatures.verify(tx.sender, signing_bytes(tx), tx.signature);
}

core::hash256 tx_hash(const transaction& tx) {
  return core::sha256(core::encode_record(tx));
}

core::byte_buffer signing_bytes(const receipt& r) {
  return tagged_unsigned(receipt_domain_tag, r);
}

void sign(receipt& r, const core::key_pair& key) {
  r.viewer = key.public_key();
  r.signature = key.sign(signing_bytes(r));
}

bool verify(const receipt& r, const core::verifier& signatures) {
  return signatures.verify(r.viewer, signing_bytes(r), r.signature);
}

core::hash256 deposit_id(const core::node_id& viewer, std::uint64_t nonce) {
  core::sha256_hasher hasher;
  hasher.update(core::as_bytes(deposit_domain_tag));
  hasher.update(viewer.bytes);
  std::array<std::uint8_t, 8> nonce_bytes{};
  for (std::size_t i = 0; i < nonce_bytes.size(); ++i)
    nonce_bytes[i] = static_cast<std::uint8_t>(nonce >> (8 * i));
  hasher.update(nonce_bytes);
  return hasher.finish();
}

template <class Body>
caf::expected<Body> decode_body(const transaction& tx) {
  auto body = core::decode_record<Body>(tx.body, "tx body");
  if (!body)
    return make_error(tx_errc::malformed_body, core::describe(body.error()));
  return body;
}

template caf::expected<transfer_body> decode_body(const transaction&);
template caf::expected<register_validator_body> decode_body(const transaction&);
template caf::expected<register_masternode_body> decode_body(const transaction&);
template caf::expected<delegate_body> decode_body(const transaction&);
template caf::expected<unbond_body> decode_body(const transaction&);
template caf::expected<publish_content_body> decode_body(const transaction&);
template caf::expected<open_deposit_body> decode_body(const transaction&);
template caf::expected<claim_receipts_body> decode_body(const transaction&);
template caf::expected<audit_response_body> decode_body(const transaction&);
template caf::expected<evidence_body> decode_body(const transaction&);
template caf::expected<unjail_body> decode_body(const transaction&);

} // namespace stakecast::rules
