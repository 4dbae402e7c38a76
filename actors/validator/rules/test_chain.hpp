// Test support (header only, for *.test.cpp and *.bench.cpp): a small chain with
// known keys that builds and commits blocks the way consensus would, so that tests
// talk about transactions and heights instead of headers and precommits.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "actors/core/ed25519.hpp"
#include "actors/core/error.hpp"
#include "actors/core/verifier.hpp"
#include "actors/validator/genesis.hpp"
#include "actors/validator/rules/apply.hpp"
#include "actors/validator/rules/errors.hpp"

namespace stakecast::rules::testing {

/// The key made from seed (n, salt, 0, ...).
inline core::key_pair key(std::uint8_t n, std::uint8_t salt = 0) {
  core::hash256 seed;
  seed.bytes[0] = n;
  seed.bytes[1] = salt;
  return std::move(*core::key_pair::from_seed(seed));
}

/// Parameters small enough that epochs, jails and unbonding pass in a few blocks.
inline parameters small_parameters() {
  parameters p;
  p.epoch_blocks = 10;
  p.unbonding_blocks = 5;
  p.validator_self_bond_min = 1'000;
  p.masternode_stake_min = 1'000;
  p.audit_window_blocks = 3;
  p.downtime_window_blocks = 8;
  p.downtime_missed_max = 4;
  p.jail_blocks = 5;
  p.tx_fee_min = 10;
  p.price_per_gib = 1'000'000;
  p.fee_burn = 100'000;
  p.epochs_per_year = 10;
  return p;
}

struct chain_shape {
  std::size_t validators = 4;
  std::size_t masternodes = 3;
  std::size_t users = 4;
  amount user_balance = 10'000'000;
  amount validator_bond = 100'000;
  amount masternode_stake = 100'000;
  ppm commission = 0;
};

class test_chain {
public:
  explicit test_chain(parameters p = small_parameters(), chain_shape shape = {}) {
    genesis_.chain_name = "test";
    genesis_.genesis_time_ms = 1'000;
    genesis_.params = p;
    for (std::size_t i = 0; i < shape.validators; ++i) {
      validators_.push_back(key(static_cast<std::uint8_t>(i), 1));
      genesis_.validators.push_back(
        {validators_.back().public_key(), shape.validator_bond, shape.commission});
      genesis_.accounts.push_back({validators_.back().public_key(), shape.user_balance});
    }
    for (std::size_t i = 0; i < shape.masternodes; ++i) {
      masternodes_.push_back(key(static_cast<std::uint8_t>(i), 2));
      genesis_.masternodes.push_back({masternodes_.back().public_key(), shape.masternode_stake,
                                      shape.commission, "127.0.0.1:7000", 1 << 30});
      genesis_.accounts.push_back({masternodes_.back().public_key(), shape.user_balance});
    }
    for (std::size_t i = 0; i < shape.users; ++i) {
      users_.push_back(key(static_cast<std::uint8_t>(i), 3));
      genesis_.accounts.push_back({users_.back().public_key(), shape.user_balance});
    }
    reset();
  }

  /// Rebuilds the state from the (possibly edited) genesis.
  void reset() {
    auto made = initial_state(genesis_);
    if (!made)
      throw std::runtime_error(core::describe(made.error()));
    state_ = std::move(*made);
    commit_.clear();
    nonces_.clear();
  }

  genesis& genesis_record() { return genesis_; }
  state& current() { return state_; }
  const core::hash256& chain() const { return state_.globals.chain; }
  const core::key_pair& validator(std::size_t i) const { return validators_.at(i); }
  const core::key_pair& masternode(std::size_t i) const { return masternodes_.at(i); }
  const core::key_pair& user(std::size_t i) const { return users_.at(i); }
  const core::verifier& verifier() const { return verifier_; }

  /// A transaction by `sender` with the next nonce not yet used in a built block.
  template <class Body>
  transaction tx(const core::key_pair& sender, const Body& body, amount fee = 0) {
    auto id = sender.public_key();
    auto [it, inserted] = nonces_.try_emplace(id, nonce(state_, id));
    if (!inserted)
      it->second = std::max(it->second, nonce(state_, id));
    auto tx = make_transaction(chain(), sender, it->second++, fee == 0 ? state_.params.tx_fee_min : fee,
                               body);
    return tx;
  }

  /// Forgets nonces handed out for transactions that were not committed.
  void forget_nonces() { nonces_.clear(); }

  /// The next block with `txs`, proposed by the first active validator.
  block make_block(std::vector<transaction> txs) {
    block b;
    b.header.chain = chain();
    b.header.height = state_.globals.height + 1;
    b.header.time_ms = state_.globals.time_ms + 5'000;
    b.header.previous = state_.globals.last_block_hash;
    b.header.proposer = active_validators(state_).front().id;
    b.header.app_hash = state_.commitment.root;
    b.last_commit = commit_;
    b.txs = std::move(txs);
    seal(b);
    return b;
  }

  /// Applies a block of `txs`; on success the validators that decided it (but those
  /// in `absent`) precommit it for the next block.
  caf::error commit(std::vector<transaction> txs, const std::set<core::node_id>& absent = {}) {
    auto b = make_block(std::move(txs));
    return commit_block(b, absent);
  }

  caf::error commit_block(const block& b, const std::set<core::node_id>& absent = {}) {
    if (auto error = apply(state_, b, verifier_)) {
      forget_nonces();
      return error;
    }
    commit_.clear();
    auto hash = block_hash(b);
    for (const auto& k : validators_) {
      auto id = k.public_key();
      if (!state_.last_validators.contains(id) || absent.contains(id))
        continue;
      vote v;
      v.chain = chain();
      v.height = b.header.height;
      v.kind = static_cast<std::uint8_t>(vote_kind::precommit);
      v.block = hash;
      sign(v, k);
      commit_.push_back(v);
    }
    return {};
  }

  /// Commits `count` empty blocks; fails the test run (throws) on a rejection.
  void advance(std::uint64_t count, const std::set<core::node_id>& absent = {}) {
    for (std::uint64_t i = 0; i < count; ++i)
      if (auto error = commit({}, absent))
        throw std::runtime_error(core::describe(error));
  }

  /// Commits empty blocks until the last block of the current epoch is applied.
  void finish_epoch() {
    auto epoch = state_.params.epoch_blocks;
    advance(epoch - state_.globals.height % epoch);
  }

private:
  genesis genesis_;
  state state_;
  std::vector<core::key_pair> validators_;
  std::vector<core::key_pair> masternodes_;
  std::vector<core::key_pair> users_;
  std::vector<vote> commit_;
  std::map<core::node_id, std::uint64_t> nonces_;
  core::direct_verifier verifier_;
};

/// The text of `error` (for failure messages and substring checks).
inline std::string text(const caf::error& error) {
  return core::describe(error);
}

} // namespace stakecast::rules::testing
