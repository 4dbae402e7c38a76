// Values as scenario and config files spell them: durations ("250ms", "1.5s", "2h"),
// bandwidths ("10Mbps", "1MB/s"), sizes ("16KiB", "1500B") and ratios ("5%", "0.05"),
// plus the plain scalars (booleans, integers, numbers) with the same strictness.
//
// Every `parse_*` is a pure function of its text: it returns the value, or an error
// that quotes the text and says what would have been accepted. Nothing is guessed: no
// unit means an error (except for 0 and for sizes, where a bare integer is bytes),
// negative, NaN, infinite and overflowing values are errors, and a duration or size
// that is not a whole number of nanoseconds or bytes is an error (never rounded).
// Numbers with units are written as digits with an optional fraction ("1.5"); an
// exponent ("1e6") or a sign ("+5") is not accepted. A space between number and unit
// is allowed ("10 Mbps").
//
// Every `format_*` writes the canonical spelling: for every value that `parse_*`
// accepts, parse(format(value)) == value exactly (sizes and durations as integers in
// the largest unit that divides them, "90min", "16KiB"; bandwidths in bits per second
// units, "2.5Gbps"; ratios as percentages when that is exact, "5%").
//
// Units accepted:
//   duration   ns, us (or µs), ms, s, min, h, d            ("m" is refused: ambiguous)
//   bandwidth  bps, kbps, Mbps, Gbps, Tbps                  (bits per second, SI)
//              B/s, kB/s, MB/s, GB/s, TB/s                  (bytes per second, SI)
//              KiB/s, MiB/s, GiB/s, TiB/s                   (bytes per second, binary)
//   size       B, kB, MB, GB, TB, PB (powers of 1000), KiB, MiB, GiB, TiB, PiB (1024)
//   ratio      a plain number ("0.05") or a percentage ("5%")
// "KB" and "Kbps" are refused on purpose: "KB" means 1000 to some and 1024 to others.
//
// Thread-safe: no state.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stakecast::config {

/// Bits per second. A strong type so a bandwidth is never mistaken for a count.
struct bandwidth_bps {
  double value = 0;
  auto operator<=>(const bandwidth_bps&) const = default;
};

/// A number of bytes.
struct size_bytes {
  std::uint64_t value = 0;
  auto operator<=>(const size_bytes&) const = default;
};

/// A fraction: 0.05 is 5%. Usually in [0, 1]; the reader enforces that by default.
struct ratio {
  double value = 0;
  auto operator<=>(const ratio&) const = default;
};

/// The outcome of parsing one value: the value, or why not (a complete sentence
/// fragment that quotes the input, e.g. "duration '250' needs a unit: ns, us, ...").
template <class T>
struct parse_result {
  std::optional<T> value;
  std::string error;

  static parse_result success(T parsed) { return {std::move(parsed), {}}; }
  static parse_result failure(std::string why) { return {std::nullopt, std::move(why)}; }
  explicit operator bool() const noexcept { return value.has_value(); }
};

parse_result<std::chrono::nanoseconds> parse_duration(std::string_view text);
parse_result<bandwidth_bps> parse_bandwidth(std::string_view text);
parse_result<size_bytes> parse_size(std::string_view text);
parse_result<ratio> parse_ratio(std::string_view text);

/// "true" or "false", nothing else (not "yes", "on", "1": YAML 1.1's many spellings
/// of a boolean are a classic source of surprises).
parse_result<bool> parse_bool(std::string_view text);
/// A decimal integer with an optional leading '-', no '+', no exponent, no hex.
parse_result<std::int64_t> parse_int64(std::string_view text);
/// A decimal integer without sign.
parse_result<std::uint64_t> parse_uint64(std::string_view text);
/// A finite number in any form std::from_chars reads ("1.5", "-2", "1e6").
parse_result<double> parse_double(std::string_view text);

/// Canonical spellings. Total functions: values that parse_* never returns (negative
/// durations, NaN bandwidths...) are still written, but will not parse back.
std::string format_duration(std::chrono::nanoseconds duration);
std::string format_bandwidth(bandwidth_bps bandwidth);
std::string format_size(size_bytes size);
std::string format_ratio(ratio fraction);
std::string format_bool(bool value);
/// The shortest text that parse_double reads back as exactly `value`.
std::string format_double(double value);

/// `text` in single quotes for an error message, cut after 60 characters ("...") and
/// with line breaks and tabs shown as \n and \t.
std::string in_quotes(std::string_view text);

} // namespace stakecast::config
