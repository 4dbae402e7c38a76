#include "node/tls_identity.hpp"

#include <string>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "actors/core/error.hpp"
#include "actors/core/openssl_error.hpp"

namespace stakecast::node {

using core::error_queue_mark;
using core::last_library_error;

namespace {

constexpr std::size_t ed25519_key_bytes = 32;
static_assert(ed25519_key_bytes == core::node_id::size_bytes);

// Fixed validity: identity does not expire (the key is the identity), and a fixed
// certificate needs no clock. 99991231235959Z is RFC 5280's "no well-defined
// expiration date".
constexpr const char* valid_from = "20000101000000Z";
constexpr const char* valid_until = "99991231235959Z";

caf::error library_failure(std::string_view call) {
  return make_error(tls_errc::library_failure,
                    std::string(call) + " failed: " + last_library_error());
}

// The verification rule that replaces chain verification (see the header): only the
// peer's own certificate counts, and it must carry an Ed25519 key. Whatever OpenSSL
// thought of the chain (self-signed, unknown issuer, dates) is overruled.
int accept_ed25519_leaf(int /*preverified*/, X509_STORE_CTX* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0)
    return 0;
  error_queue_mark mark;
  return node_id_of(X509_STORE_CTX_get_current_cert(store)) ? 1 : 0;
}

} // namespace

std::string_view to_string(tls_errc code) noexcept {
  switch (code) {
    case tls_errc::library_failure:
      return "library_failure";
    case tls_errc::no_certificate:
      return "no_certificate";
    case tls_errc::not_ed25519:
      return "not_ed25519";
  }
  return "unknown";
}

caf::error make_error(tls_errc code, std::string_view detail) {
  return core::make_domain_error(caf::atom("tls"), static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

void tls_identity::key_deleter::operator()(EVP_PKEY* key) const noexcept {
  EVP_PKEY_free(key);
}

void tls_identity::certificate_deleter::operator()(X509* certificate) const noexcept {
  X509_free(certificate);
}

tls_identity::tls_identity(key_pointer key, certificate_pointer certificate,
                           const core::node_id& id) noexcept
  : key_(std::move(key)), certificate_(std::move(certificate)), id_(id) {
}

caf::expected<tls_identity> tls_identity::make(const core::key_pair& keys) {
  error_queue_mark mark;
  core::hash256 seed = keys.seed();
  key_pointer key{EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.bytes.data(),
                                               seed.bytes.size())};
  OPENSSL_cleanse(seed.bytes.data(), seed.bytes.size());
  if (!key)
    return library_failure("EVP_PKEY_new_raw_private_key");

  certificate_pointer certificate{X509_new()};
  if (!certificate)
    return library_failure("X509_new");
  X509* x = certificate.get();
  const std::string subject = keys.public_key().to_hex();
  X509_NAME* name = X509_get_subject_name(x);
  const bool filled =
    X509_set_version(x, 2) == 1 // X.509 v3
    && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1
    && ASN1_TIME_set_string_X509(X509_getm_notBefore(x), valid_from) == 1
    && ASN1_TIME_set_string_X509(X509_getm_notAfter(x), valid_until) == 1
    && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(subject.c_str()), -1,
                                  -1, 0)
         == 1
    && X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key.get()) == 1;
  if (!filled)
    return library_failure("filling the X.509 certificate");
  // Ed25519 hashes internally: no digest.
  if (X509_sign(x, key.get(), nullptr) <= 0)
    return library_failure("X509_sign");

  auto id = node_id_of(x);
  if (!id)
    return std::move(id.error());
  if (*id != keys.public_key())
    return make_error(tls_errc::library_failure, "certificate key differs from the node key");
  return tls_identity{std::move(key), std::move(certificate), *id};
}

caf::expected<core::node_id> node_id_of(X509* certificate) {
  if (certificate == nullptr)
    return make_error(tls_errc::no_certificate, "the peer sent no certificate");
  error_queue_mark mark;
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
    return make_error(tls_errc::not_ed25519, "the certificate's key is not Ed25519");
  core::node_id id;
  std::size_t length = id.bytes.size();
  if (EVP_PKEY_get_raw_public_key(key, id.bytes.data(), &length) != 1
      || length != ed25519_key_bytes)
    return make_error(tls_errc::not_ed25519, "the certificate's Ed25519 key is unreadable");
  return id;
}

caf::expected<core::node_id> peer_node_id(SSL* session) {
  return node_id_of(SSL_get0_peer_certificate(session));
}

caf::error configure_context(boost::asio::ssl::context& context, const tls_identity& identity) {
  error_queue_mark mark;
  SSL_CTX* handle = context.native_handle();
  if (SSL_CTX_set_min_proto_version(handle, TLS1_3_VERSION) != 1)
    return library_failure("SSL_CTX_set_min_proto_version");
  if (SSL_CTX_set_max_proto_version(handle, TLS1_3_VERSION) != 1)
    return library_failure("SSL_CTX_set_max_proto_version");
  if (SSL_CTX_use_certificate(handle, identity.certificate()) != 1)
    return library_failure("SSL_CTX_use_certificate");
  if (SSL_CTX_use_PrivateKey(handle, identity.private_key()) != 1)
    return library_failure("SSL_CTX_use_PrivateKey");
  if (SSL_CTX_check_private_key(handle) != 1)
    return library_failure("SSL_CTX_check_private_key");
  // Every session authenticates afresh: a resumed session would skip certificates.
  SSL_CTX_set_session_cache_mode(handle, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_set_num_tickets(handle, 0) != 1)
    return library_failure("SSL_CTX_set_num_tickets");
  SSL_CTX_set_options(handle, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_verify(handle, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     &accept_ed25519_leaf);
  return caf::none;
}

} // namespace stakecast::node
