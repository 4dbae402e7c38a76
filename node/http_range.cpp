#include "node/http_range.hpp"

#include <limits>
#include <optional>

namespace stakecast::node {

namespace {

constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool is_bytes_unit(std::string_view unit) noexcept {
  constexpr std::string_view bytes = "bytes";
  if (unit.size() != bytes.size())
    return false;
  for (std::size_t i = 0; i < unit.size(); ++i) {
    const char lower =
        (unit[i] >= 'A' && unit[i] <= 'Z') ? static_cast<char>(unit[i] - 'A' + 'a') : unit[i];
    if (lower != bytes[i])
      return false;
  }
  return true;
}

/// One or more decimal digits and nothing else; saturates at 2^64-1.
std::optional<std::uint64_t> parse_number(std::string_view digits) noexcept {
  if (digits.empty())
    return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (saturated - digit) / 10 ? saturated : value * 10 + digit;
  }
  return value;
}

/// One range-spec: `a-b`, `a-` or `-n`. nullopt when malformed; otherwise the served
/// interval, whose length is 0 when the spec does not overlap the resource.
std::optional<served_range> resolve_spec(std::string_view spec, std::uint64_t size) noexcept {
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos)
    return std::nullopt;
  const std::string_view before = spec.substr(0, dash);
  const std::string_view after = spec.substr(dash + 1);
  if (before.empty()) { // suffix: the last n bytes
    const auto suffix = parse_number(after);
    if (!suffix)
      return std::nullopt;
    const std::uint64_t length = *suffix < size ? *suffix : size;
    return served_range{range_kind::partial, size - length, length};
  }
  const auto first = parse_number(before);
  if (!first)
    return std::nullopt;
  std::uint64_t last = saturated;
  if (!after.empty()) {
    const auto parsed = parse_number(after);
    if (!parsed || *parsed < *first)
      return std::nullopt;
    last = *parsed;
  }
  if (*first >= size)
    return served_range{range_kind::partial, 0, 0};
  const std::uint64_t end = last < size - 1 ? last + 1 : size; // one past the last byte
  return served_range{range_kind::partial, *first, end - *first};
}

} // namespace

served_range resolve_range(std::string_view header, std::uint64_t size_bytes) noexcept {
  const served_range whole{range_kind::whole, 0, size_bytes};
  header = trim(header);
  if (header.empty())
    return whole;
  const auto equals = header.find('=');
  if (equals == std::string_view::npos || !is_bytes_unit(trim(header.substr(0, equals))))
    return whole;
  std::string_view set = header.substr(equals + 1);
  std::optional<served_range> chosen;
  bool any_spec = false;
  // Every spec is checked, so that a header malformed anywhere is ignored as a whole.
  while (true) {
    const auto comma = set.find(',');
    const std::string_view spec = trim(set.substr(0, comma));
    if (!spec.empty()) { // RFC 9110 5.6.1: empty list elements are allowed and skipped
      const auto resolved = resolve_spec(spec, size_bytes);
      if (!resolved)
        return whole;
      any_spec = true;
      if (!chosen && resolved->length_bytes > 0)
        chosen = resolved;
    }
    if (comma == std::string_view::npos)
      break;
    set.remove_prefix(comma + 1);
  }
  if (!any_spec)
    return whole;
  if (!chosen)
    return served_range{range_kind::unsatisfiable, 0, 0};
  return *chosen;
}

} // namespace stakecast::node
