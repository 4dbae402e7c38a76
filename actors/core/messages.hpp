// The protocol between nodes: every message one node sends another, as plain values.
//
// Each message struct has
//  - `static constexpr message_type type`: its tag, the first byte of its encoding;
//  - `static constexpr std::string_view name`: what logs, traces and errors call it;
//  - a CAF 0.17 `inspect` that lists its fields in wire order. The codec
//    (codec.hpp) and CAF's own inspectors (deep_to_string, binary serializers) both
//    walk it, so the struct is the whole definition of the message;
//  - defaulted equality.
//
// Adding a message is a one-place change: a `message_type` value, the struct, and an
// entry in `message`. The codec needs nothing else. Field types the codec knows:
// integers and bool, byte arrays (hash256, signatures), std::string (at most
// limits::text_bytes_max bytes), `payload` (at most limits::payload_bytes_max bytes),
// std::vector<T> preceded by a `count_max<N>` annotation, and nested structs with an
// `inspect`. Anything else fails to compile in codec.cpp.
//
// Messages are values; a payload shares its immutable bytes, so copying a message is
// cheap and copies may be read from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/annotation.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/omittable.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/sec.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/limits.hpp"

namespace stakecast::wire {

/// The first byte of every encoded message. 0 is never a message, so a zeroed buffer
/// does not decode.
enum class message_type : std::uint8_t {
  hello = 1,
  ping = 2,
  pong = 3,
  block_announce = 4,
  block_request = 5,
  block_transfer = 6,
  peer_list = 7,
  swarm_join = 8,
  swarm_peers = 9,
  have_ranges = 10,
  segment_request = 11,
  segment_cancel = 12,
  segment_reject = 13,
  segment_data = 14,
  manifest_request = 15,
  manifest_transfer = 16,
  // chain (validators): a block of its own so that other protocols can grow below it
  chain_tx = 40,
  chain_proposal = 41,
  chain_vote = 42,
  chain_commit = 43,
  chain_block_request = 44,
  chain_block_response = 45,
  // paid service (viewers, masternodes and the validators they ask)
  service_receipt = 46,
  chain_query = 47,
  chain_answer = 48,
};

/// CAF-style positional annotation (like caf::meta::hex_formatted): the field that
/// follows is a std::vector of at most N elements. The codec rejects longer lists on
/// decode; CAF's inspectors skip the annotation.
template <std::size_t N>
struct count_max_t : caf::meta::annotation {
  static constexpr std::size_t value = N;
};

template <std::size_t N>
inline constexpr count_max_t<N> count_max{};

/// Bytes carried by a message (a content block, a serialized chain block).
///
/// In the real world they are materialized. In the simulator only their length
/// travels: the receiver derives the content from what the message names (DESIGN.md,
/// "payload bytes are not materialized"), so memory does not grow with bytes moved.
/// Encoding writes u32 `size_bytes` and then the bytes, zeros for a virtual payload
/// (deterministic, and the simulator charges the same size). Decoding always yields a
/// materialized payload.
///
/// Invariant: `bytes == nullptr` (virtual) or `bytes->size() == size_bytes`, and
/// `size_bytes <= limits::payload_bytes_max`.
struct payload {
  std::uint32_t size_bytes = 0;
  /// Null when virtual. Shared and immutable: copies of a message share one buffer.
  std::shared_ptr<const core::byte_buffer> bytes;
  /// For a virtual payload, the digest its bytes would have (for a segment: the root
  /// of its blocks' subtree, as its sender claims it), which is what a receiver in the
  /// simulator verifies instead of hashing bytes. A poisoning sender claims a wrong
  /// one. It never travels on the wire (virtual payloads exist only inside the
  /// simulator's one process) and is zero for materialized payloads.
  core::hash256 virtual_digest;

  /// REQUIRES: content.size() <= limits::payload_bytes_max. (Defined in codec.cpp.)
  static payload materialized(core::byte_buffer content);
  /// REQUIRES: size_bytes <= limits::payload_bytes_max. (Defined in codec.cpp.)
  static payload virtual_of(std::uint32_t size_bytes, const core::hash256& digest = {});

  bool is_virtual() const noexcept {
    return bytes == nullptr;
  }

  /// The bytes; empty for a virtual payload (whatever its size).
  core::byte_span view() const noexcept {
    return bytes ? core::byte_span{*bytes} : core::byte_span{};
  }

  /// Equal sizes, and either both virtual with equal digests or both materialized
  /// with equal bytes. A virtual payload never equals a materialized one.
  bool operator==(const payload& other) const noexcept {
    if (size_bytes != other.size_bytes || is_virtual() != other.is_virtual())
      return false;
    if (is_virtual())
      return virtual_digest == other.virtual_digest;
    return bytes == other.bytes || *bytes == *other.bytes;
  }

  /// For CAF's inspectors only (the codec encodes payloads itself): size, whether
  /// materialized, then the bytes, which human-readable output omits. The virtual
  /// digest is not inspected: CAF never carries a payload out of the process.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, payload& x) {
    bool is_materialized = x.bytes != nullptr;
    if constexpr (Inspector::reads_state) {
      // A reading inspector does not modify what it is handed: lending it the
      // shared buffer avoids copying up to a whole payload.
      core::byte_buffer no_bytes;
      auto& content = x.bytes ? const_cast<core::byte_buffer&>(*x.bytes) : no_bytes;
      return f(caf::meta::type_name("payload"), x.size_bytes, is_materialized,
               caf::meta::omittable(), content);
    } else {
      core::byte_buffer content;
      auto adopt = [&]() -> caf::error {
        if (!is_materialized) {
          if (!content.empty() || x.size_bytes > limits::payload_bytes_max)
            return caf::make_error(caf::sec::invalid_argument, "virtual payload");
          x.bytes = nullptr;
          return caf::none;
        }
        if (content.size() != x.size_bytes)
          return caf::make_error(caf::sec::invalid_argument, "payload size mismatch");
        x.bytes = std::make_shared<const core::byte_buffer>(std::move(content));
        return caf::none;
      };
      return f(caf::meta::type_name("payload"), x.size_bytes, is_materialized, content,
               caf::meta::load_callback(adopt));
    }
  }
};

/// Opens a connection, both ways: who I am and which protocol I speak.
struct hello {
  static constexpr message_type type = message_type::hello;
  static constexpr std::string_view name = "hello";

  std::uint16_t protocol_version = 0;
  core::node_id sender;
  std::uint64_t nonce = 0;
  /// Free-form software name and version; at most limits::text_bytes_max bytes.
  std::string agent;

  bool operator==(const hello&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, hello& x) {
    return f(caf::meta::type_name(hello::name.data()), x.protocol_version, x.sender,
             x.nonce, x.agent);
  }
};

/// Liveness and round-trip time; answered by a pong with the same nonce.
struct ping {
  static constexpr message_type type = message_type::ping;
  static constexpr std::string_view name = "ping";

  std::uint64_t nonce = 0;

  bool operator==(const ping&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, ping& x) {
    return f(caf::meta::type_name(ping::name.data()), x.nonce);
  }
};

struct pong {
  static constexpr message_type type = message_type::pong;
  static constexpr std::string_view name = "pong";

  std::uint64_t nonce = 0;

  bool operator==(const pong&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, pong& x) {
    return f(caf::meta::type_name(pong::name.data()), x.nonce);
  }
};

/// Gossip "inv": I have this block.
struct block_announce {
  static constexpr message_type type = message_type::block_announce;
  static constexpr std::string_view name = "block_announce";

  core::hash256 block_id;
  std::uint64_t height = 0;

  bool operator==(const block_announce&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, block_announce& x) {
    return f(caf::meta::type_name(block_announce::name.data()), x.block_id, x.height);
  }
};

/// Gossip "getdata": send me this block.
struct block_request {
  static constexpr message_type type = message_type::block_request;
  static constexpr std::string_view name = "block_request";

  core::hash256 block_id;

  bool operator==(const block_request&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, block_request& x) {
    return f(caf::meta::type_name(block_request::name.data()), x.block_id);
  }
};

/// A block itself. `origin_time_ns` is when its producer first sent it (world time),
/// so receivers can measure propagation delay.
struct block_transfer {
  static constexpr message_type type = message_type::block_transfer;
  static constexpr std::string_view name = "block_transfer";

  core::hash256 block_id;
  std::uint64_t height = 0;
  std::uint64_t origin_time_ns = 0;
  payload body;

  bool operator==(const block_transfer&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, block_transfer& x) {
    return f(caf::meta::type_name(block_transfer::name.data()), x.block_id, x.height,
             x.origin_time_ns, x.body);
  }
};

/// Peer exchange: nodes the sender knows; at most limits::peer_list_count_max.
struct peer_list {
  static constexpr message_type type = message_type::peer_list;
  static constexpr std::string_view name = "peer_list";

  std::vector<core::node_id> peers;

  bool operator==(const peer_list&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, peer_list& x) {
    return f(caf::meta::type_name(peer_list::name.data()),
             count_max<limits::peer_list_count_max>, x.peers);
  }
};


// -- streaming ----------------------------------------------------------------------
// A viewer joins a content's swarm at a masternode, which answers with viewers that
// recently streamed it; viewers tell their neighbours which segments they hold as
// ranges; segments are requested one at a time and answered whole, or rejected.

/// Segments [first, end).
struct segment_range {
  std::uint32_t first = 0;
  std::uint32_t end = 0;

  bool operator==(const segment_range&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, segment_range& x) {
    return f(caf::meta::type_name("segment_range"), x.first, x.end);
  }
};

/// Viewer to masternode: I am watching `content`, from segment `position`.
struct swarm_join {
  static constexpr message_type type = message_type::swarm_join;
  static constexpr std::string_view name = "swarm_join";

  core::content_id content;
  std::uint32_t position = 0;

  bool operator==(const swarm_join&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, swarm_join& x) {
    return f(caf::meta::type_name(swarm_join::name.data()), x.content, x.position);
  }
};

/// Masternode to viewer: viewers that recently streamed `content`.
struct swarm_peers {
  static constexpr message_type type = message_type::swarm_peers;
  static constexpr std::string_view name = "swarm_peers";

  core::content_id content;
  std::vector<core::node_id> peers;

  bool operator==(const swarm_peers&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, swarm_peers& x) {
    return f(caf::meta::type_name(swarm_peers::name.data()), x.content,
             count_max<limits::peer_list_count_max>, x.peers);
  }
};

/// The segments of `content` the sender holds (replaces its earlier announcement).
struct have_ranges {
  static constexpr message_type type = message_type::have_ranges;
  static constexpr std::string_view name = "have_ranges";

  core::content_id content;
  std::vector<segment_range> ranges;
  /// An answer to a have_ranges from a node that is not our neighbour (our table is
  /// full): never answered in turn, so two full nodes cannot bounce answers forever.
  bool reply = false;

  bool operator==(const have_ranges&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, have_ranges& x) {
    return f(caf::meta::type_name(have_ranges::name.data()), x.content,
             count_max<limits::have_ranges_count_max>, x.ranges, x.reply);
  }
};

/// Asks for one whole segment. `request_id` is the requester's, unique per session.
struct segment_request {
  static constexpr message_type type = message_type::segment_request;
  static constexpr std::string_view name = "segment_request";

  core::content_id content;
  std::uint32_t segment = 0;
  std::uint64_t request_id = 0;
  /// The requester's playback waits for this segment now or within about one
  /// segment's play time (scheduler::playback_config::critical_ns). A server serves
  /// critical requests before the others and, when full, makes room for one by
  /// refusing a queued request that is not (peer/upload_queue.hpp). One byte, 0 or 1.
  bool critical = false;

  bool operator==(const segment_request&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, segment_request& x) {
    return f(caf::meta::type_name(segment_request::name.data()), x.content, x.segment,
             x.request_id, x.critical);
  }
};

/// Withdraws a request (a duplicate that is no longer needed, or a timeout).
struct segment_cancel {
  static constexpr message_type type = message_type::segment_cancel;
  static constexpr std::string_view name = "segment_cancel";

  core::content_id content;
  std::uint64_t request_id = 0;

  bool operator==(const segment_cancel&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, segment_cancel& x) {
    return f(caf::meta::type_name(segment_cancel::name.data()), x.content, x.request_id);
  }
};

/// Why a request was refused.
enum class reject_reason : std::uint8_t {
  not_held = 1, // the sender does not hold the segment
  choked = 2,   // the requester has no upload slot at the sender
  busy = 3,     // the sender's queues are full
};

/// Refuses a request, so the requester asks elsewhere at once.
struct segment_reject {
  static constexpr message_type type = message_type::segment_reject;
  static constexpr std::string_view name = "segment_reject";

  core::content_id content;
  std::uint64_t request_id = 0;
  std::uint8_t reason = 0; // a reject_reason; kept as a byte so unknown values decode

  bool operator==(const segment_reject&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, segment_reject& x) {
    return f(caf::meta::type_name(segment_reject::name.data()), x.content, x.request_id,
             x.reason);
  }
};

/// A whole segment, answering `request_id`. The receiver verifies it against the
/// manifest's piece layer before it plays, stores or re-shares it.
struct segment_data {
  static constexpr message_type type = message_type::segment_data;
  static constexpr std::string_view name = "segment_data";

  core::content_id content;
  std::uint32_t segment = 0;
  std::uint64_t request_id = 0;
  payload body;

  bool operator==(const segment_data&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, segment_data& x) {
    return f(caf::meta::type_name(segment_data::name.data()), x.content, x.segment,
             x.request_id, x.body);
  }
};

/// Asks for the manifest of `content`.
struct manifest_request {
  static constexpr message_type type = message_type::manifest_request;
  static constexpr std::string_view name = "manifest_request";

  core::content_id content;

  bool operator==(const manifest_request&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, manifest_request& x) {
    return f(caf::meta::type_name(manifest_request::name.data()), x.content);
  }
};

/// A manifest, encoded (core::encode_manifest). The receiver decodes, validates and
/// checks that its id is `content` before using it.
struct manifest_transfer {
  static constexpr message_type type = message_type::manifest_transfer;
  static constexpr std::string_view name = "manifest_transfer";

  core::content_id content;
  payload encoded;

  bool operator==(const manifest_transfer&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, manifest_transfer& x) {
    return f(caf::meta::type_name(manifest_transfer::name.data()), x.content, x.encoded);
  }
};

// -- chain ----------------------------------------------------------------------------
// Validators gossip transactions, proposals and votes to each other directly (the
// active set is small and known from the chain state), announce the precommits that
// decided a height, and serve committed blocks by height to a validator that fell
// behind. Transactions and blocks travel as their canonical encodings
// (core::encode_record of rules::transaction / rules::block): the rules live above
// core, and the receiver decodes and checks them as hostile input anyway.

/// Precommits in one commit: one per active validator
/// (rules::chain_limits::validators_active_count_max).
inline constexpr std::size_t commit_votes_max = 128;
/// Bytes of one encoded transaction: a body of at most 64 KiB plus its envelope.
inline constexpr std::size_t chain_tx_bytes_max = 64 * 1024 + 512;

/// The fields of a signed consensus vote (rules::vote), as they travel.
struct signed_vote {
  core::hash256 chain;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  std::uint8_t kind = 0;
  core::hash256 block;
  core::node_id validator;
  core::signature signature;

  bool operator==(const signed_vote&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, signed_vote& x) {
    return f(caf::meta::type_name("signed_vote"), x.chain, x.height, x.round, x.kind, x.block,
             x.validator, x.signature);
  }
};

/// A transaction for the mempools (the encoding of a rules::transaction).
struct chain_tx {
  static constexpr message_type type = message_type::chain_tx;
  static constexpr std::string_view name = "chain_tx";

  std::vector<std::uint8_t> encoded;

  bool operator==(const chain_tx&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_tx& x) {
    return f(caf::meta::type_name(chain_tx::name.data()), count_max<chain_tx_bytes_max>,
             x.encoded);
  }
};

/// A signed proposal (validator::proposal's fields) with the proposed block's encoding,
/// so that a receiver can judge the block at once.
struct chain_proposal {
  static constexpr message_type type = message_type::chain_proposal;
  static constexpr std::string_view name = "chain_proposal";

  core::hash256 chain;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  core::hash256 block;
  std::int64_t pol_round = -1;
  core::node_id proposer;
  core::signature signature;
  payload block_encoded;

  bool operator==(const chain_proposal&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_proposal& x) {
    return f(caf::meta::type_name(chain_proposal::name.data()), x.chain, x.height, x.round,
             x.block, x.pol_round, x.proposer, x.signature, x.block_encoded);
  }
};

/// A prevote or precommit.
struct chain_vote {
  static constexpr message_type type = message_type::chain_vote;
  static constexpr std::string_view name = "chain_vote";

  signed_vote vote;

  bool operator==(const chain_vote&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_vote& x) {
    return f(caf::meta::type_name(chain_vote::name.data()), x.vote);
  }
};

/// The precommits with which the sender decided `height`: a validator still at that
/// height decides with them (and fetches the block if it lacks it).
struct chain_commit {
  static constexpr message_type type = message_type::chain_commit;
  static constexpr std::string_view name = "chain_commit";

  std::uint64_t height = 0;
  std::vector<signed_vote> precommits;

  bool operator==(const chain_commit&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_commit& x) {
    return f(caf::meta::type_name(chain_commit::name.data()), x.height,
             count_max<commit_votes_max>, x.precommits);
  }
};

/// Block sync: send me the committed block at `height` and its commit.
struct chain_block_request {
  static constexpr message_type type = message_type::chain_block_request;
  static constexpr std::string_view name = "chain_block_request";

  std::uint64_t height = 0;

  bool operator==(const chain_block_request&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_block_request& x) {
    return f(caf::meta::type_name(chain_block_request::name.data()), x.height);
  }
};

/// Block sync: the committed block at `height` and the precommits that decided it.
/// `tip` is the sender's last committed height, so the receiver knows how far it lags.
struct chain_block_response {
  static constexpr message_type type = message_type::chain_block_response;
  static constexpr std::string_view name = "chain_block_response";

  std::uint64_t height = 0;
  std::uint64_t tip = 0;
  payload block_encoded;
  std::vector<signed_vote> precommits;

  bool operator==(const chain_block_response&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_block_response& x) {
    return f(caf::meta::type_name(chain_block_response::name.data()), x.height, x.tip,
             x.block_encoded, count_max<commit_votes_max>, x.precommits);
  }
};

// -- paid service -----------------------------------------------------------------------
// A viewer hands the masternodes that served it signed receipts; a masternode asks a
// validator for what its claims and audit answers depend on (actors/peer/service.hpp).

/// Bytes of one encoded receipt (rules::receipt, rules::chain_limits::receipt_bytes).
inline constexpr std::size_t service_receipt_bytes_max = 256;
/// Deposits one chain_query may ask about (rules::chain_limits::receipts_per_claim_max).
inline constexpr std::size_t chain_query_deposits_max = 256;
/// Pending audit challenges in one chain_answer: a few epochs' worth.
inline constexpr std::size_t chain_answer_challenges_max = 64;
/// Contents one chain_answer lists as assigned to the asker.
inline constexpr std::size_t chain_answer_contents_max = 4096;
/// Contents one chain_query may ask the placement of (a node opening viewing sessions).
inline constexpr std::size_t chain_query_contents_max = 8;
/// Masternodes one placement lists (rules::chain_limits::replicas_max and then some).
inline constexpr std::size_t placement_masternodes_max = 64;

/// A viewer's signed cumulative receipt for bytes a masternode delivered (the
/// encoding of a rules::receipt).
struct service_receipt {
  static constexpr message_type type = message_type::service_receipt;
  static constexpr std::string_view name = "service_receipt";

  std::vector<std::uint8_t> encoded;

  bool operator==(const service_receipt&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, service_receipt& x) {
    return f(caf::meta::type_name(service_receipt::name.data()),
             count_max<service_receipt_bytes_max>, x.encoded);
  }
};

/// To a validator: what the chain's committed state says of `account` and of
/// `deposits`.
struct chain_query {
  static constexpr message_type type = message_type::chain_query;
  static constexpr std::string_view name = "chain_query";

  std::uint64_t query_id = 0;
  core::node_id account;
  std::vector<core::hash256> deposits;
  /// Contents whose placement the asker wants (to open viewing sessions).
  std::vector<core::content_id> contents;

  bool operator==(const chain_query&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_query& x) {
    return f(caf::meta::type_name(chain_query::name.data()), x.query_id, x.account,
             count_max<chain_query_deposits_max>, x.deposits,
             count_max<chain_query_contents_max>, x.contents);
  }
};

/// Where a published content lives: its publisher and the masternodes the chain
/// placed it on. `found` is false for a content the chain does not know.
struct content_placement {
  core::content_id content;
  bool found = false;
  core::node_id publisher;
  std::vector<core::node_id> masternodes;

  bool operator==(const content_placement&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, content_placement& x) {
    return f(caf::meta::type_name("content_placement"), x.content, x.found, x.publisher,
             count_max<placement_masternodes_max>, x.masternodes);
  }
};

/// An audit challenge still open (rules::challenge_record and its id).
struct challenge_entry {
  std::uint64_t id = 0;
  core::content_id content;
  std::uint32_t block_index = 0;
  std::uint64_t deadline_height = 0;

  bool operator==(const challenge_entry&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, challenge_entry& x) {
    return f(caf::meta::type_name("challenge_entry"), x.id, x.content, x.block_index,
             x.deadline_height);
  }
};

/// A viewing deposit as the asker needs it: `claimed` is what the asker already
/// claimed from it (bytes of its latest claimed receipt).
struct deposit_entry {
  core::hash256 deposit;
  bool found = false;
  core::node_id viewer;
  std::uint64_t remaining = 0;
  std::uint64_t claimed = 0;

  bool operator==(const deposit_entry&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, deposit_entry& x) {
    return f(caf::meta::type_name("deposit_entry"), x.deposit, x.found, x.viewer, x.remaining,
             x.claimed);
  }
};

/// The answer to a chain_query, from the validator's state after `height`: the
/// account's next nonce and balance, the receipt price, its open challenges, the
/// contents placed on it (empty unless it is an active masternode) and the deposits
/// asked about, in the order asked.
struct chain_answer {
  static constexpr message_type type = message_type::chain_answer;
  static constexpr std::string_view name = "chain_answer";

  std::uint64_t query_id = 0;
  core::hash256 chain;
  std::uint64_t height = 0;
  std::uint64_t nonce = 0;
  std::uint64_t balance = 0;
  std::uint64_t price_per_gib = 0;
  bool jailed = false;
  std::vector<challenge_entry> challenges;
  std::vector<core::content_id> assigned;
  std::vector<deposit_entry> deposits;
  /// The placements asked about, in the order asked.
  std::vector<content_placement> placements;

  bool operator==(const chain_answer&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, chain_answer& x) {
    return f(caf::meta::type_name(chain_answer::name.data()), x.query_id, x.chain, x.height,
             x.nonce, x.balance, x.price_per_gib, x.jailed,
             count_max<chain_answer_challenges_max>, x.challenges,
             count_max<chain_answer_contents_max>, x.assigned,
             count_max<chain_query_deposits_max>, x.deposits,
             count_max<chain_query_contents_max>, x.placements);
  }
};

/// Every message between nodes.
using message = std::variant<hello, ping, pong, block_announce, block_request,
                             block_transfer, peer_list, swarm_join, swarm_peers,
                             have_ranges, segment_request, segment_cancel, segment_reject,
                             segment_data, manifest_request, manifest_transfer, chain_tx,
                             chain_proposal, chain_vote, chain_commit, chain_block_request,
                             chain_block_response, service_receipt, chain_query,
                             chain_answer>;

namespace detail {

template <std::size_t... I>
constexpr bool type_tags_are_valid(std::index_sequence<I...>) {
  constexpr std::array<message_type, sizeof...(I)> tags{
    std::variant_alternative_t<I, message>::type...};
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (static_cast<std::uint8_t>(tags[i]) == 0)
      return false;
    for (std::size_t j = i + 1; j < tags.size(); ++j)
      if (tags[i] == tags[j])
        return false;
  }
  return true;
}

template <std::size_t... I>
constexpr std::string_view name_of(message_type type, std::index_sequence<I...>) noexcept {
  std::string_view result = "unknown";
  static_cast<void>(((std::variant_alternative_t<I, message>::type == type
                        ? (result = std::variant_alternative_t<I, message>::name, true)
                        : false)
                     || ...));
  return result;
}

using message_indices = std::make_index_sequence<std::variant_size_v<message>>;

} // namespace detail

static_assert(detail::type_tags_are_valid(detail::message_indices{}),
              "every message has its own non-zero message_type");

/// The tag of the message held.
inline message_type type_of(const message& x) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::type; }, x);
}

/// The message's `name`, or "unknown" for a value no message uses.
constexpr std::string_view to_string(message_type type) noexcept {
  return detail::name_of(type, detail::message_indices{});
}

} // namespace stakecast::wire
