// Why the rules refuse something, as values (core/error.hpp): a transaction
// (`tx_errc`), a block (`block_errc`) or a parameter set (`parameter_errc`). Each
// becomes a caf::error whose text starts with the code's name and goes on with the
// particulars: "bad_nonce: expected 4, got 7". A block refused because of one of its
// transactions carries block_errc::invalid_tx and the transaction's text.
//
// Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include <caf/error.hpp>

namespace stakecast::rules {

enum class tx_errc : std::uint8_t {
  wrong_chain = 1,
  unknown_kind,
  malformed_body,
  fee_too_low,
  bad_signature,
  bad_nonce,
  insufficient_funds,
  invalid_amount,
  already_registered,
  bond_too_low,
  commission_too_high,
  bad_endpoint,
  unknown_target,
  delegation_not_found,
  unbond_exceeds_bond,
  too_many_unbondings,
  content_exists,
  bad_content,
  bad_replicas,
  not_a_masternode,
  empty_claim,
  receipt_wrong_chain,
  receipt_not_for_sender,
  bad_receipt_signature,
  deposit_not_found,
  wrong_viewer,
  content_not_found,
  content_not_assigned,
  receipt_replayed,
  receipt_beyond_deposit,
  challenge_not_found,
  challenge_not_yours,
  audit_proof_invalid,
  evidence_not_conflicting,
  bad_evidence_signature,
  unknown_validator,
  already_tombstoned,
  evidence_too_old,
  not_registered,
  not_jailed,
  still_jailed,
};

enum class block_errc : std::uint8_t {
  wrong_chain = 1,
  wrong_height,
  wrong_previous,
  time_went_back,
  proposer_not_active,
  bad_tx_root,
  bad_app_hash,
  too_many_txs,
  too_many_bytes,
  bad_commit,
  invalid_tx,
};

enum class parameter_errc : std::uint8_t {
  bad_parameter = 1,
};

std::string_view to_string(tx_errc code) noexcept;
std::string_view to_string(block_errc code) noexcept;

caf::error make_error(tx_errc code, std::string_view detail);
caf::error make_error(block_errc code, std::string_view detail);
caf::error make_error(parameter_errc code, std::string_view detail);

/// True when `error` is `code` of its category.
bool is(const caf::error& error, tx_errc code) noexcept;
bool is(const caf::error& error, block_errc code) noexcept;
bool is(const caf::error& error, parameter_errc code) noexcept;

} // namespace stakecast::rules
