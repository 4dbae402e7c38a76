// Block propagation by gossip (announce / request / transfer), as Bitcoin relays
// blocks and SimBlock studies them. It is the first protocol on the seam: it talks
// to other nodes only through `world::transport`, keeps time only through CAF's
// clock, and reports what it sees only through `world::metrics`.
//
// Protocol: a node that learns a new block announces it to every peer but the one it
// came from; a node that hears of an unknown block requests it from the first
// announcer, and from the next one if no transfer arrives within
// `request_timeout`. Every table is bounded (see the constants below); the oldest
// known blocks are forgotten first.
//
// Events: "gossip.block_received" (a = height, b = 0 for a block this node produced,
// 1 for one it received) the first time a node has a block.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/random.hpp"
#include "actors/world/world.hpp"

namespace stakecast::peer {

using produce_block_atom = caf::atom_constant<caf::atom("produce")>;
using set_peers_atom = caf::atom_constant<caf::atom("setpeers")>;
using request_timeout_atom = caf::atom_constant<caf::atom("reqtimeout")>;

/// The inbound messages a gossip actor handles.
constexpr world::message_set gossip_messages =
  world::messages_of<wire::block_announce, wire::block_request, wire::block_transfer>();

struct gossip_config {
  static constexpr std::size_t peers_max = 256;
  static constexpr std::size_t known_blocks_max = 4096;
  static constexpr std::size_t announcers_max = 8;

  std::uint32_t block_bytes = 1'000'000;
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(5);
};

using gossip_actor = caf::typed_actor<
  caf::reacts_to<world::inbound>,
  caf::reacts_to<produce_block_atom, std::uint64_t>,
  caf::reacts_to<set_peers_atom, std::vector<core::node_id>>,
  caf::reacts_to<request_timeout_atom, core::hash256>>;

struct gossip_state {
  struct known_block {
    std::uint64_t height = 0;
  };
  struct pending_block {
    std::uint64_t height = 0;
    std::vector<core::node_id> announcers; // the first one has been asked
  };

  world::node_context context;
  gossip_config config;
  std::vector<core::node_id> peers;
  std::unordered_map<core::hash256, known_block, core::hash256_hasher> known;
  std::deque<core::hash256> known_order; // oldest first, for eviction
  std::unordered_map<core::hash256, pending_block, core::hash256_hasher> pending;

  struct counters {
    world::metrics::counter_id announces_sent;
    world::metrics::counter_id requests_sent;
    world::metrics::counter_id blocks_sent;
    world::metrics::counter_id duplicate_blocks;
    world::metrics::counter_id request_timeouts;
  } counter;
  world::metrics::event_id block_received_event = 0;

  static inline const char* name = "gossip";
};

gossip_actor::behavior_type
gossip(gossip_actor::stateful_pointer<gossip_state> self, world::node_context context,
       gossip_config config);

} // namespace stakecast::peer
