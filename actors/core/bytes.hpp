// Byte buffers, fixed-size digests and identifiers shared by every folder.
//
// A `hash256` is 32 bytes (a SHA-256 digest or an Ed25519 public key). Node ids are
// Ed25519 public keys; content ids are SHA-256 digests of manifests. All are plain
// values: comparable, hashable, printable as lowercase hex.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stakecast::core {

using byte_buffer = std::vector<std::uint8_t>;
using byte_span = std::span<const std::uint8_t>;

/// 32 bytes: a SHA-256 digest, an Ed25519 public key, a seed.
struct hash256 {
  static constexpr std::size_t size_bytes = 32;
  std::array<std::uint8_t, size_bytes> bytes{};

  auto operator<=>(const hash256&) const = default;
  /// Four word comparisons instead of a call to memcmp: ids are compared on every
  /// hash-table probe in the simulator's hot paths.
  bool operator==(const hash256& other) const noexcept {
    std::uint64_t difference = 0;
    for (std::size_t offset = 0; offset < size_bytes; offset += 8)
      difference |= word_at(offset) ^ other.word_at(offset);
    return difference == 0;
  }

  bool is_zero() const noexcept;
  /// The first 8 bytes as a little-endian integer: for hash tables, not for security.
  std::uint64_t prefix64() const noexcept {
    std::uint64_t word = word_at(0);
    if constexpr (std::endian::native == std::endian::big)
      word = __builtin_bswap64(word);
    return word;
  }
  std::string to_hex() const;
  /// REQUIRES: `hex` has exactly 64 hex digits; otherwise returns nullopt.
  static std::optional<hash256> from_hex(std::string_view hex);

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, hash256& x) {
    return f(x.bytes);
  }

private:
  std::uint64_t word_at(std::size_t offset) const noexcept {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + offset, sizeof(word));
    return word;
  }
};

/// A node is named by its Ed25519 public key.
using node_id = hash256;
/// Content is named by the SHA-256 of its manifest.
using content_id = hash256;

std::string to_hex(byte_span bytes);
/// REQUIRES: an even number of hex digits; otherwise returns nullopt.
std::optional<byte_buffer> from_hex(std::string_view hex);

inline byte_span as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

struct hash256_hasher {
  std::size_t operator()(const hash256& x) const noexcept {
    return static_cast<std::size_t>(x.prefix64());
  }
};

} // namespace stakecast::core
