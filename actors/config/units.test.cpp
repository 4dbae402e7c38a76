// Pins down how values with units are spelled in scenario files (units.hpp): every
// accepted form against its exact value, every rejection against the reason given,
// and format -> parse round trips over fixed and seeded-random values.
#include "actors/config/units.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using stakecast::config::bandwidth_bps;
using stakecast::config::ratio;
using stakecast::config::size_bytes;
namespace units = stakecast::config;

namespace {

// The error message of a parse that must fail.
template <class Result>
std::string error_of(const Result& result) {
  REQUIRE_FALSE(result);
  return result.error;
}

std::chrono::nanoseconds duration_of(std::string_view text) {
  const auto result = units::parse_duration(text);
  INFO(text << ": " << result.error);
  REQUIRE(result);
  return *result.value;
}

double bandwidth_of(std::string_view text) {
  const auto result = units::parse_bandwidth(text);
  INFO(text << ": " << result.error);
  REQUIRE(result);
  return result.value->value;
}

std::uint64_t size_of(std::string_view text) {
  const auto result = units::parse_size(text);
  INFO(text << ": " << result.error);
  REQUIRE(result);
  return result.value->value;
}

double ratio_of(std::string_view text) {
  const auto result = units::parse_ratio(text);
  INFO(text << ": " << result.error);
  REQUIRE(result);
  return result.value->value;
}

} // namespace

TEST_CASE("durations in every unit", "[units]") {
  CHECK(duration_of("100ns") == 100ns);
  CHECK(duration_of("30us") == 30us);
  CHECK(duration_of("30µs") == 30us);
  CHECK(duration_of("250ms") == 250ms);
  CHECK(duration_of("1.5s") == 1500ms);
  CHECK(duration_of("10min") == 10min);
  CHECK(duration_of("2h") == 2h);
  CHECK(duration_of("1d") == 24h);
  CHECK(duration_of("0.25ms") == 250us);
  CHECK(duration_of("1.000000000s") == 1s);
  CHECK(duration_of("250 ms") == 250ms);
  CHECK(duration_of("0") == 0ns);
  CHECK(duration_of("0.0") == 0ns);
  CHECK(duration_of("0s") == 0ns);
  CHECK(duration_of("9223372036.854775807s").count() == std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("durations that are refused and why", "[units]") {
  CHECK_THAT(error_of(units::parse_duration("250")), Catch::Contains("needs a unit"));
  CHECK_THAT(error_of(units::parse_duration("5m")), Catch::Contains("unknown unit 'm'"));
  CHECK_THAT(error_of(units::parse_duration("-5s")), Catch::Contains("must not be negative"));
  CHECK_THAT(error_of(units::parse_duration("abc")),
             Catch::Equals("expected a duration like 250ms, got 'abc'"));
  CHECK_THAT(error_of(units::parse_duration("")), Catch::Contains("got ''"));
  CHECK_THAT(error_of(units::parse_duration("1.5ns")), Catch::Contains("finer than 1ns"));
  CHECK_THAT(error_of(units::parse_duration("9223372036.854775808s")), Catch::Contains("too large"));
  CHECK_THAT(error_of(units::parse_duration("1000000d")), Catch::Contains("too large"));
  CHECK_THAT(error_of(units::parse_duration("99999999999999999999999s")),
             Catch::Contains("too many digits"));
  for (const char* text : {"+5s", "5 s ", "5  s", "1e3ms", ".5s", "5.s", "5ss", "nan", "inf",
                           "0x10s", "1,5s", "s", "5 ", " 5s"})
    CHECK_FALSE(units::parse_duration(text));
}

TEST_CASE("durations are written in the largest unit that divides them", "[units]") {
  CHECK(units::format_duration(0ns) == "0s");
  CHECK(units::format_duration(1500ms) == "1500ms");
  CHECK(units::format_duration(2h) == "2h");
  CHECK(units::format_duration(90min) == "90min");
  CHECK(units::format_duration(48h) == "2d");
  CHECK(units::format_duration(30us) == "30us");
  CHECK(units::format_duration(1001ns) == "1001ns");
  CHECK(units::format_duration(-5s) == "-5s");
}

TEST_CASE("bandwidths in bits and in bytes per second", "[units]") {
  CHECK(bandwidth_of("800bps") == 800);
  CHECK(bandwidth_of("500kbps") == 500e3);
  CHECK(bandwidth_of("10Mbps") == 10e6);
  CHECK(bandwidth_of("2.5Gbps") == 2.5e9);
  CHECK(bandwidth_of("1Tbps") == 1e12);
  CHECK(bandwidth_of("1B/s") == 8);
  CHECK(bandwidth_of("1kB/s") == 8e3);
  CHECK(bandwidth_of("1MB/s") == 8e6);
  CHECK(bandwidth_of("1GB/s") == 8e9);
  CHECK(bandwidth_of("1KiB/s") == 8 * 1024);
  CHECK(bandwidth_of("1MiB/s") == 8 * 1024 * 1024);
  CHECK(bandwidth_of("1GiB/s") == 8.0 * 1024 * 1024 * 1024);
  CHECK(bandwidth_of("10 Mbps") == 10e6);
  CHECK(bandwidth_of("0") == 0);
}

TEST_CASE("bandwidths that are refused and why", "[units]") {
  CHECK_THAT(error_of(units::parse_bandwidth("10")), Catch::Contains("needs a unit"));
  CHECK_THAT(error_of(units::parse_bandwidth("10Kbps")), Catch::Contains("unknown unit 'Kbps'"));
  CHECK_THAT(error_of(units::parse_bandwidth("10MBps")), Catch::Contains("unknown unit"));
  CHECK_THAT(error_of(units::parse_bandwidth("-1Mbps")), Catch::Contains("must not be negative"));
  CHECK_THAT(error_of(units::parse_bandwidth("fast")),
             Catch::Equals("expected a bandwidth like 10Mbps, got 'fast'"));
  CHECK_THAT(error_of(units::parse_bandwidth(std::string(400, '9') + "Tbps")),
             Catch::Contains("out of range"));
  for (const char* text : {"nan", "inf", "infbps", "1e6bps", "+1Mbps", ".5Mbps", "Mbps"})
    CHECK_FALSE(units::parse_bandwidth(text));
}

TEST_CASE("bandwidths are written in bits per second units", "[units]") {
  CHECK(units::format_bandwidth(bandwidth_bps{0}) == "0bps");
  CHECK(units::format_bandwidth(bandwidth_bps{10e6}) == "10Mbps");
  CHECK(units::format_bandwidth(bandwidth_bps{2.5e9}) == "2.5Gbps");
  CHECK(units::format_bandwidth(bandwidth_bps{8e6}) == "8Mbps");
  CHECK(units::format_bandwidth(bandwidth_bps{500}) == "500bps");
  CHECK(units::format_bandwidth(bandwidth_bps{1500}) == "1.5kbps");
}

TEST_CASE("sizes in decimal and binary units and bare integers in bytes", "[units]") {
  CHECK(size_of("1500B") == 1500);
  CHECK(size_of("1500") == 1500);
  CHECK(size_of("16KiB") == 16 * 1024);
  CHECK(size_of("4MiB") == 4 * 1024 * 1024);
  CHECK(size_of("1GiB") == 1024ull * 1024 * 1024);
  CHECK(size_of("1TiB") == 1024ull * 1024 * 1024 * 1024);
  CHECK(size_of("1kB") == 1000);
  CHECK(size_of("1MB") == 1'000'000);
  CHECK(size_of("1GB") == 1'000'000'000);
  CHECK(size_of("1.5KiB") == 1536);
  CHECK(size_of("0.25KiB") == 256);
  CHECK(size_of("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("sizes that are refused and why", "[units]") {
  CHECK_THAT(error_of(units::parse_size("1.5B")), Catch::Contains("not a whole number of bytes"));
  CHECK_THAT(error_of(units::parse_size("1.3KiB")), Catch::Contains("not a whole number"));
  CHECK_THAT(error_of(units::parse_size("16KB")), Catch::Contains("unknown unit 'KB'"));
  CHECK_THAT(error_of(units::parse_size("-1B")), Catch::Contains("must not be negative"));
  CHECK_THAT(error_of(units::parse_size("16384PiB")), Catch::Contains("too large"));
  CHECK_THAT(error_of(units::parse_size("18446744073709551616")), Catch::Contains("too many digits"));
  CHECK_THAT(error_of(units::parse_size("big")),
             Catch::Equals("expected a size like 16KiB, got 'big'"));
}

TEST_CASE("sizes are written in the largest unit that divides them", "[units]") {
  CHECK(units::format_size(size_bytes{0}) == "0B");
  CHECK(units::format_size(size_bytes{1500}) == "1500B");
  CHECK(units::format_size(size_bytes{16384}) == "16KiB");
  CHECK(units::format_size(size_bytes{1'000'000}) == "1MB");
  CHECK(units::format_size(size_bytes{1 << 20}) == "1MiB");
  CHECK(units::format_size(size_bytes{2000}) == "2kB");
}

TEST_CASE("ratios as fractions and percentages", "[units]") {
  CHECK(ratio_of("5%") == 0.05);
  CHECK(ratio_of("0.05") == 0.05);
  CHECK(ratio_of("100%") == 1.0);
  CHECK(ratio_of("0") == 0.0);
  CHECK(ratio_of("1") == 1.0);
  CHECK(ratio_of("12.5 %") == 0.125);
  CHECK(ratio_of("150%") == 1.5); // the reader bounds ratios to [0, 1] by default

  CHECK_THAT(error_of(units::parse_ratio("-5%")), Catch::Contains("must not be negative"));
  CHECK_THAT(error_of(units::parse_ratio("5%%")), Catch::Contains("unknown unit"));
  CHECK_THAT(error_of(units::parse_ratio("half")),
             Catch::Equals("expected a ratio like 5% or 0.05, got 'half'"));
  for (const char* text : {"nan", "inf", ".5", "5e-2", "%", "5 percent"})
    CHECK_FALSE(units::parse_ratio(text));

  CHECK(units::format_ratio(ratio{0.05}) == "5%");
  CHECK(units::format_ratio(ratio{0}) == "0%");
  CHECK(units::format_ratio(ratio{1}) == "100%");
  CHECK(units::format_ratio(ratio{0.125}) == "12.5%");
}

TEST_CASE("plain scalars are strict", "[units]") {
  CHECK(*units::parse_bool("true").value);
  CHECK_FALSE(*units::parse_bool("false").value);
  for (const char* text : {"yes", "no", "on", "True", "1", ""})
    CHECK_THAT(error_of(units::parse_bool(text)), Catch::StartsWith("expected true or false"));

  CHECK(*units::parse_int64("-42").value == -42);
  CHECK(*units::parse_uint64("42").value == 42);
  CHECK_THAT(error_of(units::parse_uint64("-1")), Catch::Contains("non-negative"));
  CHECK_THAT(error_of(units::parse_int64("99999999999999999999")), Catch::Contains("64 bits"));
  for (const char* text : {"1.0", "0x10", "+1", "1e3", "1_000", " 1", ""})
    CHECK_FALSE(units::parse_int64(text));

  CHECK(*units::parse_double("1.5").value == 1.5);
  CHECK(*units::parse_double("-2e3").value == -2000);
  for (const char* text : {"nan", "inf", ".inf", "-inf", "1e999", "abc", ""})
    CHECK_FALSE(units::parse_double(text));
}

TEST_CASE("error messages quote at most 60 characters of the input", "[units]") {
  const std::string message = error_of(units::parse_duration(std::string(1000, 'x')));
  CHECK(message.size() < 150);
  CHECK_THAT(message, Catch::EndsWith("...'"));
  CHECK_THAT(error_of(units::parse_duration("a\nb")), Catch::Contains("'a\\nb'"));
}

TEST_CASE("format then parse gives the same value back", "[units]") {
  std::mt19937_64 random(20240601); // seeded: a failure replays
  std::uniform_int_distribution<std::int64_t> nanoseconds(0,
                                                          std::numeric_limits<std::int64_t>::max());
  std::uniform_int_distribution<std::uint64_t> bytes;
  std::uniform_real_distribution<double> unit_interval(0, 1);
  std::uniform_int_distribution<int> exponent(-30, 60);

  const auto round_trip_duration = [](std::chrono::nanoseconds value) {
    INFO(units::format_duration(value));
    CHECK(duration_of(units::format_duration(value)) == value);
  };
  const auto round_trip_size = [](std::uint64_t value) {
    INFO(units::format_size(size_bytes{value}));
    CHECK(size_of(units::format_size(size_bytes{value})) == value);
  };
  const auto round_trip_bandwidth = [](double value) {
    INFO(units::format_bandwidth(bandwidth_bps{value}));
    CHECK(bandwidth_of(units::format_bandwidth(bandwidth_bps{value})) == value);
  };
  const auto round_trip_ratio = [](double value) {
    INFO(units::format_ratio(ratio{value}));
    CHECK(ratio_of(units::format_ratio(ratio{value})) == value);
  };

  for (std::int64_t value :
       {std::int64_t{0}, std::int64_t{1}, std::numeric_limits<std::int64_t>::max()})
    round_trip_duration(std::chrono::nanoseconds{value});
  for (std::uint64_t value :
       {std::uint64_t{0}, std::uint64_t{1}, std::numeric_limits<std::uint64_t>::max()})
    round_trip_size(value);
  for (double value :
       {0.0, 1.0, 1234567.891, 1e-300, 3.3e15, 1e300, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::denorm_min()}) {
    round_trip_bandwidth(value);
    round_trip_ratio(value);
  }
  for (double value : {0.1, 0.2, 0.3, 1.0 / 3, 0.07, 0.0001, 0.999999})
    round_trip_ratio(value);

  for (int i = 0; i < 2000; ++i) {
    round_trip_duration(std::chrono::nanoseconds{nanoseconds(random) >> (random() % 64)});
    round_trip_size(bytes(random) >> (random() % 64));
    const double scaled = unit_interval(random) * std::pow(10.0, exponent(random));
    round_trip_bandwidth(scaled);
    round_trip_ratio(scaled);
    round_trip_ratio(unit_interval(random));
    round_trip_bandwidth(std::round(unit_interval(random) * 1e4) * 1e6);
  }
}
