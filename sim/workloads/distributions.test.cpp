// Pins the viewer workloads' random processes (distributions.hpp) statistically and
// exactly: from fixed seeds, Zipf frequencies over 200,000 draws stay within 5 standard
// deviations of probability(k), the mean gap of Poisson arrivals and of exponential
// durations within 2 %, the lognormal's sample median within 3 %, seek rates within
// 3 %; flash crowds, fixed and uniform durations, clamping and seeks are checked
// exactly (counts, order, bounds); equal seeds give equal draws. The YAML reader of a
// duration distribution is run on small texts, and its errors checked to the file,
// line, column, key path and message.
#include "sim/workloads/distributions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/config/reader.hpp"

using namespace std::chrono_literals;
using stakecast::core::random_generator;
using stakecast::config::document_reader;
using stakecast::sim::duration_distribution;
using stakecast::sim::duration_limits;
using stakecast::sim::flash_crowd;
using stakecast::config::node_reader;
using stakecast::sim::poisson_arrivals;
using stakecast::sim::read_duration_distribution;
using stakecast::config::config_error;
using stakecast::config::config_exception;
using stakecast::sim::seek_model;
using stakecast::sim::zipf_popularity;
using std::chrono::nanoseconds;

namespace {

constexpr std::uint64_t seed = 20240611;

double mean_of(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double median_of(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

double standard_deviation_of(const std::vector<double>& values) {
  const double mean = mean_of(values);
  double squares = 0.0;
  for (double value : values)
    squares += (value - mean) * (value - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

std::vector<double> draw_seconds(const duration_distribution& distribution, std::size_t count,
                                 std::uint64_t stream_seed = seed) {
  random_generator random(stream_seed);
  std::vector<double> seconds;
  seconds.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    seconds.push_back(static_cast<double>(distribution.draw(random, {}).count()) / 1e9);
  return seconds;
}

// Reads `session` of `text` (labelled "test.yaml") and finishes the document.
duration_distribution read_session(const std::string& text, duration_distribution default_value) {
  document_reader document = document_reader::load_string(text, "test.yaml");
  node_reader root = document.root();
  const duration_distribution result = read_duration_distribution(root, "session", default_value);
  document.finish();
  return result;
}

// The errors, as "FILE:LINE:COL: PATH: MESSAGE", of reading `text`, which must fail.
std::vector<std::string> errors_reading(const std::string& text,
                                        duration_distribution default_value) {
  try {
    read_session(text, default_value);
  } catch (const config_exception& exception) {
    std::vector<std::string> lines;
    for (const config_error& error : exception.errors())
      lines.push_back(error.to_string());
    return lines;
  }
  FAIL("reading succeeded: " << text);
  return {};
}

const duration_distribution eight_minutes_lognormal = duration_distribution::lognormal(8min, 1.0);
const duration_distribution ten_minutes_exponential = duration_distribution::exponential(10min);

} // namespace

// ---- zipf_popularity ----

TEST_CASE("zipf probabilities follow the power law and sum to one", "[distributions]") {
  for (double exponent : {0.0, 0.8, 1.2, 5.0}) {
    const zipf_popularity zipf(50, exponent);
    double total = 0.0;
    for (std::uint32_t rank = 0; rank < zipf.items(); ++rank) {
      total += zipf.probability(rank);
      CHECK(zipf.probability(rank) / zipf.probability(0) ==
            Approx(std::pow(rank + 1.0, -exponent)).epsilon(1e-12));
    }
    CHECK(total == Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("zipf frequencies over 200000 draws match the probabilities", "[distributions]") {
  constexpr std::uint32_t items = 50;
  constexpr int draws = 200'000;
  for (double exponent : {0.8, 1.2}) {
    INFO("exponent " << exponent);
    const zipf_popularity zipf(items, exponent);
    random_generator random(seed);
    std::vector<int> counts(items, 0);
    for (int i = 0; i < draws; ++i) {
      const std::uint32_t rank = zipf.draw(random);
      REQUIRE(rank < items);
      ++counts[rank];
    }
    for (std::uint32_t rank = 0; rank < items; ++rank) {
      INFO("rank " << rank);
      const double p = zipf.probability(rank);
      const double expected = draws * p;
      const double deviation = std::sqrt(draws * p * (1.0 - p));
      CHECK(std::abs(counts[rank] - expected) <= 5.0 * deviation);
    }
    CHECK(std::max_element(counts.begin(), counts.end()) == counts.begin());
    CHECK(zipf.probability(0) > zipf.probability(1));
  }
}

TEST_CASE("zipf with exponent 0 is uniform and with one item always draws rank 0",
          "[distributions]") {
  const zipf_popularity flat(4, 0.0);
  for (std::uint32_t rank = 0; rank < 4; ++rank)
    CHECK(flat.probability(rank) == 0.25);
  const zipf_popularity single(1, 1.0);
  CHECK(single.probability(0) == 1.0);
  random_generator random(seed);
  for (int i = 0; i < 1000; ++i)
    REQUIRE(single.draw(random) == 0);
}

TEST_CASE("zipf at the largest catalogue still draws its tail at the right rate",
          "[distributions]") {
  // The compensated sum keeps the tail right: ranks in the upper half of ten million
  // items, at exponent 0.8, are drawn with their total probability.
  const zipf_popularity zipf(stakecast::sim::zipf_items_max, 0.8);
  double tail_probability = 0.0;
  for (std::uint32_t rank = zipf.items() / 2; rank < zipf.items(); ++rank)
    tail_probability += zipf.probability(rank);
  random_generator random(seed);
  constexpr int draws = 200'000;
  int tail = 0;
  for (int i = 0; i < draws; ++i) {
    const std::uint32_t rank = zipf.draw(random);
    REQUIRE(rank < zipf.items());
    tail += rank >= zipf.items() / 2 ? 1 : 0;
  }
  const double deviation = std::sqrt(draws * tail_probability * (1.0 - tail_probability));
  CHECK(std::abs(tail - draws * tail_probability) <= 5.0 * deviation);
}

// ---- poisson_arrivals and flash_crowd ----

TEST_CASE("poisson gaps have the mean and spread of an exponential", "[distributions]") {
  const poisson_arrivals arrivals(5.0); // mean gap 200 ms
  CHECK(arrivals.rate_per_second() == 5.0);
  random_generator random(seed);
  std::vector<double> gaps_s;
  for (int i = 0; i < 100'000; ++i) {
    const nanoseconds gap = arrivals.next_gap(random);
    REQUIRE(gap >= 0ns);
    gaps_s.push_back(static_cast<double>(gap.count()) / 1e9);
  }
  CHECK(mean_of(gaps_s) == Approx(0.2).epsilon(0.02));
  // An exponential's standard deviation equals its mean.
  CHECK(standard_deviation_of(gaps_s) == Approx(0.2).epsilon(0.03));
}

TEST_CASE("a flash crowd yields exactly its count inside its window and sorted",
          "[distributions]") {
  const flash_crowd crowd{.start = 90s, .window = 30s, .count = 20'000};
  random_generator random(seed);
  const std::vector<nanoseconds> times = crowd.arrivals(random);
  REQUIRE(times.size() == 20'000);
  CHECK(std::is_sorted(times.begin(), times.end()));
  CHECK(times.front() >= 90s);
  CHECK(times.back() < 120s);
  // Uniform over the window: about half of the arrivals in each half.
  const auto first_half = std::count_if(times.begin(), times.end(),
                                        [](nanoseconds t) { return t < 105s; });
  CHECK(static_cast<double>(first_half) == Approx(10'000).epsilon(0.03));
}

TEST_CASE("a flash crowd of one nanosecond or of nobody", "[distributions]") {
  random_generator random(seed);
  const flash_crowd instant{.start = 5s, .window = 1ns, .count = 3};
  CHECK(instant.arrivals(random) == std::vector<nanoseconds>{5s, 5s, 5s});
  const flash_crowd nobody{.start = 5s, .window = 10s, .count = 0};
  CHECK(nobody.arrivals(random).empty());
}

// ---- duration_distribution ----

TEST_CASE("lognormal durations have their median and sigma", "[distributions]") {
  const auto distribution = duration_distribution::lognormal(8min, 1.0);
  const std::vector<double> seconds = draw_seconds(distribution, 100'000);
  CHECK(median_of(seconds) == Approx(480.0).epsilon(0.03));
  std::vector<double> logs;
  for (double value : seconds)
    logs.push_back(std::log(value));
  CHECK(mean_of(logs) == Approx(std::log(480.0)).epsilon(0.01));
  CHECK(standard_deviation_of(logs) == Approx(1.0).epsilon(0.03));
}

TEST_CASE("exponential durations have their mean", "[distributions]") {
  const std::vector<double> seconds = draw_seconds(ten_minutes_exponential, 100'000);
  CHECK(mean_of(seconds) == Approx(600.0).epsilon(0.02));
}

TEST_CASE("fixed durations are their value and draw nothing", "[distributions]") {
  const auto distribution = duration_distribution::fixed(5min);
  random_generator random(seed);
  for (int i = 0; i < 10; ++i)
    CHECK(distribution.draw(random, {}) == 5min);
  CHECK(random.next() == random_generator(seed).next());
  CHECK(distribution.draw(random, {.min = 0ns, .max = 2min}) == 2min);
  CHECK(distribution.draw(random, {.min = 6min, .max = 1h}) == 6min);
}

TEST_CASE("uniform durations cover both ends and nothing outside", "[distributions]") {
  const auto narrow = duration_distribution::uniform(10ns, 13ns);
  random_generator random(seed);
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 1000; ++i) {
    const nanoseconds drawn = narrow.draw(random, {});
    REQUIRE(drawn >= 10ns);
    REQUIRE(drawn <= 13ns);
    ++seen[static_cast<std::size_t>(drawn.count() - 10)];
  }
  CHECK(std::count(seen.begin(), seen.end(), 0) == 0);

  const auto wide = duration_distribution::uniform(1min, 21min);
  const std::vector<double> seconds = draw_seconds(wide, 100'000);
  CHECK(*std::min_element(seconds.begin(), seconds.end()) >= 60.0);
  CHECK(*std::max_element(seconds.begin(), seconds.end()) <= 1260.0);
  CHECK(mean_of(seconds) == Approx(660.0).epsilon(0.01));
  CHECK(duration_distribution::uniform(3s, 3s).draw(random, {}) == 3s);
}

TEST_CASE("every kind is clamped to the limits even at the extremes", "[distributions]") {
  const duration_limits limits{.min = 1min, .max = 20min};
  random_generator random(seed);
  for (const auto& distribution :
       {duration_distribution::exponential(10min), duration_distribution::lognormal(8min, 2.0),
        duration_distribution::uniform(0ns, 1h), duration_distribution::fixed(0ns)}) {
    for (int i = 0; i < 10'000; ++i) {
      const nanoseconds drawn = distribution.draw(random, limits);
      REQUIRE(drawn >= limits.min);
      REQUIRE(drawn <= limits.max);
    }
  }
  // The heaviest tail against the widest limits: draws beyond 2^63 ns clamp to the
  // maximum instead of overflowing.
  const auto heaviest = duration_distribution::lognormal(stakecast::sim::distribution_duration_max,
                                                          stakecast::sim::lognormal_sigma_max);
  const duration_limits widest{.min = 0ns, .max = nanoseconds::max()};
  int at_maximum = 0;
  for (int i = 0; i < 10'000; ++i) {
    const nanoseconds drawn = heaviest.draw(random, widest);
    REQUIRE(drawn >= 0ns);
    at_maximum += drawn == nanoseconds::max() ? 1 : 0;
  }
  CHECK(at_maximum > 0);
}

// ---- seek_model ----

TEST_CASE("seeks at probability 1 fall one in each minute", "[distributions]") {
  const seek_model always{1.0};
  random_generator random(seed);
  const auto seeks = always.seeks(random, 10min, 45min);
  REQUIRE(seeks.size() == 10);
  for (std::size_t minute = 0; minute < seeks.size(); ++minute) {
    INFO("minute " << minute);
    CHECK(seeks[minute].at >= std::chrono::minutes(minute));
    CHECK(seeks[minute].at < std::chrono::minutes(minute + 1));
    CHECK(seeks[minute].position >= 0ns);
    CHECK(seeks[minute].position < 45min);
  }
  CHECK(seek_model{0.0}.seeks(random, 2h, 45min).empty());
  CHECK(always.seeks(random, 0ns, 45min).empty());
}

TEST_CASE("seeks happen at their rate and land uniformly over the content", "[distributions]") {
  const seek_model sometimes{0.25};
  random_generator random(seed);
  std::size_t seek_count = 0;
  std::vector<double> positions_s;
  for (int session = 0; session < 2000; ++session) {
    // 60.5 minutes: the last half minute seeks half as often as a whole one.
    const auto seeks = sometimes.seeks(random, 60min + 30s, 90min);
    REQUIRE(std::is_sorted(seeks.begin(), seeks.end(),
                           [](const auto& a, const auto& b) { return a.at < b.at; }));
    seek_count += seeks.size();
    for (const auto& seek : seeks) {
      REQUIRE(seek.at < 60min + 30s);
      positions_s.push_back(static_cast<double>(seek.position.count()) / 1e9);
    }
  }
  CHECK(static_cast<double>(seek_count) / 2000 == Approx(0.25 * 60.5).epsilon(0.03));
  CHECK(mean_of(positions_s) == Approx(45 * 60.0).epsilon(0.02));
}

TEST_CASE("seeks stop at the bound of a session", "[distributions]") {
  random_generator random(seed);
  const auto seeks = seek_model{1.0}.seeks(random, stakecast::sim::distribution_duration_max, 1h);
  CHECK(seeks.size() == stakecast::sim::seeks_per_session_max);
}

// ---- determinism ----

TEST_CASE("equal seeds give equal draws and other seeds other draws", "[distributions]") {
  const auto draw_everything = [](std::uint64_t stream_seed) {
    random_generator random(stream_seed);
    std::vector<std::int64_t> drawn;
    const zipf_popularity zipf(1000, 0.9);
    const poisson_arrivals arrivals(2.0);
    for (int i = 0; i < 100; ++i) {
      drawn.push_back(zipf.draw(random));
      drawn.push_back(arrivals.next_gap(random).count());
      for (const auto& distribution :
           {duration_distribution::exponential(10min), duration_distribution::lognormal(8min, 1.0),
            duration_distribution::uniform(1min, 1h)})
        drawn.push_back(distribution.draw(random, {}).count());
    }
    for (nanoseconds time : flash_crowd{.start = 1s, .window = 1min, .count = 100}.arrivals(random))
      drawn.push_back(time.count());
    for (const auto& seek : seek_model{0.5}.seeks(random, 2h, 1h)) {
      drawn.push_back(seek.at.count());
      drawn.push_back(seek.position.count());
    }
    return drawn;
  };
  CHECK(draw_everything(seed) == draw_everything(seed));
  CHECK(draw_everything(seed) != draw_everything(seed + 1));
}

// ---- read_duration_distribution ----

TEST_CASE("the reader accepts each kind", "[distributions]") {
  CHECK(read_session("session: {kind: fixed, value: 5min}\n", eight_minutes_lognormal) ==
        duration_distribution::fixed(5min));
  CHECK(read_session("session: {kind: exponential, mean: 10min}\n", eight_minutes_lognormal) ==
        duration_distribution::exponential(10min));
  CHECK(read_session("session: {kind: lognormal, median: 8min, sigma: 1.0}\n",
                     ten_minutes_exponential) == duration_distribution::lognormal(8min, 1.0));
  CHECK(read_session("session:\n  kind: uniform\n  min: 1min\n  max: 20min\n",
                     eight_minutes_lognormal) == duration_distribution::uniform(1min, 20min));
}

TEST_CASE("the reader defaults an absent distribution and resolves it", "[distributions]") {
  document_reader document = document_reader::load_string("{}\n", "test.yaml");
  node_reader root = document.root();
  CHECK(read_duration_distribution(root, "session", eight_minutes_lognormal) ==
        eight_minutes_lognormal);
  document.finish();
  const YAML::Node session = document.resolved()["session"];
  CHECK(session["kind"].as<std::string>() == "lognormal");
  CHECK(session["median"].as<std::string>() == "8min");
  CHECK(session["sigma"].as<std::string>() == "1");
}

TEST_CASE("the reader defaults the keys of the default kind only", "[distributions]") {
  CHECK(read_session("session: {sigma: 2}\n", eight_minutes_lognormal) ==
        duration_distribution::lognormal(8min, 2.0));
  CHECK(read_session("session: {kind: lognormal, median: 1min}\n", eight_minutes_lognormal) ==
        duration_distribution::lognormal(1min, 1.0));
  CHECK(errors_reading("session: {kind: exponential}\n", eight_minutes_lognormal) ==
        std::vector<std::string>{"test.yaml:1:10: session.mean: required key is missing"});
}

TEST_CASE("the reader rejects an unknown kind", "[distributions]") {
  CHECK(errors_reading("session: {kind: gamma, mean: 10min}\n", ten_minutes_exponential) ==
        std::vector<std::string>{"test.yaml:1:17: session.kind: must be one of 'fixed', "
                                 "'exponential', 'lognormal' or 'uniform', got 'gamma'"});
  CHECK(errors_reading("session:\n  kind: lognormall\n", eight_minutes_lognormal) ==
        std::vector<std::string>{"test.yaml:2:9: session.kind: must be one of 'fixed', "
                                 "'exponential', 'lognormal' or 'uniform', got 'lognormall' "
                                 "(did you mean 'lognormal'?)"});
}

TEST_CASE("the reader rejects keys that the chosen kind does not use", "[distributions]") {
  CHECK(errors_reading("session: {kind: exponential, mean: 10min, sigma: 1.0}\n",
                       eight_minutes_lognormal) ==
        std::vector<std::string>{
            "test.yaml:1:43: session.sigma: key 'sigma' is not used with these settings"});
  CHECK(errors_reading("session:\n  kind: lognormal\n  medain: 8min\n", ten_minutes_exponential) ==
        std::vector<std::string>{"test.yaml:2:3: session.median: required key is missing",
                                 "test.yaml:2:3: session.sigma: required key is missing",
                                 "test.yaml:3:3: session.medain: unknown key 'medain' (did you "
                                 "mean 'median'?)"});
  CHECK(errors_reading("session: 5min\n", eight_minutes_lognormal) ==
        std::vector<std::string>{"test.yaml:1:10: session: expected a map, got '5min'"});
}

TEST_CASE("the reader rejects values out of range", "[distributions]") {
  CHECK(errors_reading("session:\n  kind: lognormal\n  median: 8min\n  sigma: 9\n",
                       ten_minutes_exponential) ==
        std::vector<std::string>{"test.yaml:4:10: session.sigma: must be between 0 and 4, got 9"});
  CHECK(errors_reading("session: {kind: exponential, mean: 0s}\n", eight_minutes_lognormal) ==
        std::vector<std::string>{
            "test.yaml:1:36: session.mean: must be between 1ns and 365d, got 0s"});
  CHECK(errors_reading("session: {kind: fixed, value: 400d}\n", eight_minutes_lognormal) ==
        std::vector<std::string>{
            "test.yaml:1:31: session.value: must be between 0s and 365d, got 400d"});
  CHECK(errors_reading("session: {kind: uniform, min: 20min, max: 1min}\n",
                       eight_minutes_lognormal) ==
        std::vector<std::string>{
            "test.yaml:1:43: session.max: must be at least min (20min), got 1min"});
}
