#include "actors/config/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <system_error>

#include <fmt/format.h>

namespace stakecast::config {
namespace {

// Quoted input in error messages is cut here, so a garbage value cannot flood them.
constexpr std::size_t quoted_chars_max = 60;
// Holds any double in fixed notation: 309 integer digits, or "0." and 324 more.
constexpr std::size_t fixed_chars_max = 512;

struct exact_unit {
  std::string_view name;
  std::uint64_t factor;
};

struct real_unit {
  std::string_view name;
  double factor;
};

constexpr std::uint64_t ns_per_second = 1'000'000'000;
constexpr std::uint64_t kib = std::uint64_t{1} << 10;
constexpr std::uint64_t mib = std::uint64_t{1} << 20;
constexpr std::uint64_t gib = std::uint64_t{1} << 30;
constexpr std::uint64_t tib = std::uint64_t{1} << 40;
constexpr std::uint64_t pib = std::uint64_t{1} << 50;

// Largest first: format_* picks the first unit that fits.
constexpr std::array duration_units = {
    exact_unit{"d", 86'400 * ns_per_second},
    exact_unit{"h", 3'600 * ns_per_second},
    exact_unit{"min", 60 * ns_per_second},
    exact_unit{"s", ns_per_second},
    exact_unit{"ms", 1'000'000},
    exact_unit{"us", 1'000},
    exact_unit{"µs", 1'000},
    exact_unit{"ns", 1},
};

constexpr std::array size_units = {
    exact_unit{"PiB", pib}, exact_unit{"PB", 1'000'000'000'000'000},
    exact_unit{"TiB", tib}, exact_unit{"TB", 1'000'000'000'000},
    exact_unit{"GiB", gib}, exact_unit{"GB", 1'000'000'000},
    exact_unit{"MiB", mib}, exact_unit{"MB", 1'000'000},
    exact_unit{"KiB", kib}, exact_unit{"kB", 1'000},
    exact_unit{"B", 1},
};

// The bits-per-second units come first and are the only ones format_bandwidth writes.
constexpr std::array bandwidth_units = {
    real_unit{"Tbps", 1e12},       real_unit{"Gbps", 1e9},        real_unit{"Mbps", 1e6},
    real_unit{"kbps", 1e3},        real_unit{"bps", 1},           real_unit{"TB/s", 8e12},
    real_unit{"GB/s", 8e9},        real_unit{"MB/s", 8e6},        real_unit{"kB/s", 8e3},
    real_unit{"B/s", 8},           real_unit{"TiB/s", 8.0 * tib}, real_unit{"GiB/s", 8.0 * gib},
    real_unit{"MiB/s", 8.0 * mib}, real_unit{"KiB/s", 8.0 * kib},
};
constexpr std::size_t bandwidth_bit_units = 5;

// What the messages of one exactly-counted quantity (durations, sizes) say.
struct exact_quantity {
  std::string_view name;
  std::string_view example;
  std::span<const exact_unit> units;
  std::string_view unit_list;
  std::string_view too_precise;
  std::uint64_t max;
  std::string_view max_text;
  bool bare_number_is_finest_unit;
};

constexpr exact_quantity duration_quantity{
    "duration",          "250ms",
    duration_units,      "ns, us, ms, s, min, h or d",
    "is finer than 1ns", static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
    "about 292 years",   false,
};

constexpr exact_quantity size_quantity{
    "size",
    "16KiB",
    size_units,
    "B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB or PiB",
    "is not a whole number of bytes",
    std::numeric_limits<std::uint64_t>::max(),
    "16EiB",
    true,
};

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

struct number_and_unit {
  std::string_view number;
  std::string_view unit;
};

// Splits "1.5ms" or "1.5 ms" into "1.5" and "ms". The number must be digits with an
// optional fraction; returns nullopt otherwise.
std::optional<number_and_unit> split_number(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() && is_digit(text[end]))
    ++end;
  if (end == 0)
    return std::nullopt;
  if (end < text.size() && text[end] == '.') {
    const std::size_t fraction_start = ++end;
    while (end < text.size() && is_digit(text[end]))
      ++end;
    if (end == fraction_start)
      return std::nullopt;
  }
  std::string_view unit = text.substr(end);
  if (!unit.empty() && unit.front() == ' ') {
    unit.remove_prefix(1);
    if (unit.empty())
      return std::nullopt;
  }
  return number_and_unit{text.substr(0, end), unit};
}

// mantissa / 10^scale, exactly.
struct decimal {
  std::uint64_t mantissa = 0;
  unsigned scale = 0;
};

bool push_digit(std::uint64_t& value, char digit) noexcept {
  return !__builtin_mul_overflow(value, 10u, &value) &&
         !__builtin_add_overflow(value, static_cast<unsigned>(digit - '0'), &value);
}

// REQUIRES: `number` came from split_number. Nullopt when it has too many digits.
std::optional<decimal> to_decimal(std::string_view number) {
  const std::size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : number.substr(dot + 1);
  while (!fraction.empty() && fraction.back() == '0')
    fraction.remove_suffix(1);
  decimal result;
  for (char digit : whole)
    if (!push_digit(result.mantissa, digit))
      return std::nullopt;
  for (char digit : fraction) {
    if (!push_digit(result.mantissa, digit))
      return std::nullopt;
    ++result.scale;
  }
  return result;
}

enum class scaling { exact, too_precise, too_large };

struct scaled {
  scaling outcome;
  std::uint64_t value;
};

// number * factor as an integer, if it is one and fits in 64 bits.
scaled scale(decimal number, std::uint64_t factor) {
  constexpr unsigned uint64_digits_max = 19;
  if (number.scale > uint64_digits_max)
    return {scaling::too_precise, 0};
  std::uint64_t power = 1;
  for (unsigned i = 0; i < number.scale; ++i)
    power *= 10;
  const std::uint64_t common = std::gcd(factor, power);
  const std::uint64_t denominator = power / common;
  if (number.mantissa % denominator != 0)
    return {scaling::too_precise, 0};
  std::uint64_t value = 0;
  if (__builtin_mul_overflow(number.mantissa / denominator, factor / common, &value))
    return {scaling::too_large, 0};
  return {scaling::exact, value};
}

template <class Units>
auto find_unit(const Units& units, std::string_view name) -> const typename Units::value_type* {
  for (const auto& unit : units)
    if (unit.name == name)
      return &unit;
  return nullptr;
}

std::string expected(const exact_quantity& quantity, std::string_view text) {
  return fmt::format("expected a {} like {}, got {}", quantity.name, quantity.example,
                     in_quotes(text));
}

// The factor that the unit of `parts` stands for, or why there is none.
parse_result<std::uint64_t> exact_factor(const exact_quantity& quantity, std::string_view text,
                                         number_and_unit parts, decimal number) {
  using result = parse_result<std::uint64_t>;
  if (parts.unit.empty() && quantity.bare_number_is_finest_unit)
    return result::success(1);
  if (parts.unit.empty() && number.mantissa == 0)
    return result::success(1);
  if (parts.unit.empty())
    return result::failure(
        fmt::format("{} {} needs a unit: {}", quantity.name, in_quotes(text), quantity.unit_list));
  const exact_unit* unit = find_unit(quantity.units, parts.unit);
  if (unit == nullptr)
    return result::failure(fmt::format("{} {} has an unknown unit {}; use {}", quantity.name,
                                       in_quotes(text), in_quotes(parts.unit), quantity.unit_list));
  return result::success(unit->factor);
}

parse_result<std::uint64_t> parse_exact(const exact_quantity& quantity, std::string_view text) {
  using result = parse_result<std::uint64_t>;
  if (text.starts_with('-'))
    return result::failure(
        fmt::format("a {} must not be negative, got {}", quantity.name, in_quotes(text)));
  const std::optional<number_and_unit> parts = split_number(text);
  if (!parts)
    return result::failure(expected(quantity, text));
  const std::optional<decimal> number = to_decimal(parts->number);
  if (!number)
    return result::failure(
        fmt::format("{} {} has too many digits", quantity.name, in_quotes(text)));
  const result factor = exact_factor(quantity, text, *parts, *number);
  if (!factor)
    return factor;
  const scaled value = scale(*number, *factor.value);
  if (value.outcome == scaling::too_precise)
    return result::failure(
        fmt::format("{} {} {}", quantity.name, in_quotes(text), quantity.too_precise));
  if (value.outcome == scaling::too_large || value.value > quantity.max)
    return result::failure(fmt::format("{} {} is too large (at most {})", quantity.name,
                                       in_quotes(text), quantity.max_text));
  return result::success(value.value);
}

// `value` in the largest unit that divides it: "90min", "16KiB". Zero in `zero_unit`.
std::string format_exact(std::uint64_t value, std::span<const exact_unit> units,
                         std::string_view zero_unit) {
  if (value == 0)
    return fmt::format("0{}", zero_unit);
  for (const exact_unit& unit : units)
    if (value % unit.factor == 0)
      return fmt::format("{}{}", value / unit.factor, unit.name);
  return fmt::format("{}", value); // unreachable: every unit list ends with factor 1
}

// The digits of a number with units, read as a double. REQUIRES: from split_number.
parse_result<double> real_number(std::string_view number, std::string_view name,
                                 std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value,
                                            std::chars_format::fixed);
  if (error != std::errc{} || end != number.data() + number.size() || !std::isfinite(value))
    return parse_result<double>::failure(
        fmt::format("{} {} is out of range", name, in_quotes(text)));
  return parse_result<double>::success(value);
}

std::string shortest_fixed(double value) {
  std::array<char, fixed_chars_max> buffer{};
  const auto [end, error] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (error != std::errc{})
    return format_double(value);
  return std::string(buffer.data(), end);
}

constexpr std::string_view bandwidth_unit_list =
    "bps, kbps, Mbps, Gbps, Tbps, B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s or TiB/s";

parse_result<double> bandwidth_factor(std::string_view text, number_and_unit parts, double number) {
  using result = parse_result<double>;
  if (parts.unit.empty() && number == 0)
    return result::success(1);
  if (parts.unit.empty())
    return result::failure(
        fmt::format("bandwidth {} needs a unit: {}", in_quotes(text), bandwidth_unit_list));
  const real_unit* unit = find_unit(bandwidth_units, parts.unit);
  if (unit == nullptr)
    return result::failure(fmt::format("bandwidth {} has an unknown unit {}; use {}",
                                       in_quotes(text), in_quotes(parts.unit),
                                       bandwidth_unit_list));
  return result::success(unit->factor);
}

} // namespace

parse_result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  using result = parse_result<std::chrono::nanoseconds>;
  const parse_result<std::uint64_t> count = parse_exact(duration_quantity, text);
  if (!count)
    return result::failure(count.error);
  return result::success(std::chrono::nanoseconds{static_cast<std::int64_t>(*count.value)});
}

parse_result<size_bytes> parse_size(std::string_view text) {
  using result = parse_result<size_bytes>;
  const parse_result<std::uint64_t> count = parse_exact(size_quantity, text);
  if (!count)
    return result::failure(count.error);
  return result::success(size_bytes{*count.value});
}

parse_result<bandwidth_bps> parse_bandwidth(std::string_view text) {
  using result = parse_result<bandwidth_bps>;
  if (text.starts_with('-'))
    return result::failure(
        fmt::format("a bandwidth must not be negative, got {}", in_quotes(text)));
  const std::optional<number_and_unit> parts = split_number(text);
  if (!parts)
    return result::failure(
        fmt::format("expected a bandwidth like 10Mbps, got {}", in_quotes(text)));
  const parse_result<double> number = real_number(parts->number, "bandwidth", text);
  if (!number)
    return result::failure(number.error);
  const parse_result<double> factor = bandwidth_factor(text, *parts, *number.value);
  if (!factor)
    return result::failure(factor.error);
  const double value = *number.value * *factor.value;
  if (!std::isfinite(value))
    return result::failure(fmt::format("bandwidth {} is out of range", in_quotes(text)));
  return result::success(bandwidth_bps{value});
}

parse_result<ratio> parse_ratio(std::string_view text) {
  using result = parse_result<ratio>;
  if (text.starts_with('-'))
    return result::failure(fmt::format("a ratio must not be negative, got {}", in_quotes(text)));
  const std::optional<number_and_unit> parts = split_number(text);
  if (!parts)
    return result::failure(
        fmt::format("expected a ratio like 5% or 0.05, got {}", in_quotes(text)));
  const parse_result<double> number = real_number(parts->number, "ratio", text);
  if (!number)
    return result::failure(number.error);
  if (parts->unit.empty())
    return result::success(ratio{*number.value});
  if (parts->unit == "%")
    return result::success(ratio{*number.value / 100});
  return result::failure(fmt::format(
      "ratio {} has an unknown unit {}; write a fraction like 0.05 or a percentage like 5%",
      in_quotes(text), in_quotes(parts->unit)));
}

parse_result<bool> parse_bool(std::string_view text) {
  if (text == "true")
    return parse_result<bool>::success(true);
  if (text == "false")
    return parse_result<bool>::success(false);
  return parse_result<bool>::failure(
      fmt::format("expected true or false, got {}", in_quotes(text)));
}

parse_result<std::int64_t> parse_int64(std::string_view text) {
  using result = parse_result<std::int64_t>;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range)
    return result::failure(fmt::format("integer {} does not fit in 64 bits", in_quotes(text)));
  if (error != std::errc{} || end != text.data() + text.size())
    return result::failure(fmt::format("expected an integer, got {}", in_quotes(text)));
  return result::success(value);
}

parse_result<std::uint64_t> parse_uint64(std::string_view text) {
  using result = parse_result<std::uint64_t>;
  if (text.starts_with('-'))
    return result::failure(fmt::format("expected a non-negative integer, got {}", in_quotes(text)));
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range)
    return result::failure(fmt::format("integer {} does not fit in 64 bits", in_quotes(text)));
  if (error != std::errc{} || end != text.data() + text.size())
    return result::failure(fmt::format("expected a non-negative integer, got {}", in_quotes(text)));
  return result::success(value);
}

parse_result<double> parse_double(std::string_view text) {
  using result = parse_result<double>;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range)
    return result::failure(fmt::format("number {} is out of range", in_quotes(text)));
  if (error != std::errc{} || end != text.data() + text.size())
    return result::failure(fmt::format("expected a number, got {}", in_quotes(text)));
  if (!std::isfinite(value))
    return result::failure(fmt::format("expected a finite number, got {}", in_quotes(text)));
  return result::success(value);
}

std::string format_duration(std::chrono::nanoseconds duration) {
  const std::int64_t count = duration.count();
  if (count >= 0)
    return format_exact(static_cast<std::uint64_t>(count), duration_units, "s");
  // Negated as unsigned so that the smallest int64 does not overflow.
  const std::uint64_t magnitude = 0 - static_cast<std::uint64_t>(count);
  return "-" + format_exact(magnitude, duration_units, "s");
}

std::string format_size(size_bytes size) { return format_exact(size.value, size_units, "B"); }

std::string format_bandwidth(bandwidth_bps bandwidth) {
  const double value = bandwidth.value;
  if (value == 0)
    return "0bps";
  for (std::size_t i = 0; i + 1 < bandwidth_bit_units; ++i) {
    const real_unit& unit = bandwidth_units[i];
    if (!(value >= unit.factor))
      continue;
    std::string text = shortest_fixed(value / unit.factor) + std::string(unit.name);
    const parse_result<bandwidth_bps> back = parse_bandwidth(text);
    if (back && back.value->value == value)
      return text;
  }
  return shortest_fixed(value) + "bps";
}

std::string format_ratio(ratio fraction) {
  const double value = fraction.value;
  if (value == 0)
    return "0%";
  std::string percent = shortest_fixed(value * 100) + "%";
  const parse_result<ratio> back = parse_ratio(percent);
  if (back && back.value->value == value)
    return percent;
  return shortest_fixed(value);
}

std::string in_quotes(std::string_view text) {
  std::string shown = "'";
  for (char c : text.substr(0, quoted_chars_max)) {
    if (c == '\n')
      shown += "\\n";
    else if (c == '\t')
      shown += "\\t";
    else
      shown += c;
  }
  if (text.size() > quoted_chars_max)
    shown += "...";
  return shown + "'";
}

std::string format_bool(bool value) { return value ? "true" : "false"; }

std::string format_double(double value) {
  std::array<char, fixed_chars_max> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  if (error != std::errc{})
    return "nan"; // unreachable: the shortest form of any double fits in the buffer
  return std::string(buffer.data(), end);
}

} // namespace stakecast::config
