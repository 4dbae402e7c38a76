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

} // namespace

chain_client_actor::behavior_type chain_client(client_pointer self, world::node_context context,
                                               chain_client_config config) {
  assert(!config.validators.empty());
  assert(context.network != nullptr);
  self->state.context = context;
  self->state.config = std::move(config);
  return {
      [self](const world::inbound& message) {
        const auto* answer = std::get_if<wire::chain_answer>(&message.body);
        if (answer == nullptr)
          return;
        const auto found = self->state.pending.find(answer->query_id);
        if (found == self->state.pending.end())
          return; // late (timed out) or never asked
        found->second.deliver(*answer);
        self->state.pending.erase(found);
      },
      [self](account_query_atom, const core::node_id& account,
             const std::vector<core::content_id>& contents) {
        auto& state = self->state;
        auto promise = self->make_response_promise<wire::chain_answer>();
        if (state.pending.size() >= chain_client_config::pending_max) {
          promise.deliver(caf::make_error(caf::sec::request_receiver_down,
                                          "too many chain queries waiting"));
          return promise;
        }
        const auto id = state.next_query_id++;
        const auto& validator = next_validator(state);
        state.pending.emplace(id, promise);
        auto asked = contents; // beyond the limit the codec would refuse the message
        if (asked.size() > wire::chain_query_contents_max)
          asked.resize(wire::chain_query_contents_max);
        state.context.network->send(validator, wire::chain_query{id, account, {}, std::move(asked)});
        self->delayed_send(self, state.config.query_timeout, query_timeout_atom::value, id);
        return promise;
      },
      [self](submit_tx_atom, const core::byte_buffer& encoded) {
        self->state.context.network->send(next_validator(self->state),
                                          wire::chain_tx{encoded});
        return caf::ok_atom::value;
      },
      [self](query_timeout_atom, std::uint64_t id) {
        const auto found = self->state.pending.find(id);
        if (found == self->state.pending.end())
          return;
        found->second.deliver(caf::make_error(
            caf::sec::request_timeout,
            fmt::format("no answer from a validator within {} ms",
                        self->state.config.query_timeout.count())));
        self->state.pending.erase(found);
      },
  };
}

} // namespace stakecast::node
