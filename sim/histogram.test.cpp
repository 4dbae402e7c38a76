// Pins the histogram's promises (histogram.hpp): count, sum, min, max and mean are
// exact, the 0- and 100-percentiles are exact, and other quantiles of positive values
// lie within `relative_accuracy` of the exact nearest-rank value, checked against
// 1..10000 recorded in shuffled order; plus the empty histogram, a single value, and
// zero and negative values, whose quantiles are as accurate as positive ones.
#include "sim/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

using stakecast::sim::histogram;

TEST_CASE("an empty histogram reports zeros", "[histogram]") {
  const histogram empty;
  CHECK(empty.count() == 0);
  CHECK(empty.sum() == 0.0);
  CHECK(empty.min() == 0.0);
  CHECK(empty.max() == 0.0);
  CHECK(empty.mean() == 0.0);
  for (double q : {0.0, 0.01, 0.5, 0.99, 1.0})
    CHECK(empty.quantile(q) == 0.0);
}

TEST_CASE("count and sum and min and max and mean are exact", "[histogram]") {
  histogram h;
  for (double value : {3.25, 1000.5, 0.125, 7.0})
    h.record(value);
  CHECK(h.count() == 4);
  CHECK(h.sum() == 1010.875);
  CHECK(h.min() == 0.125);
  CHECK(h.max() == 1000.5);
  CHECK(h.mean() == 1010.875 / 4);
  CHECK(h.quantile(0.0) == 0.125);
  CHECK(h.quantile(1.0) == 1000.5);
}

TEST_CASE("quantiles of 1..10000 are within the relative accuracy", "[histogram]") {
  std::vector<double> values(10'000);
  std::iota(values.begin(), values.end(), 1.0);
  // A fixed permutation (a multiplicative step coprime with 10000): the order of
  // recording must not matter.
  histogram h;
  for (std::size_t i = 0; i < values.size(); ++i)
    h.record(values[(i * 7919) % values.size()]);

  CHECK(h.count() == 10'000);
  CHECK(h.sum() == 50'005'000.0);
  CHECK(h.mean() == 5000.5);
  CHECK(h.min() == 1.0);
  CHECK(h.max() == 10'000.0);
  CHECK(h.quantile(0.0) == 1.0);
  CHECK(h.quantile(1.0) == 10'000.0);

  struct expectation {
    double q;
    double exact; // nearest rank: the ceil(q * n)-th smallest value
  };
  for (auto [q, exact] : {expectation{0.01, 100.0}, expectation{0.5, 5000.0},
                          expectation{0.9, 9000.0}, expectation{0.99, 9900.0}}) {
    INFO("q = " << q);
    const double reported = h.quantile(q);
    CHECK(std::abs(reported - exact) <= histogram::relative_accuracy * exact);
  }
}

TEST_CASE("a single value is every quantile", "[histogram]") {
  histogram h;
  h.record(42.5);
  CHECK(h.count() == 1);
  CHECK(h.sum() == 42.5);
  CHECK(h.min() == 42.5);
  CHECK(h.max() == 42.5);
  CHECK(h.mean() == 42.5);
  // Clamping the bucket's representative to [min, max] makes these exact.
  for (double q : {0.0, 0.01, 0.5, 0.99, 1.0})
    CHECK(h.quantile(q) == 42.5);
}

TEST_CASE("zeros are counted and reported as zero", "[histogram]") {
  histogram h;
  for (int i = 0; i < 30; ++i)
    h.record(0.0);
  for (int i = 1; i <= 70; ++i)
    h.record(100.0);
  CHECK(h.count() == 100);
  CHECK(h.min() == 0.0);
  CHECK(h.max() == 100.0);
  CHECK(h.sum() == 7000.0);
  CHECK(h.quantile(0.0) == 0.0);
  CHECK(h.quantile(0.1) == 0.0);
  CHECK(h.quantile(0.3) == 0.0); // the 30th smallest value is the last zero
  CHECK(h.quantile(0.31) == Approx(100.0).epsilon(histogram::relative_accuracy));
  CHECK(h.quantile(0.99) == Approx(100.0).epsilon(histogram::relative_accuracy));

  histogram only_zeros;
  only_zeros.record(0.0);
  only_zeros.record(0.0);
  CHECK(only_zeros.count() == 2);
  CHECK(only_zeros.mean() == 0.0);
  for (double q : {0.0, 0.5, 1.0})
    CHECK(only_zeros.quantile(q) == 0.0);
}

TEST_CASE("negative values keep exact statistics and accurate quantiles", "[histogram]") {
  // Negative values fall into buckets mirrored from the positive ones, so their
  // quantiles are as accurate as positive ones.
  histogram h;
  for (double value : {-5.0, -3.0, 0.0, 2.0, 4.0})
    h.record(value);
  CHECK(h.count() == 5);
  CHECK(h.sum() == -2.0);
  CHECK(h.mean() == -0.4);
  CHECK(h.min() == -5.0);
  CHECK(h.max() == 4.0);
  CHECK(h.quantile(0.0) == -5.0);
  CHECK(h.quantile(1.0) == 4.0);
  CHECK(h.quantile(0.6) == 0.0); // the 3rd smallest value
  CHECK(h.quantile(0.8) == Approx(2.0).epsilon(histogram::relative_accuracy));
  CHECK(h.quantile(0.2) == Approx(-5.0).epsilon(histogram::relative_accuracy));
  CHECK(h.quantile(0.4) == Approx(-3.0).epsilon(histogram::relative_accuracy));

  histogram only_negative;
  only_negative.record(-1.0);
  only_negative.record(-2.0);
  CHECK(only_negative.min() == -2.0);
  CHECK(only_negative.max() == -1.0);
  CHECK(only_negative.mean() == -1.5);
  CHECK(only_negative.quantile(0.0) == -2.0);
  CHECK(only_negative.quantile(1.0) == -1.0);
  CHECK(only_negative.quantile(0.5) == Approx(-2.0).epsilon(histogram::relative_accuracy));
}
