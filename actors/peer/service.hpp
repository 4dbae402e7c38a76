// Paid service (DESIGN.md, "Proof of delivery" and "Audits"): the viewer's and the
// masternode's sides of the chain's receipts and audits.
//
// Viewer: a `receipt_signer` is the viewer actor's `delivery_meter`. When the session
// starts it opens a viewing deposit (an open_deposit transaction sent to a validator);
// then, for each masternode that delivered bytes that passed verification against the
// manifest, it signs a cumulative receipt (deposit, masternode, content, bytes) at
// most every `receipt_interval` and when the session ends, and sends it to that
// masternode (`service_receipt`). It never signs for a byte the viewer did not verify:
// the viewer reports bytes only after verification.
//
// Masternode: the `service_agent` actor keeps the latest valid receipt of each
// deposit (signed by the deposit's viewer over this chain, addressed to this
// masternode; at most `receipts_max` deposits) and every `claim_interval` asks a
// validator (`chain_query`, the next one each time) for what its transactions depend
// on. With the answer (`chain_answer`, the validator's committed state) it
//   - claims every receipt that will pass: the deposit exists and is the viewer's, the
//     receipt adds bytes to what this masternode claimed, the increase is within what
//     remains, and the content is placed on this masternode; one claim_receipts
//     transaction per receipts_per_claim_max receipts. A receipt that can never pass
//     is dropped; one whose deposit the chain does not know yet waits (at most
//     `deposit_wait` after it came);
//   - answers each open audit challenge whose block this node holds (`audit_source`)
//     with an audit_response; a block it does not hold goes unanswered, and the chain
//     slashes it at the deadline;
//   - hands the contents placed on it to `on_assignments` whenever they changed.
// Transactions take their nonce from the answer (the committed one) and go to the
// validator that answered, audit answers first, `tx_spacing` apart so that they arrive
// in nonce order. Everything sent in one round is committed long before the next
// (claim_interval is many block times), so nonces do not collide.
//
// Trust: the agent believes the validator it asks; docs/chain.md ("Masternodes and
// viewers") says how a light client will check answers against a committed header.
// But it never goes back: an answer at a lower height than one it took (a validator
// still catching up) is ignored, and the next round asks the next validator.
// Counters "service.*": receipts_signed, receipts_received, receipts_refused,
// queries, claims_sent, receipts_claimed, receipts_dropped, audits_answered,
// audits_unheld, answers_stale.
// Not thread-safe (CAF runs one handler of an actor at a time).
#pragma once

#include <chrono>
#include <cstdint>
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
#include "actors/core/merkle.hpp"
#include "actors/core/verifier.hpp"
#include "actors/peer/delivery_meter.hpp"
#include "actors/validator/rules/amount.hpp"
#include "actors/validator/rules/transaction.hpp"
#include "actors/validator/query.hpp"
#include "actors/world/world.hpp"

namespace stakecast::peer {

struct receipt_signer_config {
  core::hash256 chain;
  core::content_id content;
  /// Where the deposit transaction goes.
  core::node_id validator;
  rules::amount deposit = 0;
  /// The account's next nonce (the deposit's id is derived from it).
  std::uint64_t nonce = 0;
  rules::amount fee = 0;
  std::chrono::nanoseconds receipt_interval = std::chrono::seconds(10);
};

class receipt_signer final : public delivery_meter {
public:
  /// Masternodes one session signs for: the content's replicas and then some.
  static constexpr std::size_t masternodes_max = 64;

  receipt_signer(core::key_pair account, receipt_signer_config config);

  void start(const world::node_context& context, std::int64_t now_ns) override;
  void delivered(const core::node_id& from, std::uint64_t bytes, std::int64_t now_ns) override;
  void finish(std::int64_t now_ns) override;

  const core::hash256& deposit() const noexcept { return deposit_; }

private:
  struct served {
    std::uint64_t bytes = 0;
    std::uint64_t signed_bytes = 0;
    std::int64_t signed_at_ns = 0;
  };

  void send_receipt(const core::node_id& masternode, served& s, std::int64_t now_ns);

  core::key_pair account_;
  receipt_signer_config config_;
  core::hash256 deposit_;
  world::node_context context_;
  world::metrics::counter_id signed_counter_ = 0;
  std::map<core::node_id, served> served_; // at most masternodes_max
};

/// A block this node holds, as an audit answer shows it.
struct audit_block {
  std::vector<std::uint8_t> bytes;
  core::merkle_proof proof;
};

/// The blocks a masternode holds. The real node reads them from its store; the
/// simulator derives them (core::virtual_content::stand_in) for the segments its
/// store holds.
class audit_source {
public:
  virtual ~audit_source() = default;
  /// Block `index` of `content` with its Merkle proof, or nullopt when not held.
  virtual std::optional<audit_block> read(const core::content_id& content,
                                          std::uint32_t index) const = 0;
};

struct service_agent_config {
  core::hash256 chain;
  /// Asked in turn; at least one.
  std::vector<core::node_id> validators;
  rules::amount fee = 0;
  std::chrono::nanoseconds claim_interval = std::chrono::seconds(30);
  /// A receipt whose deposit the chain still does not know after this is dropped.
  std::chrono::nanoseconds deposit_wait = std::chrono::minutes(5);
  std::shared_ptr<const audit_source> blocks;
  /// Checks the receipts' signatures; the world owns it.
  const core::verifier* signatures = nullptr;
  /// Called with the contents placed on this masternode when they changed.
  std::function<void(const std::vector<core::content_id>&)> on_assignments;
};

constexpr world::message_set service_agent_messages =
    world::messages_of<wire::service_receipt, wire::chain_answer>();

using claim_tick_atom = caf::atom_constant<caf::atom("claimtick")>;
/// Agent: send this encoded transaction to this validator now.
using send_tx_atom = caf::atom_constant<caf::atom("sendtx")>;

using service_agent_actor =
    caf::typed_actor<caf::reacts_to<world::inbound>, caf::reacts_to<claim_tick_atom>,
                     caf::reacts_to<send_tx_atom, core::node_id, std::vector<std::uint8_t>>>;

struct service_agent_state {
  /// Deposits whose latest receipt is kept: a busy masternode's viewers of a few
  /// claim intervals.
  static constexpr std::size_t receipts_max = 65'536;
  /// Between the transactions of one round (see service.cpp, `submit`): far above any
  /// jitter, far below a block time.
  static constexpr std::chrono::milliseconds tx_spacing{100};

  struct kept_receipt {
    rules::receipt receipt;
    std::int64_t first_ns = 0; // when the deposit's first receipt came
    std::uint64_t claimed = 0; // bytes the chain says were claimed
  };

  world::node_context context;
  std::shared_ptr<const core::key_pair> key;
  service_agent_config config;
  caf::actor_clock::time_point origin;
  std::map<core::hash256, kept_receipt> receipts; // by deposit
  std::uint64_t next_query = 1;
  std::uint64_t pending_query = 0; // 0: none
  std::size_t next_validator = 0;
  std::optional<std::vector<core::content_id>> assigned; // none before the first answer
  validator::answer_floor floor;                         // answers older than it are ignored
  struct metric_ids {
    world::metrics::counter_id received = 0;
    world::metrics::counter_id refused = 0;
    world::metrics::counter_id queries = 0;
    world::metrics::counter_id claims = 0;
    world::metrics::counter_id claimed = 0;
    world::metrics::counter_id dropped = 0;
    world::metrics::counter_id audits_answered = 0;
    world::metrics::counter_id audits_unheld = 0;
    world::metrics::counter_id stale_answers = 0;
  } metric;
  static inline const char* name = "service_agent";
};

/// REQUIRES: key's public key is context.id, config.validators is not empty,
/// config.signatures and config.blocks are set.
service_agent_actor::behavior_type
service_agent(service_agent_actor::stateful_pointer<service_agent_state> self,
              world::node_context context, std::shared_ptr<const core::key_pair> key,
              service_agent_config config);

} // namespace stakecast::peer
