// The economic measures and the agents' decision rules (sim/econ/measures.hpp) give
// the values worked out by hand in each test's comments.
#include <catch2/catch.hpp>

#include "sim/econ/measures.hpp"

using namespace stakecast::sim::econ;

TEST_CASE("gini is zero for equal shares and n-1 over n for one holder", "[econ]") {
  CHECK(gini({5, 5, 5, 5}) == Approx(0.0));
  // One of four holds all: (n-1)/n = 3/4.
  CHECK(gini({0, 0, 0, 8}) == Approx(0.75));
  // {1, 2, 3, 4}: sum (2i-n-1) x_i = -3*1 - 1*2 + 1*3 + 3*4 = 10; n * sum = 4 * 10 = 40.
  CHECK(gini({4, 1, 3, 2}) == Approx(0.25));
  CHECK(gini({}) == 0.0);
  CHECK(gini({0, 0}) == 0.0);
  // Negative values count as 0: {0, 2}: (-1*0 + 1*2) / (2 * 2) = 0.5.
  CHECK(gini({-3, 2}) == Approx(0.5));
}

TEST_CASE("nakamoto counts the fewest holders above a third", "[econ]") {
  // 21 equal validators: 7 hold exactly 1/3 (not more), 8 exceed it.
  CHECK(nakamoto(std::vector<double>(21, 1.0)) == 8);
  // {50, 30, 20}: 50 of 100 > 33.3 already.
  CHECK(nakamoto({20, 50, 30}) == 1);
  // {30, 30, 20, 20}: 30 < 33.3, 60 > 33.3: two.
  CHECK(nakamoto({30, 20, 30, 20}) == 2);
  // Above half: {30, 30, 20, 20}: 60 > 50: two; {25 x 4}: 50 is not > 50, 75 is: three.
  CHECK(nakamoto({30, 20, 30, 20}, 0.5) == 2);
  CHECK(nakamoto({25, 25, 25, 25}, 0.5) == 3);
  CHECK(nakamoto({}) == 0);
}

TEST_CASE("quantile interpolates between order statistics", "[econ]") {
  // {1, 2, 3, 4}: position q * 3; q = 0.5 -> 1.5 -> 2 + 0.5 * (3 - 2) = 2.5.
  CHECK(quantile({4, 3, 2, 1}, 0.5) == Approx(2.5));
  // q = 0.1 -> 0.3 -> 1 + 0.3 * 1 = 1.3; q = 0.9 -> 2.7 -> 3 + 0.7 = 3.7.
  CHECK(quantile({1, 2, 3, 4}, 0.1) == Approx(1.3));
  CHECK(quantile({1, 2, 3, 4}, 0.9) == Approx(3.7));
  CHECK(quantile({7}, 0.9) == Approx(7.0));
  CHECK(quantile({}, 0.5) == 0.0);
}

TEST_CASE("an operator's cost adds bandwidth storage and fixed cost in tokens", "[econ]") {
  // A month: 100 GB sent at 0.01 = 1; 50 GB stored at 0.02 per GB-month = 1; fixed 8.
  // 10 fiat at 0.5 fiat per token = 20 tokens.
  const cost_model model{0.01, 0.02, 8.0, 0.5};
  CHECK(cost_tokens(model, 100e9, 50e9, seconds_per_month) == Approx(20.0));
  // Half a month, nothing sent: storage 0.5 + fixed 4 = 4.5 fiat = 9 tokens.
  CHECK(cost_tokens(model, 0, 50e9, seconds_per_month / 2) == Approx(9.0));
}

TEST_CASE("roi is profit over stake scaled to a year", "[econ]") {
  // Income 12, cost 2 over a month on 1000 staked: 10 / 1000 * 12 = 0.12.
  CHECK(annualised_roi(12, 2, 1000, seconds_per_month) == Approx(0.12));
  // A loss: (1 - 3) / 100 over a quarter of a year = -0.02 * 4 = -0.08.
  CHECK(annualised_roi(1, 3, 100, seconds_per_year / 4) == Approx(-0.08));
  CHECK(annualised_roi(1, 0, 0, seconds_per_year) == 0.0);
  CHECK(annualised_roi(1, 0, 10, 0) == 0.0);
}

TEST_CASE("operators join above the hurdle and leave after a streak of losses", "[econ]") {
  const operator_rules rules{0.10, 3};
  // 12 % expected beats a 10 % hurdle; 10 % exactly does not (it must beat it).
  CHECK(should_join(rules, 0.12));
  CHECK_FALSE(should_join(rules, 0.10));
  CHECK_FALSE(should_join(rules, -0.5));
  // Two losing epochs are tolerated, the third makes it leave.
  CHECK_FALSE(should_leave(rules, 2));
  CHECK(should_leave(rules, 3));
}

TEST_CASE("a delegator moves only for more than its margin", "[econ]") {
  // Holding target 0 at 5 %: the best is target 2 at 9 %, 4 points above: beyond a
  // 2-point margin it moves, within a 5-point margin it stays.
  const std::vector<double> returns{0.05, 0.06, 0.09};
  CHECK(choose_target(returns, 0, 0.02) == 2);
  CHECK(choose_target(returns, 0, 0.05) == 0);
  CHECK(choose_target(returns, 2, 0.0) == 2);
}

TEST_CASE("a viewer watches only within its budget per GiB", "[econ]") {
  CHECK(watches(0.5, 0.5));
  CHECK(watches(0.4, 0.5));
  CHECK_FALSE(watches(0.6, 0.5));
}
