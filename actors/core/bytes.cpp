#include "actors/core/bytes.hpp"

#include <algorithm>

namespace stakecast::core {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

bool hash256::is_zero() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

std::string hash256::to_hex() const {
  return core::to_hex(bytes);
}

std::optional<hash256> hash256::from_hex(std::string_view hex) {
  if (hex.size() != 2 * size_bytes)
    return std::nullopt;
  auto decoded = core::from_hex(hex);
  if (!decoded)
    return std::nullopt;
  hash256 result;
  std::copy(decoded->begin(), decoded->end(), result.bytes.begin());
  return result;
}

std::string to_hex(byte_span bytes) {
  std::string result;
  result.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    result.push_back(hex_digits[b >> 4]);
    result.push_back(hex_digits[b & 0x0f]);
  }
  return result;
}

std::optional<byte_buffer> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return std::nullopt;
  byte_buffer result;
  result.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int high = hex_value(hex[i]);
    int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0)
      return std::nullopt;
    result.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  return result;
}

} // namespace stakecast::core
