// Genesis: a document parses into the state it describes (missing parameters take
// their defaults), every error names the JSON path at fault, and to_json followed by
// parse_genesis gives back the same chain id.
#include "actors/validator/genesis.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/validator/rules/errors.hpp"

using namespace stakecast;
using namespace stakecast::rules;

namespace {

const std::string v_id(64, 'a');
const std::string m_id(64, 'b');
const std::string u_id(64, 'c');

std::string document(std::string_view parameters = R"({"epoch_blocks": 100})",
                     std::string_view validator_extra = "") {
  return fmt::format(R"({{
    "chain_name": "devnet", "genesis_time_ms": 1700000000000,
    "parameters": {},
    "accounts": [{{"id": "{}", "balance": 5000000}}],
    "validators": [{{"id": "{}", "self_bond": 20000000000, "commission_ppm": 50000{}}}],
    "masternodes": [{{"id": "{}", "stake": 2000000000, "endpoint": "m:1", "capacity_bytes": 1}}],
    "delegations": [{{"delegator": "{}", "target": "{}", "amount": 7}}]
  }})",
                     parameters, u_id, v_id, validator_extra, m_id, u_id, v_id);
}

std::string error_text(std::string_view text) {
  auto parsed = parse_genesis(text);
  REQUIRE_FALSE(parsed);
  return core::describe(parsed.error());
}

} // namespace

TEST_CASE("a genesis document parses into its initial state") {
  auto g = parse_genesis(document());
  REQUIRE(g);
  CHECK(g->params.epoch_blocks == 100);
  CHECK(g->params.validators_active_max == parameters{}.validators_active_max);
  auto s = initial_state(*g);
  REQUIRE(s);
  CHECK(total_supply(*s) == 5'000'000 + 20'000'000'000 + 2'000'000'000 + 7);
  CHECK(active_validators(*s).size() == 1);
  CHECK(active_masternodes(*s).size() == 1);
  CHECK(s->globals.chain == chain_id(*g));
  CHECK(supply_invariant_ok(*s));
}

TEST_CASE("genesis errors name the JSON path") {
  CHECK_THAT(error_text("{"), Catch::Contains("bad_json"));
  CHECK_THAT(error_text(document(R"({"epoch_blocks": -1})")),
             Catch::Contains("$.parameters.epoch_blocks: expected an unsigned integer"));
  CHECK_THAT(error_text(document(R"({"epoch_blcks": 5})")),
             Catch::Contains("$.parameters.epoch_blcks: unknown key"));
  CHECK_THAT(error_text(document(R"({"audit_window_blocks": 800})")),
             Catch::Contains("$.parameters.audit_window_blocks"));
  CHECK_THAT(error_text(document("{}", R"(, "self_bond2": 1)")),
             Catch::Contains("$.validators[0].self_bond2: unknown key"));
  auto text = document();
  auto broken = text;
  broken.replace(broken.find(u_id), 64, "zz");
  CHECK_THAT(error_text(broken), Catch::Contains("$.accounts[0].id: expected 64 hex digits"));
  broken = text;
  broken.replace(broken.find("20000000000"), 11, "1");
  CHECK_THAT(error_text(broken), Catch::Contains("$.validators[0].self_bond: below"));
  broken = text;
  broken.replace(broken.rfind(v_id), 64, std::string(64, 'd'));
  CHECK_THAT(error_text(broken), Catch::Contains("$.delegations[0].target"));
  broken = text;
  broken.replace(broken.find("\"chain_name\""), 12, "\"chain\"");
  CHECK_THAT(error_text(broken), Catch::Contains("$.chain_name: missing"));
}

TEST_CASE("to_json then parse_genesis keeps the chain id") {
  auto g = parse_genesis(document());
  REQUIRE(g);
  auto again = parse_genesis(to_json(*g));
  REQUIRE(again);
  CHECK(chain_id(*again) == chain_id(*g));
  auto other = *g;
  other.genesis_time_ms += 1;
  CHECK(chain_id(other) != chain_id(*g));
}
