// The consensus engine of one validator: Tendermint's propose / prevote / precommit
// with locking ("The latest gossip on BFT consensus", Buchman, Kwon, Milosevic 2018,
// Algorithm 1), one height at a time. It is pure: no actors, no I/O, no clock; time
// comes in as milliseconds of the caller's clock, and it never draws randomness. The
// validator actor wraps it: it feeds every event in and executes the actions that come
// back, in order:
//
//   for (const auto& a : engine.on_vote(vote, now_ms)) execute(a);
//   // broadcast_proposal / broadcast_vote -> gossip to the other validators
//   // schedule_timeout -> after delay_ms call on_timeout(height, round, step, now)
//   // need_block       -> build a block, call propose(height, round, hash, now)
//   // commit           -> apply the block; then start_height(height + 1, set.next(), now)
//   // evidence         -> put the two votes in a transaction (rules/ slashes)
//
// Inputs. `start_height` begins a height with its validator set (and replays the
// votes buffered for it). `on_proposal` gives a proposal with the caller's verdict on
// its block (the caller has the block's bytes; a proposal whose block it cannot judge
// yet is handed in with false, and again with true once it can: that upgrades it).
// `on_vote` gives a vote. `on_timeout` fires a timeout the engine scheduled (stale
// ones are ignored). `propose` answers `need_block`. `on_commit_certificate` gives the
// precommits with which another validator decided this height: a validator whose
// peers decided without it (the quorum they saw held an equivocator's vote it counted
// the other way) catches up with it. Every input returns the actions
// it caused. The engine has already counted its own proposal and votes: broadcasts
// are for the others. It signs its proposals and votes with the key it was given.
//
// Rules as in Algorithm 1, with blocks as hashes, nil as the zero hash, and
// `block_valid` as valid(v). One deviation: a commit needs more than 2/3 of the
// precommits of one round for a block and not the proposal itself (line 49 also asks
// for the proposal). Such precommits include an honest one, and an honest validator
// precommits only a block it judged valid, so the block is valid and final; the actor
// fetches its bytes if it has not got them. This keeps a validator that missed a
// proposal from being stuck at its height.
//
// What is dropped (each counted by reason, `dropped`): messages on another chain, for
// an older or already decided height, for a height beyond the next, from a non-member,
// with a bad signature, malformed (unknown vote kind, nil or badly justified
// proposal), for a round more than future_rounds_max ahead, proposals from someone
// other than the round's proposer. Votes for the next height are buffered (at most
// next_height_votes_max, unverified until that height starts, since its validator set
// is not known yet); proposals for the next height are dropped, as only after applying
// this height can the caller judge their blocks: it hands them in again after
// `start_height`. Repeats are ignored. Two different votes of one validator for one
// round and kind are evidence (emitted once per validator, height, round and kind).
// An equivocator counts at most once toward any one quorum: its first vote in the
// power of all votes (the 2/3 that start timeouts) and in the round-skip count, each
// of its votes toward the value it names (at most votes_per_validator_max values).
// Counting only its first vote would be simpler but lets one equivocator stall the
// honest validators for ever: the polka or commit that some of them saw with its vote
// for X can never form at the others, who counted its vote for Y
// (consensus_network.test.cpp found this; Tendermint solves it with VoteSetMaj23).
//
// Signing. The engine signs nothing that conflicts with what it signed before, in this
// process or before a restart: before each proposal and vote it asks `judge`
// (sign_state.hpp) and saves the new record through its `sign_journal`, and it signs
// only once the record is saved. A refused or unsaved signature is a message not sent,
// as if the network had lost it (counted, `refused_signatures`, `unsaved_signatures`).
// Started at the height of its last signature (a restart), the engine takes back that
// height's lock, begins in the round of the last signature, and counts and re-sends
// that vote, so it goes on where it stopped instead of voting again in round 0.
//
// Assumption (Tendermint's): messages between honest validators are eventually
// delivered; the actor's gossip re-sends the votes of the current height to peers that
// lack them. Without it a validator may wait forever in the prevote step.
//
// Bounds: at most rounds_tracked_max rounds are kept per height (the oldest past round
// other than the locked and valid rounds is forgotten first), each with at most one
// vote per validator and kind and proposals_per_round_max proposals.
//
// Not thread-safe: one owner calls it, with times that never decrease.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/verifier.hpp"
#include "actors/validator/proposal.hpp"
#include "actors/validator/rules/vote.hpp"
#include "actors/validator/sign_state.hpp"
#include "actors/validator/validator_set.hpp"

namespace stakecast::validator {

/// Every setting of the engine with its default, in one place. Timeouts grow
/// linearly with the round (base + round * delta) so that, after the network settles,
/// some round is long enough for everyone; the defaults are Tendermint's.
struct consensus_config {
  /// Upper bound of every base and delta setting.
  static constexpr std::int64_t timeout_setting_ms_max = 3'600'000; // 1 h

  /// Wait for the proposal of round 0: 3 s, time to build, send and check a block.
  std::int64_t timeout_propose_ms = 3000;
  std::int64_t timeout_propose_delta_ms = 500;
  /// Wait, after any 2/3 of prevotes, for 2/3 on one value: 1 s.
  std::int64_t timeout_prevote_ms = 1000;
  std::int64_t timeout_prevote_delta_ms = 500;
  /// Wait, after any 2/3 of precommits, for 2/3 on one value: 1 s.
  std::int64_t timeout_precommit_ms = 1000;
  std::int64_t timeout_precommit_delta_ms = 500;

  /// The timeout of `step` in `round`.
  std::int64_t timeout_ms(consensus_step step, std::uint32_t round) const noexcept;

  /// The timeouts for a chain whose target block time is `block_interval_ms`: the
  /// proposer waits up to a block time after the previous block, and its block must
  /// still arrive (Tendermint's 3 s for 1 s blocks); the vote steps keep Tendermint's
  /// 1 s, and every round adds half.
  static consensus_config for_block_interval(std::int64_t block_interval_ms) noexcept;

  constexpr bool is_valid() const noexcept {
    return timeout_propose_ms > 0 && timeout_propose_ms <= timeout_setting_ms_max &&
           timeout_prevote_ms > 0 && timeout_prevote_ms <= timeout_setting_ms_max &&
           timeout_precommit_ms > 0 && timeout_precommit_ms <= timeout_setting_ms_max &&
           timeout_propose_delta_ms >= 0 && timeout_propose_delta_ms <= timeout_setting_ms_max &&
           timeout_prevote_delta_ms >= 0 && timeout_prevote_delta_ms <= timeout_setting_ms_max &&
           timeout_precommit_delta_ms >= 0 && timeout_precommit_delta_ms <= timeout_setting_ms_max;
  }
};

static_assert(consensus_config{}.is_valid(), "the defaults are a valid configuration");
static_assert((static_cast<double>(UINT32_MAX) + 1) * consensus_config::timeout_setting_ms_max <
                  9.0e18,
              "base + round * delta never overflows int64");

// ---- actions ----

/// Send `value` to the other validators.
struct broadcast_proposal {
  proposal value;
  bool operator==(const broadcast_proposal&) const = default;
};

/// Send `value` to the other validators.
struct broadcast_vote {
  rules::vote value;
  bool operator==(const broadcast_vote&) const = default;
};

/// Call on_timeout(height, round, step) after delay_ms.
struct schedule_timeout {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  consensus_step step = consensus_step::propose;
  std::int64_t delay_ms = 0;
  bool operator==(const schedule_timeout&) const = default;
};

/// This validator proposes in (height, round) and has no block to re-propose: call
/// propose(height, round, block) with the hash of a new block (the propose timeout is
/// already scheduled, so a late or missing answer costs the round, nothing more).
struct need_block {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  bool operator==(const need_block&) const = default;
};

/// `block` is final at `height`. `precommits` are more than 2/3 of the power's
/// precommits for it in `round` (one per validator, in validator order): the commit
/// the next block carries as its last_commit. `duration_ms` runs from start_height.
struct commit {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  core::hash256 block;
  std::vector<rules::vote> precommits;
  std::int64_t duration_ms = 0;
  bool operator==(const commit&) const = default;
};

/// Two verified votes of one validator that conflict (rules::conflicting).
struct evidence {
  rules::vote first;
  rules::vote second;
  bool operator==(const evidence&) const = default;
};

using action = std::variant<broadcast_proposal, broadcast_vote, schedule_timeout, need_block,
                            commit, evidence>;

/// Why an input message was not used; counted for metrics.
enum class drop_reason : std::uint8_t {
  not_started,         // before the first start_height
  wrong_chain,         // another chain's message
  old_height,          // a past height, or the current one once decided
  future_height,       // beyond the next height, or a proposal for the next height
  buffer_full,         // a vote for the next height with next_height_votes_max buffered
  not_member,          // its signer is not in the height's validator set
  bad_signature,       //
  malformed,           // unknown vote kind; proposal with a nil block or a bad pol_round
  round_out_of_window, // more than future_rounds_max rounds ahead
  wrong_proposer,      // a proposal from someone other than the round's proposer
  duplicate,           // identical to one already counted
  equivocation,        // a vote for a value beyond votes_per_validator_max: not counted
  proposal_conflict,   // a proposal beyond proposals_per_round_max for one round
  bad_certificate,     // a commit certificate that does not prove a quorum
  count_,
};

constexpr std::size_t drop_reason_count = static_cast<std::size_t>(drop_reason::count_);

class consensus {
public:
  /// Rounds more than this ahead of the current one are dropped: a Byzantine member
  /// cannot make the engine keep state for arbitrary rounds.
  static constexpr std::uint32_t future_rounds_max = 16;
  /// Rounds kept per height. Above future_rounds_max + 4 (the current, locked and
  /// valid rounds and one more), so a new round can always evict a past one.
  static constexpr std::size_t rounds_tracked_max = 32;
  /// Distinct proposals kept per round: an honest proposer sends one, and a second
  /// one kept lets a polka for either be seen; more are dropped.
  static constexpr std::size_t proposals_per_round_max = 2;
  /// Different values one validator is counted for in one round and kind. An honest
  /// validator votes once; an equivocator's votes count once per value so that the
  /// quorum its peers saw with its vote can form at every honest validator (each
  /// quorum still holds it once, and two quorums still share an honest validator).
  /// Three covers a split into two blocks and nil; more values are not counted.
  static constexpr std::size_t votes_per_validator_max = 3;
  /// Votes for the next height kept until it starts: two rounds' votes of a full set.
  static constexpr std::size_t next_height_votes_max = 4 * validator_set::validators_max;
  /// Rule firings per input: each rule fires at most once per round and an input
  /// touches at most two rounds (see progress()).
  static constexpr std::size_t rule_firings_max = 32;

  /// The engine of the validator holding `key` on chain `chain`, checking signatures
  /// with `signatures`. A key not in some height's set follows that height (counts
  /// votes, commits) without proposing or voting. `last_signed` is what the journal
  /// kept of an earlier run; `journal` null keeps the sign state in memory only (tests).
  /// REQUIRES: config.is_valid(); is_well_formed(last_signed); `signatures` and
  /// `journal` outlive the engine.
  consensus(consensus_config config, const core::hash256& chain, core::key_pair key,
            const core::verifier& signatures, sign_journal* journal = nullptr,
            sign_state last_signed = {});

  /// Begins `height` with `set` at round 0, then uses the votes buffered for it.
  /// REQUIRES: the first call, or height > height(); now_ms not before earlier times.
  std::vector<action> start_height(std::uint64_t height, validator_set set, std::int64_t now_ms);
  /// A proposal, with the caller's judgement of its block.
  std::vector<action> on_proposal(const proposal& p, bool block_valid, std::int64_t now_ms);
  std::vector<action> on_vote(const rules::vote& v, std::int64_t now_ms);
  /// A timeout scheduled by the engine fired; stale ones (another height, round, or a
  /// step already left) do nothing.
  std::vector<action> on_timeout(std::uint64_t height, std::uint32_t round, consensus_step step,
                                 std::int64_t now_ms);
  /// The answer to need_block. REQUIRES: `block` is not nil. Ignored when the engine
  /// has left (height, round)'s propose step or already proposed in it.
  std::vector<action> propose(std::uint64_t height, std::uint32_t round, const core::hash256& block,
                              std::int64_t now_ms);
  /// A commit certificate from a validator that decided this height (a commit
  /// action's precommits, or the last_commit of the next block): decides when its
  /// precommits - one round, one block, distinct members, valid signatures, at most
  /// validators_max of them - hold more than 2/3 of the power. This is the catch-up
  /// path: it counts votes the vote tables may not (an equivocator's second
  /// precommit), which is safe because two quorums still share an honest validator.
  /// A precommit in it that conflicts with one counted here is evidence.
  std::vector<action> on_commit_certificate(std::uint64_t height,
                                            std::span<const rules::vote> precommits,
                                            std::int64_t now_ms);

  // ---- state, for the actor's status and for tests ----
  bool is_started() const noexcept { return set_.has_value(); }
  bool is_decided() const noexcept { return decided_; }
  std::uint64_t height() const noexcept { return height_; }
  std::uint32_t round() const noexcept { return round_; }
  consensus_step step() const noexcept { return step_; }
  /// -1 when not locked.
  std::int64_t locked_round() const noexcept { return locked_round_; }
  const core::hash256& locked_block() const noexcept { return locked_block_; }
  std::int64_t valid_round() const noexcept { return valid_round_; }
  const core::hash256& valid_block() const noexcept { return valid_block_; }
  const core::node_id& id() const noexcept { return id_; }
  const consensus_config& config() const noexcept { return config_; }
  /// Power of the counted votes of `kind` in `round` for `block` (nil: the zero hash).
  std::uint64_t vote_power(std::uint32_t round, rules::vote_kind kind,
                           const core::hash256& block) const;
  std::size_t rounds_tracked() const noexcept { return rounds_.size(); }
  std::size_t buffered_votes() const noexcept { return next_height_votes_.size(); }
  /// The last message this validator signed, as its journal keeps it.
  const sign_state& last_signed() const noexcept { return signed_; }

  // ---- metrics ----
  std::uint64_t dropped(drop_reason reason) const noexcept {
    return dropped_[static_cast<std::size_t>(reason)];
  }
  /// Rounds in which the proposer was seen proposing two different proposals.
  std::uint64_t conflicting_proposals() const noexcept { return conflicting_proposals_; }
  /// Messages not signed because they conflicted with an earlier signature.
  std::uint64_t refused_signatures() const noexcept { return refused_signatures_; }
  /// Messages not signed because the journal could not save their record.
  std::uint64_t unsaved_signatures() const noexcept { return unsaved_signatures_; }

private:
  /// The counted votes of one kind in one round. A validator's first vote counts
  /// toward its value and toward power_total; an equivocator's later votes for other
  /// values count toward those values only (at most votes_per_validator_max values).
  struct vote_table {
    std::vector<std::optional<rules::vote>> by_validator;   // first votes; sized when used
    std::vector<std::pair<std::size_t, rules::vote>> later; // (validator index, vote)
    std::vector<std::pair<core::hash256, std::uint64_t>> power_by_block; // nil included
    std::vector<std::uint8_t> evidence_sent; // per validator: 1 once evidence went out
    std::uint64_t power_total = 0;
  };
  struct proposal_entry {
    proposal value;
    bool block_valid = false;
  };
  struct round_state {
    std::size_t proposer_index = 0;
    std::vector<proposal_entry> proposals; // arrival order; at most proposals_per_round_max
    vote_table prevotes;
    vote_table precommits;
    std::vector<std::uint8_t> senders; // per validator: 1 once any message counted
    std::uint64_t sender_power = 0;
    bool prevote_timeout_scheduled = false;   // line 34
    bool precommit_timeout_scheduled = false; // line 47
    bool polka_handled = false;               // line 36
    bool block_requested = false;
  };
  using actions = std::vector<action>;

  // inputs, after the checks shared by all
  bool admit(std::uint64_t height, const core::hash256& chain);
  void drop(drop_reason reason) noexcept { ++dropped_[static_cast<std::size_t>(reason)]; }
  void accept_vote(const rules::vote& v, actions& out);
  void accept_proposal(const proposal& p, bool block_valid);
  bool upgrade_known_proposal(round_state& state, const proposal& p, bool block_valid);
  std::optional<commit> check_certificate(std::span<const rules::vote> precommits);
  void report_certificate_conflicts(const commit& decision, actions& out);
  void buffer_next_height_vote(const rules::vote& v);

  // rounds
  round_state* find_round(std::uint32_t round) noexcept;
  const round_state* find_round(std::uint32_t round) const noexcept;
  round_state& current_round();
  round_state& round_for(std::uint32_t round);
  void evict_one_round();
  bool in_window(std::uint32_t round) const noexcept;
  void start_round(std::uint32_t round, actions& out);
  void resume_signed_height(actions& out);
  /// False when the proposal may not be signed (may_sign).
  bool send_proposal(const core::hash256& block, std::int64_t pol_round, actions& out);
  void schedule(consensus_step step, actions& out);

  // votes
  static vote_table round_state::*table_of(rules::vote_kind kind) noexcept;
  /// The counted vote of validator `index` for `block`, or nullptr.
  static const rules::vote* find_vote(const vote_table& votes, std::size_t index,
                                      const core::hash256& block) noexcept;
  /// Values validator `index` is counted for. REQUIRES: it has a first vote.
  static std::size_t votes_of(const vote_table& votes, std::size_t index) noexcept;
  void record_vote(round_state& state, std::size_t index, const rules::vote& v);
  void count_for_value(vote_table& votes, std::size_t index, const rules::vote& v);
  void note_sender(round_state& state, std::size_t index);
  /// Evidence when `second` conflicts with the counted vote, once per validator.
  void report_equivocation(vote_table& votes, std::size_t index, const rules::vote& second,
                           actions& out);
  void cast_vote(rules::vote_kind kind, const core::hash256& block, actions& out);
  /// True when the message of `step` in the current height and round, naming `block`
  /// and signing `signed_bytes`, may be signed: it conflicts with nothing signed
  /// before, and its record is saved.
  bool may_sign(consensus_step step, const core::hash256& block, core::byte_span signed_bytes);
  static std::uint64_t power_for(const vote_table& votes, const core::hash256& block) noexcept;
  bool has_polka(std::uint32_t round, const core::hash256& block) const;

  // rules of Algorithm 1, each true when it fired
  void progress(actions& out);
  bool apply_one_rule(actions& out);
  bool try_commit(actions& out);
  bool try_skip_round(actions& out);
  bool try_prevote_proposal(actions& out);
  bool try_lock_on_polka(actions& out);
  bool try_precommit_nil(actions& out);
  bool try_schedule_prevote_timeout(actions& out);
  bool try_schedule_precommit_timeout(actions& out);
  bool may_prevote_for(const proposal_entry& entry) const noexcept;

  consensus_config config_;
  core::hash256 chain_;
  core::key_pair key_;
  core::node_id id_;
  const core::verifier* signatures_;
  sign_journal* journal_;
  sign_state signed_;

  std::optional<validator_set> set_;
  std::optional<std::size_t> self_index_;
  std::uint64_t height_ = 0;
  std::uint32_t round_ = 0;
  consensus_step step_ = consensus_step::propose;
  bool decided_ = false;
  std::int64_t locked_round_ = -1;
  core::hash256 locked_block_;
  std::int64_t valid_round_ = -1;
  core::hash256 valid_block_;
  std::map<std::uint32_t, round_state> rounds_; // at most rounds_tracked_max
  /// A round and block with more than 2/3 of the precommits, found when counting.
  std::optional<std::pair<std::uint32_t, core::hash256>> pending_commit_;
  std::vector<rules::vote> next_height_votes_; // at most next_height_votes_max
  std::int64_t now_ms_ = 0;
  std::int64_t height_started_ms_ = 0;

  std::array<std::uint64_t, drop_reason_count> dropped_{};
  std::uint64_t conflicting_proposals_ = 0;
  std::uint64_t refused_signatures_ = 0;
  std::uint64_t unsaved_signatures_ = 0;
};

static_assert(consensus::rounds_tracked_max >= consensus::future_rounds_max + 4,
              "creating a round in the window can always evict a past round");
static_assert(consensus::next_height_votes_max >= 2 * validator_set::validators_max,
              "a full round of the next height fits in the buffer");
static_assert(consensus::proposals_per_round_max >= 1);
static_assert(consensus::votes_per_validator_max >= 2,
              "an equivocator's vote for a second value can complete a quorum");

} // namespace stakecast::validator
