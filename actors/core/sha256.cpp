#include "actors/core/sha256.hpp"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

namespace stakecast::core {

namespace {

[[noreturn]] void library_failure(const char* call) {
  std::fprintf(stderr, "stakecast: OpenSSL %s failed for SHA-256\n", call);
  std::abort();
}

void check(int result, const char* call) {
  if (result != 1)
    library_failure(call);
}

struct digest_deleter {
  void operator()(EVP_MD* digest) const noexcept {
    EVP_MD_free(digest);
  }
};

// Fetched once: the static is constructed after OpenSSL registers its exit handler,
// so it is freed before OpenSSL cleans up.
const EVP_MD* sha256_digest() {
  static const std::unique_ptr<EVP_MD, digest_deleter> digest{
    EVP_MD_fetch(nullptr, "SHA256", nullptr)};
  if (!digest)
    library_failure("EVP_MD_fetch");
  return digest.get();
}

} // namespace

hash256 sha256(byte_span data) {
  hash256 result;
  unsigned int length = 0;
  check(EVP_Digest(data.data(), data.size(), result.bytes.data(), &length, sha256_digest(),
                   nullptr),
        "EVP_Digest");
  if (length != hash256::size_bytes)
    library_failure("EVP_Digest length");
  return result;
}

void sha256_hasher::context_deleter::operator()(EVP_MD_CTX* context) const noexcept {
  EVP_MD_CTX_free(context);
}

sha256_hasher::sha256_hasher() : context_(EVP_MD_CTX_new()) {
  if (!context_)
    library_failure("EVP_MD_CTX_new");
  check(EVP_DigestInit_ex2(context_.get(), sha256_digest(), nullptr), "EVP_DigestInit_ex2");
}

void sha256_hasher::update(byte_span data) {
  check(EVP_DigestUpdate(context_.get(), data.data(), data.size()), "EVP_DigestUpdate");
}

hash256 sha256_hasher::finish() {
  hash256 result;
  unsigned int length = 0;
  check(EVP_DigestFinal_ex(context_.get(), result.bytes.data(), &length),
        "EVP_DigestFinal_ex");
  if (length != hash256::size_bytes)
    library_failure("EVP_DigestFinal_ex length");
  check(EVP_DigestInit_ex2(context_.get(), nullptr, nullptr), "EVP_DigestInit_ex2");
  return result;
}

} // namespace stakecast::core
