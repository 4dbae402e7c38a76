#include "actors/core/ed25519.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "actors/core/error.hpp"
#include "actors/core/openssl_error.hpp"

namespace stakecast::core {

namespace {

constexpr std::size_t key_bytes = 32;
static_assert(key_bytes == hash256::size_bytes);

[[noreturn]] void library_failure(const char* call) {
  std::fprintf(stderr, "stakecast: OpenSSL %s failed for Ed25519\n", call);
  std::abort();
}

void check(int result, const char* call) {
  if (result != 1)
    library_failure(call);
}

struct context_deleter {
  void operator()(EVP_MD_CTX* context) const noexcept {
    EVP_MD_CTX_free(context);
  }
};
using context_pointer = std::unique_ptr<EVP_MD_CTX, context_deleter>;

struct verifying_key_deleter {
  void operator()(EVP_PKEY* key) const noexcept {
    EVP_PKEY_free(key);
  }
};
using verifying_key_pointer = std::unique_ptr<EVP_PKEY, verifying_key_deleter>;

} // namespace

std::string signature::to_hex() const {
  return core::to_hex(bytes);
}

std::optional<signature> signature::from_hex(std::string_view hex) {
  if (hex.size() != 2 * size_bytes)
    return std::nullopt;
  auto decoded = core::from_hex(hex);
  if (!decoded)
    return std::nullopt;
  signature result;
  std::copy(decoded->begin(), decoded->end(), result.bytes.begin());
  return result;
}

void key_pair::key_deleter::operator()(EVP_PKEY* key) const noexcept {
  EVP_PKEY_free(key);
}

key_pair::key_pair(key_pointer key, const node_id& public_key) noexcept
  : key_(std::move(key)), public_key_(public_key) {
}

caf::expected<key_pair> key_pair::from_seed(const hash256& seed) {
  error_queue_mark mark;
  key_pointer key{EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr,
                                                  seed.bytes.data(), seed.bytes.size())};
  if (!key)
    return make_error(crypto_errc::bad_key, "OpenSSL refused the Ed25519 seed: "
                                              + last_library_error());
  node_id public_key;
  std::size_t length = public_key.bytes.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), public_key.bytes.data(), &length) != 1
      || length != key_bytes)
    return make_error(crypto_errc::library_failure, "no Ed25519 public key: "
                                                      + last_library_error());
  return key_pair{std::move(key), public_key};
}

hash256 key_pair::seed() const {
  hash256 result;
  std::size_t length = result.bytes.size();
  check(EVP_PKEY_get_raw_private_key(key_.get(), result.bytes.data(), &length),
        "EVP_PKEY_get_raw_private_key");
  if (length != key_bytes)
    library_failure("EVP_PKEY_get_raw_private_key length");
  return result;
}

signature key_pair::sign(byte_span message) const {
  context_pointer context{EVP_MD_CTX_new()};
  if (!context)
    library_failure("EVP_MD_CTX_new");
  // Ed25519 hashes internally: the digest must be NULL and the one-shot call is the
  // only one allowed (no DigestSignUpdate).
  check(EVP_DigestSignInit_ex(context.get(), nullptr, nullptr, nullptr, nullptr, key_.get(),
                              nullptr),
        "EVP_DigestSignInit_ex");
  signature result;
  std::size_t length = result.bytes.size();
  check(EVP_DigestSign(context.get(), result.bytes.data(), &length, message.data(),
                       message.size()),
        "EVP_DigestSign");
  if (length != signature::size_bytes)
    library_failure("EVP_DigestSign length");
  return result;
}

bool verify(const node_id& public_key, byte_span message,
            const signature& message_signature) {
  error_queue_mark mark;
  verifying_key_pointer key{EVP_PKEY_new_raw_public_key_ex(
    nullptr, "ED25519", nullptr, public_key.bytes.data(), public_key.bytes.size())};
  if (!key)
    return false;
  context_pointer context{EVP_MD_CTX_new()};
  if (!context)
    return false;
  if (EVP_DigestVerifyInit_ex(context.get(), nullptr, nullptr, nullptr, nullptr, key.get(),
                              nullptr)
      != 1)
    return false;
  // 1 is valid, 0 is invalid, negative is an error: only 1 counts.
  return EVP_DigestVerify(context.get(), message_signature.bytes.data(),
                          message_signature.bytes.size(), message.data(), message.size())
         == 1;
}

} // namespace stakecast::core
