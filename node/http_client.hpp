// A small blocking HTTP/1.1 client for the command line: `stakecast status`, `wallet`
// and `devnet` talk to a node through its gateway's JSON API, and `get` streams a
// content's bytes from it. One request per connection, loopback in practice; every
// call is bounded by `timeout` (for a streamed body: each wait for more of it).
//
// Thread-safe: no shared state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/config.hpp"
#include "node/home.hpp"

namespace stakecast::node {

struct http_reply {
  unsigned status = 0;
  std::string body;
};

/// Bodies larger than this are refused (an API answer is small).
inline constexpr std::size_t http_reply_bytes_max = 16 << 20;

/// `method` `target` at `server`, with `body` as JSON when not empty. The error names
/// the server and what failed (refused, timed out, not HTTP).
/// Extra request header fields, e.g. {"Range", "bytes=0-99"}.
using http_fields = std::vector<std::pair<std::string, std::string>>;

result<http_reply> http_request(const endpoint& server, std::string_view method,
                                std::string_view target, std::string_view body,
                                std::chrono::milliseconds timeout, const http_fields& fields = {});

/// Bytes of a streamed body handed over at once at most: the memory of one download.
inline constexpr std::size_t http_stream_chunk_bytes = 1 << 20;

struct http_stream_reply {
  unsigned status = 0;
  /// The body when the status is not 2xx (an error text), at most http_reply_bytes_max.
  std::string error_body;
  /// Bytes handed to the sink.
  std::uint64_t body_bytes = 0;
};

/// What a sink answers: "" to go on, else why the download stops (its text becomes
/// the error).
using http_body_sink = std::function<std::string(std::string_view bytes)>;

/// GET `target` at `server` and hand a 2xx body to `sink` piece by piece as it arrives
/// (each piece at most http_stream_chunk_bytes), without holding the whole body. Each
/// wait (connect, headers, the next piece) is bounded by `timeout`. A connection that
/// ends or stalls mid-body is an error naming how many body bytes arrived; the sink
/// has seen exactly those.
result<http_stream_reply> http_get_streamed(const endpoint& server, std::string_view target,
                                            std::chrono::milliseconds timeout,
                                            const http_fields& fields, const http_body_sink& sink);

} // namespace stakecast::node
