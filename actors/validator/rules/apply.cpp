#include "actors/validator/rules/apply.hpp"

#include <set>

#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/validator/rules/errors.hpp"
#include "actors/validator/rules/ledger.hpp"

namespace stakecast::rules {

namespace {

caf::error check_position(const state& s, const block_header& h) {
  const auto& g = s.globals;
  if (h.chain != g.chain)
    return make_error(block_errc::wrong_chain, h.chain.to_hex());
  if (h.height != g.height + 1)
    return make_error(block_errc::wrong_height,
                      fmt::format("expected {}, got {}", g.height + 1, h.height));
  if (h.previous != g.last_block_hash)
    return make_error(block_errc::wrong_previous, h.previous.to_hex());
  if (h.time_ms < g.time_ms)
    return make_error(block_errc::time_went_back,
                      fmt::format("{} ms after {} ms", h.time_ms, g.time_ms));
  if (!s.active_validators.contains(h.proposer))
    return make_error(block_errc::proposer_not_active, h.proposer.to_hex());
  if (h.app_hash != s.commitment.root)
    return make_error(block_errc::bad_app_hash, h.app_hash.to_hex());
  return {};
}

caf::error check_body(const state& s, const block& b) {
  const auto& p = s.params;
  if (b.txs.size() > p.block_txs_max)
    return make_error(block_errc::too_many_txs,
                      fmt::format("{}, maximum {}", b.txs.size(), p.block_txs_max));
  std::uint64_t bytes = 0;
  for (const auto& tx : b.txs)
    bytes += tx.body.size();
  if (bytes > p.block_bytes_max)
    return make_error(block_errc::too_many_bytes,
                      fmt::format("{} body bytes, maximum {}", bytes, p.block_bytes_max));
  if (b.header.tx_root != tx_root(b.txs))
    return make_error(block_errc::bad_tx_root, b.header.tx_root.to_hex());
  if (b.header.last_commit_hash != last_commit_hash(b.last_commit))
    return make_error(block_errc::bad_commit, "last_commit_hash does not match");
  return {};
}

// The ids that signed the previous block's commit. Checks that every vote is a valid
// precommit for the previous block by a distinct member of the previous set, and
// that together they hold more than 2/3 of its power.
caf::expected<std::set<core::node_id>> verify_commit(const state& s, const block& b,
                                                     const core::verifier& signatures) {
  std::set<core::node_id> signers;
  if (b.header.height == 1) {
    if (!b.last_commit.empty())
      return make_error(block_errc::bad_commit, "the first block carries no commit");
    return signers;
  }
  uint128 signed_power = 0;
  for (std::size_t i = 0; i < b.last_commit.size(); ++i) {
    const auto& v = b.last_commit[i];
    const auto* member = s.last_validators.find(v.validator);
    bool valid = v.kind_enum() == vote_kind::precommit && v.chain == s.globals.chain
                 && v.height == s.globals.height && v.block == s.globals.last_block_hash
                 && member != nullptr && !signers.contains(v.validator);
    if (!valid || !verify(v, signatures))
      return make_error(block_errc::bad_commit, fmt::format("vote {} is not a valid precommit "
                                                            "for the previous block", i));
    signers.insert(v.validator);
    signed_power += member->power;
  }
  uint128 total_power = 0;
  for (const auto& [id, p] : s.last_validators.entries())
    total_power += p.power;
  if (signed_power * 3 <= total_power * 2)
    return make_error(block_errc::bad_commit,
                      fmt::format("signers hold {} of {} power, need more than 2/3",
                                  static_cast<amount>(signed_power),
                                  static_cast<amount>(total_power)));
  return signers;
}

// One more block in `v`'s downtime window: missed or signed.
void record_window(validator_record& v, std::uint64_t window, bool missed) {
  if (v.missed_bits.empty())
    v.missed_bits.assign((window + 63) / 64, 0);
  auto index = v.window_seen % window;
  auto& word = v.missed_bits[index / 64];
  auto bit = std::uint64_t{1} << (index % 64);
  bool was_missed = (word & bit) != 0;
  if (was_missed && !missed) {
    word &= ~bit;
    v.missed_count -= 1;
  } else if (!was_missed && missed) {
    word |= bit;
    v.missed_count += 1;
  }
  v.window_seen += 1;
}

// Signers earn toward the epoch reward; non-signers toward downtime.
void account_commit(state& s, const std::set<core::node_id>& signers, std::uint64_t height) {
  if (height == 1)
    return;
  const auto& p = s.params;
  for (const auto& [id, member] : s.last_validators.entries()) {
    auto* v = s.validators.find_mut(id);
    if (v == nullptr || v->jailed || v->tombstoned)
      continue;
    bool missed = !signers.contains(id);
    record_window(*v, p.downtime_window_blocks, missed);
    if (!missed) {
      auto& signing = s.epoch_signing.upsert(id);
      signing.signed_blocks += 1;
      signing.power = member.power;
    }
    if (v->missed_count > p.downtime_missed_max) {
      auto infraction = height - std::min(height, p.downtime_window_blocks);
      detail::slash(s, id, p.downtime_slash, infraction);
      detail::jail(s, id, height + p.jail_blocks);
    }
  }
}

void roll_validator_sets(state& s, const std::vector<validator_power>& deciding) {
  s.last_validators.clear();
  for (const auto& v : deciding)
    s.last_validators.put(v.id, {v.power});
}

caf::error apply_txs(state& s, const block& b, const core::verifier& signatures) {
  for (std::size_t i = 0; i < b.txs.size(); ++i) {
    auto error = detail::apply_tx_unguarded(s, b.txs[i], b.header.proposer, signatures);
    if (error)
      return make_error(block_errc::invalid_tx,
                        fmt::format("tx {}: {}", i, core::describe(error)));
  }
  return {};
}

caf::error apply_unguarded(state& s, const block& b, const core::verifier& signatures) {
  if (auto error = check_position(s, b.header))
    return error;
  if (auto error = check_body(s, b))
    return error;
  auto signers = verify_commit(s, b, signatures);
  if (!signers)
    return std::move(signers.error());
  auto height = b.header.height;
  auto deciding = active_validators(s); // the set deciding this block
  account_commit(s, *signers, height);
  roll_validator_sets(s, deciding);
  detail::release_unbondings(s, height);
  if (auto error = apply_txs(s, b, signatures))
    return error;
  detail::expire_challenges(s, height);
  if (height % s.params.epoch_blocks == 0)
    detail::end_epoch(s, height, b.header.previous);
  s.globals.height = height;
  s.globals.time_ms = b.header.time_ms;
  s.globals.last_block_hash = block_hash(b);
  return {};
}

} // namespace

caf::error apply(state& s, const block& b, const core::verifier& signatures) {
  state_root(s); // the app_hash check needs the root of the state as it is
  auto point = detail::mark(s);
  if (auto error = apply_unguarded(s, b, signatures)) {
    detail::rollback(s, point);
    state_root(s);
    return error;
  }
  detail::forget_journals(s);
  state_root(s);
  detail::require(supply_invariant_ok(s), "supply invariant broken by a block");
  return {};
}

caf::expected<state> apply(const state& s, const block& b, const core::verifier& signatures) {
  state next = s;
  if (auto error = apply(next, b, signatures))
    return error;
  return next;
}

} // namespace stakecast::rules
