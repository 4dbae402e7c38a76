#include "actors/validator/mempool.hpp"

#include <cassert>

#include "actors/validator/rules/apply.hpp"

namespace stakecast::validator {

std::string_view to_string(mempool_outcome outcome) noexcept {
  switch (outcome) {
    case mempool_outcome::added:
      return "added";
    case mempool_outcome::duplicate:
      return "duplicate";
    case mempool_outcome::invalid:
      return "invalid";
    case mempool_outcome::full:
      return "full";
    case mempool_outcome::too_large:
      return "too_large";
    case mempool_outcome::count_:
      break;
  }
  return "unknown";
}

mempool::mempool(mempool_config config, const rules::state& committed, core::node_id fee_recipient,
                 const core::verifier& signatures)
    : config_(config), check_(committed), fee_recipient_(fee_recipient), signatures_(&signatures) {
  assert(config_.is_valid());
}

mempool_outcome mempool::add(const rules::transaction& tx, std::size_t bytes) {
  if (bytes > mempool_config::tx_bytes_max)
    return mempool_outcome::too_large;
  const auto hash = rules::tx_hash(tx);
  if (by_hash_.contains(hash) || by_sender_.contains({tx.sender, tx.nonce}))
    return mempool_outcome::duplicate;
  if (!make_room(tx, bytes))
    return mempool_outcome::full;
  // An evicted transaction stays applied to the check state until the next recheck,
  // which then also drops its sender's later transactions.
  if (rules::apply_tx(check_, tx, fee_recipient_, *signatures_))
    return mempool_outcome::invalid;
  insert(tx, hash, bytes);
  return mempool_outcome::added;
}

bool mempool::make_room(const rules::transaction& tx, std::size_t bytes) {
  while (by_hash_.size() + 1 > config_.txs_count_max || bytes_ + bytes > config_.bytes_max) {
    if (by_fee_.empty())
      return false;
    const auto cheapest = std::prev(by_fee_.end());
    if (cheapest->fee >= tx.fee)
      return false;
    erase(cheapest->hash);
    ++evicted_;
  }
  return true;
}

std::size_t mempool::recheck(const rules::state& committed) {
  check_ = committed;
  std::vector<core::hash256> failed;
  for (const auto& [key, hash] : by_sender_)
    if (rules::apply_tx(check_, by_hash_.at(hash).tx, fee_recipient_, *signatures_))
      failed.push_back(hash);
  for (const auto& hash : failed)
    erase(hash);
  return failed.size();
}

void mempool::insert(const rules::transaction& tx, const core::hash256& hash, std::size_t bytes) {
  by_hash_.emplace(hash, entry{tx, hash, bytes});
  by_fee_.insert(fee_key{tx.fee, tx.nonce, hash});
  by_sender_.emplace(std::pair{tx.sender, tx.nonce}, hash);
  bytes_ += bytes;
}

void mempool::erase(const core::hash256& hash) {
  const auto found = by_hash_.find(hash);
  assert(found != by_hash_.end());
  const auto& tx = found->second.tx;
  by_fee_.erase(fee_key{tx.fee, tx.nonce, hash});
  by_sender_.erase({tx.sender, tx.nonce});
  bytes_ -= found->second.bytes;
  by_hash_.erase(found);
}

} // namespace stakecast::validator
