// The rules of each transaction kind (apply.hpp): checks first, then changes. A
// handler may fail after changing the state (a claim whose third receipt is bad);
// apply_tx rolls such changes back.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "actors/core/error.hpp"

#include "actors/core/merkle.hpp"
#include "actors/validator/rules/apply.hpp"
#include "actors/validator/rules/errors.hpp"
#include "actors/validator/rules/ledger.hpp"

namespace stakecast::rules {

uint128 payment_for(std::uint64_t bytes, amount price_per_gib) noexcept {
  return (static_cast<uint128>(bytes) * price_per_gib) >> 30;
}

namespace detail {

namespace {

struct tx_context {
  state& s;
  const transaction& tx;
  /// Checks signatures, and the blocks of audit answers (core/verifier.hpp).
  const core::verifier& signatures;
  /// The height of the block the transaction is in.
  std::uint64_t height = 0;
};

// The same tx error with "<prefix>: " before its detail.
caf::error with_prefix(const caf::error& error, std::string_view prefix) {
  auto code = static_cast<tx_errc>(error.code());
  std::string detail = error.context().get_as<std::string>(0);
  auto name = to_string(code);
  if (detail.starts_with(name) && detail.size() >= name.size() + 2)
    detail.erase(0, name.size() + 2);
  return make_error(code, fmt::format("{}: {}", prefix, detail));
}

caf::error debit(state& s, const core::node_id& id, amount value) {
  auto* a = s.accounts.find_mut(id);
  amount have = a == nullptr ? 0 : a->balance;
  if (a == nullptr || have < value)
    return make_error(tx_errc::insufficient_funds,
                      fmt::format("balance {}, needs {}", have, value));
  a->balance -= value;
  return {};
}

caf::error positive(amount value) {
  if (value == 0)
    return make_error(tx_errc::invalid_amount, "amount must be positive");
  return {};
}

bool registered(const state& s, const core::node_id& id) {
  return s.validators.contains(id) || s.masternodes.contains(id);
}

caf::error handle(tx_context& c, const transfer_body& body) {
  if (auto error = positive(body.value))
    return error;
  if (auto error = debit(c.s, c.tx.sender, body.value))
    return error;
  credit(c.s, body.to, body.value);
  return {};
}

caf::error handle(tx_context& c, const register_validator_body& body) {
  if (registered(c.s, c.tx.sender))
    return make_error(tx_errc::already_registered, c.tx.sender.to_hex());
  if (body.self_bond < c.s.params.validator_self_bond_min)
    return make_error(tx_errc::bond_too_low,
                      fmt::format("self bond {} below {}", body.self_bond,
                                  c.s.params.validator_self_bond_min));
  if (body.commission > ppm_one)
    return make_error(tx_errc::commission_too_high, fmt::format("{} ppm", body.commission));
  if (auto error = debit(c.s, c.tx.sender, body.self_bond))
    return error;
  validator_record v;
  v.self_bond = body.self_bond;
  v.commission = body.commission;
  c.s.validators.put(c.tx.sender, std::move(v));
  return {};
}

caf::error handle(tx_context& c, const register_masternode_body& body) {
  if (registered(c.s, c.tx.sender))
    return make_error(tx_errc::already_registered, c.tx.sender.to_hex());
  if (body.stake < c.s.params.masternode_stake_min)
    return make_error(tx_errc::bond_too_low, fmt::format("stake {} below {}", body.stake,
                                                         c.s.params.masternode_stake_min));
  if (body.commission > ppm_one)
    return make_error(tx_errc::commission_too_high, fmt::format("{} ppm", body.commission));
  if (body.endpoint.empty() || body.endpoint.size() > chain_limits::endpoint_bytes_max)
    return make_error(tx_errc::bad_endpoint,
                      fmt::format("{} bytes, allowed 1 ..= {}", body.endpoint.size(),
                                  chain_limits::endpoint_bytes_max));
  if (auto error = debit(c.s, c.tx.sender, body.stake))
    return error;
  masternode_record m;
  m.stake = body.stake;
  m.commission = body.commission;
  m.endpoint = body.endpoint;
  m.capacity_bytes = body.capacity_bytes;
  c.s.masternodes.put(c.tx.sender, std::move(m));
  return {};
}

// The node's own bond field and its delegated total, or nullptrs when unregistered.
struct bond_fields {
  amount* own = nullptr;
  amount* delegated = nullptr;
  bool tombstoned = false;
};

bond_fields bonds_of(state& s, const core::node_id& target) {
  if (auto* v = s.validators.find_mut(target))
    return {&v->self_bond, &v->delegated, v->tombstoned};
  if (auto* m = s.masternodes.find_mut(target))
    return {&m->stake, &m->delegated, m->tombstoned};
  return {};
}

caf::error handle(tx_context& c, const delegate_body& body) {
  if (auto error = positive(body.value))
    return error;
  if (!registered(c.s, body.target))
    return make_error(tx_errc::unknown_target, body.target.to_hex());
  if (auto error = debit(c.s, c.tx.sender, body.value))
    return error;
  auto fields = bonds_of(c.s, body.target);
  if (fields.tombstoned)
    return make_error(tx_errc::already_tombstoned, body.target.to_hex());
  if (body.target == c.tx.sender) {
    *fields.own += body.value;
    return {};
  }
  *fields.delegated += body.value;
  c.s.delegations.upsert({body.target, c.tx.sender}).value += body.value;
  return {};
}

caf::error unbond_from(tx_context& c, const unbond_body& body, bond_fields fields) {
  if (body.target == c.tx.sender) {
    if (*fields.own < body.value)
      return make_error(tx_errc::unbond_exceeds_bond,
                        fmt::format("own bond {}, asked {}", *fields.own, body.value));
    *fields.own -= body.value;
    return {};
  }
  delegation_key key{body.target, c.tx.sender};
  auto* d = c.s.delegations.find_mut(key);
  if (d == nullptr)
    return make_error(tx_errc::delegation_not_found, body.target.to_hex());
  if (d->value < body.value)
    return make_error(tx_errc::unbond_exceeds_bond,
                      fmt::format("delegated {}, asked {}", d->value, body.value));
  d->value -= body.value;
  *fields.delegated -= body.value;
  if (d->value == 0)
    c.s.delegations.erase(key);
  return {};
}

caf::error handle(tx_context& c, const unbond_body& body) {
  if (auto error = positive(body.value))
    return error;
  auto fields = bonds_of(c.s, body.target);
  if (fields.own == nullptr)
    return make_error(tx_errc::unknown_target, body.target.to_hex());
  auto& a = c.s.accounts.upsert(c.tx.sender);
  if (a.unbonding_count >= chain_limits::unbonding_entries_per_account_max)
    return make_error(tx_errc::too_many_unbondings,
                      fmt::format("{} in flight", a.unbonding_count));
  if (auto error = unbond_from(c, body, fields))
    return error;
  a.unbonding_count += 1;
  unbonding_key key{c.height + c.s.params.unbonding_blocks, c.s.globals.next_sequence++};
  c.s.unbondings.put(key, {c.tx.sender, body.target, body.value, c.height});
  return {};
}

caf::error handle(tx_context& c, const publish_content_body& body) {
  content_record record{c.tx.sender, body.root, body.block_count, body.size_bytes, body.replicas};
  if (auto error = check_new_content(c.s.params, c.s.contents, body.content, record))
    return error;
  c.s.contents.put(body.content, record);
  assign(c.s, body.content, body.replicas);
  return {};
}

caf::error handle(tx_context& c, const open_deposit_body& body) {
  if (auto error = positive(body.value))
    return error;
  if (auto error = debit(c.s, c.tx.sender, body.value))
    return error;
  c.s.deposits.put(deposit_id(c.tx.sender, c.tx.nonce), {c.tx.sender, body.value, 0});
  return {};
}

// The cheap checks of one receipt; the signature is checked last.
caf::error check_receipt(tx_context& c, const receipt& r, std::uint64_t claimed) {
  if (r.chain != c.s.globals.chain)
    return make_error(tx_errc::receipt_wrong_chain, r.chain.to_hex());
  if (r.masternode != c.tx.sender)
    return make_error(tx_errc::receipt_not_for_sender, r.masternode.to_hex());
  const auto* deposit = c.s.deposits.find(r.deposit);
  if (deposit == nullptr)
    return make_error(tx_errc::deposit_not_found, r.deposit.to_hex());
  if (deposit->viewer != r.viewer)
    return make_error(tx_errc::wrong_viewer, r.viewer.to_hex());
  if (!c.s.contents.contains(r.content))
    return make_error(tx_errc::content_not_found, r.content.to_hex());
  auto assigned = assigned_masternodes(c.s, r.content);
  if (std::find(assigned.begin(), assigned.end(), c.tx.sender) == assigned.end())
    return make_error(tx_errc::content_not_assigned, r.content.to_hex());
  if (r.bytes <= claimed)
    return make_error(tx_errc::receipt_replayed,
                      fmt::format("{} bytes already claimed, receipt says {}", claimed, r.bytes));
  if (!verify(r, c.signatures))
    return make_error(tx_errc::bad_receipt_signature, r.viewer.to_hex());
  return {};
}

caf::error claim(tx_context& c, const receipt& r) {
  claim_key key{r.deposit, r.masternode};
  const auto* previous = c.s.claims.find(key);
  std::uint64_t claimed = previous == nullptr ? 0 : previous->bytes;
  if (auto error = check_receipt(c, r, claimed))
    return error;
  auto price = c.s.params.price_per_gib;
  uint128 owed = payment_for(r.bytes, price) - payment_for(claimed, price);
  auto* deposit = c.s.deposits.find_mut(r.deposit);
  if (owed > deposit->remaining)
    return make_error(tx_errc::receipt_beyond_deposit,
                      fmt::format("deposit holds {}, receipt needs {}", deposit->remaining,
                                  static_cast<amount>(owed)));
  auto pay = static_cast<amount>(owed);
  auto burn = ppm_of(pay, c.s.params.fee_burn);
  deposit->remaining -= pay;
  deposit->paid += pay;
  c.s.globals.burned += burn;
  c.s.globals.receipts_paid += pay;
  credit(c.s, r.masternode, pay - burn);
  c.s.claims.put(key, {r.bytes});
  auto& service = c.s.epoch_service.upsert(r.masternode);
  service.bytes = checked_add(service.bytes, r.bytes - claimed).value_or(UINT64_MAX);
  return {};
}

caf::error handle(tx_context& c, const claim_receipts_body& body) {
  if (!c.s.masternodes.contains(c.tx.sender))
    return make_error(tx_errc::not_a_masternode, c.tx.sender.to_hex());
  if (body.receipts.empty())
    return make_error(tx_errc::empty_claim, "no receipts");
  for (std::size_t i = 0; i < body.receipts.size(); ++i) {
    if (auto error = claim(c, body.receipts[i]))
      return with_prefix(error, fmt::format("receipt {}", i));
  }
  return {};
}

caf::error handle(tx_context& c, const audit_response_body& body) {
  const auto* challenge = c.s.challenges.find(body.challenge);
  if (challenge == nullptr)
    return make_error(tx_errc::challenge_not_found, fmt::format("challenge {}", body.challenge));
  if (challenge->masternode != c.tx.sender)
    return make_error(tx_errc::challenge_not_yours, fmt::format("challenge {}", body.challenge));
  const auto* content = c.s.contents.find(challenge->content);
  require(content != nullptr, "a challenge names an unknown content");
  core::merkle_proof proof{challenge->block_index, body.leaf_count, body.siblings};
  if (body.leaf_count != content->block_count
      || !c.signatures.verify_block(content->root, body.block, proof))
    return make_error(tx_errc::audit_proof_invalid,
                      fmt::format("challenge {}: block {} does not verify", body.challenge,
                                  challenge->block_index));
  c.s.challenges.erase(body.challenge);
  return {};
}

caf::error check_evidence(tx_context& c, const evidence_body& body) {
  const auto& a = body.first;
  if (!conflicting(a, body.second))
    return make_error(tx_errc::evidence_not_conflicting, "the votes do not conflict");
  if (a.chain != c.s.globals.chain)
    return make_error(tx_errc::wrong_chain, "evidence from another chain");
  if (a.height + c.s.params.unbonding_blocks < c.height)
    return make_error(tx_errc::evidence_too_old,
                      fmt::format("votes at height {}, now {}", a.height, c.height));
  const auto* v = c.s.validators.find(a.validator);
  if (v == nullptr)
    return make_error(tx_errc::unknown_validator, a.validator.to_hex());
  if (v->tombstoned)
    return make_error(tx_errc::already_tombstoned, a.validator.to_hex());
  if (!verify(a, c.signatures) || !verify(body.second, c.signatures))
    return make_error(tx_errc::bad_evidence_signature, a.validator.to_hex());
  return {};
}

caf::error handle(tx_context& c, const evidence_body& body) {
  if (auto error = check_evidence(c, body))
    return error;
  const auto& offender = body.first.validator;
  slash(c.s, offender, c.s.params.double_sign_slash, body.first.height);
  jail(c.s, offender, UINT64_MAX);
  c.s.validators.find_mut(offender)->tombstoned = true;
  return {};
}

caf::error handle(tx_context& c, const unjail_body&) {
  bool* jailed = nullptr;
  std::uint64_t until = 0;
  bool tombstoned = false;
  if (auto* v = c.s.validators.find_mut(c.tx.sender)) {
    jailed = &v->jailed;
    until = v->jailed_until;
    tombstoned = v->tombstoned;
  } else if (auto* m = c.s.masternodes.find_mut(c.tx.sender)) {
    jailed = &m->jailed;
    until = m->jailed_until;
    tombstoned = m->tombstoned;
  } else {
    return make_error(tx_errc::not_registered, c.tx.sender.to_hex());
  }
  if (tombstoned)
    return make_error(tx_errc::already_tombstoned, c.tx.sender.to_hex());
  if (!*jailed)
    return make_error(tx_errc::not_jailed, c.tx.sender.to_hex());
  if (c.height < until)
    return make_error(tx_errc::still_jailed, fmt::format("until height {}, now {}", until,
                                                         c.height));
  *jailed = false;
  return {};
}

template <class Body>
caf::error decode_and_handle(tx_context& c) {
  auto body = decode_body<Body>(c.tx);
  if (!body)
    return std::move(body.error());
  return handle(c, *body);
}

caf::error dispatch(tx_context& c) {
  switch (static_cast<tx_kind>(c.tx.kind)) {
    case tx_kind::transfer:
      return decode_and_handle<transfer_body>(c);
    case tx_kind::register_validator:
      return decode_and_handle<register_validator_body>(c);
    case tx_kind::register_masternode:
      return decode_and_handle<register_masternode_body>(c);
    case tx_kind::delegate:
      return decode_and_handle<delegate_body>(c);
    case tx_kind::unbond:
      return decode_and_handle<unbond_body>(c);
    case tx_kind::publish_content:
      return decode_and_handle<publish_content_body>(c);
    case tx_kind::open_deposit:
      return decode_and_handle<open_deposit_body>(c);
    case tx_kind::claim_receipts:
      return decode_and_handle<claim_receipts_body>(c);
    case tx_kind::audit_response:
      return decode_and_handle<audit_response_body>(c);
    case tx_kind::evidence:
      return decode_and_handle<evidence_body>(c);
    case tx_kind::unjail:
      return decode_and_handle<unjail_body>(c);
  }
  return make_error(tx_errc::unknown_kind, fmt::format("kind {}", c.tx.kind));
}

// The envelope: chain, kind, fee, nonce, funds for the fee, then the signature (the
// expensive check last). Takes the fee and the nonce.
caf::error check_envelope(tx_context& c) {
  const auto& tx = c.tx;
  if (tx.chain != c.s.globals.chain)
    return make_error(tx_errc::wrong_chain, tx.chain.to_hex());
  if (tx.kind < 1 || tx.kind > tx_kind_last)
    return make_error(tx_errc::unknown_kind, fmt::format("kind {}", tx.kind));
  if (tx.fee < c.s.params.tx_fee_min)
    return make_error(tx_errc::fee_too_low,
                      fmt::format("fee {}, minimum {}", tx.fee, c.s.params.tx_fee_min));
  auto expected = nonce(c.s, tx.sender);
  if (tx.nonce != expected)
    return make_error(tx_errc::bad_nonce, fmt::format("expected {}, got {}", expected, tx.nonce));
  if (balance(c.s, tx.sender) < tx.fee)
    return make_error(tx_errc::insufficient_funds,
                      fmt::format("balance {}, fee {}", balance(c.s, tx.sender), tx.fee));
  if (!verify(tx, c.signatures))
    return make_error(tx_errc::bad_signature, tx.sender.to_hex());
  return {};
}

} // namespace

caf::error check_new_content(const parameters& p,
                             const table<core::content_id, content_record>& contents,
                             const core::content_id& content, const content_record& record) {
  if (contents.contains(content))
    return make_error(tx_errc::content_exists, content.to_hex());
  if (record.replicas < 1 || record.replicas > p.replicas_max)
    return make_error(tx_errc::bad_replicas,
                      fmt::format("{}, allowed 1 ..= {}", record.replicas, p.replicas_max));
  if (record.size_bytes > core::content_bytes_max
      || record.block_count != core::block_count(record.size_bytes))
    return make_error(tx_errc::bad_content,
                      fmt::format("{} bytes make {} blocks, not {}", record.size_bytes,
                                  record.size_bytes > core::content_bytes_max
                                    ? 0
                                    : core::block_count(record.size_bytes),
                                  record.block_count));
  return {};
}

caf::error apply_tx_unguarded(state& s, const transaction& tx, const core::node_id& proposer,
                              const core::verifier& signatures) {
  tx_context c{s, tx, signatures, s.globals.height + 1};
  if (auto error = check_envelope(c))
    return error;
  auto& sender = *s.accounts.find_mut(tx.sender);
  sender.balance -= tx.fee;
  sender.nonce += 1;
  credit(s, proposer, tx.fee);
  s.globals.fees_paid += tx.fee;
  return dispatch(c);
}

} // namespace detail

caf::error apply_tx(state& s, const transaction& tx, const core::node_id& proposer,
                    const core::verifier& signatures) {
  auto point = detail::mark(s);
  if (auto error = detail::apply_tx_unguarded(s, tx, proposer, signatures)) {
    detail::rollback(s, point);
    return error;
  }
  return {};
}

caf::error check_tx(state& s, const transaction& tx, const core::verifier& signatures) {
  auto point = detail::mark(s);
  auto error = detail::apply_tx_unguarded(s, tx, {}, signatures);
  detail::rollback(s, point);
  return error;
}

} // namespace stakecast::rules
