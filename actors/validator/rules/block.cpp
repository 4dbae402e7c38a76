#include "actors/validator/rules/block.hpp"

#include <string_view>

#include "actors/core/merkle.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"

namespace stakecast::rules {

namespace {

constexpr std::string_view block_domain_tag = "stakecast/block/v1";

} // namespace

core::hash256 block_hash(const block& b) {
  core::sha256_hasher hasher;
  hasher.update(core::as_bytes(block_domain_tag));
  hasher.update(core::encode_record(b.header));
  return hasher.finish();
}

core::hash256 tx_root(std::span<const transaction> txs) {
  if (txs.empty())
    return {};
  std::vector<core::hash256> leaves;
  leaves.reserve(txs.size());
  for (const auto& tx : txs)
    leaves.push_back(tx_hash(tx));
  return core::merkle_tree::build(std::move(leaves)).root();
}

core::hash256 last_commit_hash(std::span<const vote> votes) {
  if (votes.empty())
    return {};
  core::sha256_hasher hasher;
  for (const auto& v : votes)
    hasher.update(core::encode_record(v));
  return hasher.finish();
}

void seal(block& b) {
  b.header.tx_root = tx_root(b.txs);
  b.header.last_commit_hash = last_commit_hash(b.last_commit);
}

} // namespace stakecast::rules
