// A node's identity on the wire: TLS 1.3 with mutual authentication, where each side's
// certificate is only a carrier for its Ed25519 key, and the node id is that key.
//
// - `tls_identity::make` turns a node's `core::key_pair` into an OpenSSL key and a
//   self-signed X.509 certificate over it. The certificate is a pure function of the
//   key (fixed serial, subject, validity 2000-01-01 to 9999-12-31, deterministic
//   Ed25519 signature), so no clock or randomness is involved.
// - `configure_context` sets up an Asio TLS context for both roles: TLS 1.3 only, our
//   certificate and key, a peer certificate required on both sides, no session
//   tickets or resumption (every session presents certificates). Chain verification
//   is replaced by our own rule: the peer sends exactly one certificate and its key is
//   Ed25519. Issuers, dates and the certificate's own signature are not checked: the
//   TLS 1.3 handshake already proves that the peer holds the private key of the
//   certificate it sent (CertificateVerify), and that key is all an id is.
// - After the handshake, `peer_node_id` reads the authenticated id. What to compare
//   it with is the caller's business (the dialer compares with the id it dialed; the
//   listener learns who called, optionally checking an allow-list).
//
// Errors are `tls_errc` values in category "tls". Functions leave nothing on OpenSSL's
// error queue of the calling thread.
//
// Concurrency: a `tls_identity` is immutable after `make`; its members may be called
// from any thread. The free functions are safe to call from any thread on distinct
// objects.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <openssl/types.h>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"

namespace stakecast::node {

enum class tls_errc : std::uint8_t {
  /// OpenSSL failed where it should not (memory, a broken library).
  library_failure = 1,
  /// A peer presented no certificate.
  no_certificate,
  /// A certificate's key is not a 32-byte Ed25519 key.
  not_ed25519,
};

std::string_view to_string(tls_errc code) noexcept;
/// A caf::error in category "tls" with text "<code>: <detail>".
caf::error make_error(tls_errc code, std::string_view detail);

/// The node's key and its self-signed certificate, as OpenSSL objects. Move-only.
class tls_identity {
public:
  /// Errors: library_failure when OpenSSL refuses to build the key or certificate.
  static caf::expected<tls_identity> make(const core::key_pair& keys);

  tls_identity(tls_identity&&) noexcept = default;
  tls_identity& operator=(tls_identity&&) noexcept = default;
  ~tls_identity() = default;

  /// REQUIRES (for every member below): not moved from.
  core::node_id id() const noexcept {
    return id_;
  }
  /// Borrowed: valid while this identity lives.
  X509* certificate() const noexcept {
    return certificate_.get();
  }
  /// Borrowed: valid while this identity lives. Secret.
  EVP_PKEY* private_key() const noexcept {
    return key_.get();
  }

private:
  struct key_deleter {
    void operator()(EVP_PKEY* key) const noexcept;
  };
  struct certificate_deleter {
    void operator()(X509* certificate) const noexcept;
  };
  using key_pointer = std::unique_ptr<EVP_PKEY, key_deleter>;
  using certificate_pointer = std::unique_ptr<X509, certificate_deleter>;

  tls_identity(key_pointer key, certificate_pointer certificate,
               const core::node_id& id) noexcept;

  key_pointer key_;
  certificate_pointer certificate_;
  core::node_id id_;
};

/// The node id a certificate carries: its raw Ed25519 public key.
/// Errors: no_certificate when `certificate` is null; not_ed25519 for any other key.
caf::expected<core::node_id> node_id_of(X509* certificate);

/// The node id of the peer of a TLS session whose handshake completed.
/// Errors: as node_id_of (no_certificate when the peer sent none).
caf::expected<core::node_id> peer_node_id(SSL* session);

/// Configures `context` for both client and server sessions of the node `identity`:
/// TLS 1.3 only, mutual authentication by Ed25519 certificates (see the file comment).
/// `context` keeps its own references to the key and certificate.
/// Errors: library_failure.
caf::error configure_context(boost::asio::ssl::context& context, const tls_identity& identity);

} // namespace stakecast::node
