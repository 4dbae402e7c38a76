// SHA-256 over byte spans, one-shot or incremental, through OpenSSL 3's EVP interface.
//
// `sha256(data)` hashes a whole span; `sha256_hasher` hashes data that arrives in
// pieces and gives the same digest as the one-shot call over the concatenation. Both
// use one SHA-256 implementation fetched from the default provider once per process
// (an explicit fetch: with `EVP_sha256()` OpenSSL 3 looks the implementation up again
// on every digest, which costs more than hashing a short input).
//
// Failures: OpenSSL fails here only when memory runs out or the library is broken;
// neither is an operating error StakeCast can handle, so they abort the process.
//
// Concurrency: `sha256` may be called from any thread. A `sha256_hasher` belongs to
// one thread at a time.
#pragma once

#include <memory>

#include <openssl/types.h>

#include "actors/core/bytes.hpp"

namespace stakecast::core {

/// The SHA-256 digest of `data`.
hash256 sha256(byte_span data);

/// Incremental SHA-256. Move-only: it owns an OpenSSL digest context.
class sha256_hasher {
public:
  sha256_hasher();
  sha256_hasher(sha256_hasher&&) noexcept = default;
  sha256_hasher& operator=(sha256_hasher&&) noexcept = default;
  ~sha256_hasher() = default;

  /// Appends `data` to the input.
  /// REQUIRES: this hasher was not moved from.
  void update(byte_span data);

  /// The digest of everything given to `update` since construction or the previous
  /// `finish`; the hasher then starts over with an empty input, ready for reuse.
  /// REQUIRES: this hasher was not moved from.
  hash256 finish();

private:
  struct context_deleter {
    void operator()(EVP_MD_CTX* context) const noexcept;
  };
  std::unique_ptr<EVP_MD_CTX, context_deleter> context_;
};

} // namespace stakecast::core
