#include "actors/peer/service.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "actors/core/record_codec.hpp"
#include "actors/peer/actor_time.hpp"
#include "actors/validator/rules/apply.hpp"

namespace stakecast::peer {

// -- viewer -------------------------------------------------------------------------

receipt_signer::receipt_signer(core::key_pair account, receipt_signer_config config)
    : account_(std::move(account)),
      config_(std::move(config)),
      deposit_(rules::deposit_id(account_.public_key(), config_.nonce)) {}

void receipt_signer::start(const world::node_context& context, std::int64_t) {
  context_ = context;
  signed_counter_ = context.telemetry->counter("service.receipts_signed");
  auto tx = rules::make_transaction(config_.chain, account_, config_.nonce, config_.fee,
                                    rules::open_deposit_body{config_.deposit});
  context_.network->send(config_.validator, wire::chain_tx{core::encode_record(tx)});
}

void receipt_signer::delivered(const core::node_id& from, std::uint64_t bytes,
                               std::int64_t now_ns) {
  auto found = served_.find(from);
  if (found == served_.end()) {
    if (served_.size() == masternodes_max)
      return;
    // Never signed: the first delivery is signed at once.
    found = served_.emplace(from, served{0, 0, now_ns - config_.receipt_interval.count()}).first;
  }
  auto& s = found->second;
  s.bytes += bytes;
  if (now_ns - s.signed_at_ns >= config_.receipt_interval.count())
    send_receipt(from, s, now_ns);
}

void receipt_signer::finish(std::int64_t now_ns) {
  for (auto& [masternode, s] : served_)
    send_receipt(masternode, s, now_ns);
}

void receipt_signer::send_receipt(const core::node_id& masternode, served& s,
                                  std::int64_t now_ns) {
  if (s.bytes == s.signed_bytes || context_.network == nullptr)
    return;
  rules::receipt r{config_.chain,   deposit_, account_.public_key(), masternode,
                   config_.content, s.bytes,  {}};
  rules::sign(r, account_);
  s.signed_bytes = s.bytes;
  s.signed_at_ns = now_ns;
  context_.telemetry->add(signed_counter_, 1);
  context_.network->send(masternode, wire::service_receipt{core::encode_record(r)});
}

// -- masternode ---------------------------------------------------------------------

namespace {

using agent_pointer = service_agent_actor::stateful_pointer<service_agent_state>;

void count(agent_pointer self, world::metrics::counter_id counter, std::int64_t delta = 1) {
  self->state.context.telemetry->add(counter, delta);
}

void on_receipt(agent_pointer self, const wire::service_receipt& message) {
  auto& state = self->state;
  auto r = core::decode_record<rules::receipt>(message.encoded, "receipt");
  auto refuse = [&] { count(self, state.metric.refused); };
  if (!r || r->chain != state.config.chain || r->masternode != state.context.id)
    return refuse();
  auto kept = state.receipts.find(r->deposit);
  if (kept == state.receipts.end()) {
    if (state.receipts.size() == service_agent_state::receipts_max)
      return refuse();
  } else {
    const auto& held = kept->second.receipt;
    if (r->bytes <= held.bytes || r->viewer != held.viewer || r->content != held.content)
      return refuse(); // an old one, or not the deposit's
  }
  if (!rules::verify(*r, *state.config.signatures))
    return refuse();
  count(self, state.metric.received);
  if (kept == state.receipts.end())
    state.receipts.emplace(r->deposit, service_agent_state::kept_receipt{*r, now_ns(self), 0});
  else
    kept->second.receipt = *r;
}

void ask(agent_pointer self) {
  auto& state = self->state;
  // A receipt the chain has paid in full is forgotten; a later one starts anew.
  std::erase_if(state.receipts,
                [](const auto& entry) { return entry.second.receipt.bytes <= entry.second.claimed; });
  wire::chain_query query{state.next_query++, state.context.id, {}, {}};
  for (const auto& [deposit, kept] : state.receipts) {
    if (query.deposits.size() == wire::chain_query_deposits_max)
      break;
    query.deposits.push_back(deposit);
  }
  state.pending_query = query.query_id;
  const auto& validators = state.config.validators;
  const auto& to = validators[state.next_validator++ % validators.size()];
  count(self, state.metric.queries);
  state.context.network->send(to, std::move(query));
}

/// The k-th transaction of a round leaves k * tx_spacing after the first: the network
/// may reorder messages sent at one instant, and a mempool refuses nonce n + 1 before n.
template <class Body>
void submit(agent_pointer self, const core::node_id& validator, std::uint64_t& nonce,
            std::uint64_t first_nonce, const Body& body) {
  auto& state = self->state;
  const auto k = nonce - first_nonce;
  auto tx = rules::make_transaction(state.config.chain, *state.key, nonce++, state.config.fee, body);
  wire::chain_tx message{core::encode_record(tx)};
  if (k == 0)
    state.context.network->send(validator, std::move(message));
  else
    self->delayed_send(self, service_agent_state::tx_spacing * static_cast<std::int64_t>(k),
                       send_tx_atom::value, validator, std::move(message.encoded));
}

/// The receipts the chain will take now, as the answer describes it; drops the ones
/// it never will.
std::vector<rules::receipt> claimable(agent_pointer self, const wire::chain_answer& answer) {
  auto& state = self->state;
  std::vector<rules::receipt> out;
  const auto now = now_ns(self);
  for (const auto& entry : answer.deposits) {
    auto kept = state.receipts.find(entry.deposit);
    if (kept == state.receipts.end())
      continue;
    auto& k = kept->second;
    const auto& r = k.receipt;
    k.claimed = std::max(k.claimed, entry.claimed);
    bool drop = false;
    if (!entry.found) {
      drop = now - k.first_ns > state.config.deposit_wait.count();
    } else {
      const bool placed =
          std::find(answer.assigned.begin(), answer.assigned.end(), r.content) != answer.assigned.end();
      const auto owed = rules::payment_for(r.bytes, answer.price_per_gib) -
                        rules::payment_for(k.claimed, answer.price_per_gib);
      if (entry.viewer != r.viewer || !placed || owed > entry.remaining)
        drop = true;
      else if (r.bytes > k.claimed)
        out.push_back(r);
    }
    if (drop) {
      count(self, state.metric.dropped);
      state.receipts.erase(kept);
    }
  }
  return out;
}

void on_answer(agent_pointer self, const core::node_id& from, const wire::chain_answer& answer) {
  auto& state = self->state;
  const auto& validators = state.config.validators;
  if (answer.query_id != state.pending_query || answer.chain != state.config.chain ||
      std::find(validators.begin(), validators.end(), from) == validators.end())
    return;
  state.pending_query = 0;
  if (!state.floor.take(answer.height)) {
    count(self, state.metric.stale_answers); // asked again, of the next validator, next round
    return;
  }
  if (state.assigned != answer.assigned) {
    state.assigned = answer.assigned;
    if (state.config.on_assignments)
      state.config.on_assignments(*state.assigned);
  }
  // Audit answers first: a claim the chain refuses (its state moved since the answer)
  // leaves a nonce gap that holds back what follows it until the next round.
  std::uint64_t nonce = answer.nonce;
  for (const auto& challenge : answer.challenges) {
    auto block = state.config.blocks->read(challenge.content, challenge.block_index);
    if (!block) {
      count(self, state.metric.audits_unheld);
      continue;
    }
    submit(self, from, nonce, answer.nonce,
           rules::audit_response_body{challenge.id, std::move(block->bytes),
                                      block->proof.leaf_count, std::move(block->proof.siblings)});
    count(self, state.metric.audits_answered);
  }
  auto receipts = claimable(self, answer);
  for (std::size_t first = 0; first < receipts.size();
       first += rules::chain_limits::receipts_per_claim_max) {
    const auto last = std::min(receipts.size(), first + rules::chain_limits::receipts_per_claim_max);
    rules::claim_receipts_body body;
    body.receipts.assign(receipts.begin() + static_cast<std::ptrdiff_t>(first),
                         receipts.begin() + static_cast<std::ptrdiff_t>(last));
    submit(self, from, nonce, answer.nonce, body);
    count(self, state.metric.claims);
    count(self, state.metric.claimed, static_cast<std::int64_t>(body.receipts.size()));
  }
}

} // namespace

service_agent_actor::behavior_type service_agent(agent_pointer self, world::node_context context,
                                                 std::shared_ptr<const core::key_pair> key,
                                                 service_agent_config config) {
  assert(key && key->public_key() == context.id);
  assert(!config.validators.empty() && config.signatures && config.blocks);
  auto& state = self->state;
  state.context = context;
  state.key = std::move(key);
  state.config = std::move(config);
  state.origin = self->clock().now();
  auto& telemetry = *context.telemetry;
  state.metric = {telemetry.counter("service.receipts_received"),
                  telemetry.counter("service.receipts_refused"),
                  telemetry.counter("service.queries"),
                  telemetry.counter("service.claims_sent"),
                  telemetry.counter("service.receipts_claimed"),
                  telemetry.counter("service.receipts_dropped"),
                  telemetry.counter("service.audits_answered"),
                  telemetry.counter("service.audits_unheld"),
                  telemetry.counter("service.answers_stale")};
  // The first round soon, so that a (re)started masternode learns its placement.
  self->delayed_send(self, std::chrono::seconds(1), claim_tick_atom::value);
  return {
      [self](const world::inbound& message) {
        if (const auto* receipt = std::get_if<wire::service_receipt>(&message.body))
          on_receipt(self, *receipt);
        else if (const auto* answer = std::get_if<wire::chain_answer>(&message.body))
          on_answer(self, message.from, *answer);
      },
      [self](send_tx_atom, const core::node_id& validator, std::vector<std::uint8_t>& encoded) {
        self->state.context.network->send(validator, wire::chain_tx{std::move(encoded)});
      },
      [self](claim_tick_atom) {
        ask(self);
        self->delayed_send(self, self->state.config.claim_interval, claim_tick_atom::value);
      },
  };
}

} // namespace stakecast::peer
