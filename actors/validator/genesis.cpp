#include "actors/validator/genesis.hpp"

#include <set>

#include <caf/atom.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/core/error.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"
#include "actors/validator/rules/errors.hpp"
#include "actors/validator/rules/ledger.hpp"

namespace stakecast::rules {

namespace {

using json = nlohmann::json;

const auto genesis_category = caf::atom("genesis");
constexpr std::string_view genesis_domain_tag = "stakecast/genesis/v1";

std::string_view to_string(genesis_errc code) noexcept {
  switch (code) {
    case genesis_errc::bad_json:
      return "bad_json";
    case genesis_errc::bad_field:
      return "bad_field";
    case genesis_errc::invalid:
      return "invalid";
  }
  return "unknown";
}

caf::error field_error(const std::string& path, std::string_view what) {
  return make_error(genesis_errc::bad_field, fmt::format("{}: {}", path, what));
}

caf::error invalid(const std::string& path, std::string_view what) {
  return make_error(genesis_errc::invalid, fmt::format("{}: {}", path, what));
}

// Reads typed fields of one JSON object and remembers the first error, so that a
// record reads as a list of fields. Unknown keys are errors.
class object_reader {
public:
  object_reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object())
      error_ = field_error(path_, "expected an object");
  }

  template <class Unsigned>
  void read(std::string_view key, Unsigned& out, bool required = true) {
    const json* value = take(key, required);
    if (value == nullptr)
      return;
    if (!value->is_number_unsigned()
        || value->get<std::uint64_t>() > std::numeric_limits<Unsigned>::max()) {
      fail(key, fmt::format("expected an unsigned integer of at most {}",
                            std::numeric_limits<Unsigned>::max()));
      return;
    }
    out = static_cast<Unsigned>(value->get<std::uint64_t>());
  }

  void read(std::string_view key, std::string& out, bool required = true) {
    const json* value = take(key, required);
    if (value == nullptr)
      return;
    if (!value->is_string())
      return fail(key, "expected a string");
    out = value->get<std::string>();
  }

  void read(std::string_view key, core::hash256& out) {
    const json* value = take(key, true);
    if (value == nullptr)
      return;
    auto parsed = value->is_string() ? core::hash256::from_hex(value->get<std::string>())
                                     : std::nullopt;
    if (!parsed)
      return fail(key, "expected 64 hex digits");
    out = *parsed;
  }

  /// The array at `key` (empty when absent), or nullptr after an error.
  const json* array(std::string_view key) {
    static const json empty = json::array();
    const json* value = take(key, false);
    if (value == nullptr)
      return error_ ? nullptr : &empty;
    if (!value->is_array()) {
      fail(key, "expected an array");
      return nullptr;
    }
    return value;
  }

  const json* object(std::string_view key) {
    static const json empty = json::object();
    const json* value = take(key, false);
    return value == nullptr ? (error_ ? nullptr : &empty) : value;
  }

  std::string path(std::string_view key) const {
    return fmt::format("{}.{}", path_, key);
  }

  /// The first error, or one for a key nobody read.
  caf::error finish() {
    if (error_ || !object_.is_object())
      return std::move(error_);
    for (const auto& [key, value] : object_.items())
      if (!seen_.contains(key))
        return field_error(path(key), "unknown key");
    return {};
  }

  bool failed() const {
    return static_cast<bool>(error_);
  }

private:
  const json* take(std::string_view key, bool required) {
    if (error_)
      return nullptr;
    seen_.emplace(key);
    auto found = object_.find(std::string{key});
    if (found == object_.end()) {
      if (required)
        fail(key, "missing");
      return nullptr;
    }
    return &*found;
  }

  void fail(std::string_view key, std::string_view what) {
    if (!error_)
      error_ = field_error(path(key), what);
  }

  const json& object_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
  caf::error error_;
};

caf::error read_parameters(const json& object, const std::string& path, parameters& out) {
  object_reader reader{object, path};
  for_each_parameter(out, [&](std::string_view name, auto& field) {
    reader.read(name, field, false);
  });
  if (auto error = reader.finish())
    return error;
  auto error = check(out);
  if (!error)
    return error;
  std::string detail = error.context().get_as<std::string>(0);
  constexpr std::string_view code_name = "bad_parameter: ";
  if (detail.starts_with(code_name))
    detail.erase(0, code_name.size());
  return make_error(parameter_errc::bad_parameter, fmt::format("{}.{}", path, detail));
}

template <class Record, class ReadOne>
caf::error read_list(object_reader& top, std::string_view key, std::vector<Record>& out,
                     std::size_t count_max, ReadOne read_one) {
  const json* items = top.array(key);
  if (items == nullptr)
    return top.finish();
  if (items->size() > count_max)
    return invalid(top.path(key), fmt::format("more than {} entries", count_max));
  for (std::size_t i = 0; i < items->size(); ++i) {
    object_reader reader{(*items)[i], fmt::format("{}[{}]", top.path(key), i)};
    Record record;
    read_one(reader, record);
    if (auto error = reader.finish())
      return error;
    out.push_back(std::move(record));
  }
  return {};
}

caf::error read_lists(object_reader& top, genesis& g) {
  if (auto error = read_list(top, "accounts", g.accounts, genesis_accounts_count_max,
                             [](object_reader& r, genesis_account& a) {
                               r.read("id", a.id);
                               r.read("balance", a.balance);
                             }))
    return error;
  if (auto error = read_list(top, "validators", g.validators, genesis_validators_count_max,
                             [](object_reader& r, genesis_validator& v) {
                               r.read("id", v.id);
                               r.read("self_bond", v.self_bond);
                               r.read("commission_ppm", v.commission);
                             }))
    return error;
  if (auto error = read_list(top, "masternodes", g.masternodes, genesis_masternodes_count_max,
                             [](object_reader& r, genesis_masternode& m) {
                               r.read("id", m.id);
                               r.read("stake", m.stake);
                               r.read("endpoint", m.endpoint);
                               r.read("capacity_bytes", m.capacity_bytes);
                               r.read("commission_ppm", m.commission, false);
                             }))
    return error;
  if (auto error = read_list(top, "delegations", g.delegations, genesis_delegations_count_max,
                             [](object_reader& r, genesis_delegation& d) {
                               r.read("delegator", d.delegator);
                               r.read("target", d.target);
                               r.read("amount", d.value);
                             }))
    return error;
  return read_list(top, "contents", g.contents, genesis_contents_count_max,
                   [](object_reader& r, genesis_content& c) {
                     r.read("publisher", c.publisher);
                     r.read("content", c.content);
                     r.read("root", c.root);
                     r.read("block_count", c.block_count);
                     r.read("size_bytes", c.size_bytes);
                     r.read("replicas", c.replicas);
                   });
}

caf::error validate_nodes(const genesis& g, std::set<core::node_id>& nodes) {
  const auto& p = g.params;
  for (std::size_t i = 0; i < g.validators.size(); ++i) {
    const auto& v = g.validators[i];
    auto path = fmt::format("$.validators[{}]", i);
    if (!nodes.insert(v.id).second)
      return invalid(path + ".id", "registered twice");
    if (v.self_bond < p.validator_self_bond_min)
      return invalid(path + ".self_bond", "below validator_self_bond_min");
    if (v.commission > ppm_one)
      return invalid(path + ".commission_ppm", "above 1000000");
  }
  for (std::size_t i = 0; i < g.masternodes.size(); ++i) {
    const auto& m = g.masternodes[i];
    auto path = fmt::format("$.masternodes[{}]", i);
    if (!nodes.insert(m.id).second)
      return invalid(path + ".id", "registered twice");
    if (m.stake < p.masternode_stake_min)
      return invalid(path + ".stake", "below masternode_stake_min");
    if (m.commission > ppm_one)
      return invalid(path + ".commission_ppm", "above 1000000");
    if (m.endpoint.empty() || m.endpoint.size() > chain_limits::endpoint_bytes_max)
      return invalid(path + ".endpoint", "must be 1 ..= 128 bytes");
  }
  return {};
}

content_record record_of(const genesis_content& c) {
  return {c.publisher, c.root, c.block_count, c.size_bytes, c.replicas};
}

// Each content as a publish_content transaction checks it: the same function, so
// that a genesis cannot list what the chain would refuse. A refusal is reported at
// the field it is about, with the rule's reason.
caf::error validate_contents(const genesis& g) {
  table<core::content_id, content_record> contents;
  for (std::size_t i = 0; i < g.contents.size(); ++i) {
    const auto& c = g.contents[i];
    auto record = record_of(c);
    auto refusal = detail::check_new_content(g.params, contents, c.content, record);
    if (refusal) {
      std::string_view field = is(refusal, tx_errc::content_exists) ? "content"
                               : is(refusal, tx_errc::bad_replicas) ? "replicas"
                                                                    : "block_count";
      return invalid(fmt::format("$.contents[{}].{}", i, field),
                     refusal.context().get_as<std::string>(0));
    }
    contents.put(c.content, std::move(record));
  }
  return {};
}

// The genesis supply in 128 bits (so that an overflow is detected, not wrapped).
uint128 supply_of(const genesis& g) {
  uint128 total = 0;
  for (const auto& a : g.accounts)
    total += a.balance;
  for (const auto& v : g.validators)
    total += v.self_bond;
  for (const auto& m : g.masternodes)
    total += m.stake;
  for (const auto& d : g.delegations)
    total += d.value;
  return total;
}

} // namespace

caf::error make_error(genesis_errc code, std::string_view detail) {
  return core::make_domain_error(genesis_category, static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

bool is(const caf::error& error, genesis_errc code) noexcept {
  return error.category() == genesis_category
         && error.code() == static_cast<std::uint8_t>(code);
}

caf::error validate(const genesis& g) {
  if (g.chain_name.empty() || g.chain_name.size() > chain_name_bytes_max)
    return invalid("$.chain_name", "must be 1 ..= 64 bytes");
  if (auto error = check(g.params))
    return error;
  std::set<core::node_id> accounts;
  for (std::size_t i = 0; i < g.accounts.size(); ++i)
    if (!accounts.insert(g.accounts[i].id).second)
      return invalid(fmt::format("$.accounts[{}].id", i), "listed twice");
  std::set<core::node_id> nodes;
  if (auto error = validate_nodes(g, nodes))
    return error;
  std::set<std::pair<core::node_id, core::node_id>> pairs;
  for (std::size_t i = 0; i < g.delegations.size(); ++i) {
    const auto& d = g.delegations[i];
    auto path = fmt::format("$.delegations[{}]", i);
    if (!nodes.contains(d.target))
      return invalid(path + ".target", "not a validator or masternode");
    if (d.delegator == d.target)
      return invalid(path + ".delegator", "delegates to itself (use its own bond)");
    if (d.value == 0)
      return invalid(path + ".amount", "must be positive");
    if (!pairs.emplace(d.delegator, d.target).second)
      return invalid(path, "the same delegator and target twice");
  }
  if (auto error = validate_contents(g))
    return error;
  if (supply_of(g) > std::numeric_limits<amount>::max())
    return invalid("$", "the genesis supply exceeds 2^64 - 1 micro-units");
  return {};
}

caf::expected<genesis> parse_genesis(std::string_view text) {
  auto document = json::parse(text, nullptr, false);
  if (document.is_discarded())
    return make_error(genesis_errc::bad_json, "$: not valid JSON");
  genesis g;
  object_reader top{document, "$"};
  top.read("chain_name", g.chain_name);
  top.read("genesis_time_ms", g.genesis_time_ms);
  const json* params = top.object("parameters");
  if (top.failed())
    return top.finish();
  if (auto error = read_parameters(*params, "$.parameters", g.params))
    return error;
  if (auto error = read_lists(top, g))
    return error;
  if (auto error = top.finish())
    return error;
  if (auto error = validate(g))
    return error;
  return g;
}

std::string to_json(const genesis& g) {
  json params = json::object();
  for_each_parameter(g.params, [&](std::string_view name, const auto& field) {
    params[std::string{name}] = field;
  });
  json accounts = json::array();
  for (const auto& a : g.accounts)
    accounts.push_back({{"id", a.id.to_hex()}, {"balance", a.balance}});
  json validators = json::array();
  for (const auto& v : g.validators)
    validators.push_back(
      {{"id", v.id.to_hex()}, {"self_bond", v.self_bond}, {"commission_ppm", v.commission}});
  json masternodes = json::array();
  for (const auto& m : g.masternodes)
    masternodes.push_back({{"id", m.id.to_hex()},
                           {"stake", m.stake},
                           {"commission_ppm", m.commission},
                           {"endpoint", m.endpoint},
                           {"capacity_bytes", m.capacity_bytes}});
  json delegations = json::array();
  for (const auto& d : g.delegations)
    delegations.push_back({{"delegator", d.delegator.to_hex()},
                           {"target", d.target.to_hex()},
                           {"amount", d.value}});
  json contents = json::array();
  for (const auto& c : g.contents)
    contents.push_back({{"publisher", c.publisher.to_hex()},
                        {"content", c.content.to_hex()},
                        {"root", c.root.to_hex()},
                        {"block_count", c.block_count},
                        {"size_bytes", c.size_bytes},
                        {"replicas", c.replicas}});
  json out = {{"chain_name", g.chain_name}, {"genesis_time_ms", g.genesis_time_ms},
              {"parameters", params},       {"accounts", accounts},
              {"validators", validators},   {"masternodes", masternodes},
              {"delegations", delegations}, {"contents", contents}};
  return out.dump(2);
}

core::hash256 chain_id(const genesis& g) {
  core::sha256_hasher hasher;
  hasher.update(core::as_bytes(genesis_domain_tag));
  hasher.update(core::encode_record(g));
  return hasher.finish();
}

namespace {

void bond_nodes(const genesis& g, state& s) {
  for (const auto& v : g.validators) {
    validator_record record;
    record.self_bond = v.self_bond;
    record.commission = v.commission;
    s.validators.put(v.id, std::move(record));
  }
  for (const auto& m : g.masternodes) {
    masternode_record record;
    record.stake = m.stake;
    record.commission = m.commission;
    record.endpoint = m.endpoint;
    record.capacity_bytes = m.capacity_bytes;
    s.masternodes.put(m.id, std::move(record));
  }
  for (const auto& d : g.delegations) {
    s.delegations.put({d.target, d.delegator}, {d.value});
    if (auto* v = s.validators.find_mut(d.target))
      v->delegated += d.value;
    else
      s.masternodes.find_mut(d.target)->delegated += d.value;
  }
}

} // namespace

caf::expected<state> initial_state(const genesis& g) {
  if (auto error = validate(g))
    return error;
  state s;
  s.params = g.params;
  auto id = chain_id(g);
  s.globals.chain = id;
  s.globals.last_block_hash = id;
  s.globals.time_ms = g.genesis_time_ms;
  s.globals.inflation = g.params.inflation_initial;
  s.globals.genesis_supply = static_cast<amount>(supply_of(g));
  for (const auto& a : g.accounts)
    s.accounts.put(a.id, {a.balance, 0, 0});
  bond_nodes(g, s);
  detail::recompute_active_sets(s);
  // Placed as a publish places them, on the active masternodes just computed.
  for (const auto& c : g.contents) {
    s.contents.put(c.content, record_of(c));
    detail::assign(s, c.content, c.replicas);
  }
  detail::settle_assignments(s);
  detail::forget_journals(s);
  state_root(s);
  detail::require(supply_invariant_ok(s), "genesis breaks the supply invariant");
  return s;
}

} // namespace stakecast::rules
