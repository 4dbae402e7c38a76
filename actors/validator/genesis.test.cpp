// Genesis: a document parses into the state it describes (missing parameters take
// their defaults), every error names the JSON path at fault (a content the publish
// rule refuses included), and to_json followed by parse_genesis gives back the same
// genesis and chain id. Genesis contents are placed exactly as the same contents
// published in the first block, on `replicas` active masternodes, and audited from
// the first epoch boundary.
#include "actors/validator/genesis.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/core/placement.hpp"
#include "actors/validator/rules/errors.hpp"
#include "actors/validator/rules/test_chain.hpp"

using namespace stakecast;
using namespace stakecast::rules;

namespace {

const std::string v_id(64, 'a');
const std::string m_id(64, 'b');
const std::string u_id(64, 'c');
const std::string c_id(64, 'e');
const std::string c2_id(64, 'f');

// One content of 40,000 bytes (3 blocks), then `more_contents` in the same list.
std::string document(std::string_view parameters = R"({"epoch_blocks": 100})",
                     std::string_view validator_extra = "", std::string_view more_contents = "") {
  return fmt::format(R"({{
    "chain_name": "devnet", "genesis_time_ms": 1700000000000,
    "parameters": {},
    "accounts": [{{"id": "{}", "balance": 5000000}}],
    "validators": [{{"id": "{}", "self_bond": 20000000000, "commission_ppm": 50000{}}}],
    "masternodes": [{{"id": "{}", "stake": 2000000000, "endpoint": "m:1", "capacity_bytes": 1}}],
    "delegations": [{{"delegator": "{}", "target": "{}", "amount": 7}}],
    "contents": [{{"publisher": "{}", "content": "{}", "root": "{}",
                   "block_count": 3, "size_bytes": 40000, "replicas": 1}}{}]
  }})",
                     parameters, u_id, v_id, validator_extra, m_id, u_id, v_id,
                     std::string(64, '9'), c_id, std::string(64, '1'), more_contents);
}

// A second content after the first, with `fields` after its id.
std::string second_content(std::string_view id, std::string_view fields) {
  return fmt::format(R"(, {{"publisher": "{}", "content": "{}", "root": "{}", {}}})",
                     std::string(64, '9'), id, std::string(64, '2'), fields);
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
  auto content = *core::hash256::from_hex(c_id);
  REQUIRE(find_content(*s, content) != nullptr);
  CHECK(find_content(*s, content)->block_count == 3);
  CHECK(find_content(*s, content)->publisher == *core::hash256::from_hex(std::string(64, '9')));
  CHECK(assigned_masternodes(*s, content) == std::vector{*core::hash256::from_hex(m_id)});
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

TEST_CASE("a genesis content the publish rule refuses is named by its JSON path") {
  auto with_second = [](std::string_view id, std::string_view fields) {
    return document("{}", "", second_content(id, fields));
  };
  auto good = R"("block_count": 1, "size_bytes": 100, "replicas": 1)";
  auto no_replica = R"("block_count": 1, "size_bytes": 100, "replicas": 0)";
  auto wrong_count = R"("block_count": 2, "size_bytes": 100, "replicas": 1)";
  auto no_count = R"("size_bytes": 100, "replicas": 1)";
  REQUIRE(parse_genesis(with_second(c2_id, good)));
  CHECK_THAT(error_text(with_second(c_id, good)),
             Catch::Contains("$.contents[1].content: content_exists"));
  CHECK_THAT(error_text(with_second(c2_id, no_replica)),
             Catch::Contains("$.contents[1].replicas: bad_replicas: 0, allowed 1 ..= 8"));
  CHECK_THAT(error_text(with_second(c2_id, wrong_count)),
             Catch::Contains("$.contents[1].block_count: bad_content: 100 bytes make 1 blocks"));
  CHECK_THAT(error_text(with_second(c2_id, no_count)),
             Catch::Contains("$.contents[1].block_count: missing"));
  CHECK_THAT(error_text(with_second("12", good)),
             Catch::Contains("$.contents[1].content: expected 64 hex digits"));
}

TEST_CASE("to_json then parse_genesis keeps the chain id") {
  auto g = parse_genesis(document());
  REQUIRE(g);
  auto again = parse_genesis(to_json(*g));
  REQUIRE(again);
  CHECK(chain_id(*again) == chain_id(*g));
  REQUIRE(g->contents.size() == 1);
  CHECK(again->contents == g->contents);
  auto without_contents = *g;
  without_contents.contents.clear();
  CHECK(chain_id(without_contents) != chain_id(*g));
  auto other = *g;
  other.genesis_time_ms += 1;
  CHECK(chain_id(other) != chain_id(*g));
}

TEST_CASE("genesis contents are placed as if published in the first block") {
  // The same chain twice: one lists the contents in its genesis, the other publishes
  // them in block 1. Replicas 1, 2 and 3 of the 3 masternodes.
  rules::testing::test_chain listed;
  rules::testing::test_chain published;
  std::vector<genesis_content> contents;
  for (std::uint8_t replicas = 1; replicas <= 3; ++replicas) {
    genesis_content c;
    c.publisher = published.user(0).public_key();
    c.content.bytes[0] = replicas;
    c.root.bytes[0] = 0x77;
    c.size_bytes = 100'000;
    c.block_count = core::block_count(c.size_bytes);
    c.replicas = replicas;
    contents.push_back(c);
  }
  listed.genesis_record().contents = contents;
  listed.reset();
  std::vector<transaction> publishes;
  for (const auto& c : contents)
    publishes.push_back(
        published.tx(published.user(0), publish_content_body{c.content, c.root, c.block_count,
                                                             c.size_bytes, c.replicas}));
  REQUIRE_FALSE(published.commit(publishes));

  auto& s = listed.current();
  auto candidates = active_masternodes(s);
  REQUIRE(candidates.size() == 3);
  for (const auto& c : contents) {
    INFO("replicas " << c.replicas);
    auto assigned = assigned_masternodes(s, c.content);
    CHECK(assigned.size() == c.replicas);
    CHECK(assigned == core::place(c.content, candidates, c.replicas));
    CHECK(assigned == assigned_masternodes(published.current(), c.content));
    CHECK(find_content(s, c.content)->publisher == c.publisher);
  }

  // Held since genesis: audited at the first boundary.
  listed.finish_epoch();
  auto holder = assigned_masternodes(s, contents[0].content).front();
  CHECK(pending_challenges(s, holder).size() == s.params.audit_challenges_per_masternode);
}
