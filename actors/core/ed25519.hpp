// Ed25519 (RFC 8032, pure, no context) signatures through OpenSSL 3's EVP interface.
//
// A node's identity is a `key_pair`; its `node_id` is the 32-byte public key. Keys are
// made only from a 32-byte seed the caller supplies (the RFC 8032 "secret key"): code
// under actors/ runs in the simulated world too and may not draw unseeded randomness,
// so where seeds come from (a seeded simulation source, a key file) is the caller's
// business. The same seed always gives the same key pair, and Ed25519 signing is
// deterministic, so the same key and message always give the same signature.
//
// Failures: `from_seed` reports OpenSSL's refusal as a `crypto_errc` value. `sign`
// fails only when memory runs out or the library is broken, and then aborts.
// `verify` answers false for anything it cannot confirm, malformed keys included.
//
// Concurrency: the const members of one `key_pair` may be called from several threads
// at once; `verify` may be called from any thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <openssl/types.h>

#include "actors/core/bytes.hpp"

namespace stakecast::core {

/// 64 bytes: an Ed25519 signature (R || S).
struct signature {
  static constexpr std::size_t size_bytes = 64;
  std::array<std::uint8_t, size_bytes> bytes{};

  auto operator<=>(const signature&) const = default;
  bool operator==(const signature&) const = default;

  std::string to_hex() const;
  /// REQUIRES: `hex` has exactly 128 hex digits; otherwise returns nullopt.
  static std::optional<signature> from_hex(std::string_view hex);

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, signature& x) {
    return f(x.bytes);
  }
};

/// An Ed25519 private key with its public key. Move-only: it owns an OpenSSL key.
class key_pair {
public:
  /// The key pair whose private key is `seed` (any 32 bytes are a valid seed).
  /// Errors: crypto_errc::bad_key when OpenSSL refuses the key.
  static caf::expected<key_pair> from_seed(const hash256& seed);

  key_pair(key_pair&&) noexcept = default;
  key_pair& operator=(key_pair&&) noexcept = default;
  ~key_pair() = default;

  /// REQUIRES (for every member below): this key pair was not moved from.
  node_id public_key() const noexcept {
    return public_key_;
  }
  /// The 32-byte seed this key pair was made from. Secret: never log or send it.
  hash256 seed() const;
  signature sign(byte_span message) const;

private:
  struct key_deleter {
    void operator()(EVP_PKEY* key) const noexcept;
  };
  using key_pointer = std::unique_ptr<EVP_PKEY, key_deleter>;

  key_pair(key_pointer key, const node_id& public_key) noexcept;

  key_pointer key_;
  node_id public_key_;
};

/// True when `message_signature` is a valid Ed25519 signature of `message` by `public_key`;
/// false otherwise, including when `public_key` is not a valid curve point or
/// `message_signature` is not canonical. Adds nothing to OpenSSL's error queue.
bool verify(const node_id& public_key, byte_span message,
            const signature& message_signature);

} // namespace stakecast::core
