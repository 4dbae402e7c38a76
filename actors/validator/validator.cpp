#include "actors/validator/validator.hpp"

#include <algorithm>
#include <cassert>
#include <string>

#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"
#include "actors/validator/query.hpp"
#include "actors/validator/rules/apply.hpp"

namespace stakecast::validator {

namespace {

// Store layout: one key per committed block and per commit, and the tip. Heights are
// zero-padded so that keys sort by height.
constexpr std::string_view tip_key = "chain/tip";

std::string block_key(std::uint64_t height) {
  return fmt::format("chain/block/{:020}", height);
}

std::string commit_key(std::uint64_t height) {
  return fmt::format("chain/commit/{:020}", height);
}

core::byte_buffer encode_u64(std::uint64_t value) {
  core::byte_buffer out(8);
  for (std::size_t i = 0; i < 8; ++i)
    out[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return out;
}

std::optional<std::uint64_t> decode_u64(const core::byte_buffer& bytes) {
  if (bytes.size() != 8)
    return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i)
    value |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  return value;
}

wire::signed_vote to_wire(const rules::vote& v) {
  return {v.chain, v.height, v.round, v.kind, v.block, v.validator, v.signature};
}

rules::vote from_wire(const wire::signed_vote& v) {
  rules::vote out;
  out.chain = v.chain;
  out.height = v.height;
  out.round = v.round;
  out.kind = v.kind;
  out.block = v.block;
  out.validator = v.validator;
  out.signature = v.signature;
  return out;
}

std::vector<wire::signed_vote> to_wire(const std::vector<rules::vote>& votes) {
  std::vector<wire::signed_vote> out;
  out.reserve(votes.size());
  for (const auto& v : votes)
    out.push_back(to_wire(v));
  return out;
}

std::vector<rules::vote> from_wire(const std::vector<wire::signed_vote>& votes) {
  std::vector<rules::vote> out;
  out.reserve(votes.size());
  for (const auto& v : votes)
    out.push_back(from_wire(v));
  return out;
}

wire::chain_proposal to_wire(const proposal& p, wire::payload block) {
  return {p.chain,     p.height,   p.round,     p.block,
          p.pol_round, p.proposer, p.signature, std::move(block)};
}

proposal from_wire(const wire::chain_proposal& p) {
  proposal out;
  out.chain = p.chain;
  out.height = p.height;
  out.round = p.round;
  out.block = p.block;
  out.pol_round = p.pol_round;
  out.proposer = p.proposer;
  out.signature = p.signature;
  return out;
}

core::key_pair key_from(const core::hash256& seed) {
  auto made = core::key_pair::from_seed(seed);
  assert(made);
  return std::move(*made);
}

// What the engine starts from: the stored record, or one that signs nothing when the
// stored record is unreadable.
sign_state initial_sign_state(const world::store& storage) {
  auto loaded = load_sign_state(storage);
  return loaded ? *loaded : sign_state::refuse_all();
}

rules::state initial_state_of(const rules::genesis& genesis) {
  auto made = rules::initial_state(genesis);
  assert(made);
  return std::move(*made);
}

std::uint64_t ms_of(world::utc_time t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

} // namespace

caf::expected<sign_state> load_sign_state(const world::store& store) {
  const auto bytes = store.get(sign_state::store_key);
  if (!bytes)
    return sign_state{};
  auto record = core::decode_record<sign_state>(*bytes, "sign state");
  if (!record)
    return record.error();
  if (!is_well_formed(*record))
    return wire::make_error(wire::codec_errc::invalid_value,
                            fmt::format("sign state at height {} round {} has step {} and a "
                                        "lock in round {}: not a record the validator writes",
                                        record->height, record->round, record->step,
                                        record->locked_round));
  return record;
}

bool store_sign_journal::save(const sign_state& state) {
  world::store::write_batch batch;
  batch.put(std::string(sign_state::store_key), core::encode_record(state));
  return storage_->write(batch).empty();
}

validator_node::validator_node(world::node_context context, validator_config config,
                               validator_timers timers)
    : context_(context), config_(std::move(config)), timers_(std::move(timers)),
      key_(key_from(config_.key_seed)), journal_(*context_.storage),
      engine_(config_.engine, rules::chain_id(config_.genesis), key_from(config_.key_seed),
              *config_.signatures, &journal_, initial_sign_state(*context_.storage)),
      state_(initial_state_of(config_.genesis)) {
  assert(context_.network != nullptr && context_.storage != nullptr);
  assert(context_.telemetry != nullptr && context_.wall_clock != nullptr);
  register_metrics();
}

void validator_node::register_metrics() {
  auto& m = *context_.telemetry;
  counter_.commits = m.counter("chain.commits");
  counter_.blocks_proposed = m.counter("chain.blocks_proposed");
  counter_.recheck_drops = m.counter("chain.mempool.dropped_recheck");
  counter_.sync_requests = m.counter("chain.sync.requests");
  counter_.sync_blocks = m.counter("chain.sync.blocks");
  counter_.regossips = m.counter("chain.regossips");
  counter_.evidence_submitted = m.counter("chain.evidence_submitted");
  counter_.blocks_rejected = m.counter("chain.blocks_rejected");
  counter_.store_errors = m.counter("chain.store_errors");
  counter_.signatures_refused = m.counter("chain.signatures_refused");
  counter_.signatures_unsaved = m.counter("chain.signatures_unsaved");
  for (std::size_t i = 0; i < mempool_outcome_count; ++i)
    counter_.mempool[i] =
        m.counter(fmt::format("chain.mempool.{}", to_string(static_cast<mempool_outcome>(i))));
  static constexpr std::array<std::string_view, drop_reason_count> drop_names{
      "not_started", "wrong_chain",   "old_height",        "future_height",       "buffer_full",
      "not_member",  "bad_signature", "malformed",         "round_out_of_window", "wrong_proposer",
      "duplicate",   "equivocation",  "proposal_conflict", "bad_certificate"};
  for (std::size_t i = 0; i < drop_reason_count; ++i)
    counter_.dropped[i] = m.counter(fmt::format("chain.dropped.{}", drop_names[i]));
  counter_.block_time = m.histogram("chain.block_time_s");
  counter_.finality = m.histogram("chain.finality_s");
  counter_.commit_round = m.histogram("chain.commit_round");
  counter_.commit_event = m.event_kind("chain.commit");
  counter_.root_event = m.event_kind("chain.state_root");
}

std::int64_t validator_node::now_ms() const {
  return static_cast<std::int64_t>(ms_of(context_.wall_clock->now_utc()));
}

// ---- start and heights ----

void validator_node::start() {
  if (engine_.last_signed() == sign_state::refuse_all())
    context_.telemetry->add(counter_.store_errors, 1); // the sign state was unreadable
  restore_from_store();
  rules::state_root(state_);
  pool_.emplace(config_.pool, state_, context_.id, *config_.signatures);
  begin_height(state_.globals.height + 1);
}

void validator_node::restore_from_store() {
  const auto tip_bytes = context_.storage->get(tip_key);
  const auto tip = tip_bytes ? decode_u64(*tip_bytes) : std::nullopt;
  if (!tip)
    return;
  for (std::uint64_t h = 1; h <= *tip; ++h) {
    const auto bytes = context_.storage->get(block_key(h));
    if (!bytes) {
      context_.telemetry->add(counter_.store_errors, 1);
      break;
    }
    auto block = core::decode_record<rules::block>(*bytes, "block");
    if (!block || rules::apply(state_, *block, *config_.signatures)) {
      context_.telemetry->add(counter_.store_errors, 1);
      break; // resume from what applied; block sync fetches the rest
    }
  }
  if (const auto bytes = context_.storage->get(commit_key(state_.globals.height))) {
    if (auto stored = core::decode_record<wire::chain_commit>(*bytes, "commit"))
      last_commit_ = from_wire(stored->precommits);
  }
}

validator_set validator_node::set_for(std::uint64_t height) {
  // The proposer rotation is a pure function of the state and the height: the active
  // set made fresh, advanced once per height since the epoch began. Every validator,
  // restarted or not, computes the same set.
  std::vector<validator_info> members;
  for (const auto& v : rules::active_validators(state_))
    members.push_back({v.id, v.power});
  if (cached_set_ && cached_set_->first + 1 == height) {
    auto next = cached_set_->second.next();
    bool same = next.size() == members.size();
    for (std::size_t i = 0; same && i < members.size(); ++i)
      same = next.index_of(members[i].id) &&
             next.at(*next.index_of(members[i].id)).power == members[i].power;
    if (same && (height - 1) % state_.params.epoch_blocks != 0) {
      cached_set_ = {height, next};
      return next;
    }
  }
  auto set = std::move(*validator_set::make(std::move(members)));
  for (std::uint64_t i = 0; i < (height - 1) % state_.params.epoch_blocks; ++i)
    set = set.next();
  cached_set_ = {height, set};
  return set;
}

void validator_node::begin_height(std::uint64_t height) {
  auto set = set_for(height);
  // Gossip goes to every registered validator, not only the active set: a jailed or
  // tombstoned one still follows the chain (the engine counts without voting), and one
  // that returns to the set is current. Members come first, so a cap keeps them.
  peers_.clear();
  for (std::size_t i = 0; i < set.size(); ++i)
    if (set.at(i).id != context_.id)
      peers_.push_back(set.at(i).id);
  for (const auto& [id, record] : state_.validators.entries())
    if (peers_.size() < validator_set::validators_max && id != context_.id && !set.index_of(id))
      peers_.push_back(id);
  own_messages_.clear();
  answered_laggards_.clear();
  pending_commit_.reset();
  execute(engine_.start_height(height, std::move(set), now_ms()));
  auto early = std::exchange(future_proposals_, {});
  for (const auto& p : early)
    if (p.height == height)
      on_proposal(p.proposer, p);
}

// ---- inputs ----

void validator_node::on_message(const core::node_id& from, const wire::message& message) {
  std::visit(
      [&](const auto& body) {
        using type = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<type, wire::chain_tx>)
          on_tx(from, body);
        else if constexpr (std::is_same_v<type, wire::chain_proposal>)
          on_proposal(from, body);
        else if constexpr (std::is_same_v<type, wire::chain_vote>)
          on_vote(from, body);
        else if constexpr (std::is_same_v<type, wire::chain_commit>)
          on_commit_message(from, body);
        else if constexpr (std::is_same_v<type, wire::chain_block_request>)
          on_block_request(from, body);
        else if constexpr (std::is_same_v<type, wire::chain_block_response>)
          on_block_response(from, body);
        else if constexpr (std::is_same_v<type, wire::chain_query>)
          context_.network->send(from, answer_query(state_, body));
      },
      message);
}

void validator_node::on_tx(const core::node_id& from, const wire::chain_tx& message) {
  auto tx = core::decode_record<rules::transaction>(message.encoded, "transaction");
  if (!tx) {
    context_.telemetry->add(counter_.mempool[static_cast<std::size_t>(mempool_outcome::invalid)],
                            1);
    return;
  }
  const auto outcome = pool_->add(*tx, message.encoded.size());
  context_.telemetry->add(counter_.mempool[static_cast<std::size_t>(outcome)], 1);
  const bool from_validator = std::find(peers_.begin(), peers_.end(), from) != peers_.end();
  if (outcome == mempool_outcome::added && !from_validator)
    send_to_peers(message, -1);
}

bool validator_node::at_current_height(const core::node_id& from, std::uint64_t height) {
  const auto current = engine_.height();
  if (height > current) {
    note_peer_tip(from, height - 1); // it voted at `height`, so it committed height - 1
    return false;
  }
  // A vote for the height this node committed is a laggard's only when it was sent
  // well after the commit (a re-sent vote); votes merely slower than the quorum arrive
  // within a few hundred ms and need no answer.
  const bool laggard = height < current && height == state_.globals.height &&
                       !last_commit_.empty() && answered_laggards_.size() <= peers_.size() &&
                       now_ms() - committed_at_ms_ >= config_.tick_ms / 2;
  if (laggard && answered_laggards_.insert(from).second)
    context_.network->send(from, wire::chain_commit{height, to_wire(last_commit_)});
  return height == current;
}

void validator_node::on_proposal(const core::node_id& from, const wire::chain_proposal& message) {
  if (message.height == engine_.height() + 1 &&
      future_proposals_.size() < validator_config::future_proposals_max)
    future_proposals_.push_back(message);
  if (!at_current_height(from, message.height))
    return;
  const auto p = from_wire(message);
  if (!verify(p, *config_.signatures)) {
    engine_.on_proposal(p, false, now_ms()); // the engine counts the bad signature
    return;
  }
  const auto& judged = judge(p.block, message.block_encoded);
  execute(engine_.on_proposal(p, judged.after != nullptr, now_ms()));
}

void validator_node::on_vote(const core::node_id& from, const wire::chain_vote& message) {
  const auto v = from_wire(message.vote);
  if (v.height == state_.globals.height && v.height > 0)
    collect_late_precommit(v);
  if (v.height == engine_.height() + 1)
    execute(engine_.on_vote(v, now_ms())); // buffered by the engine for the next height
  if (!at_current_height(from, v.height))
    return;
  execute(engine_.on_vote(v, now_ms()));
}

void validator_node::collect_late_precommit(const rules::vote& v) {
  // The commit holds the precommits that formed the quorum; those that arrive during
  // the wait for the next block go into its last_commit too, so that a validator far
  // from the others is not counted as down (Tendermint's timeout_commit does this).
  const bool fits = v.kind_enum() == rules::vote_kind::precommit &&
                    v.block == state_.globals.last_block_hash &&
                    state_.last_validators.contains(v.validator) &&
                    last_commit_.size() < state_.last_validators.size();
  if (!fits)
    return;
  for (const auto& known : last_commit_)
    if (known.validator == v.validator)
      return;
  if (rules::verify(v, *config_.signatures))
    last_commit_.push_back(v);
}

void validator_node::on_commit_message(const core::node_id& from,
                                       const wire::chain_commit& message) {
  if (!at_current_height(from, message.height) || engine_.is_decided())
    return;
  const auto votes = from_wire(message.precommits);
  execute(engine_.on_commit_certificate(message.height, votes, now_ms()));
}

void validator_node::on_block_request(const core::node_id& from,
                                      const wire::chain_block_request& message) {
  if (message.height == 0 || message.height > state_.globals.height)
    return;
  auto block = context_.storage->get(block_key(message.height));
  auto commit_bytes = context_.storage->get(commit_key(message.height));
  if (!block || !commit_bytes)
    return;
  auto stored = core::decode_record<wire::chain_commit>(*commit_bytes, "commit");
  if (!stored)
    return;
  context_.network->send(from,
                         wire::chain_block_response{message.height, state_.globals.height,
                                                    wire::payload::materialized(std::move(*block)),
                                                    std::move(stored->precommits)});
}

void validator_node::on_block_response(const core::node_id& from,
                                       const wire::chain_block_response& message) {
  note_peer_tip(from, message.tip);
  if (message.height != engine_.height() || message.precommits.empty())
    return;
  if (message.height == requested_height_)
    requested_height_ = 0;
  const auto hash = message.precommits.front().block;
  const auto& judged = judge(hash, message.block_encoded);
  if (judged.after == nullptr)
    return;
  context_.telemetry->add(counter_.sync_blocks, 1);
  if (pending_commit_ && pending_commit_->block == hash) {
    auto decision = std::move(*pending_commit_);
    pending_commit_.reset();
    const candidate chosen = judged; // finish_commit clears the candidates
    finish_commit(decision, chosen);
    return;
  }
  if (!engine_.is_decided())
    execute(engine_.on_commit_certificate(message.height, from_wire(message.precommits), now_ms()));
}

void validator_node::on_timeout(const schedule_timeout& timeout) {
  execute(engine_.on_timeout(timeout.height, timeout.round, timeout.step, now_ms()));
}

void validator_node::on_tick() {
  count_engine_drops();
  const bool stuck = state_.globals.height == height_at_last_tick_;
  height_at_last_tick_ = state_.globals.height;
  if (stuck && !own_messages_.empty()) {
    context_.telemetry->add(counter_.regossips, 1);
    for (const auto& m : own_messages_)
      send_to_peers(m.body, m.parity);
  }
  if (requested_height_ != 0 && ++request_age_ticks_ >= validator_config::sync_timeout_ticks)
    requested_height_ = 0; // lost or unanswered: ask again, another peer
  if (best_tip_ > state_.globals.height && requested_height_ == 0 && (stuck || pending_commit_))
    request_block(state_.globals.height + 1);
}

// ---- blocks ----

const validator_node::candidate* validator_node::find_candidate(const core::hash256& hash) const {
  for (const auto& [h, c] : candidates_)
    if (h == hash)
      return &c;
  return nullptr;
}

void validator_node::remember(const core::hash256& hash, candidate c) {
  if (candidates_.size() >= validator_config::candidates_max)
    candidates_.pop_front();
  candidates_.emplace_back(hash, std::move(c));
}

const validator_node::candidate& validator_node::judge(const core::hash256& hash,
                                                       const wire::payload& encoded) {
  // A block is judged once; an empty payload names a block the sender expects us to
  // have (a re-proposal), and is invalid here when we do not.
  if (const auto* known = find_candidate(hash); known != nullptr && known->after != nullptr)
    return *known;
  std::erase_if(candidates_, [&](const auto& entry) { return entry.first == hash; });
  candidate c;
  c.encoded = encoded;
  auto block = core::decode_record<rules::block>(encoded.view(), "block");
  if (block && rules::block_hash(*block) == hash) {
    auto after = std::make_shared<rules::state>(state_);
    if (!rules::apply(*after, *block, *config_.signatures))
      c.after = std::move(after);
    c.block = std::move(*block);
  }
  if (c.after == nullptr)
    context_.telemetry->add(counter_.blocks_rejected, 1);
  remember(hash, std::move(c));
  return candidates_.back().second;
}

std::optional<core::hash256> validator_node::build_block(std::uint64_t height) {
  rules::block b;
  b.header.chain = state_.globals.chain;
  b.header.height = height;
  b.header.time_ms = std::max(ms_of(context_.wall_clock->now_utc()), state_.globals.time_ms + 1);
  b.header.previous = state_.globals.last_block_hash;
  b.header.proposer = context_.id;
  b.header.app_hash = state_.commitment.root;
  b.last_commit = last_commit_;
  // Take transactions in fee order while they pass against a scratch state and fit.
  auto scratch = state_;
  std::uint64_t bytes = 4096; // header and commit allowance
  pool_->for_each_in_order([&](const mempool::entry& e) {
    if (b.txs.size() >= state_.params.block_txs_max)
      return false;
    if (bytes + e.bytes > state_.params.block_bytes_max)
      return true;
    if (!rules::apply_tx(scratch, e.tx, context_.id, *config_.signatures)) {
      b.txs.push_back(e.tx);
      bytes += e.bytes;
    }
    return true;
  });
  rules::seal(b);
  const auto hash = rules::block_hash(b);
  const auto& judged = judge(hash, wire::payload::materialized(core::encode_record(b)));
  if (judged.after == nullptr)
    return std::nullopt; // our own rules refuse it: a bug, counted as a rejected block
  context_.telemetry->add(counter_.blocks_proposed, 1);
  return hash;
}

bool validator_node::persist(const commit& decision, const candidate& block) {
  world::store::write_batch batch;
  batch.put(block_key(decision.height),
            core::byte_buffer(block.encoded.view().begin(), block.encoded.view().end()));
  batch.put(commit_key(decision.height),
            core::encode_record(wire::chain_commit{decision.height, to_wire(decision.precommits)}));
  batch.put(std::string(tip_key), encode_u64(decision.height));
  if (auto problem = context_.storage->write(batch); !problem.empty()) {
    context_.telemetry->add(counter_.store_errors, 1);
    return false;
  }
  return true;
}

void validator_node::finish_commit(const commit& decision, const candidate& block) {
  assert(block.after != nullptr);
  if (!persist(decision, block))
    return; // nothing is acknowledged before it is stored: stay at this height
  const auto previous_time_ms = state_.globals.time_ms;
  committed_at_ms_ = now_ms();
  state_ = *block.after;
  last_commit_ = decision.precommits;
  report_commit(decision, block, previous_time_ms);
  const auto dropped = pool_->recheck(state_);
  context_.telemetry->add(counter_.recheck_drops, static_cast<std::int64_t>(dropped));
  candidates_.clear();
  begin_height(decision.height + 1);
  if (best_tip_ > state_.globals.height)
    request_block(state_.globals.height + 1); // still behind: keep syncing
}

void validator_node::report_commit(const commit& decision, const candidate& block,
                                   std::uint64_t previous_time_ms) {
  auto& m = *context_.telemetry;
  m.add(counter_.commits, 1);
  if (decision.height > 1)
    m.record(counter_.block_time,
             static_cast<double>(block.block.header.time_ms - previous_time_ms) / 1e3);
  m.record(counter_.finality,
           static_cast<double>(now_ms() - static_cast<std::int64_t>(block.block.header.time_ms)) /
               1e3);
  m.record(counter_.commit_round, decision.round);
  m.event(counter_.commit_event, context_.id, decision.height, decision.block.prefix64());
  m.event(counter_.root_event, context_.id, decision.height, state_.commitment.root.prefix64());
  if (config_.on_commit)
    config_.on_commit(commit_report{state_, block.block, decision.block, decision.round});
}

// ---- actions ----

void validator_node::execute(const std::vector<action>& actions) {
  for (const auto& a : actions)
    std::visit([this](const auto& x) { handle(x); }, a);
}

void validator_node::handle(const broadcast_proposal& a) {
  if (config_.withhold)
    return;
  const auto* known = find_candidate(a.value.block);
  auto block = known != nullptr ? known->encoded : wire::payload::materialized({});
  if (!config_.equivocate || known == nullptr) {
    send_own(to_wire(a.value, std::move(block)), -1);
    return;
  }
  // The twin: the same block a millisecond later, a valid block with another hash.
  auto twin_block = known->block;
  twin_block.header.time_ms += 1;
  rules::seal(twin_block);
  auto twin = a.value;
  twin.block = rules::block_hash(twin_block);
  twin.pol_round = proposal::no_pol_round;
  sign(twin, key_);
  judge(twin.block, wire::payload::materialized(core::encode_record(twin_block)));
  const auto* twin_known = find_candidate(twin.block);
  equivocate(to_wire(a.value, std::move(block)),
             to_wire(twin, twin_known != nullptr ? twin_known->encoded : wire::payload{}));
}

void validator_node::equivocate(wire::message original, wire::message twin) {
  // Half the peers hear the original first, the other half the twin; then each half
  // hears the other one too, as gossip through honest relays would bring it.
  send_to_peers(original, 1);
  send_to_peers(twin, 0);
  send_own(std::move(original), 0);
  send_own(std::move(twin), 1);
}

void validator_node::handle(const broadcast_vote& a) {
  if (config_.withhold)
    return;
  if (!config_.equivocate) {
    send_own(wire::chain_vote{to_wire(a.value)}, -1);
    return;
  }
  auto twin = a.value;
  if (!twin.is_nil()) {
    twin.block = core::hash256{};
  } else {
    const auto seed = fmt::format("twin {} {}", a.value.height, a.value.round);
    twin.block = core::sha256(core::as_bytes(seed));
  }
  rules::sign(twin, key_);
  equivocate(wire::chain_vote{to_wire(a.value)}, wire::chain_vote{to_wire(twin)});
}

void validator_node::handle(const schedule_timeout& a) {
  timers_.timeout(a);
}

void validator_node::handle(const need_block& a) {
  const auto due_ms = static_cast<std::int64_t>(state_.globals.time_ms) + config_.block_interval_ms;
  if (a.round == 0 && state_.globals.height > 0 && due_ms > now_ms()) {
    timers_.build(due_ms - now_ms(), a.height, a.round);
    return;
  }
  on_build(a.height, a.round);
}

void validator_node::on_build(std::uint64_t height, std::uint32_t round) {
  const bool waiting = engine_.height() == height && engine_.round() == round &&
                       engine_.step() == consensus_step::propose && !engine_.is_decided();
  if (!waiting)
    return;
  if (auto hash = build_block(height))
    execute(engine_.propose(height, round, *hash, now_ms()));
}

void validator_node::handle(const commit& a) {
  const auto* block = find_candidate(a.block);
  if (block != nullptr && block->after != nullptr) {
    const candidate chosen = *block; // finish_commit clears the candidates
    finish_commit(a, chosen);
    return;
  }
  // Decided by precommits without the block's bytes: fetch it by height.
  pending_commit_ = a;
  best_tip_ = std::max(best_tip_, a.height);
  request_block(a.height);
}

void validator_node::handle(const evidence& a) {
  rules::evidence_body body{a.first, a.second};
  const auto fee = config_.evidence_fee != 0 ? config_.evidence_fee : state_.params.tx_fee_min;
  auto tx = rules::make_transaction(state_.globals.chain, key_, pool_->next_nonce(context_.id), fee,
                                    body);
  wire::chain_tx message{core::encode_record(tx)};
  const auto outcome = pool_->add(tx, message.encoded.size());
  context_.telemetry->add(counter_.mempool[static_cast<std::size_t>(outcome)], 1);
  if (outcome != mempool_outcome::added)
    return; // another report of the same offender is pooled already
  context_.telemetry->add(counter_.evidence_submitted, 1);
  send_to_peers(message, -1);
}

// ---- gossip ----

void validator_node::send_own(wire::message body, int parity) {
  send_to_peers(body, parity);
  if (own_messages_.size() >= validator_config::own_messages_max)
    own_messages_.pop_front();
  own_messages_.push_back({std::move(body), parity});
}

void validator_node::send_to_peers(const wire::message& body, int parity) {
  for (std::size_t i = 0; i < peers_.size(); ++i)
    if (parity < 0 || static_cast<int>(i % 2) == parity)
      context_.network->send(peers_[i], body);
}

void validator_node::note_peer_tip(const core::node_id& peer, std::uint64_t tip) {
  if (std::find(peers_.begin(), peers_.end(), peer) == peers_.end())
    return;
  auto& known = peer_tips_[peer];
  known = std::max(known, tip);
  best_tip_ = std::max(best_tip_, tip);
}

void validator_node::request_block(std::uint64_t height) {
  // Ask the peers known to have it in turn, so a crashed or partitioned one does not
  // stall the sync.
  std::vector<core::node_id> holders;
  for (const auto& [peer, tip] : peer_tips_)
    if (tip >= height)
      holders.push_back(peer);
  if (holders.empty())
    holders = peers_;
  if (holders.empty())
    return;
  const auto& target = holders[sync_attempt_++ % holders.size()];
  context_.network->send(target, wire::chain_block_request{height});
  context_.telemetry->add(counter_.sync_requests, 1);
  requested_height_ = height;
  request_age_ticks_ = 0;
}

void validator_node::count_engine_drops() {
  auto& m = *context_.telemetry;
  const auto count_new = [&m](world::metrics::counter_id counter, std::uint64_t now,
                              std::uint64_t& seen) {
    if (now > seen)
      m.add(counter, static_cast<std::int64_t>(now - seen));
    seen = now;
  };
  for (std::size_t i = 0; i < drop_reason_count; ++i)
    count_new(counter_.dropped[i], engine_.dropped(static_cast<drop_reason>(i)), drops_seen_[i]);
  count_new(counter_.signatures_refused, engine_.refused_signatures(), refused_seen_);
  count_new(counter_.signatures_unsaved, engine_.unsaved_signatures(), unsaved_seen_);
}

// ---- the actor ----

validator_actor::behavior_type validator(validator_actor::stateful_pointer<validator_state> self,
                                         world::node_context context, validator_config config) {
  const auto tick = std::chrono::milliseconds(config.tick_ms);
  validator_timers timers;
  timers.timeout = [self](const schedule_timeout& t) {
    self->delayed_send(self, std::chrono::milliseconds(t.delay_ms), consensus_timeout_atom::value,
                       t.height, t.round, static_cast<std::uint8_t>(t.step));
  };
  timers.build = [self](std::int64_t delay_ms, std::uint64_t height, std::uint32_t round) {
    self->delayed_send(self, std::chrono::milliseconds(delay_ms), build_block_atom::value, height,
                       round);
  };
  self->state.node =
      std::make_unique<validator_node>(context, std::move(config), std::move(timers));
  self->state.node->start();
  self->delayed_send(self, tick, chain_tick_atom::value);
  return {
      [self](const world::inbound& message) {
        self->state.node->on_message(message.from, message.body);
      },
      [self](consensus_timeout_atom, std::uint64_t height, std::uint32_t round, std::uint8_t step) {
        self->state.node->on_timeout({height, round, static_cast<consensus_step>(step), 0});
      },
      [self](build_block_atom, std::uint64_t height, std::uint32_t round) {
        self->state.node->on_build(height, round);
      },
      [self, tick](chain_tick_atom) {
        self->state.node->on_tick();
        self->delayed_send(self, tick, chain_tick_atom::value);
      },
  };
}

} // namespace stakecast::validator
