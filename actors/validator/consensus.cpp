#include "actors/validator/consensus.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "actors/core/sha256.hpp"

namespace stakecast::validator {

namespace {

constexpr auto prevote_kind = rules::vote_kind::prevote;
constexpr auto precommit_kind = rules::vote_kind::precommit;

bool is_known_kind(std::uint8_t kind) noexcept {
  return kind == static_cast<std::uint8_t>(prevote_kind) ||
         kind == static_cast<std::uint8_t>(precommit_kind);
}

} // namespace

consensus_config consensus_config::for_block_interval(std::int64_t block_interval_ms) noexcept {
  consensus_config config;
  config.timeout_propose_ms = block_interval_ms + 2000;
  config.timeout_propose_delta_ms = std::max<std::int64_t>(500, block_interval_ms / 2);
  return config;
}

std::int64_t consensus_config::timeout_ms(consensus_step step, std::uint32_t round) const noexcept {
  const auto rounds = static_cast<std::int64_t>(round);
  switch (step) {
    case consensus_step::propose:
      return timeout_propose_ms + rounds * timeout_propose_delta_ms;
    case consensus_step::prevote:
      return timeout_prevote_ms + rounds * timeout_prevote_delta_ms;
    case consensus_step::precommit:
      return timeout_precommit_ms + rounds * timeout_precommit_delta_ms;
  }
  return timeout_propose_ms;
}

consensus::consensus(consensus_config config, const core::hash256& chain, core::key_pair key,
                     const core::verifier& signatures, sign_journal* journal,
                     sign_state last_signed)
    : config_(config), chain_(chain), key_(std::move(key)), id_(key_.public_key()),
      signatures_(&signatures), journal_(journal), signed_(last_signed) {
  assert(config_.is_valid());
  assert(is_well_formed(signed_));
}

// ---- inputs ----

std::vector<action> consensus::start_height(std::uint64_t height, validator_set set,
                                            std::int64_t now_ms) {
  assert(!set_ || height > height_);
  assert(now_ms >= now_ms_);
  now_ms_ = now_ms;
  height_started_ms_ = now_ms;
  height_ = height;
  self_index_ = set.index_of(id_);
  set_ = std::move(set);
  decided_ = false;
  locked_round_ = -1;
  locked_block_ = {};
  valid_round_ = -1;
  valid_block_ = {};
  rounds_.clear();
  pending_commit_.reset();

  actions out;
  if (signed_.height == height_)
    resume_signed_height(out);
  else
    start_round(0, out);
  auto buffered = std::exchange(next_height_votes_, {});
  for (const auto& v : buffered) {
    if (v.height != height_ || decided_) {
      drop(v.height > height_ ? drop_reason::future_height : drop_reason::old_height);
      continue;
    }
    accept_vote(v, out);
    progress(out);
  }
  progress(out);
  return out;
}

std::vector<action> consensus::on_proposal(const proposal& p, bool block_valid,
                                           std::int64_t now_ms) {
  assert(now_ms >= now_ms_);
  now_ms_ = now_ms;
  actions out;
  if (!admit(p.height, p.chain))
    return out;
  if (p.height > height_) {
    drop(drop_reason::future_height); // its block can only be judged after this height
    return out;
  }
  accept_proposal(p, block_valid);
  progress(out);
  return out;
}

std::vector<action> consensus::on_vote(const rules::vote& v, std::int64_t now_ms) {
  assert(now_ms >= now_ms_);
  now_ms_ = now_ms;
  actions out;
  if (!admit(v.height, v.chain))
    return out;
  if (v.height > height_) {
    buffer_next_height_vote(v);
    return out;
  }
  accept_vote(v, out);
  progress(out);
  return out;
}

std::vector<action> consensus::on_timeout(std::uint64_t height, std::uint32_t round,
                                          consensus_step step, std::int64_t now_ms) {
  assert(now_ms >= now_ms_);
  now_ms_ = now_ms;
  actions out;
  if (!set_ || decided_ || height != height_ || round != round_)
    return out;
  if (step == consensus_step::propose && step_ == consensus_step::propose) {
    cast_vote(prevote_kind, {}, out); // line 57
    step_ = consensus_step::prevote;
  } else if (step == consensus_step::prevote && step_ == consensus_step::prevote) {
    cast_vote(precommit_kind, {}, out); // line 61
    step_ = consensus_step::precommit;
  } else if (step == consensus_step::precommit) {
    assert(round_ < UINT32_MAX);
    start_round(round_ + 1, out); // line 65
  }
  progress(out);
  return out;
}

std::vector<action> consensus::propose(std::uint64_t height, std::uint32_t round,
                                       const core::hash256& block, std::int64_t now_ms) {
  assert(!block.is_zero());
  assert(now_ms >= now_ms_);
  now_ms_ = now_ms;
  actions out;
  if (!set_ || decided_ || height != height_ || round != round_ ||
      step_ != consensus_step::propose || self_index_ != current_round().proposer_index ||
      !current_round().proposals.empty())
    return out;
  send_proposal(block, proposal::no_pol_round, out);
  progress(out);
  return out;
}

std::vector<action> consensus::on_commit_certificate(std::uint64_t height,
                                                     std::span<const rules::vote> precommits,
                                                     std::int64_t now_ms) {
  assert(now_ms >= now_ms_);
  now_ms_ = now_ms;
  actions out;
  if (!set_ || decided_ || height != height_) {
    drop(height > height_ ? drop_reason::future_height : drop_reason::old_height);
    return out;
  }
  auto decision = check_certificate(precommits);
  if (!decision) {
    drop(drop_reason::bad_certificate);
    return out;
  }
  report_certificate_conflicts(*decision, out);
  decided_ = true;
  pending_commit_.reset();
  out.emplace_back(std::move(*decision));
  return out;
}

// The commit `precommits` prove, or nullopt. Cheap checks on every vote before any
// signature is verified.
std::optional<commit> consensus::check_certificate(std::span<const rules::vote> precommits) {
  if (precommits.empty() || precommits.size() > set_->size())
    return std::nullopt;
  const auto& first = precommits.front();
  std::vector<std::pair<std::size_t, const rules::vote*>> signers;
  std::uint64_t power = 0;
  for (const auto& v : precommits) {
    const auto index = set_->index_of(v.validator);
    if (!index || v.chain != chain_ || v.height != height_ || v.kind_enum() != precommit_kind ||
        v.round != first.round || v.block != first.block || v.is_nil())
      return std::nullopt;
    signers.emplace_back(*index, &v);
    power += set_->at(*index).power;
  }
  std::sort(signers.begin(), signers.end());
  const auto repeated =
      std::adjacent_find(signers.begin(), signers.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first; });
  if (repeated != signers.end() || !set_->is_quorum(power))
    return std::nullopt;
  commit decision{height_, first.round, first.block, {}, now_ms_ - height_started_ms_};
  for (const auto& [index, v] : signers) {
    if (!rules::verify(*v, *signatures_))
      return std::nullopt;
    decision.precommits.push_back(*v);
  }
  return decision;
}

void consensus::report_certificate_conflicts(const commit& decision, actions& out) {
  auto* state = find_round(decision.round);
  if (state == nullptr || state->precommits.by_validator.empty())
    return;
  for (const auto& v : decision.precommits) {
    const auto index = *set_->index_of(v.validator);
    if (state->precommits.by_validator[index])
      report_equivocation(state->precommits, index, v, out);
  }
}

// True when a message of (height, chain) may be used now or buffered; counts the rest.
bool consensus::admit(std::uint64_t height, const core::hash256& chain) {
  if (!set_) {
    drop(drop_reason::not_started);
    return false;
  }
  if (chain != chain_) {
    drop(drop_reason::wrong_chain);
    return false;
  }
  if (height < height_ || (height == height_ && decided_)) {
    drop(drop_reason::old_height);
    return false;
  }
  if (height > height_ + 1) {
    drop(drop_reason::future_height);
    return false;
  }
  return true;
}

void consensus::buffer_next_height_vote(const rules::vote& v) {
  if (std::find(next_height_votes_.begin(), next_height_votes_.end(), v) !=
      next_height_votes_.end()) {
    drop(drop_reason::duplicate);
    return;
  }
  if (next_height_votes_.size() >= next_height_votes_max) {
    drop(drop_reason::buffer_full);
    return;
  }
  next_height_votes_.push_back(v);
}

// Cheap checks first; the signature is verified only for a vote that would count or
// be evidence, and the round's state is created only after it verified, so forged
// votes cannot evict rounds.
void consensus::accept_vote(const rules::vote& v, actions& out) {
  const auto index = set_->index_of(v.validator);
  if (!index) {
    drop(drop_reason::not_member);
    return;
  }
  if (!is_known_kind(v.kind)) {
    drop(drop_reason::malformed);
    return;
  }
  if (!in_window(v.round)) {
    drop(drop_reason::round_out_of_window);
    return;
  }
  const auto* known = find_round(v.round);
  if (known != nullptr && find_vote(known->*table_of(v.kind_enum()), *index, v.block) != nullptr) {
    drop(drop_reason::duplicate); // this validator's vote for this value is counted
    return;
  }
  if (!rules::verify(v, *signatures_)) {
    drop(drop_reason::bad_signature);
    return;
  }
  auto& state = round_for(v.round);
  auto& votes = state.*table_of(v.kind_enum());
  if (votes.by_validator.empty() || !votes.by_validator[*index]) {
    record_vote(state, *index, v);
    return;
  }
  report_equivocation(votes, *index, v, out);
  if (votes_of(votes, *index) >= votes_per_validator_max) {
    drop(drop_reason::equivocation);
    return;
  }
  votes.later.emplace_back(*index, v);
  count_for_value(votes, *index, v);
}

void consensus::accept_proposal(const proposal& p, bool block_valid) {
  if (!is_well_formed(p)) {
    drop(drop_reason::malformed);
    return;
  }
  if (!in_window(p.round)) {
    drop(drop_reason::round_out_of_window);
    return;
  }
  auto* known = find_round(p.round);
  const auto proposer = known != nullptr ? known->proposer_index : set_->proposer_index(p.round);
  if (p.proposer != set_->at(proposer).id) {
    drop(drop_reason::wrong_proposer);
    return;
  }
  if (known != nullptr && upgrade_known_proposal(*known, p, block_valid))
    return;
  if (known != nullptr && known->proposals.size() >= proposals_per_round_max) {
    drop(drop_reason::proposal_conflict);
    return;
  }
  if (!verify(p, *signatures_)) {
    drop(drop_reason::bad_signature);
    return;
  }
  auto& state = round_for(p.round);
  if (state.proposals.size() == 1)
    ++conflicting_proposals_;
  state.proposals.push_back({p, block_valid});
  note_sender(state, proposer);
}

// True when `p` is already kept: then it only upgrades the block's verdict to valid.
bool consensus::upgrade_known_proposal(round_state& state, const proposal& p, bool block_valid) {
  for (auto& entry : state.proposals) {
    if (entry.value != p)
      continue;
    if (block_valid && !entry.block_valid)
      entry.block_valid = true;
    else
      drop(drop_reason::duplicate);
    return true;
  }
  return false;
}

// ---- rounds ----

consensus::round_state* consensus::find_round(std::uint32_t round) noexcept {
  const auto found = rounds_.find(round);
  return found == rounds_.end() ? nullptr : &found->second;
}

const consensus::round_state* consensus::find_round(std::uint32_t round) const noexcept {
  const auto found = rounds_.find(round);
  return found == rounds_.end() ? nullptr : &found->second;
}

consensus::round_state& consensus::current_round() {
  return round_for(round_);
}

consensus::round_state& consensus::round_for(std::uint32_t round) {
  if (auto* known = find_round(round))
    return *known;
  assert(in_window(round));
  if (rounds_.size() >= rounds_tracked_max)
    evict_one_round();
  round_state state;
  state.proposer_index = set_->proposer_index(round);
  return rounds_.emplace(round, std::move(state)).first->second;
}

// Forgets the oldest past round that is neither the locked nor the valid round. One
// exists: the window holds at most future_rounds_max rounds ahead (static_assert).
void consensus::evict_one_round() {
  for (auto it = rounds_.begin(); it != rounds_.end() && it->first < round_; ++it) {
    const auto round = static_cast<std::int64_t>(it->first);
    if (round == locked_round_ || round == valid_round_)
      continue;
    rounds_.erase(it);
    return;
  }
  assert(false && "no past round to evict");
}

bool consensus::in_window(std::uint32_t round) const noexcept {
  return static_cast<std::uint64_t>(round) <=
         static_cast<std::uint64_t>(round_) + future_rounds_max;
}

// Line 11: StartRound.
void consensus::start_round(std::uint32_t round, actions& out) {
  round_ = round;
  step_ = consensus_step::propose;
  auto& state = current_round();
  if (self_index_ != state.proposer_index) {
    schedule(consensus_step::propose, out);
    return;
  }
  if (valid_round_ >= 0) {
    if (!send_proposal(valid_block_, valid_round_, out))
      schedule(consensus_step::propose, out); // not signed: wait as for another's
    return;
  }
  state.block_requested = true;
  out.emplace_back(need_block{height_, round_});
  schedule(consensus_step::propose, out);
}

// The engine restarted in a height it had signed in: the lock comes back from the
// record (the valid value with it: the lock is the latest polka this validator acted
// on), and the round of the last signature starts with that vote counted and sent
// again. The proposal and votes of earlier steps of that round are not known any more;
// may_sign refuses them, so the engine stays silent where it cannot be sure.
void consensus::resume_signed_height(actions& out) {
  assert(signed_.height == height_);
  locked_round_ = signed_.locked_round;
  locked_block_ = signed_.locked_block;
  valid_round_ = locked_round_;
  valid_block_ = locked_block_;
  start_round(signed_.round, out);
  const auto step = signed_.step_enum();
  if (step == consensus_step::propose)
    return;
  cast_vote(step == consensus_step::prevote ? prevote_kind : precommit_kind, signed_.block, out);
  step_ = step;
}

bool consensus::send_proposal(const core::hash256& block, std::int64_t pol_round, actions& out) {
  proposal p;
  p.chain = chain_;
  p.height = height_;
  p.round = round_;
  p.block = block;
  p.pol_round = pol_round;
  p.proposer = id_;
  if (!may_sign(consensus_step::propose, block, signing_bytes(p)))
    return false;
  sign(p, key_);
  auto& state = current_round();
  state.proposals.push_back({p, true});
  note_sender(state, *self_index_);
  out.emplace_back(broadcast_proposal{std::move(p)});
  return true;
}

void consensus::schedule(consensus_step step, actions& out) {
  out.emplace_back(schedule_timeout{height_, round_, step, config_.timeout_ms(step, round_)});
}

// ---- votes ----

consensus::vote_table consensus::round_state::*consensus::table_of(rules::vote_kind kind) noexcept {
  return kind == prevote_kind ? &round_state::prevotes : &round_state::precommits;
}

const rules::vote* consensus::find_vote(const vote_table& votes, std::size_t index,
                                        const core::hash256& block) noexcept {
  if (votes.by_validator.empty() || !votes.by_validator[index])
    return nullptr;
  if (votes.by_validator[index]->block == block)
    return &*votes.by_validator[index];
  for (const auto& [voter, v] : votes.later)
    if (voter == index && v.block == block)
      return &v;
  return nullptr;
}

std::size_t consensus::votes_of(const vote_table& votes, std::size_t index) noexcept {
  return 1 + static_cast<std::size_t>(
                 std::count_if(votes.later.begin(), votes.later.end(),
                               [&](const auto& entry) { return entry.first == index; }));
}

// The first vote of a validator in a round and kind: it counts toward the value it
// names and toward the power of all votes.
void consensus::record_vote(round_state& state, std::size_t index, const rules::vote& v) {
  auto& votes = state.*table_of(v.kind_enum());
  if (votes.by_validator.empty()) {
    votes.by_validator.resize(set_->size());
    votes.evidence_sent.assign(set_->size(), 0);
  }
  votes.by_validator[index] = v;
  votes.power_total += set_->at(index).power;
  note_sender(state, index);
  count_for_value(votes, index, v);
}

void consensus::count_for_value(vote_table& votes, std::size_t index, const rules::vote& v) {
  auto tally = std::find_if(votes.power_by_block.begin(), votes.power_by_block.end(),
                            [&](const auto& entry) { return entry.first == v.block; });
  if (tally == votes.power_by_block.end())
    tally = votes.power_by_block.insert(tally, {v.block, 0});
  tally->second += set_->at(index).power;
  if (v.kind_enum() == precommit_kind && !v.is_nil() && set_->is_quorum(tally->second) &&
      !pending_commit_)
    pending_commit_.emplace(v.round, v.block);
}

void consensus::note_sender(round_state& state, std::size_t index) {
  if (state.senders.empty())
    state.senders.assign(set_->size(), 0);
  if (state.senders[index] != 0)
    return;
  state.senders[index] = 1;
  state.sender_power += set_->at(index).power;
}

void consensus::report_equivocation(vote_table& votes, std::size_t index, const rules::vote& second,
                                    actions& out) {
  const auto& first = *votes.by_validator[index];
  if (!rules::conflicting(first, second) || votes.evidence_sent[index] != 0)
    return;
  votes.evidence_sent[index] = 1;
  out.emplace_back(evidence{first, second});
}

void consensus::cast_vote(rules::vote_kind kind, const core::hash256& block, actions& out) {
  if (!self_index_)
    return;
  rules::vote v;
  v.chain = chain_;
  v.height = height_;
  v.round = round_;
  v.kind = static_cast<std::uint8_t>(kind);
  v.block = block;
  v.validator = id_;
  const auto step = kind == prevote_kind ? consensus_step::prevote : consensus_step::precommit;
  if (!may_sign(step, block, rules::signing_bytes(v)))
    return;
  rules::sign(v, key_);
  record_vote(current_round(), *self_index_, v);
  out.emplace_back(broadcast_vote{std::move(v)});
}

bool consensus::may_sign(consensus_step step, const core::hash256& block,
                         core::byte_span signed_bytes) {
  const auto digest = core::sha256(signed_bytes);
  switch (judge(signed_, height_, round_, step, digest)) {
    case sign_verdict::repeat:
      return true;
    case sign_verdict::refuse:
      ++refused_signatures_;
      return false;
    case sign_verdict::sign:
      break;
  }
  const sign_state next{height_,       round_,       static_cast<std::uint8_t>(step), block, digest,
                        locked_round_, locked_block_};
  assert(is_well_formed(next));
  if (journal_ != nullptr && !journal_->save(next)) {
    ++unsaved_signatures_;
    return false;
  }
  signed_ = next;
  return true;
}

std::uint64_t consensus::power_for(const vote_table& votes, const core::hash256& block) noexcept {
  for (const auto& [voted, power] : votes.power_by_block)
    if (voted == block)
      return power;
  return 0;
}

bool consensus::has_polka(std::uint32_t round, const core::hash256& block) const {
  const auto* state = find_round(round);
  return state != nullptr && set_->is_quorum(power_for(state->prevotes, block));
}

std::uint64_t consensus::vote_power(std::uint32_t round, rules::vote_kind kind,
                                    const core::hash256& block) const {
  const auto* state = find_round(round);
  if (state == nullptr)
    return 0;
  return power_for(state->*table_of(kind), block);
}

// ---- rules ----

// Fires rules until none applies. Each rule fires at most once per round, and one
// call sees at most two rounds (the current one and, after a skip or a precommit
// timeout, the next), so rule_firings_max bounds the loop.
void consensus::progress(actions& out) {
  for (std::size_t firing = 0; firing < rule_firings_max; ++firing)
    if (!apply_one_rule(out))
      return;
  assert(false && "rules kept firing");
}

bool consensus::apply_one_rule(actions& out) {
  if (decided_)
    return false;
  return try_commit(out) || try_skip_round(out) || try_prevote_proposal(out) ||
         try_lock_on_polka(out) || try_precommit_nil(out) || try_schedule_prevote_timeout(out) ||
         try_schedule_precommit_timeout(out);
}

// Line 49, without requiring the proposal (see the header).
bool consensus::try_commit(actions& out) {
  if (!pending_commit_)
    return false;
  const auto [round, block] = *pending_commit_;
  commit decision{height_, round, block, {}, now_ms_ - height_started_ms_};
  const auto& precommits = find_round(round)->precommits;
  for (std::size_t index = 0; index < precommits.by_validator.size(); ++index)
    if (const auto* v = find_vote(precommits, index, block))
      decision.precommits.push_back(*v);
  decided_ = true;
  pending_commit_.reset();
  out.emplace_back(std::move(decision));
  return true;
}

// Line 55: more than 1/3 of the power sent messages for a later round. The latest
// such round is taken, so one input skips at most once.
bool consensus::try_skip_round(actions& out) {
  for (auto it = rounds_.rbegin(); it != rounds_.rend() && it->first > round_; ++it) {
    if (set_->exceeds_one_third(it->second.sender_power)) {
      start_round(it->first, out);
      return true;
    }
  }
  return false;
}

bool consensus::may_prevote_for(const proposal_entry& entry) const noexcept {
  const auto& p = entry.value;
  if (!entry.block_valid)
    return false;
  if (p.pol_round == proposal::no_pol_round)
    return locked_round_ == -1 || locked_block_ == p.block;        // line 23
  return locked_round_ <= p.pol_round || locked_block_ == p.block; // line 29
}

// Lines 22 and 28: prevote on the round's proposal, once its pol_round's polka (if
// any) is in.
bool consensus::try_prevote_proposal(actions& out) {
  if (step_ != consensus_step::propose)
    return false;
  for (const auto& entry : current_round().proposals) {
    const auto& p = entry.value;
    if (p.pol_round != proposal::no_pol_round &&
        !has_polka(static_cast<std::uint32_t>(p.pol_round), p.block))
      continue;
    cast_vote(prevote_kind, may_prevote_for(entry) ? p.block : core::hash256{}, out);
    step_ = consensus_step::prevote;
    return true;
  }
  return false;
}

// Line 36: a polka for a valid proposal of this round, seen from the prevote step on.
bool consensus::try_lock_on_polka(actions& out) {
  auto& state = current_round();
  if (step_ == consensus_step::propose || state.polka_handled)
    return false;
  for (const auto& entry : state.proposals) {
    if (!entry.block_valid || !set_->is_quorum(power_for(state.prevotes, entry.value.block)))
      continue;
    state.polka_handled = true;
    if (step_ == consensus_step::prevote) {
      locked_round_ = round_;
      locked_block_ = entry.value.block;
      cast_vote(precommit_kind, entry.value.block, out);
      step_ = consensus_step::precommit;
    }
    valid_round_ = round_;
    valid_block_ = entry.value.block;
    return true;
  }
  return false;
}

// Line 44.
bool consensus::try_precommit_nil(actions& out) {
  if (step_ != consensus_step::prevote ||
      !set_->is_quorum(power_for(current_round().prevotes, core::hash256{})))
    return false;
  cast_vote(precommit_kind, {}, out);
  step_ = consensus_step::precommit;
  return true;
}

// Line 34.
bool consensus::try_schedule_prevote_timeout(actions& out) {
  auto& state = current_round();
  if (step_ != consensus_step::prevote || state.prevote_timeout_scheduled ||
      !set_->is_quorum(state.prevotes.power_total))
    return false;
  state.prevote_timeout_scheduled = true;
  schedule(consensus_step::prevote, out);
  return true;
}

// Line 47.
bool consensus::try_schedule_precommit_timeout(actions& out) {
  auto& state = current_round();
  if (state.precommit_timeout_scheduled || !set_->is_quorum(state.precommits.power_total))
    return false;
  state.precommit_timeout_scheduled = true;
  schedule(consensus_step::precommit, out);
  return true;
}

} // namespace stakecast::validator
