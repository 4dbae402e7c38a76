#include "node/chain_client.hpp"

#include <cassert>

#include <caf/sec.hpp>
#include <fmt/format.h>

namespace stakecast::node {

namespace {

using client_pointer = chain_client_actor::stateful_pointer<chain_client_state>;

const core::node_id& next_validator(chain_client_state& state) {
  const auto& validators = state.config.validators;
  return validators[state.next_validator++ % validators.size()];
}

/// An answer older than one already taken: the next validator is asked, unless every
/// one has been (the query's timeout still bounds the wait).
void on_stale_answer(client_pointer self, chain_client_state::pending_query& pending) {
  auto& state = self->state;
  state.context.telemetry->add(state.stale_answers, 1);
  if (pending.asked < state.config.validators.size()) {
    ++pending.asked;
    state.context.network->send(next_validator(state), pending.query);
    return;
  }
  pending.promise.deliver(caf::make_error(
      caf::sec::request_timeout,
      fmt::format("every validator asked answered at a height below {} (the latest seen); "
                  "they are catching up",
                  state.floor.height())));
  state.pending.erase(pending.query.query_id);
}

} // namespace

chain_client_actor::behavior_type chain_client(client_pointer self, world::node_context context,
                                               chain_client_config config) {
  assert(!config.validators.empty());
  assert(context.network != nullptr && context.telemetry != nullptr);
  self->state.context = context;
  self->state.config = std::move(config);
  self->state.stale_answers = context.telemetry->counter("chain_client.stale_answers");
  return {
      [self](const world::inbound& message) {
        const auto* answer = std::get_if<wire::chain_answer>(&message.body);
        if (answer == nullptr)
          return;
        const auto found = self->state.pending.find(answer->query_id);
        if (found == self->state.pending.end())
          return; // late (timed out) or never asked
        if (!self->state.floor.take(answer->height))
          return on_stale_answer(self, found->second);
        found->second.promise.deliver(*answer);
        self->state.pending.erase(found);
      },
      [self](account_query_atom, const core::node_id& account,
             const std::vector<core::content_id>& contents) {
        auto& state = self->state;
        auto promise = self->make_response_promise<wire::chain_answer>();
        if (state.pending.size() >= chain_client_config::pending_max) {
          promise.deliver(
              caf::make_error(caf::sec::request_receiver_down, "too many chain queries waiting"));
          return promise;
        }
        const auto id = state.next_query_id++;
        auto asked = contents; // beyond the limit the codec would refuse the message
        if (asked.size() > wire::chain_query_contents_max)
          asked.resize(wire::chain_query_contents_max);
        wire::chain_query query{id, account, {}, std::move(asked)};
        state.context.network->send(next_validator(state), query);
        state.pending.emplace(id, chain_client_state::pending_query{promise, std::move(query)});
        self->delayed_send(self, state.config.query_timeout, query_timeout_atom::value, id);
        return promise;
      },
      [self](submit_tx_atom, const core::byte_buffer& encoded) {
        self->state.context.network->send(next_validator(self->state), wire::chain_tx{encoded});
        return caf::ok_atom::value;
      },
      [self](query_timeout_atom, std::uint64_t id) {
        const auto found = self->state.pending.find(id);
        if (found == self->state.pending.end())
          return;
        found->second.promise.deliver(caf::make_error(
            caf::sec::request_timeout, fmt::format("no answer from a validator within {} ms",
                                                   self->state.config.query_timeout.count())));
        self->state.pending.erase(found);
      },
  };
}

} // namespace stakecast::node
