// Ping / pong between two nodes through the world's transport: the liveness probe
// of the protocol and the simplest load for the simulator's kernel (`stakecast bench
// kernel` measures the kernel's cost per message with it).
//
// A node told to `start` with a peer and a count sends that many pings, one after
// each pong; any node answers a ping with a pong carrying the same nonce. Event
// "ping.done" (a = round trips) when a node has received its last pong.
#pragma once

#include <cstdint>

#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/world/world.hpp"

namespace stakecast::peer {

using start_pinging_atom = caf::atom_constant<caf::atom("startping")>;

using ping_actor = caf::typed_actor<caf::reacts_to<world::inbound>,
                                    caf::reacts_to<start_pinging_atom, core::node_id, std::uint64_t>>;

/// The inbound messages a ping actor handles.
constexpr world::message_set ping_messages = world::messages_of<wire::ping, wire::pong>();

struct ping_state {
  world::node_context context;
  core::node_id target;
  std::uint64_t remaining = 0;
  std::uint64_t round_trips = 0;
  world::metrics::event_id done_event = 0;

  static inline const char* name = "ping";
};

ping_actor::behavior_type ping(ping_actor::stateful_pointer<ping_state> self,
                               world::node_context context);

} // namespace stakecast::peer
