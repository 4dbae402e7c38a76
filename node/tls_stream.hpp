// A TLS connection over a TCP socket for the transport (tls_transport.cpp): OpenSSL
// behind a BIO pair, driven by Boost.Asio, like asio::ssl::stream but moving up to
// `buffer_bytes` of records per socket call.
//
// asio::ssl::stream moves one TLS record (16 KiB) per send or receive and copies every
// record between its own buffer and OpenSSL's. For 1 MiB segments that is 64 sends,
// 64 wakeups of the receiver and two extra copies per segment on each side. Here the
// socket reads into and writes from the BIO pair's own memory (BIO_nwrite0 /
// BIO_nread0), up to `buffer_bytes` at a time: the records a 64 KiB write makes leave
// in one send.
//
// Operations: one handshake, then at most one read and one write at a time, each
// completing once all its bytes are moved (`async_read` fills the whole buffer; a
// write completes when OpenSSL has taken all its bytes; they reach the socket before
// any later write's). Completions are posted to the io_context, never called from
// inside the initiating call. An error sticks: every later operation fails with it.
// Closing the socket (`lowest_layer().close()`) fails pending operations with
// operation_aborted. Not thread-safe: use from the io_context's one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

namespace stakecast::node {

class tls_stream {
public:
  /// Ciphertext held in each direction of the BIO pair at most.
  static constexpr std::size_t buffer_bytes = 256 * 1024;

  using io_handler = std::function<void(const boost::system::error_code&, std::size_t)>;
  using handshake_handler = std::function<void(const boost::system::error_code&)>;

  /// An SSL from `context` (its verification settings included). Throws
  /// std::bad_alloc when OpenSSL cannot allocate.
  tls_stream(boost::asio::io_context& io, boost::asio::ssl::context& context);
  /// Closes the socket.
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  boost::asio::ip::tcp::socket& lowest_layer();
  SSL* native_handle();

  void async_handshake(boost::asio::ssl::stream_base::handshake_type role, handshake_handler done);
  /// Reads exactly `size` bytes into `data`, which must stay valid until `done`.
  void async_read(void* data, std::size_t size, io_handler done);
  /// Writes all `size` bytes of `data`, which must stay valid until `done`.
  void async_write(const void* data, std::size_t size, io_handler done);

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace stakecast::node
