// Amounts of the chain's token: integer micro-units in a u64, and fractions as parts
// per million (ppm). Every sum, difference and product that user input can reach is
// checked: an overflow or a negative result is a `nullopt` the caller turns into a
// rejection, never undefined behaviour. Products of an amount and a fraction, or of
// two amounts, are formed in 128 bits and floored, so rounding is the same on every
// platform and never creates tokens.
//
// Pure constexpr functions, safe from any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

namespace stakecast::rules {

/// Micro-units of the token: 1 token = 1'000'000 micro-units.
using amount = std::uint64_t;
/// Parts per million: 0 ..= ppm_one.
using ppm = std::uint32_t;

inline constexpr amount micro_per_token = 1'000'000;
inline constexpr ppm ppm_one = 1'000'000;

// __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit integer.
__extension__ using uint128 = unsigned __int128;

constexpr std::optional<amount> checked_add(amount a, amount b) noexcept {
  amount sum = 0;
  if (__builtin_add_overflow(a, b, &sum))
    return std::nullopt;
  return sum;
}

constexpr std::optional<amount> checked_sub(amount a, amount b) noexcept {
  if (b > a)
    return std::nullopt;
  return a - b;
}

constexpr std::optional<amount> checked_mul(amount a, std::uint64_t b) noexcept {
  amount product = 0;
  if (__builtin_mul_overflow(a, b, &product))
    return std::nullopt;
  return product;
}

/// floor(a * b / c) in 128 bits; nullopt when c == 0 or the result exceeds a u64.
constexpr std::optional<amount> mul_div(std::uint64_t a, std::uint64_t b,
                                        std::uint64_t c) noexcept {
  if (c == 0)
    return std::nullopt;
  uint128 result = static_cast<uint128>(a) * b / c;
  if (result > std::numeric_limits<amount>::max())
    return std::nullopt;
  return static_cast<amount>(result);
}

/// floor(a * p / 10^6). Never above `a` when p <= ppm_one.
/// REQUIRES: p <= ppm_one.
constexpr amount ppm_of(amount a, ppm p) noexcept {
  return static_cast<amount>(static_cast<uint128>(a) * p / ppm_one);
}

/// floor(part * 10^6 / whole), ppm_one when whole == 0 or part >= whole.
constexpr ppm ratio_ppm(amount part, amount whole) noexcept {
  if (whole == 0 || part >= whole)
    return ppm_one;
  return static_cast<ppm>(static_cast<uint128>(part) * ppm_one / whole);
}

static_assert(ppm_of(std::numeric_limits<amount>::max(), ppm_one)
              == std::numeric_limits<amount>::max());
static_assert(!checked_add(std::numeric_limits<amount>::max(), 1).has_value());
static_assert(!checked_sub(1, 2).has_value());
static_assert(mul_div(std::numeric_limits<amount>::max(), 3, 4).has_value());

} // namespace stakecast::rules
