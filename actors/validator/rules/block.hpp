// Blocks: a header that commits to everything by hashes, the precommits that
// committed the previous block, and the transactions.
//
// `block_hash` is SHA-256 over a domain tag and the header's encoding; the header
// holds `tx_root` (a Merkle root over the transactions' hashes, core/merkle.hpp) and
// `last_commit_hash`, so the hash names the whole block. `app_hash` is the state root
// after the previous block, as in Tendermint: a block also certifies the state it
// was built on.
//
// Pure values and functions, safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/messages.hpp"
#include "actors/validator/rules/parameters.hpp"
#include "actors/validator/rules/transaction.hpp"
#include "actors/validator/rules/vote.hpp"

namespace stakecast::rules {

struct block_header {
  core::hash256 chain;
  std::uint64_t height = 0;
  /// Agreed wall time, ms since the Unix epoch (UTC); never below the previous block's.
  std::uint64_t time_ms = 0;
  core::hash256 previous;
  core::node_id proposer;
  core::hash256 tx_root;
  core::hash256 last_commit_hash;
  core::hash256 app_hash;

  bool operator==(const block_header&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, block_header& x) {
    return f(caf::meta::type_name("block_header"), x.chain, x.height, x.time_ms, x.previous,
             x.proposer, x.tx_root, x.last_commit_hash, x.app_hash);
  }
};

struct block {
  block_header header;
  /// Precommits for `header.previous` by validators of the previous block holding
  /// more than 2/3 of its power; empty at height 1. The consensus layer fills it.
  std::vector<vote> last_commit;
  std::vector<transaction> txs;

  bool operator==(const block&) const = default;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, block& x) {
    return f(caf::meta::type_name("block"), x.header,
             wire::count_max<chain_limits::last_commit_votes_max>, x.last_commit,
             wire::count_max<chain_limits::block_txs_count_max>, x.txs);
  }
};

core::hash256 block_hash(const block& b);
/// The Merkle root over tx_hash of each transaction; zero for no transactions.
core::hash256 tx_root(std::span<const transaction> txs);
/// SHA-256 over the votes' encodings; zero for no votes.
core::hash256 last_commit_hash(std::span<const vote> votes);
/// Fills in header.tx_root and header.last_commit_hash from the body.
void seal(block& b);

} // namespace stakecast::rules
