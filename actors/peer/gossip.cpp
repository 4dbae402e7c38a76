#include "actors/peer/gossip.hpp"

#include <algorithm>

#include "actors/core/sha256.hpp"

namespace stakecast::peer {

namespace {

using self_pointer = gossip_actor::stateful_pointer<gossip_state>;

core::hash256 block_id_of(const core::node_id& producer, std::uint64_t height) {
  core::byte_buffer preimage(producer.bytes.begin(), producer.bytes.end());
  for (int i = 0; i < 8; ++i)
    preimage.push_back(static_cast<std::uint8_t>(height >> (8 * i)));
  return core::sha256(preimage);
}

void send(self_pointer self, const core::node_id& to, wire::message message) {
  self->state.context.network->send(to, std::move(message));
}

void count(self_pointer self, world::metrics::counter_id counter) {
  self->state.context.telemetry->add(counter, 1);
}

void remember(self_pointer self, const core::hash256& id, std::uint64_t height) {
  auto& state = self->state;
  state.known.emplace(id, gossip_state::known_block{height});
  state.known_order.push_back(id);
  if (state.known_order.size() > gossip_config::known_blocks_max) {
    state.known.erase(state.known_order.front());
    state.known_order.pop_front();
  }
}

void announce(self_pointer self, const core::hash256& id, std::uint64_t height,
              const core::node_id* except) {
  for (const auto& peer : self->state.peers) {
    if (except != nullptr && peer == *except)
      continue;
    send(self, peer, wire::block_announce{id, height});
    count(self, self->state.counter.announces_sent);
  }
}

void request(self_pointer self, const core::hash256& id, const core::node_id& from) {
  send(self, from, wire::block_request{id});
  count(self, self->state.counter.requests_sent);
  self->delayed_send(self, self->state.config.request_timeout, request_timeout_atom::value, id);
}

void accept_block(self_pointer self, const core::hash256& id, std::uint64_t height,
                  const core::node_id* from) {
  auto& state = self->state;
  state.pending.erase(id);
  remember(self, id, height);
  state.context.telemetry->event(state.block_received_event, state.context.id, height,
                                 from == nullptr ? 0 : 1);
  announce(self, id, height, from);
}

void on_announce(self_pointer self, const core::node_id& from, const wire::block_announce& message) {
  auto& state = self->state;
  if (state.known.count(message.block_id) != 0)
    return;
  auto [entry, inserted] = state.pending.try_emplace(message.block_id);
  if (!inserted) {
    auto& announcers = entry->second.announcers;
    if (announcers.size() < gossip_config::announcers_max &&
        std::find(announcers.begin(), announcers.end(), from) == announcers.end())
      announcers.push_back(from);
    return;
  }
  entry->second.height = message.height;
  entry->second.announcers.push_back(from);
  request(self, message.block_id, from);
}

void on_request(self_pointer self, const core::node_id& from, const wire::block_request& message) {
  auto& state = self->state;
  auto found = state.known.find(message.block_id);
  if (found == state.known.end())
    return;
  send(self, from,
       wire::block_transfer{message.block_id, found->second.height, 0,
                            wire::payload::virtual_of(state.config.block_bytes)});
  count(self, state.counter.blocks_sent);
}

void on_transfer(self_pointer self, const core::node_id& from, const wire::block_transfer& message) {
  if (self->state.known.count(message.block_id) != 0) {
    count(self, self->state.counter.duplicate_blocks);
    return;
  }
  accept_block(self, message.block_id, message.height, &from);
}

void on_request_timeout(self_pointer self, const core::hash256& id) {
  auto& state = self->state;
  auto found = state.pending.find(id);
  if (found == state.pending.end())
    return;
  count(self, state.counter.request_timeouts);
  auto& announcers = found->second.announcers;
  announcers.erase(announcers.begin());
  if (announcers.empty()) {
    state.pending.erase(found);
    return;
  }
  request(self, id, announcers.front());
}

void register_metrics(gossip_state& state) {
  auto& telemetry = *state.context.telemetry;
  state.counter = {
    telemetry.counter("gossip.announces_sent"), telemetry.counter("gossip.requests_sent"),
    telemetry.counter("gossip.blocks_sent"), telemetry.counter("gossip.duplicate_blocks"),
    telemetry.counter("gossip.request_timeouts")};
  state.block_received_event = telemetry.event_kind("gossip.block_received");
}

} // namespace

gossip_actor::behavior_type gossip(self_pointer self, world::node_context context,
                                   gossip_config config) {
  self->state.context = context;
  self->state.config = config;
  register_metrics(self->state);
  return {
    [self](const world::inbound& message) {
      std::visit(
        [&](const auto& body) {
          using body_type = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<body_type, wire::block_announce>)
            on_announce(self, message.from, body);
          else if constexpr (std::is_same_v<body_type, wire::block_request>)
            on_request(self, message.from, body);
          else if constexpr (std::is_same_v<body_type, wire::block_transfer>)
            on_transfer(self, message.from, body);
        },
        message.body);
    },
    [self](produce_block_atom, std::uint64_t height) {
      auto id = block_id_of(self->state.context.id, height);
      if (self->state.known.count(id) == 0)
        accept_block(self, id, height, nullptr);
    },
    [self](set_peers_atom, std::vector<core::node_id> peers) {
      if (peers.size() > gossip_config::peers_max)
        peers.resize(gossip_config::peers_max);
      self->state.peers = std::move(peers);
    },
    [self](request_timeout_atom, const core::hash256& id) { on_request_timeout(self, id); },
  };
}

} // namespace stakecast::peer
