// Genesis: the chain's first state as a JSON document, shared by the simulator and
// the real node.
//
//   {
//     "chain_name": "stakecast-devnet",          1 ..= 64 bytes
//     "genesis_time_ms": 1700000000000,           ms since the Unix epoch, UTC
//     "parameters": { "epoch_blocks": 720, ... }, any subset; the rest take the
//                                                 defaults of rules/parameters.hpp
//     "accounts":    [ { "id": "<64 hex>", "balance": 1000000 } ],
//     "validators":  [ { "id": ..., "self_bond": ..., "commission_ppm": ... } ],
//     "masternodes": [ { "id": ..., "stake": ..., "endpoint": "host:port",
//                        "capacity_bytes": ..., "commission_ppm": 0 (optional) } ],
//     "delegations": [ { "delegator": ..., "target": ..., "amount": ... } ],
//     "contents":    [ { "publisher": ..., "content": "<64 hex>", "root": "<64 hex>",
//                        "block_count": ..., "size_bytes": ..., "replicas": ... } ]
//   }
//
// Amounts are integer micro-units. Bonds at genesis are not taken from the accounts'
// balances: the genesis supply is every balance plus every bond and delegation.
// Contents are published at genesis: each passes the checks a publish_content
// transaction passes (rules/ledger.hpp, check_new_content), its publisher need not
// be an account and pays no fee, and it is placed on the first active masternodes as
// a publish places it and audited from the first epoch boundary on.
// Unknown keys are errors (a misspelt parameter must not silently take its default).
//
// The chain id is SHA-256 over a domain tag and the canonical encoding of the parsed
// genesis (core/record_codec.hpp), so formatting and key order of the JSON do not
// matter, and to_json followed by parse_genesis gives the same id.
//
// Pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/messages.hpp"
#include "actors/validator/rules/parameters.hpp"
#include "actors/validator/rules/state.hpp"

namespace stakecast::rules {

inline constexpr std::size_t chain_name_bytes_max = 64;
inline constexpr std::size_t genesis_accounts_count_max = 1'000'000;
inline constexpr std::size_t genesis_validators_count_max = 1'000;
inline constexpr std::size_t genesis_masternodes_count_max = 10'000;
inline constexpr std::size_t genesis_delegations_count_max = 1'000'000;
inline constexpr std::size_t genesis_contents_count_max = 100'000;

static_assert(chain_name_bytes_max <= limits::text_bytes_max);

enum class genesis_errc : std::uint8_t {
  bad_json = 1,
  bad_field,
  invalid,
};

caf::error make_error(genesis_errc code, std::string_view detail);
bool is(const caf::error& error, genesis_errc code) noexcept;

struct genesis_account {
  core::node_id id;
  amount balance = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, genesis_account& x) {
    return f(caf::meta::type_name("genesis_account"), x.id, x.balance);
  }
};

struct genesis_validator {
  core::node_id id;
  amount self_bond = 0;
  ppm commission = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, genesis_validator& x) {
    return f(caf::meta::type_name("genesis_validator"), x.id, x.self_bond, x.commission);
  }
};

struct genesis_masternode {
  core::node_id id;
  amount stake = 0;
  ppm commission = 0;
  std::string endpoint;
  std::uint64_t capacity_bytes = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, genesis_masternode& x) {
    return f(caf::meta::type_name("genesis_masternode"), x.id, x.stake, x.commission,
             x.endpoint, x.capacity_bytes);
  }
};

struct genesis_delegation {
  core::node_id delegator;
  core::node_id target;
  amount value = 0;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, genesis_delegation& x) {
    return f(caf::meta::type_name("genesis_delegation"), x.delegator, x.target, x.value);
  }
};

struct genesis_content {
  core::node_id publisher;
  core::content_id content;
  /// The Merkle root over the content's 16 KiB blocks (core/merkle.hpp).
  core::hash256 root;
  std::uint32_t block_count = 0;
  std::uint64_t size_bytes = 0;
  std::uint32_t replicas = 0;

  bool operator==(const genesis_content&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, genesis_content& x) {
    return f(caf::meta::type_name("genesis_content"), x.publisher, x.content, x.root, x.block_count,
             x.size_bytes, x.replicas);
  }
};

struct genesis {
  std::string chain_name;
  std::uint64_t genesis_time_ms = 0;
  parameters params;
  std::vector<genesis_account> accounts;
  std::vector<genesis_validator> validators;
  std::vector<genesis_masternode> masternodes;
  std::vector<genesis_delegation> delegations;
  std::vector<genesis_content> contents;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, genesis& x) {
    return f(caf::meta::type_name("genesis"), x.chain_name, x.genesis_time_ms, x.params,
             wire::count_max<genesis_accounts_count_max>, x.accounts,
             wire::count_max<genesis_validators_count_max>, x.validators,
             wire::count_max<genesis_masternodes_count_max>, x.masternodes,
             wire::count_max<genesis_delegations_count_max>, x.delegations,
             wire::count_max<genesis_contents_count_max>, x.contents);
  }
};

/// The genesis in `text`. Errors name the JSON path: genesis_errc::bad_json
/// ("$: ..." with the parser's position), bad_field ("$.validators[2].self_bond:
/// expected an unsigned integer"), invalid ("$.delegations[0].target: not a validator
/// or masternode"; a content the publish rule refuses names the field and the
/// rule's reason: "$.contents[1].replicas: bad_replicas: 0, allowed 1 ..= 3"), and
/// parameter_errc::bad_parameter.
caf::expected<genesis> parse_genesis(std::string_view text);

/// None when `g` is usable (what parse_genesis checks beyond syntax).
caf::error validate(const genesis& g);

/// `g` as a JSON document that parse_genesis reads back to an equal genesis.
std::string to_json(const genesis& g);

/// SHA-256 of a domain tag and the canonical encoding of `g`.
core::hash256 chain_id(const genesis& g);

/// The state before block 1: balances, bonds, the first active sets, the genesis
/// contents and their placement, settled (state.hpp) so that the first epoch
/// boundary audits it.
/// Errors: as validate.
caf::expected<state> initial_state(const genesis& g);

} // namespace stakecast::rules
