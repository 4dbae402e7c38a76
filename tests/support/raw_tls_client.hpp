// A TLS client under a test's control, for what an honest transport never does: it
// connects from a chosen loopback source address, handshakes with any key (a
// stranger's throwaway one), writes raw bytes over TLS or under it, and tells whether
// the server closed the connection. Every step runs the client's own io context for
// at most a few seconds, so a server that never answers fails the step, not the test
// run. Not thread-safe: one thread drives a client.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "node/tls_identity.hpp"

namespace stakecast::test {

/// A client under the test's control, for what an honest transport never does. Every
/// step runs its own io context for at most a few seconds.
class raw_client {
public:
  enum class tls_version { v1_3, v1_2_only };

  explicit raw_client(const core::key_pair& keys, tls_version version = tls_version::v1_3)
    : context_(make_context(keys, version)), stream_(io_, context_) {
  }

  /// From `source`, a loopback address: callers from distinct addresses on one host.
  boost::system::error_code connect(std::uint16_t port, const char* source = "127.0.0.1") {
    const boost::asio::ip::tcp::endpoint server{boost::asio::ip::make_address("127.0.0.1"), port};
    auto& socket = stream_.lowest_layer();
    boost::system::error_code ec;
    socket.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec)
      socket.bind(boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address(source), 0}, ec);
    if (ec)
      return ec;
    return run([&](auto done) { socket.async_connect(server, done); });
  }
  boost::system::error_code handshake() {
    return run([&](auto done) { stream_.async_handshake(boost::asio::ssl::stream_base::client, done); });
  }
  boost::system::error_code write_tls(const core::byte_buffer& bytes) {
    return run([&](auto done) { boost::asio::async_write(stream_, boost::asio::buffer(bytes), done); });
  }
  boost::system::error_code write_plain(const core::byte_buffer& bytes) {
    return run([&](auto done) { boost::asio::async_write(stream_.next_layer(), boost::asio::buffer(bytes), done); });
  }
  /// True when the server ends the connection (a read fails other than by our own
  /// deadline) within a few seconds.
  bool closed_by_server(bool over_tls) {
    std::array<std::uint8_t, 256> buffer{};
    for (int reads = 0; reads < 64; ++reads) {
      const auto ec = run([&](auto done) {
        if (over_tls)
          stream_.async_read_some(boost::asio::buffer(buffer), done);
        else
          stream_.next_layer().async_read_some(boost::asio::buffer(buffer), done);
      });
      if (ec)
        return ec != boost::asio::error::timed_out;
    }
    return false;
  }

private:
  // A session copies its context's settings when it is made: the context is complete
  // before the stream exists.
  static boost::asio::ssl::context make_context(const core::key_pair& keys, tls_version version) {
    boost::asio::ssl::context context{boost::asio::ssl::context::tls};
    auto identity = node::tls_identity::make(keys);
    REQUIRE(identity);
    REQUIRE(!node::configure_context(context, *identity));
    if (version == tls_version::v1_2_only) {
      REQUIRE(SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) == 1);
      REQUIRE(SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_2_VERSION) == 1);
    }
    return context;
  }

  template <class Start>
  boost::system::error_code run(Start start) {
    std::optional<boost::system::error_code> result;
    start([&result](const boost::system::error_code& ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run_for(std::chrono::seconds(3));
    if (result)
      return *result;
    // Our deadline: end the operation and let its handler run before `result` goes.
    boost::system::error_code ignored;
    stream_.lowest_layer().close(ignored);
    io_.restart();
    io_.run_for(std::chrono::seconds(1));
    return boost::asio::error::timed_out;
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
};

} // namespace stakecast::test
