// Pins down the node's TLS identity: the certificate made from a key pair carries that
// very Ed25519 key (read back as the node id), is a pure function of the key (same
// key, same DER bytes), and a certificate whose key is not Ed25519 (a P-256 key) or
// a missing certificate is refused with a tls_errc value.
#include "node/tls_identity.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>

#include "actors/core/error.hpp"
#include "tests/support/keys.hpp"

using namespace stakecast;
using node::tls_identity;

namespace {

using test::key_of;

std::vector<unsigned char> der_of(X509* certificate) {
  const int length = i2d_X509(certificate, nullptr);
  REQUIRE(length > 0);
  std::vector<unsigned char> der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  REQUIRE(i2d_X509(certificate, &out) == length);
  return der;
}

} // namespace

TEST_CASE("a node certificate carries the node key and depends on nothing else", "[tls]") {
  const auto keys = key_of(7);
  auto first = tls_identity::make(keys);
  auto second = tls_identity::make(keys);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->id() == keys.public_key());
  auto id = node::node_id_of(first->certificate());
  REQUIRE(id);
  CHECK(*id == keys.public_key());
  CHECK(der_of(first->certificate()) == der_of(second->certificate()));

  const auto other = tls_identity::make(key_of(8));
  REQUIRE(other);
  CHECK(der_of(other->certificate()) != der_of(first->certificate()));
}

TEST_CASE("a certificate without an Ed25519 key names no node", "[tls]") {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
    EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free};
  REQUIRE(key);
  std::unique_ptr<X509, decltype(&X509_free)> certificate{X509_new(), &X509_free};
  REQUIRE(certificate);
  REQUIRE(X509_set_pubkey(certificate.get(), key.get()) == 1);

  auto id = node::node_id_of(certificate.get());
  REQUIRE_FALSE(id);
  CHECK(core::describe(id.error()).find("not_ed25519") != std::string::npos);

  auto missing = node::node_id_of(nullptr);
  REQUIRE_FALSE(missing);
  CHECK(core::describe(missing.error()).find("no_certificate") != std::string::npos);
}
