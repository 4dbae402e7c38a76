// Validator sets: malformed sets are refused as error values, quorum and f + 1 are
// exact integer thresholds, and proposer rotation is Tendermint's weighted round robin
// - the same sequence wherever it is computed, each validator proposing in proportion
// to its power (within two proposals over every prefix of 10,000 heights), priorities
// bounded.
#include "actors/validator/validator_set.hpp"

#include <cstdlib>
#include <numeric>

#include <catch2/catch.hpp>

#include "actors/core/error.hpp"

using namespace stakecast;
using validator::validator_info;
using validator::validator_set;

namespace {

core::node_id id_of(std::size_t n) {
  core::node_id id;
  id.bytes[0] = static_cast<std::uint8_t>(n);
  id.bytes[1] = static_cast<std::uint8_t>(n >> 8);
  return id;
}

std::vector<validator_info> members_with(const std::vector<std::uint64_t>& powers) {
  std::vector<validator_info> members;
  for (std::size_t i = 0; i < powers.size(); ++i)
    members.push_back({id_of(i), powers[i]});
  return members;
}

validator_set make_set(const std::vector<std::uint64_t>& powers) {
  auto set = validator_set::make(members_with(powers));
  REQUIRE(set);
  return std::move(*set);
}

std::string error_of(std::vector<validator_info> members) {
  auto set = validator_set::make(std::move(members));
  REQUIRE_FALSE(set);
  return core::describe(set.error());
}

/// Proposers of round 0 at `heights` consecutive heights from `set`.
std::vector<std::size_t> round_zero_proposers(validator_set set, std::size_t heights) {
  std::vector<std::size_t> proposers;
  for (std::size_t h = 0; h < heights; ++h) {
    proposers.push_back(set.proposer_index(0));
    set = set.next();
  }
  return proposers;
}

} // namespace

TEST_CASE("malformed validator sets are refused as error values") {
  CHECK_THAT(error_of({}), Catch::Contains("empty_set"));
  CHECK_THAT(error_of(members_with({1, 0, 1})), Catch::Contains("zero_power"));
  auto twice = members_with({1, 2});
  twice[1].id = twice[0].id;
  CHECK_THAT(error_of(twice), Catch::Contains("duplicate_validator"));
  CHECK_THAT(
      error_of(members_with(std::vector<std::uint64_t>(validator_set::validators_max + 1, 1))),
      Catch::Contains("too_many_validators"));
  CHECK_THAT(error_of(members_with({validator_set::total_power_max, 1})),
             Catch::Contains("total_power_too_large"));
  CHECK(validator_set::make(members_with({validator_set::total_power_max})));
  CHECK(validator_set::make(
      members_with(std::vector<std::uint64_t>(validator_set::validators_max, 1))));
}

TEST_CASE("quorum is more than two thirds and f plus one more than one third") {
  const auto four = make_set({1, 1, 1, 1});
  CHECK(four.total_power() == 4);
  CHECK(four.is_quorum(3));
  CHECK_FALSE(four.is_quorum(2));
  CHECK(four.exceeds_one_third(2));
  CHECK_FALSE(four.exceeds_one_third(1));
  const auto three = make_set({1, 1, 1});
  CHECK(three.is_quorum(3));
  CHECK_FALSE(three.is_quorum(2));
  const auto hundred = make_set({40, 30, 30});
  CHECK(hundred.is_quorum(67));
  CHECK_FALSE(hundred.is_quorum(66));
  CHECK(hundred.exceeds_one_third(34));
  CHECK_FALSE(hundred.exceeds_one_third(33));
  const auto huge = make_set({validator_set::total_power_max});
  CHECK(huge.is_quorum(validator_set::total_power_max));
  CHECK_FALSE(huge.is_quorum(validator_set::total_power_max / 3 * 2));
}

TEST_CASE("members are kept in id order and found by id") {
  auto members = members_with({5, 6, 7});
  std::swap(members[0], members[2]);
  auto set = validator_set::make(members);
  REQUIRE(set);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(set->at(i).id == id_of(i));
    CHECK(set->index_of(id_of(i)) == i);
  }
  CHECK_FALSE(set->index_of(id_of(9)).has_value());
}

TEST_CASE("equal powers rotate the proposer through the members in id order") {
  const auto set = make_set({1, 1, 1, 1});
  for (std::uint32_t round = 0; round < 12; ++round)
    CHECK(set.proposer_index(round) == round % 4);
  CHECK(round_zero_proposers(set, 8) == std::vector<std::size_t>{0, 1, 2, 3, 0, 1, 2, 3});
}

TEST_CASE("the proposer of round r plus one is the next height's proposer of round r") {
  const auto set = make_set({3, 1, 4, 1, 5, 9, 2, 6});
  auto following = set.next();
  for (std::uint32_t round = 0; round < 40; ++round)
    CHECK(set.proposer_index(round + 1) == following.proposer_index(round));
}

TEST_CASE("proposers are chosen in proportion to power over many heights") {
  // Powers with no common structure; 10,000 heights is 48 full cycles of the total.
  const std::vector<std::uint64_t> powers{10, 35, 55, 100, 7};
  const auto total = std::accumulate(powers.begin(), powers.end(), std::uint64_t{0});
  const auto proposers = round_zero_proposers(make_set(powers), 10'000);
  std::vector<std::uint64_t> counts(powers.size(), 0);
  double deviation_max = 0;
  for (std::size_t k = 0; k < proposers.size(); ++k) {
    ++counts[proposers[k]];
    for (std::size_t i = 0; i < powers.size(); ++i) {
      const double expected = static_cast<double>((k + 1) * powers[i]) / static_cast<double>(total);
      deviation_max = std::max(deviation_max, std::abs(static_cast<double>(counts[i]) - expected));
    }
  }
  // Tolerance: over every prefix, each count is within two proposals of its share
  // (priority / total is exactly the deviation; see the header).
  CHECK(deviation_max < 2.0);
  // A whole number of cycles gives exact shares.
  const auto exact = round_zero_proposers(make_set({1, 2, 3, 4}), 1000);
  std::vector<std::size_t> exact_counts(4, 0);
  for (auto index : exact)
    ++exact_counts[index];
  CHECK(exact_counts == std::vector<std::size_t>{100, 200, 300, 400});
}

TEST_CASE("the proposer sequence is identical across independently built sets") {
  auto members = members_with({8, 1, 20, 3, 3, 11, 5});
  auto reversed = members;
  std::reverse(reversed.begin(), reversed.end());
  auto a = validator_set::make(members);
  auto b = validator_set::make(reversed);
  REQUIRE(a);
  REQUIRE(b);
  std::vector<core::node_id> sequence_a, sequence_b;
  for (std::size_t h = 0; h < 500; ++h) {
    for (std::uint32_t round = 0; round < 3; ++round) {
      sequence_a.push_back(a->proposer(round));
      sequence_b.push_back(b->proposer(round));
    }
    *a = a->next();
    *b = b->next();
  }
  CHECK(sequence_a == sequence_b);
}

TEST_CASE("priorities sum to zero and stay within two totals of zero") {
  auto set = make_set({1, 1000, 3, 77, 500'000});
  const auto total = static_cast<std::int64_t>(set.total_power());
  for (std::size_t h = 0; h < 20'000; ++h) {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
      sum += set.priority(i);
      REQUIRE(std::abs(set.priority(i)) < 2 * total);
    }
    REQUIRE(sum == 0);
    set = set.next();
  }
}
