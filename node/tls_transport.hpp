// The real node's transport: protocol messages over TLS 1.3 connections between
// nodes, each side authenticated by its Ed25519 node key (tls_identity.hpp).
//
// It implements world::transport: `send(to, message)` is at most once and never
// blocks. The message is encoded in the caller's thread and queued for the peer;
// the queue is bounded per peer (messages and bytes), all queues together are
// bounded in bytes, and a full queue drops the message and counts it. If no connection to the peer is up, one is dialed to the
// peer's address from the address book (`set_address`); a peer with neither an
// address nor a live connection is unreachable and the message is dropped and
// counted. A failed dial (refused, timed out, wrong key) drops what was queued for
// that peer and waits a backoff (doubling from `reconnect_initial_ms` up to
// `reconnect_max_ms`, each delay drawn in [d/2, d] from a generator seeded by the
// node id) before the next dial, which happens only when something is queued again.
// An idle connection (no bytes either way for `idle_timeout_ms`) is closed; the next
// send dials again. There is no keepalive.
//
// Connections: one per direction and peer at most. The dialer checks that the
// server's key is the id it dialed; the listener learns the caller's id from its
// certificate (and refuses ids outside `allowed_peers` when that is not empty). Both
// directions carry messages both ways: a node answers a peer that called it on that
// connection even without knowing the peer's address. When both nodes dial each
// other at once, both connections stay up until idle; sends prefer our outbound
// connection. A new inbound connection from a peer replaces its older one (a peer
// that restarted leaves a half-open connection behind).
//
// Slots: any key makes a valid certificate, so strangers are held apart from the
// peers the node needs. The owner names its known peers (`set_known_peers`, at any
// time: the configured peers and the nodes registered on chain). Established
// connections and our own dials take one of `connections_max` slots. Known peers and
// dials may use them all; callers outside the known set get at most
// `unknown_connections_max` of them, and at most `connections_per_address_max` from
// one address. Inbound connections in their TLS handshake (who is calling is not
// known yet) sit in a pool of their own, `inbound_handshakes_max` beside the slots
// and `connections_per_address_max` per address; a newcomer to a full pool closes the
// oldest handshake (of its own address first), so silent sockets cannot keep a
// known peer from reaching its handshake. When a known peer's handshake (or a dial)
// finds every slot taken, the unknown caller idle longest is closed to make room;
// only a table full of known peers and dials refuses it. An unknown caller that sends
// no whole frame within `first_frame_timeout_ms` of its handshake is closed. The
// known set only ranks callers; it is no allow-list, and a connection up when the set
// changes is counted under the new set from then on.
//
// Framing: u32 little-endian length, then one encoded message (actors/core/codec.hpp).
// A bad frame header (0, above `frame_bytes_max`), a body that does not decode,
// a failed TLS handshake or a connection beyond the limits above closes that
// connection and counts why; other connections are untouched.
//
// Concurrency and lifetime: one io thread runs every handler (so handlers are
// serialized without a strand); `send`, `set_address`, `set_known_peers` and `stats`
// may be called from any thread, the io thread included (so from `on_inbound`). `on_inbound` is called
// on the io thread for every decoded frame, in order per connection; it must not
// throw, should return quickly, and must not call `stop` or destroy the transport.
// After `stop` returns (or the destructor), `on_inbound` is never called again and
// sends are dropped. A stopped transport cannot be started again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/limits.hpp"
#include "actors/world/world.hpp"

namespace stakecast::node {

enum class transport_errc : std::uint8_t {
  /// `transport_options` break one of their documented limits.
  invalid_options = 1,
  /// A host that is not an IPv4 or IPv6 address literal.
  invalid_address,
  /// The address book holds `addresses_max` peers already.
  address_book_full,
  /// The listening socket could not be opened, bound or put to listen.
  listen_failed,
  /// The node's TLS identity or context could not be built.
  tls_setup_failed,
  /// More than `tls_transport::known_peers_max` known peers.
  known_peers_full,
};

std::string_view to_string(transport_errc code) noexcept;
/// A caf::error in category "transport" with text "<code>: <detail>".
caf::error make_error(transport_errc code, std::string_view detail);

/// Settings of one transport, with their defaults.
struct transport_options {
  /// Address to listen on (an IP literal); 127.0.0.1 unless the node is public.
  std::string listen_host = "127.0.0.1";
  /// 0 lets the OS pick; `listening_port()` tells which.
  std::uint16_t listen_port = 0;
  /// Slots: established connections (both directions) and our own dials. A known peer
  /// or a dial that finds them taken closes the unknown caller idle longest; with
  /// none, it is refused (see the file comment).
  std::size_t connections_max = 128;
  /// Slots that callers outside the known set may hold; one more is refused after its
  /// handshake. At most `connections_max`; 0 admits known peers only.
  std::size_t unknown_connections_max = 96;
  /// Inbound connections in their TLS handshake, beside the slots; a newcomer beyond
  /// closes the oldest.
  std::size_t inbound_handshakes_max = 16;
  /// From one remote address (an IPv4 address, an IPv6 /64): inbound handshakes, and
  /// slots of unknown callers, at most this many each. A handshake beyond closes the
  /// address's oldest; an unknown caller beyond is refused.
  std::size_t connections_per_address_max = 8;
  /// Peers in the address book.
  std::size_t addresses_max = 4096;
  /// Messages queued for one peer and not yet written.
  std::size_t send_queue_messages_max = 1024;
  /// Bytes (frames) queued for one peer. At least one largest frame fits.
  std::size_t send_queue_bytes_max = 16 * 1024 * 1024;
  /// Bytes queued for all peers together.
  std::size_t send_queues_bytes_max = 256 * 1024 * 1024;
  /// A dial: from TCP connect until the peer is authenticated.
  std::uint32_t handshake_timeout_ms = 5'000;
  /// A caller: from accept until it is authenticated. A TLS 1.3 handshake ends about
  /// one round trip after the accept; a silent socket should not hold its place long.
  std::uint32_t inbound_handshake_timeout_ms = 2'000;
  /// An unknown caller: from its authentication until its first whole frame. An
  /// honest node dials because it has a message to send, and sends it at once.
  std::uint32_t first_frame_timeout_ms = 2'000;
  /// A connection with no bytes either way for this long is closed.
  std::uint32_t idle_timeout_ms = 60'000;
  /// First wait after a failed dial; doubles per failure up to `reconnect_max_ms`.
  std::uint32_t reconnect_initial_ms = 250;
  std::uint32_t reconnect_max_ms = 30'000;
  /// The largest frame body accepted from a peer (the protocol's limit or lower).
  std::size_t frame_bytes_max = limits::frame_bytes_max;
  /// When not empty, inbound connections from other node ids are refused.
  std::vector<core::node_id> allowed_peers;
};

inline constexpr std::size_t send_queue_bytes_default = transport_options{}.send_queue_bytes_max;
static_assert(send_queue_bytes_default >= limits::frame_header_bytes + limits::frame_bytes_max,
              "a largest frame fits an empty send queue");
static_assert(transport_options{}.send_queues_bytes_max >= send_queue_bytes_default,
              "every peer's queue can fill while the others are empty");
static_assert(transport_options{}.reconnect_initial_ms <= transport_options{}.reconnect_max_ms);
static_assert(transport_options{}.handshake_timeout_ms < transport_options{}.idle_timeout_ms,
              "a handshake ends well before a connection counts as idle");
static_assert(transport_options{}.inbound_handshake_timeout_ms
                <= transport_options{}.handshake_timeout_ms,
              "a caller is given no longer than our own dials take");
static_assert(transport_options{}.first_frame_timeout_ms < transport_options{}.idle_timeout_ms);
static_assert(transport_options{}.unknown_connections_max < transport_options{}.connections_max,
              "by default some slots are kept for known peers");
static_assert(transport_options{}.connections_per_address_max
                < transport_options{}.inbound_handshakes_max,
              "one address cannot take the whole handshake pool");
static_assert(transport_options{}.connections_per_address_max
                < transport_options{}.unknown_connections_max,
              "one address cannot take every unknown slot");

/// A snapshot of the transport's counters. Counters only grow; `connections_open` is
/// the current number.
struct transport_stats {
  std::uint64_t connections_open = 0;
  /// Of `connections_open`, inbound connections in their TLS handshake.
  std::uint64_t handshakes_open = 0;
  /// TCP connections accepted / dials started.
  std::uint64_t accepted = 0;
  std::uint64_t dialed = 0;
  /// Connections whose peer was authenticated and admitted (both directions).
  std::uint64_t authenticated = 0;
  /// Callers refused after their handshake, and dials not started, because every
  /// slot was held by known peers and dials.
  std::uint64_t refused_connections_max = 0;
  /// Unknown callers refused because `unknown_connections_max` were up.
  std::uint64_t refused_unknown_max = 0;
  /// Unknown callers refused because `connections_per_address_max` unknown callers
  /// from their address were up.
  std::uint64_t refused_address_max = 0;
  /// Inbound handshakes closed to make room for a newer one (the pool or the
  /// address's share was full).
  std::uint64_t evicted_handshakes = 0;
  /// Unknown callers closed to make room for a known peer or a dial.
  std::uint64_t evicted_for_known = 0;
  /// Unknown callers closed for sending no frame within `first_frame_timeout_ms`.
  std::uint64_t first_frame_timeouts = 0;
  /// TCP connect failed (refused, unreachable).
  std::uint64_t dial_failures = 0;
  /// TLS handshake failed or timed out, or the peer's certificate was unusable.
  std::uint64_t handshake_failures = 0;
  /// A dialed peer's key was not the node id dialed.
  std::uint64_t identity_mismatches = 0;
  /// An inbound peer not in `allowed_peers`.
  std::uint64_t peers_not_allowed = 0;
  /// An inbound connection replaced by a newer one from the same peer.
  std::uint64_t superseded = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  /// Frame bytes, headers included (TLS overhead excluded).
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_no_address = 0;
  /// Queued messages dropped because the dial to their peer failed.
  std::uint64_t dropped_unreachable = 0;
  /// Bad frame header or undecodable body.
  std::uint64_t protocol_errors = 0;
  std::uint64_t idle_closes = 0;
  /// Established connections that ended by a read or write error or the peer
  /// closing.
  std::uint64_t connections_lost = 0;
};

class tls_transport final : public world::transport {
public:
  using inbound_handler = std::function<void(world::inbound)>;

  /// Known peers at most: the configured peers, registered validators and
  /// masternodes of a large chain.
  static constexpr std::size_t known_peers_max = 16'384;

  /// REQUIRES: `on_inbound` is callable. Nothing runs until `start`.
  tls_transport(const core::key_pair& keys, transport_options options,
                inbound_handler on_inbound);
  /// Stops (see `stop`).
  ~tls_transport() override;

  tls_transport(const tls_transport&) = delete;
  tls_transport& operator=(const tls_transport&) = delete;

  /// Builds the TLS context, binds the listening socket and starts the io thread.
  /// Errors: invalid_options, invalid_address, listen_failed, tls_setup_failed.
  /// REQUIRES: called once, before `stop`.
  caf::error start();

  /// Closes every connection and joins the io thread. Idempotent.
  /// REQUIRES: not called from the io thread (that is, not from `on_inbound`).
  void stop();

  /// The bound port once `start` succeeded, 0 before.
  std::uint16_t listening_port() const noexcept;
  /// This node's id (its public key).
  core::node_id id() const noexcept;

  /// Where to dial `peer`. Replaces a previous address; a connection that is up
  /// stays up. Errors: invalid_address, address_book_full. Thread-safe.
  caf::error set_address(const core::node_id& peer, std::string_view host,
                         std::uint16_t port);

  /// Replaces the known peers (see the file comment); duplicates count once. May be
  /// called before `start` and at any time after. Errors: known_peers_full (the set
  /// is then unchanged). Thread-safe.
  caf::error set_known_peers(const std::vector<core::node_id>& peers);

  /// world::transport. Thread-safe, never blocks on the network.
  /// REQUIRES: as wire::encode_frame (the message respects its limits).
  void send(const core::node_id& to, wire::message message) override;

  /// Thread-safe.
  transport_stats stats() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace stakecast::node
