// The node's HTTP gateway: a local player, a browser page or Prometheus talks to the
// node over HTTP/1.1 (Boost.Beast, keep-alive, no TLS: bind it to loopback or put a
// proxy in front).
//
// Routes:
// - `GET|HEAD /content/<64 hex digits>`: the bytes of a content, 200 whole or 206 for a
//   `Range` (http_range.hpp: one range, 416 when unsatisfiable), with
//   `Accept-Ranges: bytes`, `Content-Length` and the source's `Content-Type`. The body
//   is streamed: `content_source::read` is asked for one chunk at a time and each
//   chunk is written before the next is asked for, so a connection holds at most one
//   chunk whatever the size of the resource. A read error or a read that takes longer
//   than `content_timeout_ms` mid-body closes the connection: the client sees a short
//   body and asks again from where it stopped.
// - `GET /metrics`: the text exposition (format 0.0.4) of the registry.
// - `GET|POST /api/...` and `GET /healthz`: the `api_handler`, with a JSON response.
// Errors are JSON `{"error": "..."}`: 400 (bad content id, malformed request), 404
// (unknown route or content), 405 with `Allow`, 413 (body over body_bytes_max), 431
// (header over request_header_bytes_max), 416 (with `Content-Range: bytes */size`), 500
// (the api handler or content source threw), 503 (a request without the API token in a
// token slot, see below). After a request that could not be parsed
// (400, 413, 431) the connection is closed, since the rest of its bytes mean nothing. Content and
// api responses carry `Access-Control-Allow-Origin: *`, so a page served from elsewhere may use
// them.
//
// Connections (the gateway's answer to clients that open sockets and send nothing, or
// dribble a header, to hold every slot): a connection waits for a request in one of
// three phases, each bounded: the header, which must arrive whole within
// `header_timeout_ms` of the connection opening or, on a kept-alive connection, of the
// request's first byte; the wait for that first byte (`idle_timeout_ms`); the body
// (`body_timeout_ms`). When `connections_max` connections are open, or
// `connections_per_address_max` from the new one's address, a new connection takes the
// place of the one that has waited longest for a request (of its own address when the
// address is at its limit, else of the address with the most connections): a
// connection that is sending a response, or reading the body of a request with the API
// token, is never closed for another. When no connection can make room, the new one
// gets one of `token_connections_max` token slots, where only a request with
// `Authorization: Bearer <api_token>` is served (others: 503 and close), so the node's
// own command line reaches it whatever the other clients hold; when those are taken
// too, the new connection is closed at once.
//
// Concurrency: the gateway owns one io_context run by one thread it starts. All
// connection state lives on that thread. `describe` and the api handler are called
// on it and must not block for long (they hold up every other connection);
// `content_source::read` is called on it too, but its completion may be called from
// any thread, at any later time: it is posted back onto the gateway thread. A
// completion that arrives after its client went away, or after the gateway was
// destroyed, is dropped without touching either.
// The destructor closes every connection, stops the thread and joins it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>

#include "actors/core/bytes.hpp"

namespace stakecast::node {

/// Where the gateway gets the bytes of a content: the node's storage and swarm.
class content_source {
public:
  virtual ~content_source() = default;

  struct description {
    std::uint64_t size_bytes = 0;
    std::string mime_type; // "" or malformed: application/octet-stream
  };

  /// nullopt: unknown content (404).
  virtual std::optional<description> describe(const core::content_id& id) = 0;

  /// Bytes handed over without a copy: `view` stays valid while `owner` lives (a
  /// segment the source keeps anyway, shared).
  struct shared_bytes {
    std::shared_ptr<const void> owner;
    core::byte_span view;

    /// A view of the whole of `bytes`, which it owns.
    static shared_bytes of(core::byte_buffer bytes) {
      auto owner = std::make_shared<const core::byte_buffer>(std::move(bytes));
      const core::byte_span view(*owner);
      return {std::move(owner), view};
    }
  };
  using read_result = std::variant<shared_bytes, std::string>;
  /// Reads up to `max_bytes` (> 0) at `offset` (< size_bytes). Calls `done` exactly
  /// once, from any thread, possibly much later (the swarm is still fetching): with
  /// the bytes (non-empty, at most max_bytes, starting at offset) or an error text.
  virtual void read(const core::content_id& id, std::uint64_t offset, std::size_t max_bytes,
                    std::function<void(read_result)> done) = 0;
};

struct api_request {
  std::string method; // "GET" or "POST"
  std::string target; // path and query, e.g. "/api/status?verbose=1"
  std::string body;   // at most body_bytes_max
  std::string authorization; // the Authorization header, "" when absent
};

struct api_response {
  unsigned status = 200; // outside 100..599: 500
  nlohmann::json body = nlohmann::json::object();
};

/// Called on the gateway thread; must not block for long. An exception becomes 500.
using api_handler = std::function<api_response(const api_request&)>;

struct gateway_options {
  /// Address and port to listen on; port 0 picks a free one (see gateway::port()).
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  /// Open connections at most, apart from the token slots (see above).
  std::size_t connections_max = 64;
  /// Open connections from one IP address at most, apart from the token slots. Every
  /// local client shares 127.0.0.1: the token slots and the closing of waiting
  /// connections are what keep a local attacker from locking the others out.
  std::size_t connections_per_address_max = 32;
  /// Connections beyond connections_max for requests that carry the API token.
  std::size_t token_connections_max = 4;
  /// The node's API token; "" when it has none (no token slots then).
  std::string api_token;
  /// Request line and header fields at most (431 beyond).
  std::uint32_t request_header_bytes_max = 8 * 1024;
  /// Request body at most (413 beyond); only the api takes bodies.
  std::uint64_t body_bytes_max = 64 * 1024;
  /// Longest a request's header may take: from the connection opening, or from its
  /// first byte on a kept-alive connection.
  std::uint32_t header_timeout_ms = 5'000;
  /// Longest a kept-alive connection waits for the next request to begin.
  std::uint32_t idle_timeout_ms = 10'000;
  /// Longest wait for (the rest of) a request's body once its header is in.
  std::uint32_t body_timeout_ms = 30'000;
  /// Longest a response write may stall: a client that takes nothing for this long
  /// (a paused player holding a connection) is dropped; it reconnects with a Range.
  std::uint32_t send_timeout_ms = 60'000;
  /// Longest wait for one content_source::read, which may wait on the swarm.
  std::uint32_t content_timeout_ms = 60'000;
  /// Bytes asked of content_source::read at once: the memory of one streaming
  /// connection.
  std::size_t chunk_bytes = 256 * 1024;
};

/// What the gateway serves; each part may be null (its routes then answer 404).
struct gateway_services {
  std::shared_ptr<content_source> content;
  std::shared_ptr<prometheus::Registry> metrics;
  api_handler api;
};

class gateway {
public:
  /// Binds, listens and starts the thread. On failure (address in use, a malformed
  /// address, limits out of range) returns null and sets `error`.
  static std::unique_ptr<gateway> start(gateway_options options, gateway_services services,
                                        std::string& error);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// The port bound (the one chosen when options.port was 0).
  std::uint16_t port() const noexcept;

  struct impl; // defined in gateway.cpp

private:
  explicit gateway(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

} // namespace stakecast::node
