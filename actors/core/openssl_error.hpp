// OpenSSL's thread-local error queue, as the code that calls OpenSSL on hostile input
// handles it: the newest error as text for a message, and a scope that drops the
// errors queued inside it (they are answered by a return value, and a stale queue
// misleads later TLS calls on the same thread: Asio reads it to report handshake
// errors). Used by core's Ed25519 and the node's TLS identity.
#pragma once

#include <string>

#include <openssl/err.h>

namespace stakecast::core {

/// The text of the newest error in this thread's queue ("" when none).
inline std::string last_library_error() {
  char text[256] = {};
  ERR_error_string_n(ERR_peek_last_error(), text, sizeof text);
  return text;
}

/// Drops the errors queued during its lifetime, and only those.
class error_queue_mark {
public:
  error_queue_mark() noexcept { ERR_set_mark(); }
  ~error_queue_mark() { ERR_pop_to_mark(); }
  error_queue_mark(const error_queue_mark&) = delete;
  error_queue_mark& operator=(const error_queue_mark&) = delete;
};

} // namespace stakecast::core
