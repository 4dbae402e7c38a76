// Economic measures and decision rules, as pure functions of numbers (docs/economics.md).
//
// Measures: the Gini coefficient of a distribution, the Nakamoto coefficient of a
// set of weights, quantiles, an operator's cost over a period and its annualised
// return on stake. Decision rules of the economic agents: when a masternode operator
// joins or leaves, when a delegator moves its stake, whether a viewer watches at a
// price. Each is a function of observed returns and parameters only, so that a test
// checks it against hand arithmetic and the simulator replays it from a seed.
//
// No state, no I/O: safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace stakecast::sim::econ {

inline constexpr double seconds_per_year = 365.0 * 86400.0;
inline constexpr double seconds_per_month = seconds_per_year / 12.0;
inline constexpr double bytes_per_gb = 1e9;

/// Gini coefficient of non-negative values: 0 when all are equal, (n-1)/n when one
/// holds everything. Negative values count as 0; empty or all-zero input gives 0.
double gini(std::vector<double> values);

/// The fewest holders whose summed weight exceeds `share` of the total (1/3 for BFT
/// safety). 0 for empty or all-zero input. REQUIRES: 0 <= share < 1.
std::size_t nakamoto(std::vector<double> weights, double share = 1.0 / 3.0);

/// The q-quantile of `values` by linear interpolation between order statistics
/// (q = 0.5 of {1, 2, 3, 4} is 2.5). 0 for empty input. REQUIRES: 0 <= q <= 1.
double quantile(std::vector<double> values, double q);

/// What running a masternode costs, in fiat units (say dollars), and what a token
/// is worth in them.
struct cost_model {
  double bandwidth_per_gb = 0.0;     // per GB (10^9 bytes) sent
  double storage_per_gb_month = 0.0; // per GB held for a month
  double fixed_per_month = 0.0;      // machine, power, operator time
  double token_price = 1.0;          // fiat per token; > 0
};

/// An operator's cost in tokens for `seconds` of running, having sent `bytes_sent`
/// and held `bytes_stored` throughout.
double cost_tokens(const cost_model& model, double bytes_sent, double bytes_stored, double seconds);

/// Annualised return on stake: (income - cost) / stake, scaled from `seconds` to a
/// year. 0 when stake or seconds is not positive.
double annualised_roi(double income_tokens, double cost_tokens, double stake_tokens,
                      double seconds);

/// The masternode operator's rules, checked at epoch boundaries.
struct operator_rules {
  /// Annual return an outside operator asks for before it joins.
  double hurdle_rate = 0.10;
  /// Epochs of losses in a row after which a running operator leaves.
  std::uint32_t loss_epochs_max = 3;
};

/// Joins when the return it expects (what active masternodes earned per unit stake,
/// annualised, minus its own annualised cost per unit stake) beats the hurdle.
bool should_join(const operator_rules& rules, double expected_roi);

/// Leaves when it lost money (profit < 0) for loss_epochs_max epochs in a row;
/// `loss_streak` counts them, this epoch's included.
bool should_leave(const operator_rules& rules, std::uint32_t loss_streak);

/// A delegator's rule: move from the current target to the best one when the best
/// one's return exceeds the current one's by more than `margin` (absolute, annual).
/// Returns the index of the target to hold. REQUIRES: current < returns.size().
std::size_t choose_target(const std::vector<double>& returns, std::size_t current, double margin);

/// A viewer watches when the price of a GiB is within what it is willing to pay.
bool watches(double price_tokens_per_gib, double budget_tokens_per_gib);

} // namespace stakecast::sim::econ
