#include "sim/econ/measures.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <numeric>

namespace stakecast::sim::econ {

double gini(std::vector<double> values) {
  for (auto& v : values)
    v = std::max(v, 0.0);
  const double total = std::accumulate(values.begin(), values.end(), 0.0);
  if (values.empty() || total <= 0.0)
    return 0.0;
  // G = sum_i (2i - n - 1) x_(i) / (n * sum x), over values sorted ascending, i from 1.
  std::sort(values.begin(), values.end());
  const auto n = static_cast<double>(values.size());
  double weighted = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i)
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * values[i];
  return weighted / (n * total);
}

std::size_t nakamoto(std::vector<double> weights, double share) {
  assert(share >= 0.0 && share < 1.0);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total <= 0.0)
    return 0;
  std::sort(weights.begin(), weights.end(), std::greater<>());
  double held = 0.0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    held += weights[i];
    if (held > share * total)
      return i + 1;
  }
  return weights.size();
}

double quantile(std::vector<double> values, double q) {
  assert(q >= 0.0 && q <= 1.0);
  if (values.empty())
    return 0.0;
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const auto above = std::min(below + 1, values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return values[below] + fraction * (values[above] - values[below]);
}

double cost_tokens(const cost_model& model, double bytes_sent, double bytes_stored,
                   double seconds) {
  assert(model.token_price > 0.0);
  const double months = seconds / seconds_per_month;
  const double fiat = model.bandwidth_per_gb * bytes_sent / bytes_per_gb +
                      model.storage_per_gb_month * bytes_stored / bytes_per_gb * months +
                      model.fixed_per_month * months;
  return fiat / model.token_price;
}

double annualised_roi(double income_tokens, double cost, double stake_tokens, double seconds) {
  if (stake_tokens <= 0.0 || seconds <= 0.0)
    return 0.0;
  return (income_tokens - cost) / stake_tokens * (seconds_per_year / seconds);
}

bool should_join(const operator_rules& rules, double expected_roi) {
  return expected_roi > rules.hurdle_rate;
}

bool should_leave(const operator_rules& rules, std::uint32_t loss_streak) {
  return loss_streak >= rules.loss_epochs_max;
}

std::size_t choose_target(const std::vector<double>& returns, std::size_t current, double margin) {
  assert(current < returns.size());
  const auto best =
      static_cast<std::size_t>(std::max_element(returns.begin(), returns.end()) - returns.begin());
  return returns[best] > returns[current] + margin ? best : current;
}

bool watches(double price_tokens_per_gib, double budget_tokens_per_gib) {
  return price_tokens_per_gib <= budget_tokens_per_gib;
}

} // namespace stakecast::sim::econ
