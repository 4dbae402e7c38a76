#include "actors/validator/rules/errors.hpp"

#include <caf/atom.hpp>

#include "actors/core/error.hpp"

namespace stakecast::rules {

namespace {

const auto tx_category = caf::atom("tx");
const auto block_category = caf::atom("block");
const auto parameter_category = caf::atom("parameter");

} // namespace

std::string_view to_string(tx_errc code) noexcept {
  switch (code) {
    case tx_errc::wrong_chain:
      return "wrong_chain";
    case tx_errc::unknown_kind:
      return "unknown_kind";
    case tx_errc::malformed_body:
      return "malformed_body";
    case tx_errc::fee_too_low:
      return "fee_too_low";
    case tx_errc::bad_signature:
      return "bad_signature";
    case tx_errc::bad_nonce:
      return "bad_nonce";
    case tx_errc::insufficient_funds:
      return "insufficient_funds";
    case tx_errc::invalid_amount:
      return "invalid_amount";
    case tx_errc::already_registered:
      return "already_registered";
    case tx_errc::bond_too_low:
      return "bond_too_low";
    case tx_errc::commission_too_high:
      return "commission_too_high";
    case tx_errc::bad_endpoint:
      return "bad_endpoint";
    case tx_errc::unknown_target:
      return "unknown_target";
    case tx_errc::delegation_not_found:
      return "delegation_not_found";
    case tx_errc::unbond_exceeds_bond:
      return "unbond_exceeds_bond";
    case tx_errc::too_many_unbondings:
      return "too_many_unbondings";
    case tx_errc::content_exists:
      return "content_exists";
    case tx_errc::bad_content:
      return "bad_content";
    case tx_errc::bad_replicas:
      return "bad_replicas";
    case tx_errc::not_a_masternode:
      return "not_a_masternode";
    case tx_errc::empty_claim:
      return "empty_claim";
    case tx_errc::receipt_wrong_chain:
      return "receipt_wrong_chain";
    case tx_errc::receipt_not_for_sender:
      return "receipt_not_for_sender";
    case tx_errc::bad_receipt_signature:
      return "bad_receipt_signature";
    case tx_errc::deposit_not_found:
      return "deposit_not_found";
    case tx_errc::wrong_viewer:
      return "wrong_viewer";
    case tx_errc::content_not_found:
      return "content_not_found";
    case tx_errc::content_not_assigned:
      return "content_not_assigned";
    case tx_errc::receipt_replayed:
      return "receipt_replayed";
    case tx_errc::receipt_beyond_deposit:
      return "receipt_beyond_deposit";
    case tx_errc::challenge_not_found:
      return "challenge_not_found";
    case tx_errc::challenge_not_yours:
      return "challenge_not_yours";
    case tx_errc::audit_proof_invalid:
      return "audit_proof_invalid";
    case tx_errc::evidence_not_conflicting:
      return "evidence_not_conflicting";
    case tx_errc::bad_evidence_signature:
      return "bad_evidence_signature";
    case tx_errc::unknown_validator:
      return "unknown_validator";
    case tx_errc::already_tombstoned:
      return "already_tombstoned";
    case tx_errc::evidence_too_old:
      return "evidence_too_old";
    case tx_errc::not_registered:
      return "not_registered";
    case tx_errc::not_jailed:
      return "not_jailed";
    case tx_errc::still_jailed:
      return "still_jailed";
  }
  return "unknown";
}

std::string_view to_string(block_errc code) noexcept {
  switch (code) {
    case block_errc::wrong_chain:
      return "wrong_chain";
    case block_errc::wrong_height:
      return "wrong_height";
    case block_errc::wrong_previous:
      return "wrong_previous";
    case block_errc::time_went_back:
      return "time_went_back";
    case block_errc::proposer_not_active:
      return "proposer_not_active";
    case block_errc::bad_tx_root:
      return "bad_tx_root";
    case block_errc::bad_app_hash:
      return "bad_app_hash";
    case block_errc::too_many_txs:
      return "too_many_txs";
    case block_errc::too_many_bytes:
      return "too_many_bytes";
    case block_errc::bad_commit:
      return "bad_commit";
    case block_errc::invalid_tx:
      return "invalid_tx";
  }
  return "unknown";
}

caf::error make_error(tx_errc code, std::string_view detail) {
  return core::make_domain_error(tx_category, static_cast<std::uint8_t>(code), to_string(code),
                                 detail);
}

caf::error make_error(block_errc code, std::string_view detail) {
  return core::make_domain_error(block_category, static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

caf::error make_error(parameter_errc code, std::string_view detail) {
  return core::make_domain_error(parameter_category, static_cast<std::uint8_t>(code),
                                 "bad_parameter", detail);
}

bool is(const caf::error& error, tx_errc code) noexcept {
  return error.category() == tx_category && error.code() == static_cast<std::uint8_t>(code);
}

bool is(const caf::error& error, block_errc code) noexcept {
  return error.category() == block_category
         && error.code() == static_cast<std::uint8_t>(code);
}

bool is(const caf::error& error, parameter_errc code) noexcept {
  return error.category() == parameter_category
         && error.code() == static_cast<std::uint8_t>(code);
}

} // namespace stakecast::rules
