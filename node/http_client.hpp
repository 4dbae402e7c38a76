// A small blocking HTTP/1.1 client for the command line: `stakecast status`, `wallet`
// and `devnet` talk to a node through its gateway's JSON API. One request per
// connection, loopback in practice; every call is bounded by `timeout`.
//
// Thread-safe: no shared state.
#pragma once

#include <chrono>
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

} // namespace stakecast::node
