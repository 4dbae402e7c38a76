// A validator's mempool: the transactions waiting for a block, bounded in count and in
// bytes, ordered for block building by fee (highest first) then nonce (lowest first),
// so that a sender's transactions of equal fee leave in nonce order.
//
// Admission (`add`) applies the transaction to the *check state*: the committed state
// with every pooled transaction applied on top (Cosmos's CheckTx state), so a sender's
// nonce n + 1 is accepted while nonce n still waits. A transaction that fails there is
// rejected. When the pool is full, a transaction paying more than the cheapest pooled
// one evicts it; otherwise it is rejected. After each commit `recheck` rebuilds the
// check state from the new committed state and re-applies the pooled transactions in
// (sender, nonce) order, dropping those that no longer pass (included in the block,
// or made invalid by it). Every rejection, eviction and drop is counted by reason.
//
// Not thread-safe: it belongs to one validator actor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/core/verifier.hpp"
#include "actors/validator/rules/state.hpp"
#include "actors/validator/rules/transaction.hpp"

namespace stakecast::validator {

enum class mempool_outcome : std::uint8_t {
  added,
  duplicate, // the same transaction, or another one with its sender and nonce
  invalid,   // fails against the check state (bad nonce, funds, signature...)
  full,      // no room, and it pays no more than the cheapest pooled one
  too_large, // above mempool_config::tx_bytes_max
  count_,
};

constexpr std::size_t mempool_outcome_count = static_cast<std::size_t>(mempool_outcome::count_);

std::string_view to_string(mempool_outcome outcome) noexcept;

struct mempool_config {
  /// Hard bounds of any configuration.
  static constexpr std::size_t txs_count_max_limit = 100'000;
  static constexpr std::size_t bytes_max_limit = 256 * 1024 * 1024;
  /// One encoded transaction (wire::chain_tx_bytes_max).
  static constexpr std::size_t tx_bytes_max = 64 * 1024 + 512;

  /// 10,000 transactions, 16 MiB: ten full blocks of the default block_txs_max.
  std::size_t txs_count_max = 10'000;
  std::size_t bytes_max = 16 * 1024 * 1024;

  constexpr bool is_valid() const noexcept {
    return txs_count_max >= 1 && txs_count_max <= txs_count_max_limit &&
           bytes_max >= tx_bytes_max && bytes_max <= bytes_max_limit;
  }
};

static_assert(mempool_config{}.is_valid());

class mempool {
public:
  struct entry {
    rules::transaction tx;
    core::hash256 hash;
    std::size_t bytes = 0;
  };

  /// An empty pool over `committed`. `fee_recipient` stands in for the proposer when
  /// transactions are applied to the check state. REQUIRES: config.is_valid().
  mempool(mempool_config config, const rules::state& committed, core::node_id fee_recipient,
          const core::verifier& signatures);

  /// Admits `tx` (whose encoding is `bytes` long) or says why not.
  mempool_outcome add(const rules::transaction& tx, std::size_t bytes);
  /// Rebuilds the check state from `committed` and drops what no longer passes.
  /// Returns the number dropped.
  std::size_t recheck(const rules::state& committed);

  /// Calls f(entry) in block-building order (fee descending, nonce ascending) until f
  /// returns false.
  template <class F> void for_each_in_order(F&& f) const {
    for (const auto& key : by_fee_)
      if (!f(by_hash_.at(key.hash)))
        return;
  }

  bool contains(const core::hash256& hash) const { return by_hash_.contains(hash); }
  std::size_t size() const noexcept { return by_hash_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }
  /// The next nonce of `sender` once its pooled transactions are in.
  std::uint64_t next_nonce(const core::node_id& sender) const {
    return rules::nonce(check_, sender);
  }
  /// Evicted to make room for better-paying transactions, in total.
  std::uint64_t evicted() const noexcept { return evicted_; }

private:
  struct fee_key {
    rules::amount fee = 0;
    std::uint64_t nonce = 0;
    core::hash256 hash;
    bool operator<(const fee_key& other) const noexcept {
      if (fee != other.fee)
        return fee > other.fee;
      if (nonce != other.nonce)
        return nonce < other.nonce;
      return hash < other.hash;
    }
  };

  void insert(const rules::transaction& tx, const core::hash256& hash, std::size_t bytes);
  void erase(const core::hash256& hash);
  bool make_room(const rules::transaction& tx, std::size_t bytes);

  mempool_config config_;
  rules::state check_;
  core::node_id fee_recipient_;
  const core::verifier* signatures_;
  std::unordered_map<core::hash256, entry, core::hash256_hasher> by_hash_; // at most txs_count_max
  std::set<fee_key> by_fee_;
  std::map<std::pair<core::node_id, std::uint64_t>, core::hash256> by_sender_;
  std::size_t bytes_ = 0; // at most bytes_max
  std::uint64_t evicted_ = 0;
};

} // namespace stakecast::validator
