// The validator of one node: it owns the ledger state (rules/), a mempool, the
// consensus engine (consensus.hpp) and block production, and it talks to the other
// validators only through the world (world.hpp): transport for gossip, the store for
// what survives a crash, metrics for what it saw, agreed wall time for block times.
//
// Two layers. `validator_node` is the protocol as a plain class: every input is a
// public function (a message from a peer, a timeout, a tick), so tests and fuzzers can
// drive it without CAF. `validator` is the CAF typed actor around it, which turns the
// engine's timeouts and its own periodic tick into `delayed_send`s.
//
// Message flow (all direct, validator to validator: the registered validators are few
// and known from the state, and all of them are sent to, so that one outside the
// active set - jailed, tombstoned, not elected - still follows the chain;
// non-validator full nodes are left for later):
//   client --chain_tx--> any validator --chain_tx--> every other validator (no relay
//     of a transaction that came from a validator: the first one already sent it to all)
//   proposer --chain_proposal (+ block bytes)--> all; each judges the block by applying
//     it to a copy of its state, then hands the proposal to its engine
//   every validator --chain_vote--> all (prevotes and precommits)
//   a validator that sees a vote for a height it already committed --chain_commit-->
//     that laggard, which decides with the precommits (consensus.hpp,
//     on_commit_certificate) and fetches the block by height if it lacks it
//   a validator that learns a peer is ahead (a vote or proposal for a later height, or
//     a response's tip) --chain_block_request{h}--> that peer --chain_block_response
//     {block, precommits, tip}--> the engine's certificate path decides h, the block is
//     applied, and the next height is requested until it has caught up.
//
// Timeouts: the engine's (propose, prevote, precommit; consensus_config) plus one tick
// every `tick_ms`: when the height did not move since the last tick, the validator
// re-sends its own proposal and votes of the current height (Tendermint's assumption
// that honest messages are eventually delivered, across losses and healed partitions)
// and asks a peer that is ahead for the next block.
//
// Commits: the block is applied with rules::apply (on a copy, when it was judged;
// the judged copy is reused), then the block, its precommits and the tip are written
// to the store in one atomic batch, before anything else is sent. A restarted
// validator rebuilds its state by re-applying the stored blocks from genesis, then
// catches up by block sync.
//
// Signatures: the engine saves what it signs last (sign_state.hpp) in the store under
// sign_state::store_key before the message leaves the node, and a restarted validator
// reads it back, so it never signs a message that conflicts with one it sent before
// the crash. A record that does not decode leaves it signing nothing (it follows the
// chain and counts a store error); the real node refuses to start on it instead.
//
// Byzantine mode (`equivocate`, for tests and adversary scenarios): it sends every
// proposal and vote of its engine to half of its peers and a conflicting twin, signed
// with the same key, to the other half (a second block with another timestamp; a vote
// for nil against a vote for a block). Its engine stays honest; only what leaves the
// node differs. Honest validators that see both twins emit evidence, which they submit
// as an evidence transaction paid from their own account. Withholding mode
// (`withhold`): it sends none of its proposals and votes.
//
// Metrics (world::metrics): counters "chain.commits", "chain.blocks_proposed",
// "chain.mempool.<outcome>", "chain.mempool.dropped_recheck", "chain.sync.requests",
// "chain.sync.blocks", "chain.regossips", "chain.evidence_submitted",
// "chain.blocks_rejected", "chain.store_errors", "chain.signatures_refused",
// "chain.signatures_unsaved", "chain.dropped.<consensus
// drop_reason>"; histograms "chain.block_time_s" (between the timestamps of
// consecutive blocks), "chain.finality_s" (from a block's timestamp to its commit
// here), "chain.commit_round"; events "chain.commit" (a = height, b = the first 8
// bytes of the block hash) and "chain.state_root" (a = height, b = the first 8 bytes
// of the state root after it), so the simulator's trace hash covers consensus.
//
// Not thread-safe: one actor owns a validator_node.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/core/ed25519.hpp"
#include "actors/core/verifier.hpp"
#include "actors/validator/consensus.hpp"
#include "actors/validator/genesis.hpp"
#include "actors/validator/mempool.hpp"
#include "actors/validator/rules/block.hpp"
#include "actors/validator/rules/state.hpp"
#include "actors/world/world.hpp"

namespace stakecast::validator {

using consensus_timeout_atom = caf::atom_constant<caf::atom("cstimeout")>;
using chain_tick_atom = caf::atom_constant<caf::atom("chaintick")>;
using build_block_atom = caf::atom_constant<caf::atom("buildblock")>;

/// The inbound messages a validator handles.
constexpr world::message_set validator_messages =
    world::messages_of<wire::chain_tx, wire::chain_proposal, wire::chain_vote, wire::chain_commit,
                       wire::chain_block_request, wire::chain_block_response, wire::chain_query>();

/// What a validator reports to an observer after each commit (the simulator checks
/// safety and the economics with it; the real node ranks its transport's peers by the
/// registrations in the state).
struct commit_report {
  const rules::state& state; // after the block
  const rules::block& block;
  const core::hash256& block_hash;
  std::uint32_t round = 0;
};

struct validator_config {
  /// Candidate blocks kept with the state after them, by hash: the proposals of a few
  /// rounds (an equivocator's twins included).
  static constexpr std::size_t candidates_max = 8;
  /// Proposals for the next height kept until it starts.
  static constexpr std::size_t future_proposals_max = 4;
  /// Own proposals and votes of the current height kept for re-sending.
  static constexpr std::size_t own_messages_max = 64;
  /// Ticks before an unanswered block request is sent again (to another peer).
  static constexpr std::uint32_t sync_timeout_ticks = 2;

  rules::genesis genesis;
  /// The validator's Ed25519 key is the one made from this seed; its public key is
  /// the node's id and its account.
  core::hash256 key_seed;
  consensus_config engine;
  mempool_config pool;
  /// Period of the re-gossip and sync tick.
  std::int64_t tick_ms = 1000;
  /// A proposer builds its round-0 block no earlier than this after the previous
  /// block's timestamp (Tendermint's timeout_commit in effect): the chain's target
  /// block time. 0 builds at once. Later rounds build at once.
  std::int64_t block_interval_ms = 0;
  /// Fee of the evidence transactions it submits; 0 takes the chain's tx_fee_min.
  rules::amount evidence_fee = 0;
  /// Byzantine: equivocate on every proposal and vote (see the file comment).
  bool equivocate = false;
  /// Withholding: stay bonded but send none of its proposals and votes (it still
  /// follows the chain). The chain's downtime rule slashes and jails it.
  bool withhold = false;
  /// Signature checks (the simulator's is shared and memoizing). REQUIRES: outlives
  /// the validator; not null.
  const core::verifier* signatures = nullptr;
  /// Called after each commit (not for blocks re-applied from the store at restart).
  std::function<void(const commit_report&)> on_commit;
};

/// The sign state kept in `store`: the empty record when nothing was signed yet; an
/// error naming what is wrong when the stored record does not decode or could not
/// have been written by the engine.
caf::expected<sign_state> load_sign_state(const world::store& store);

/// Saves the sign state in a node's store, one atomic write per signature.
class store_sign_journal final : public sign_journal {
public:
  /// REQUIRES: `storage` outlives the journal.
  explicit store_sign_journal(world::store& storage) noexcept : storage_(&storage) {}
  bool save(const sign_state& state) override;

private:
  world::store* storage_;
};

/// How the node asks for its timers: call node.on_timeout(t) after t.delay_ms, and
/// node.on_build(height, round) after a delay.
struct validator_timers {
  std::function<void(const schedule_timeout&)> timeout;
  std::function<void(std::int64_t delay_ms, std::uint64_t height, std::uint32_t round)> build;
};

class validator_node {
public:
  /// REQUIRES: context's pointers and config.signatures are set; the genesis is valid
  /// (rules::validate); config.engine and config.pool are valid.
  validator_node(world::node_context context, validator_config config, validator_timers timers);

  /// Rebuilds the state from genesis and the store, then starts the next height.
  void start();
  void on_message(const core::node_id& from, const wire::message& message);
  void on_timeout(const schedule_timeout& timeout);
  /// The delayed build of the block of (height, round), if the engine still waits.
  void on_build(std::uint64_t height, std::uint32_t round);
  void on_tick();

  // ---- status ----
  /// The last committed height.
  std::uint64_t height() const noexcept { return state_.globals.height; }
  const rules::state& state() const noexcept { return state_; }
  const consensus& engine() const noexcept { return engine_; }
  const mempool& pool() const noexcept { return *pool_; }
  const core::node_id& id() const noexcept { return context_.id; }

private:
  struct candidate {
    rules::block block;
    wire::payload encoded;
    std::shared_ptr<const rules::state> after; // null: judged invalid
  };
  struct own_message {
    wire::message body;
    int parity = -1; // -1: every peer; 0 / 1: peers at even / odd positions
  };
  struct counters {
    world::metrics::counter_id commits = 0, blocks_proposed = 0, recheck_drops = 0,
                               sync_requests = 0, sync_blocks = 0, regossips = 0,
                               evidence_submitted = 0, blocks_rejected = 0, store_errors = 0,
                               signatures_refused = 0, signatures_unsaved = 0;
    std::array<world::metrics::counter_id, mempool_outcome_count> mempool{};
    std::array<world::metrics::counter_id, drop_reason_count> dropped{};
    world::metrics::histogram_id block_time = 0, finality = 0, commit_round = 0;
    world::metrics::event_id commit_event = 0, root_event = 0;
  };

  // start and heights
  void register_metrics();
  void restore_from_store();
  void begin_height(std::uint64_t height);
  validator_set set_for(std::uint64_t height);
  std::int64_t now_ms() const;

  // inputs
  void on_tx(const core::node_id& from, const wire::chain_tx& message);
  void on_proposal(const core::node_id& from, const wire::chain_proposal& message);
  void on_vote(const core::node_id& from, const wire::chain_vote& message);
  void on_commit_message(const core::node_id& from, const wire::chain_commit& message);
  void collect_late_precommit(const rules::vote& v);
  void on_block_request(const core::node_id& from, const wire::chain_block_request& message);
  void on_block_response(const core::node_id& from, const wire::chain_block_response& message);
  /// False when the message is for another height than the engine's; notes peers
  /// that are ahead and answers peers that are behind.
  bool at_current_height(const core::node_id& from, std::uint64_t height);

  // blocks
  const candidate& judge(const core::hash256& hash, const wire::payload& encoded);
  const candidate* find_candidate(const core::hash256& hash) const;
  void remember(const core::hash256& hash, candidate c);
  std::optional<core::hash256> build_block(std::uint64_t height);
  void finish_commit(const commit& decision, const candidate& block);
  bool persist(const commit& decision, const candidate& block);
  void report_commit(const commit& decision, const candidate& block,
                     std::uint64_t previous_time_ms);

  // actions of the engine
  void execute(const std::vector<action>& actions);
  void handle(const broadcast_proposal& a);
  void handle(const broadcast_vote& a);
  void handle(const schedule_timeout& a);
  void handle(const need_block& a);
  void handle(const commit& a);
  void handle(const evidence& a);

  // gossip
  void send_own(wire::message body, int parity);
  void equivocate(wire::message original, wire::message twin);
  void send_to_peers(const wire::message& body, int parity);
  void request_block(std::uint64_t height);
  void note_peer_tip(const core::node_id& peer, std::uint64_t tip);
  void count_engine_drops();

  world::node_context context_;
  validator_config config_;
  validator_timers timers_;
  core::key_pair key_;
  store_sign_journal journal_;
  consensus engine_;
  rules::state state_;
  std::optional<mempool> pool_;
  std::optional<std::pair<std::uint64_t, validator_set>> cached_set_; // the last set made
  std::vector<core::node_id> peers_; // registered validators but this one; validators_max
  std::deque<std::pair<core::hash256, candidate>> candidates_; // at most candidates_max
  std::vector<wire::chain_proposal> future_proposals_;         // at most future_proposals_max
  std::deque<own_message> own_messages_;                       // at most own_messages_max
  std::vector<rules::vote> last_commit_;             // precommits of the last committed block
  std::optional<commit> pending_commit_;             // decided, waiting for the block's bytes
  std::map<core::node_id, std::uint64_t> peer_tips_; // members only
  std::set<core::node_id> answered_laggards_;        // at the current height
  std::uint64_t best_tip_ = 0;
  std::uint64_t requested_height_ = 0; // 0: no block request outstanding
  std::uint32_t request_age_ticks_ = 0;
  std::uint32_t sync_attempt_ = 0;
  std::uint64_t height_at_last_tick_ = 0;
  std::int64_t committed_at_ms_ = 0; // when the last commit happened here
  std::array<std::uint64_t, drop_reason_count> drops_seen_{};
  std::uint64_t refused_seen_ = 0, unsaved_seen_ = 0;
  counters counter_;
};

using validator_actor = caf::typed_actor<
    caf::reacts_to<world::inbound>,
    caf::reacts_to<consensus_timeout_atom, std::uint64_t, std::uint32_t, std::uint8_t>,
    caf::reacts_to<build_block_atom, std::uint64_t, std::uint32_t>,
    caf::reacts_to<chain_tick_atom>>;

struct validator_state {
  std::unique_ptr<validator_node> node;
  static inline const char* name = "validator";
};

/// Spawn with `system.spawn(validator, context, config)`.
validator_actor::behavior_type validator(validator_actor::stateful_pointer<validator_state> self,
                                         world::node_context context, validator_config config);

} // namespace stakecast::validator
