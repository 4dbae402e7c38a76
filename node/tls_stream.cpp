#include "node/tls_stream.hpp"

#include <new>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>

namespace stakecast::node {

namespace asio = boost::asio;
using boost::system::error_code;

struct tls_stream::state : std::enable_shared_from_this<state> {
  struct transfer {
    std::uint8_t* into = nullptr;      // a read's
    const std::uint8_t* from = nullptr; // a write's
    std::size_t size = 0;
    std::size_t done = 0;
    io_handler handler;
    bool active() const { return static_cast<bool>(handler); }
  };

  asio::ip::tcp::socket socket;
  SSL* ssl = nullptr;
  BIO* network = nullptr; // the pair's end the socket reads into and writes from
  error_code failure;     // sticky
  handshake_handler handshake;
  transfer reading;
  transfer writing;
  bool socket_reading = false;
  bool socket_writing = false;

  state(asio::io_context& io, asio::ssl::context& context) : socket(io) {
    ssl = SSL_new(context.native_handle());
    BIO* inner = nullptr;
    if (ssl == nullptr || BIO_new_bio_pair(&inner, buffer_bytes, &network, buffer_bytes) != 1) {
      SSL_free(ssl);
      throw std::bad_alloc();
    }
    SSL_set_bio(ssl, inner, inner);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }

  ~state() {
    BIO_free(network);
    SSL_free(ssl);
  }

  /// The error of a failed OpenSSL call whose SSL_get_error was `code`.
  static error_code ssl_failure(int code) {
    if (const unsigned long queued = ERR_get_error(); queued != 0)
      return {static_cast<int>(queued), asio::error::get_ssl_category()};
    if (code == SSL_ERROR_ZERO_RETURN)
      return asio::error::eof;
    return asio::ssl::error::stream_truncated;
  }

  void post(io_handler handler, error_code error, std::size_t bytes) {
    asio::post(socket.get_executor(),
               [handler = std::move(handler), error, bytes] { handler(error, bytes); });
  }

  void complete(transfer& t, const error_code& error) {
    auto handler = std::exchange(t.handler, nullptr);
    post(std::move(handler), error, t.done);
  }

  void fail(const error_code& error) {
    if (!failure)
      failure = error;
    if (handshake)
      asio::post(socket.get_executor(),
                 [handler = std::exchange(handshake, nullptr), error = failure] { handler(error); });
    if (reading.active())
      complete(reading, failure);
    if (writing.active())
      complete(writing, failure);
  }

  /// Moves what OpenSSL can move now, completes what is done, and starts the socket
  /// read or write the rest waits for.
  void pump() {
    if (failure)
      return fail(failure);
    bool wants_bytes = false;
    if (handshake) {
      ERR_clear_error();
      const int result = SSL_do_handshake(ssl);
      if (result == 1) {
        asio::post(socket.get_executor(),
                   [handler = std::exchange(handshake, nullptr)] { handler(error_code{}); });
      } else if (const int code = SSL_get_error(ssl, result); code == SSL_ERROR_WANT_READ) {
        wants_bytes = true;
      } else if (code != SSL_ERROR_WANT_WRITE) {
        return fail(ssl_failure(code));
      }
    }
    const auto write = [this](transfer& t, std::size_t& moved) {
      return SSL_write_ex(ssl, t.from + t.done, t.size - t.done, &moved);
    };
    const auto read = [this](transfer& t, std::size_t& moved) {
      return SSL_read_ex(ssl, t.into + t.done, t.size - t.done, &moved);
    };
    if (!handshake && writing.active() && !advance(writing, write, wants_bytes))
      return;
    if (!handshake && reading.active() && !advance(reading, read, wants_bytes))
      return;
    flush();
    if (wants_bytes)
      fill();
  }

  /// Moves `t`'s bytes through OpenSSL with `step` (SSL_read_ex or SSL_write_ex) until
  /// all are moved (completing it) or OpenSSL waits for the socket; false when OpenSSL
  /// failed, which failed the stream.
  template <class Step>
  bool advance(transfer& t, Step step, bool& wants_bytes) {
    while (t.done < t.size) {
      std::size_t moved = 0;
      ERR_clear_error();
      if (step(t, moved) == 1) {
        t.done += moved;
        continue;
      }
      const int code = SSL_get_error(ssl, 0);
      if (code == SSL_ERROR_WANT_READ) {
        wants_bytes = true;
      } else if (code != SSL_ERROR_WANT_WRITE) {
        fail(ssl_failure(code));
        return false;
      }
      break;
    }
    if (t.done == t.size)
      complete(t, {});
    return true;
  }

  /// Sends what OpenSSL wrote into the pair, from the pair's memory.
  void flush() {
    if (socket_writing)
      return;
    char* bytes = nullptr;
    const int ready = BIO_nread0(network, &bytes);
    if (ready <= 0)
      return;
    socket_writing = true;
    asio::async_write(socket, asio::buffer(bytes, static_cast<std::size_t>(ready)),
                      [self = shared_from_this()](const error_code& error, std::size_t sent) {
                        self->socket_writing = false;
                        if (error)
                          return self->fail(error);
                        char* consumed = nullptr;
                        BIO_nread(self->network, &consumed, static_cast<int>(sent));
                        self->pump();
                      });
  }

  /// Receives into the pair's free memory, for OpenSSL to read.
  void fill() {
    if (socket_reading)
      return;
    char* room = nullptr;
    const int free = BIO_nwrite0(network, &room);
    if (free <= 0)
      return;
    socket_reading = true;
    socket.async_read_some(asio::buffer(room, static_cast<std::size_t>(free)),
                           [self = shared_from_this()](const error_code& error, std::size_t got) {
                             self->socket_reading = false;
                             if (error)
                               return self->fail(error);
                             char* filled = nullptr;
                             BIO_nwrite(self->network, &filled, static_cast<int>(got));
                             self->pump();
                           });
  }
};

tls_stream::tls_stream(asio::io_context& io, asio::ssl::context& context)
    : state_(std::make_shared<state>(io, context)) {}

tls_stream::~tls_stream() {
  error_code ignored;
  state_->socket.close(ignored);
}

asio::ip::tcp::socket& tls_stream::lowest_layer() {
  return state_->socket;
}

SSL* tls_stream::native_handle() {
  return state_->ssl;
}

void tls_stream::async_handshake(asio::ssl::stream_base::handshake_type role, handshake_handler done) {
  if (role == asio::ssl::stream_base::client)
    SSL_set_connect_state(state_->ssl);
  else
    SSL_set_accept_state(state_->ssl);
  state_->handshake = std::move(done);
  state_->pump();
}

void tls_stream::async_read(void* data, std::size_t size, io_handler done) {
  state_->reading = {static_cast<std::uint8_t*>(data), nullptr, size, 0, std::move(done)};
  state_->pump();
}

void tls_stream::async_write(const void* data, std::size_t size, io_handler done) {
  state_->writing = {nullptr, static_cast<const std::uint8_t*>(data), size, 0, std::move(done)};
  state_->pump();
}

} // namespace stakecast::node
