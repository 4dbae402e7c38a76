#include "actors/validator/rules/state.hpp"

#include <algorithm>
#include <type_traits>

#include "actors/core/merkle.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"

namespace stakecast::rules {

// State root layout, exactly:
//  - Each entry of a committed table has a path = SHA-256(tag || key) and a
//    leaf = SHA-256(tag || key || value), where tag is the table's byte below, key and
//    value are canonical encodings (integers as 8 little-endian bytes).
//  - An entry sits in bucket (path[0] << 8 | path[1]) mod 1024. A bucket's hash is
//    SHA-256 over path || leaf of its entries in path order, or 32 zero bytes when
//    it is empty.
//  - A binary tree over the 1024 bucket hashes with core::inner_hash gives the tables'
//    root; the state root is inner_hash(tables' root, SHA-256(encoding of globals)).
// A block that changes n entries rehashes those n leaves, their buckets (about
// (entries / 1024) leaves each) and at most 10 inner nodes per bucket.

namespace {

enum class table_tag : std::uint8_t {
  accounts = 0x10,
  validators,
  masternodes,
  delegations,
  unbondings,
  contents,
  deposits,
  claims,
  challenges,
  epoch_service,
  epoch_signing,
  active_validators,
  last_validators,
  active_masternodes,
};

constexpr std::size_t bucket_count = state_root_buckets;
static_assert(std::has_single_bit(bucket_count) && bucket_count <= 65536);

// Calls f(tag, table) for every table in the root, in tag order.
template <class State, class F>
void for_each_committed(State& s, F&& f) {
  f(table_tag::accounts, s.accounts);
  f(table_tag::validators, s.validators);
  f(table_tag::masternodes, s.masternodes);
  f(table_tag::delegations, s.delegations);
  f(table_tag::unbondings, s.unbondings);
  f(table_tag::contents, s.contents);
  f(table_tag::deposits, s.deposits);
  f(table_tag::claims, s.claims);
  f(table_tag::challenges, s.challenges);
  f(table_tag::epoch_service, s.epoch_service);
  f(table_tag::epoch_signing, s.epoch_signing);
  f(table_tag::active_validators, s.active_validators);
  f(table_tag::last_validators, s.last_validators);
  f(table_tag::active_masternodes, s.active_masternodes);
}

template <class Key>
core::byte_buffer tagged_key(table_tag tag, const Key& key) {
  core::byte_buffer out{static_cast<std::uint8_t>(tag)};
  if constexpr (std::is_integral_v<Key>) {
    for (std::size_t i = 0; i < sizeof(Key); ++i)
      out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(key) >> (8 * i)));
  } else {
    auto bytes = core::encode_record(key);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

std::size_t bucket_of(const core::hash256& path) {
  return ((std::size_t{path.bytes[0]} << 8) | path.bytes[1]) & (bucket_count - 1);
}

template <class Value>
core::hash256 leaf_of(const core::byte_buffer& key_bytes, const Value& value) {
  core::sha256_hasher hasher;
  hasher.update(key_bytes);
  hasher.update(core::encode_record(value));
  return hasher.finish();
}

core::hash256 bucket_hash(const std::map<core::hash256, core::hash256>& bucket) {
  if (bucket.empty())
    return {};
  core::sha256_hasher hasher;
  for (const auto& [path, leaf] : bucket) {
    hasher.update(path.bytes);
    hasher.update(leaf.bytes);
  }
  return hasher.finish();
}

void rebuild_tree(state_commitment& c) {
  c.nodes.assign(2 * bucket_count, core::hash256{});
  for (std::size_t b = 0; b < bucket_count; ++b)
    c.nodes[bucket_count + b] = bucket_hash(c.buckets[b]);
  for (std::size_t i = bucket_count - 1; i >= 1; --i)
    c.nodes[i] = core::inner_hash(c.nodes[2 * i], c.nodes[2 * i + 1]);
}

// Rehashes the dirty buckets and the inner nodes above them.
void refresh_tree(state_commitment& c, std::vector<std::size_t> dirty_buckets) {
  std::sort(dirty_buckets.begin(), dirty_buckets.end());
  dirty_buckets.erase(std::unique(dirty_buckets.begin(), dirty_buckets.end()),
                      dirty_buckets.end());
  std::vector<std::size_t> level;
  level.reserve(dirty_buckets.size());
  for (auto b : dirty_buckets) {
    c.nodes[bucket_count + b] = bucket_hash(c.buckets[b]);
    level.push_back((bucket_count + b) / 2);
  }
  while (!level.empty() && level.front() >= 1) {
    level.erase(std::unique(level.begin(), level.end()), level.end());
    for (auto i : level)
      c.nodes[i] = core::inner_hash(c.nodes[2 * i], c.nodes[2 * i + 1]);
    if (level.front() == 1)
      break;
    for (auto& i : level)
      i /= 2;
  }
}

core::hash256 combine(const state_commitment& c, const chain_globals& globals) {
  return core::inner_hash(c.nodes[1], core::sha256(core::encode_record(globals)));
}

} // namespace

core::hash256 state_root(state& s) {
  auto& c = s.commitment;
  bool first = c.nodes.empty();
  std::vector<std::size_t> dirty_buckets;
  for_each_committed(s, [&](table_tag tag, auto& t) {
    for (const auto& key : t.take_dirty()) {
      auto key_bytes = tagged_key(tag, key);
      auto path = core::sha256(key_bytes);
      auto bucket = bucket_of(path);
      if (const auto* value = t.find(key))
        c.buckets[bucket][path] = leaf_of(key_bytes, *value);
      else
        c.buckets[bucket].erase(path);
      dirty_buckets.push_back(bucket);
    }
  });
  s.assignments.take_dirty(); // derived, not committed
  s.settled_assignments.take_dirty();
  if (first)
    rebuild_tree(c);
  else
    refresh_tree(c, std::move(dirty_buckets));
  c.root = combine(c, s.globals);
  return c.root;
}

core::hash256 state_root_from_scratch(const state& s) {
  state_commitment c;
  for_each_committed(s, [&](table_tag tag, const auto& t) {
    for (const auto& [key, value] : t.entries()) {
      auto key_bytes = tagged_key(tag, key);
      auto path = core::sha256(key_bytes);
      c.buckets[bucket_of(path)][path] = leaf_of(key_bytes, value);
    }
  });
  rebuild_tree(c);
  return combine(c, s.globals);
}

amount total_supply(const state& s) {
  const auto& g = s.globals;
  return g.genesis_supply + g.minted - g.burned - g.slashed;
}

amount bonded_total(const state& s) {
  amount total = 0;
  for (const auto& [id, v] : s.validators.entries())
    total += v.bonded();
  for (const auto& [id, m] : s.masternodes.entries())
    total += m.bonded();
  return total;
}

namespace {

// Sums in 128 bits so that a corrupted state cannot wrap around to a valid total.
bool delegations_consistent(const state& s) {
  std::map<core::node_id, uint128> sums;
  for (const auto& [key, d] : s.delegations.entries())
    sums[key.target] += d.value;
  for (const auto& [id, v] : s.validators.entries())
    if (sums[id] != v.delegated)
      return false;
  for (const auto& [id, m] : s.masternodes.entries())
    if (sums[id] != m.delegated)
      return false;
  return true;
}

} // namespace

bool supply_invariant_ok(const state& s) {
  const auto& g = s.globals;
  uint128 expected = uint128{g.genesis_supply} + g.minted;
  if (expected < uint128{g.burned} + g.slashed)
    return false;
  expected -= uint128{g.burned} + g.slashed;
  uint128 held = 0;
  for (const auto& [id, a] : s.accounts.entries())
    held += a.balance;
  for (const auto& [id, v] : s.validators.entries())
    held += uint128{v.self_bond} + v.delegated;
  for (const auto& [id, m] : s.masternodes.entries())
    held += uint128{m.stake} + m.delegated;
  for (const auto& [key, u] : s.unbondings.entries())
    held += u.value;
  for (const auto& [id, d] : s.deposits.entries())
    held += d.remaining;
  return held == expected && delegations_consistent(s);
}

std::vector<validator_power> active_validators(const state& s) {
  std::vector<validator_power> out;
  out.reserve(s.active_validators.size());
  for (const auto& [id, p] : s.active_validators.entries())
    out.push_back({id, p.power});
  return out;
}

std::vector<core::placement_candidate> active_masternodes(const state& s) {
  std::vector<core::placement_candidate> out;
  out.reserve(s.active_masternodes.size());
  for (const auto& [id, p] : s.active_masternodes.entries())
    out.push_back({id, p.power});
  return out;
}

std::vector<core::node_id> assigned_masternodes(const state& s,
                                                const core::content_id& content) {
  if (const auto* cached = s.assignments.find(content))
    return cached->masternodes;
  const auto* record = s.contents.find(content);
  if (record == nullptr)
    return {};
  auto candidates = active_masternodes(s);
  return core::place(content, candidates, record->replicas);
}

const content_record* find_content(const state& s, const core::content_id& content) {
  return s.contents.find(content);
}

std::vector<std::pair<std::uint64_t, challenge_record>>
pending_challenges(const state& s, const core::node_id& masternode) {
  std::vector<std::pair<std::uint64_t, challenge_record>> out;
  for (const auto& [id, c] : s.challenges.entries())
    if (c.masternode == masternode)
      out.emplace_back(id, c);
  return out;
}

amount balance(const state& s, const core::node_id& id) {
  const auto* a = s.accounts.find(id);
  return a == nullptr ? 0 : a->balance;
}

std::uint64_t nonce(const state& s, const core::node_id& id) {
  const auto* a = s.accounts.find(id);
  return a == nullptr ? 0 : a->nonce;
}

chain_summary summary(const state& s) {
  const auto& g = s.globals;
  chain_summary out;
  out.height = g.height;
  out.supply = total_supply(s);
  out.minted = g.minted;
  out.burned = g.burned;
  out.slashed = g.slashed;
  out.inflation = g.inflation;
  out.bonded_ratio = ratio_ppm(bonded_total(s), out.supply);
  out.rewards_validators = g.rewards_validators;
  out.rewards_masternodes = g.rewards_masternodes;
  out.fees_paid = g.fees_paid;
  out.receipts_paid = g.receipts_paid;
  return out;
}

} // namespace stakecast::rules
