// Transactions and viewer receipts: what accounts sign and send to the chain.
//
// A transaction is `{chain, sender, nonce, fee, kind, body, signature}`. The body is
// the canonical encoding (core/record_codec.hpp) of the record its `kind` names
// (`transfer_body` for tx_kind::transfer, ...), at most chain_limits::tx_body_bytes_max
// bytes. The sender signs a domain tag followed by the transaction's encoding without
// the signature (as votes are signed, vote.hpp), so no transaction signature can pass
// for a vote, a receipt, or a transaction of another chain (`chain` is the genesis
// hash).
//
// A receipt is a viewer's signed statement "masternode M has served me `bytes`
// verified bytes of content C, in total, on deposit D". Receipts are cumulative: the
// masternode claims the latest one and is paid for the increase over its last claim.
//
// Pure values and functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/merkle.hpp"
#include "actors/core/messages.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/verifier.hpp"
#include "actors/validator/rules/amount.hpp"
#include "actors/validator/rules/parameters.hpp"
#include "actors/validator/rules/vote.hpp"

namespace stakecast::rules {

enum class tx_kind : std::uint8_t {
  transfer = 1,
  register_validator,
  register_masternode,
  delegate,
  unbond,
  publish_content,
  open_deposit,
  claim_receipts,
  audit_response,
  evidence,
  unjail,
};

inline constexpr std::uint8_t tx_kind_last = static_cast<std::uint8_t>(tx_kind::unjail);

struct transfer_body {
  static constexpr tx_kind kind = tx_kind::transfer;
  core::node_id to;
  amount value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, transfer_body& x) {
    return f(caf::meta::type_name("transfer_body"), x.to, x.value);
  }
};

/// The sender becomes a validator candidate, bonding `self_bond` from its balance.
struct register_validator_body {
  static constexpr tx_kind kind = tx_kind::register_validator;
  amount self_bond = 0;
  ppm commission = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, register_validator_body& x) {
    return f(caf::meta::type_name("register_validator_body"), x.self_bond, x.commission);
  }
};

/// The sender becomes a masternode, staking `stake` from its balance.
struct register_masternode_body {
  static constexpr tx_kind kind = tx_kind::register_masternode;
  amount stake = 0;
  ppm commission = 0;
  /// "host:port", 1 ..= chain_limits::endpoint_bytes_max bytes.
  std::string endpoint;
  std::uint64_t capacity_bytes = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, register_masternode_body& x) {
    return f(caf::meta::type_name("register_masternode_body"), x.stake, x.commission,
             x.endpoint, x.capacity_bytes);
  }
};

/// Bonds `value` of the sender's balance to a validator or masternode; to itself, it
/// raises the sender's own bond.
struct delegate_body {
  static constexpr tx_kind kind = tx_kind::delegate;
  core::node_id target;
  amount value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, delegate_body& x) {
    return f(caf::meta::type_name("delegate_body"), x.target, x.value);
  }
};

/// Starts unbonding `value` of the sender's bond to `target` (itself: its own bond);
/// the funds return to the balance unbonding_blocks later.
struct unbond_body {
  static constexpr tx_kind kind = tx_kind::unbond;
  core::node_id target;
  amount value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, unbond_body& x) {
    return f(caf::meta::type_name("unbond_body"), x.target, x.value);
  }
};

struct publish_content_body {
  static constexpr tx_kind kind = tx_kind::publish_content;
  core::content_id content;
  /// The Merkle root over the content's 16 KiB blocks (core/merkle.hpp).
  core::hash256 root;
  std::uint32_t block_count = 0;
  std::uint64_t size_bytes = 0;
  std::uint32_t replicas = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, publish_content_body& x) {
    return f(caf::meta::type_name("publish_content_body"), x.content, x.root, x.block_count,
             x.size_bytes, x.replicas);
  }
};

/// Locks `value` of the sender's balance as a viewing deposit; its id is
/// deposit_id(sender, nonce).
struct open_deposit_body {
  static constexpr tx_kind kind = tx_kind::open_deposit;
  amount value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, open_deposit_body& x) {
    return f(caf::meta::type_name("open_deposit_body"), x.value);
  }
};

struct receipt {
  core::hash256 chain;
  core::hash256 deposit;
  core::node_id viewer;
  core::node_id masternode;
  core::content_id content;
  /// Cumulative verified bytes served by `masternode` on `deposit`.
  std::uint64_t bytes = 0;
  core::signature signature;

  bool operator==(const receipt&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, receipt& x) {
    return f(caf::meta::type_name("receipt"), x.chain, x.deposit, x.viewer, x.masternode,
             x.content, x.bytes, x.signature);
  }
};

struct claim_receipts_body {
  static constexpr tx_kind kind = tx_kind::claim_receipts;
  std::vector<receipt> receipts;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, claim_receipts_body& x) {
    return f(caf::meta::type_name("claim_receipts_body"),
             wire::count_max<chain_limits::receipts_per_claim_max>, x.receipts);
  }
};

/// The block a challenge asked for and its Merkle path (core::merkle_proof without
/// the index, which the challenge fixes).
struct audit_response_body {
  static constexpr tx_kind kind = tx_kind::audit_response;
  std::uint64_t challenge = 0;
  std::vector<std::uint8_t> block;
  std::uint32_t leaf_count = 0;
  std::vector<core::hash256> siblings;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, audit_response_body& x) {
    return f(caf::meta::type_name("audit_response_body"), x.challenge,
             wire::count_max<core::block_bytes>, x.block, x.leaf_count,
             wire::count_max<core::merkle_proof_depth_max>, x.siblings);
  }
};

/// Two conflicting votes by one validator (vote.hpp).
struct evidence_body {
  static constexpr tx_kind kind = tx_kind::evidence;
  vote first;
  vote second;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, evidence_body& x) {
    return f(caf::meta::type_name("evidence_body"), x.first, x.second);
  }
};

/// Ends the sender's jail (validator or masternode) once jail_blocks have passed.
struct unjail_body {
  static constexpr tx_kind kind = tx_kind::unjail;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, unjail_body&) {
    return f(caf::meta::type_name("unjail_body"));
  }
};

struct transaction {
  core::hash256 chain;
  core::node_id sender;
  /// Equal to the sender's account nonce (its count of accepted transactions).
  std::uint64_t nonce = 0;
  amount fee = 0;
  /// A tx_kind; a byte so that unknown kinds decode (and are rejected).
  std::uint8_t kind = 0;
  std::vector<std::uint8_t> body;
  core::signature signature;

  bool operator==(const transaction&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, transaction& x) {
    return f(caf::meta::type_name("transaction"), x.chain, x.sender, x.nonce, x.fee, x.kind,
             wire::count_max<chain_limits::tx_body_bytes_max>, x.body, x.signature);
  }
};

/// The bytes a sender signs: a domain tag, then the encoding without the signature.
core::byte_buffer signing_bytes(const transaction& tx);
/// Fills in tx.sender with `key`'s public key and tx.signature.
void sign(transaction& tx, const core::key_pair& key);
bool verify(const transaction& tx, const core::verifier& signatures);
/// SHA-256 of the whole encoding, signature included.
core::hash256 tx_hash(const transaction& tx);

core::byte_buffer signing_bytes(const receipt& r);
/// Fills in r.viewer with `key`'s public key and r.signature.
void sign(receipt& r, const core::key_pair& key);
bool verify(const receipt& r, const core::verifier& signatures);

/// The id of the deposit opened by `viewer`'s transaction with nonce `nonce`.
core::hash256 deposit_id(const core::node_id& viewer, std::uint64_t nonce);

/// A signed transaction carrying `body`.
template <class Body>
transaction make_transaction(const core::hash256& chain, const core::key_pair& key,
                             std::uint64_t nonce, amount fee, const Body& body) {
  transaction tx;
  tx.chain = chain;
  tx.nonce = nonce;
  tx.fee = fee;
  tx.kind = static_cast<std::uint8_t>(Body::kind);
  tx.body = core::encode_record(body);
  sign(tx, key);
  return tx;
}

/// The body of `tx` as a `Body`. Errors: tx_errc::malformed_body naming the field.
/// REQUIRES: tx.kind == Body::kind.
template <class Body>
caf::expected<Body> decode_body(const transaction& tx);

} // namespace stakecast::rules
