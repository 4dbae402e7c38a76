// Test support for the consensus engine, shared by its test files and not linked into
// the library: deterministic keys, a memoizing verifier (real Ed25519, each distinct
// triple checked once, as the simulator's), signed votes and proposals, and action
// filters.
#pragma once

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "actors/core/ed25519.hpp"
#include "actors/core/verifier.hpp"
#include "actors/validator/consensus.hpp"

namespace stakecast::validator::testing {

/// A verifier that remembers every answer; counts real checks.
class memo_verifier final : public core::verifier {
public:
  bool verify(const core::node_id& public_key, core::byte_span message,
              const core::signature& message_signature) const override {
    std::string key(public_key.bytes.begin(), public_key.bytes.end());
    key.append(message_signature.bytes.begin(), message_signature.bytes.end());
    key.append(message.begin(), message.end());
    const auto found = answers_.find(key);
    if (found != answers_.end())
      return found->second;
    ++checks_;
    const bool answer = core::verify(public_key, message, message_signature);
    answers_.emplace(std::move(key), answer);
    return answer;
  }

  std::size_t checks() const noexcept { return checks_; }

private:
  mutable std::unordered_map<std::string, bool> answers_;
  mutable std::size_t checks_ = 0;
};

/// `count` key pairs from seeds derived from `salt`, sorted by public key so that
/// position i is index i of a validator set of them.
inline std::vector<core::key_pair> sorted_keys(std::size_t count, std::uint8_t salt = 0) {
  std::vector<core::key_pair> keys;
  for (std::size_t i = 0; i < count; ++i) {
    core::hash256 seed;
    seed.bytes[0] = static_cast<std::uint8_t>(i + 1);
    seed.bytes[1] = salt;
    seed.bytes[2] = 0xc5;
    keys.push_back(std::move(*core::key_pair::from_seed(seed)));
  }
  std::sort(keys.begin(), keys.end(), [](const core::key_pair& a, const core::key_pair& b) {
    return a.public_key() < b.public_key();
  });
  return keys;
}

inline validator_set set_of(const std::vector<core::key_pair>& keys,
                            const std::vector<std::uint64_t>& powers = {}) {
  std::vector<validator_info> members;
  for (std::size_t i = 0; i < keys.size(); ++i)
    members.push_back({keys[i].public_key(), powers.empty() ? 1 : powers[i]});
  return std::move(*validator_set::make(std::move(members)));
}

inline core::hash256 block_named(std::uint64_t n) {
  core::hash256 block;
  for (std::size_t i = 0; i < 8; ++i)
    block.bytes[i] = static_cast<std::uint8_t>(n >> (8 * i));
  block.bytes[31] = 0xb1; // never nil
  return block;
}

inline rules::vote signed_vote(const core::key_pair& key, const core::hash256& chain,
                               std::uint64_t height, std::uint32_t round, rules::vote_kind kind,
                               const core::hash256& block) {
  rules::vote v;
  v.chain = chain;
  v.height = height;
  v.round = round;
  v.kind = static_cast<std::uint8_t>(kind);
  v.block = block;
  rules::sign(v, key);
  return v;
}

inline proposal signed_proposal(const core::key_pair& key, const core::hash256& chain,
                                std::uint64_t height, std::uint32_t round,
                                const core::hash256& block,
                                std::int64_t pol_round = proposal::no_pol_round) {
  proposal p;
  p.chain = chain;
  p.height = height;
  p.round = round;
  p.block = block;
  p.pol_round = pol_round;
  sign(p, key);
  return p;
}

/// The actions of type T, in order.
template <class T> std::vector<T> only(const std::vector<action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a))
      out.push_back(*x);
  return out;
}

} // namespace stakecast::validator::testing
