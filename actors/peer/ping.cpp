#include "actors/peer/ping.hpp"

namespace stakecast::peer {

namespace {

using self_pointer = ping_actor::stateful_pointer<ping_state>;

void send_next_ping(self_pointer self) {
  auto& state = self->state;
  if (state.remaining == 0) {
    state.context.telemetry->event(state.done_event, state.context.id, state.round_trips, 0);
    return;
  }
  --state.remaining;
  state.context.network->send(state.target, wire::ping{state.round_trips});
}

} // namespace

ping_actor::behavior_type ping(self_pointer self, world::node_context context) {
  self->state.context = context;
  self->state.done_event = context.telemetry->event_kind("ping.done");
  return {
    [self](const world::inbound& message) {
      if (const auto* request = std::get_if<wire::ping>(&message.body)) {
        self->state.context.network->send(message.from, wire::pong{request->nonce});
      } else if (std::holds_alternative<wire::pong>(message.body) &&
                 message.from == self->state.target) {
        ++self->state.round_trips;
        send_next_ping(self);
      }
    },
    [self](start_pinging_atom, const core::node_id& target, std::uint64_t count) {
      self->state.target = target;
      self->state.remaining = count;
      send_next_ping(self);
    },
  };
}

} // namespace stakecast::peer
