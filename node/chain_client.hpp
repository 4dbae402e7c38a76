// The node's client of the chain: how the gateway's JSON API (and anything else on
// the node that is not a validator) reads chain state and submits transactions.
//
// It speaks the protocol any node speaks to a validator (docs/chain.md, "Paid
// service"): a `chain_query` for an account, answered by a `chain_answer` from the
// validator's committed state, and `chain_tx` to submit a transaction (the validator
// gossips it to the others). On a validator node the validator asked is the node
// itself: the node's transport delivers a message to itself locally.
//
// Queries time out after `query_timeout` (the promise then carries an error naming the
// validator) and the next query goes to the next validator in turn, so one that is
// down costs one timeout, not every query. At most `pending_max` queries wait at once;
// beyond, a query fails at once. Trust: the answer is believed (docs/chain.md says how
// a light client will check it against a committed header), but never one older than
// an answer already taken (validator::answer_floor): a validator still catching up is
// skipped, and the query asked again of the next one, at most once per validator; when
// every one is behind the query fails naming the height it waits for.
//
// Not thread-safe (an actor); callers from other threads use CAF requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/messages.hpp"
#include "actors/validator/query.hpp"
#include "actors/world/world.hpp"

namespace stakecast::node {

using account_query_atom = caf::atom_constant<caf::atom("acctquery")>;
using submit_tx_atom = caf::atom_constant<caf::atom("submittx")>;
using query_timeout_atom = caf::atom_constant<caf::atom("querytime")>;

/// The inbound messages the client handles.
constexpr world::message_set chain_client_messages = world::messages_of<wire::chain_answer>();

struct chain_client_config {
  static constexpr std::size_t pending_max = 256;
  /// The validators to ask, in turn. REQUIRES: not empty.
  std::vector<core::node_id> validators;
  std::chrono::milliseconds query_timeout{3000};
};

using chain_client_actor =
    caf::typed_actor<caf::reacts_to<world::inbound>,
                     /// The committed state of an account (balance, nonce, height, jailed) and the
                     /// placements of at most wire::chain_query_contents_max contents.
                     caf::replies_to<account_query_atom, core::node_id,
                                     std::vector<core::content_id>>::with<wire::chain_answer>,
                     /// Sends an encoded, signed transaction (rules::transaction) to a validator.
                     caf::replies_to<submit_tx_atom, core::byte_buffer>::with<caf::ok_atom>,
                     caf::reacts_to<query_timeout_atom, std::uint64_t>>;

struct chain_client_state {
  struct pending_query {
    caf::typed_response_promise<wire::chain_answer> promise;
    wire::chain_query query;
    std::size_t asked = 1; // validators asked so far
  };

  world::node_context context;
  chain_client_config config;
  /// Other actors of the node ask validators too (a masternode's service agent, from
  /// 1 up) and every chain_answer reaches each of them: the client's ids start apart.
  std::uint64_t next_query_id = std::uint64_t{1} << 62;
  std::size_t next_validator = 0;
  std::map<std::uint64_t, pending_query> pending;
  validator::answer_floor floor;
  world::metrics::counter_id stale_answers = 0;
  static inline const char* name = "chain_client";
};

chain_client_actor::behavior_type
chain_client(chain_client_actor::stateful_pointer<chain_client_state> self,
             world::node_context context, chain_client_config config);

} // namespace stakecast::node
