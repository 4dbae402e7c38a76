#include "node/tls_transport.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/core/codec.hpp"
#include "actors/core/error.hpp"
#include "actors/core/random.hpp"
#include "node/tls_identity.hpp"
#include "node/tls_stream.hpp"

namespace stakecast::node {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using steady_clock = std::chrono::steady_clock;
using milliseconds = std::chrono::milliseconds;

namespace {

// Bytes moved per read or write call. A large frame moves in such steps, so the idle
// timer sees progress on a slow link, and a header announcing 4 MiB costs nothing
// until the bytes come: the body buffer is sized to the whole frame only once its
// first step has arrived. Small frames queued together are written in one step of up
// to this size.
constexpr std::size_t io_chunk_bytes = 64 * 1024;
// A connection keeps its body buffer between frames up to this size: segments of 1-2
// MiB arrive back to back while a viewer streams, and allocating (and faulting in) a
// fresh buffer for each, grown step by step, was 18 % of a viewer node's CPU time.
// At most connections_max such buffers exist.
constexpr std::size_t body_bytes_kept_max = 2 * 1024 * 1024;
// Wait before accepting again after accept failed (out of file descriptors): without
// it a failing accept would spin the io thread.
constexpr std::uint32_t accept_retry_ms = 100;

static_assert(io_chunk_bytes <= limits::frame_bytes_max);
static_assert(io_chunk_bytes >= limits::frame_header_bytes);
static_assert(body_bytes_kept_max >= io_chunk_bytes && body_bytes_kept_max <= limits::frame_bytes_max);

std::string short_id(const core::node_id& id) {
  return id.to_hex().substr(0, 8);
}

// Where a caller comes from, for the per-address limits: an IPv4 address (as IPv4-mapped
// IPv6), or the /64 of an IPv6 address, since one IPv6 host is given a whole /64.
using address_group = asio::ip::address_v6::bytes_type;

address_group group_of(const asio::ip::address& address) {
  if (address.is_v4())
    return asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes();
  auto bytes = address.to_v6().to_bytes();
  if (!address.to_v6().is_v4_mapped())
    std::fill(bytes.begin() + 8, bytes.end(), std::uint8_t{0});
  return bytes;
}

// Empty when the options respect their limits; otherwise what is wrong.
std::string check_options(const transport_options& options) {
  if (options.connections_max == 0)
    return "connections_max must be at least 1";
  if (options.unknown_connections_max > options.connections_max)
    return "unknown_connections_max must be at most connections_max";
  if (options.inbound_handshakes_max == 0)
    return "inbound_handshakes_max must be at least 1";
  if (options.connections_per_address_max == 0)
    return "connections_per_address_max must be at least 1";
  if (options.addresses_max == 0)
    return "addresses_max must be at least 1";
  if (options.send_queue_messages_max == 0)
    return "send_queue_messages_max must be at least 1";
  if (options.send_queue_bytes_max <= limits::frame_header_bytes)
    return "send_queue_bytes_max must hold a frame";
  if (options.send_queues_bytes_max < options.send_queue_bytes_max)
    return "send_queues_bytes_max must be at least send_queue_bytes_max";
  if (options.handshake_timeout_ms == 0 || options.inbound_handshake_timeout_ms == 0
      || options.first_frame_timeout_ms == 0 || options.idle_timeout_ms == 0)
    return "timeouts must be at least 1 ms";
  if (options.reconnect_initial_ms == 0
      || options.reconnect_initial_ms > options.reconnect_max_ms)
    return "need 1 <= reconnect_initial_ms <= reconnect_max_ms";
  if (options.frame_bytes_max == 0 || options.frame_bytes_max > limits::frame_bytes_max)
    return fmt::format("frame_bytes_max must be in 1..={}", limits::frame_bytes_max);
  return {};
}

} // namespace

std::string_view to_string(transport_errc code) noexcept {
  switch (code) {
    case transport_errc::invalid_options:
      return "invalid_options";
    case transport_errc::invalid_address:
      return "invalid_address";
    case transport_errc::address_book_full:
      return "address_book_full";
    case transport_errc::listen_failed:
      return "listen_failed";
    case transport_errc::tls_setup_failed:
      return "tls_setup_failed";
    case transport_errc::known_peers_full:
      return "known_peers_full";
  }
  return "unknown";
}

caf::error make_error(transport_errc code, std::string_view detail) {
  return core::make_domain_error(caf::atom("transport"), static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

// Lock discipline: `mutex_` guards everything `send`, `set_address`,
// `set_known_peers` and `stats` touch (peers, address count, known set, counters,
// `stopping_`), and the io thread holds it while it changes or reads them. A
// `connection`'s own fields are touched by the io thread only. The inbound callback
// and decoding run without the lock, so callers of `send` never wait for them.
struct tls_transport::impl {
  enum class direction : std::uint8_t { inbound, outbound };

  struct connection {
    connection(asio::io_context& io, asio::ssl::context& tls, direction dialed_or_accepted,
               const core::node_id& expected)
      : stream(io, tls), deadline(io), way(dialed_or_accepted), peer(expected) {
    }

    tls_stream stream;
    // The handshake deadline first, then the idle check.
    asio::steady_timer deadline;
    direction way;
    // The id dialed (outbound) until established, then the authenticated id.
    core::node_id peer;
    bool established = false;
    bool closed = false;
    // An established caller that has not sent a whole frame yet.
    bool awaiting_first_frame = false;
    steady_clock::time_point last_activity;
    // Inbound: where the caller comes from, and its place in accept order.
    address_group group{};
    std::uint64_t accept_serial = 0;

    std::array<std::uint8_t, limits::frame_header_bytes> header{};
    std::size_t body_bytes = 0; // announced by the header being read
    core::byte_buffer body;

    bool writing = false;
    core::byte_buffer write_buffer; // whole frames
    std::size_t write_offset = 0;
    std::size_t write_frames = 0;
  };
  using connection_pointer = std::shared_ptr<connection>;

  struct peer_state {
    std::optional<tcp::endpoint> address;
    std::deque<core::byte_buffer> queue; // encoded frames
    std::size_t queue_bytes = 0;
    bool kick_posted = false;
    connection_pointer outbound; // dialing or established
    connection_pointer inbound;  // established only
    bool backing_off = false;
    std::uint32_t backoff_ms = 0; // the last backoff; 0 after a success
    std::unique_ptr<asio::steady_timer> backoff_timer;
  };
  using peer_map = std::unordered_map<core::node_id, peer_state, core::hash256_hasher>;
  using id_set = std::unordered_set<core::node_id, core::hash256_hasher>;

  impl(const core::key_pair& keys, transport_options options, inbound_handler on_inbound)
    : options_(std::move(options)), on_inbound_(std::move(on_inbound)),
      identity_(tls_identity::make(keys)), id_(keys.public_key()),
      random_(core::derive_seed(id_.prefix64(), "tls_transport")),
      allowed_(options_.allowed_peers.begin(), options_.allowed_peers.end()),
      work_(io_.get_executor()), acceptor_(io_), accept_retry_(io_) {
    assert(on_inbound_);
  }

  ~impl() {
    stop();
  }

  // ---- caller threads

  caf::error start() {
    assert(!started_);
    started_ = true;
    if (!identity_)
      return make_error(transport_errc::tls_setup_failed, core::describe(identity_.error()));
    if (auto problem = check_options(options_); !problem.empty())
      return make_error(transport_errc::invalid_options, problem);
    if (auto error = configure_context(tls_, *identity_))
      return make_error(transport_errc::tls_setup_failed, core::describe(error));
    error_code ec;
    const auto address = asio::ip::make_address(options_.listen_host, ec);
    if (ec)
      return make_error(transport_errc::invalid_address, options_.listen_host);
    const tcp::endpoint endpoint{address, options_.listen_port};
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(endpoint, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec)
      port_ = acceptor_.local_endpoint(ec).port();
    if (ec) {
      error_code ignored;
      acceptor_.close(ignored);
      return make_error(transport_errc::listen_failed,
                        fmt::format("{}:{}: {}", options_.listen_host, options_.listen_port,
                                    ec.message()));
    }
    accept_next();
    thread_ = std::thread([this] { io_.run(); });
    return caf::none;
  }

  void stop() {
    if (!thread_.joinable()) {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      peers_.clear();
      queued_bytes_ = 0;
      return;
    }
    asio::post(io_, [this] { shutdown(); });
    work_.reset();
    thread_.join();
  }

  caf::error set_address(const core::node_id& peer, std::string_view host, std::uint16_t port) {
    error_code ec;
    const auto address = asio::ip::make_address(std::string(host), ec);
    if (ec)
      return make_error(transport_errc::invalid_address, host);
    std::lock_guard lock(mutex_);
    auto found = peers_.find(peer);
    const bool is_new = found == peers_.end() || !found->second.address;
    if (is_new && addresses_count_ >= options_.addresses_max)
      return make_error(transport_errc::address_book_full,
                        fmt::format("{} addresses", options_.addresses_max));
    if (is_new)
      ++addresses_count_;
    peers_[peer].address = tcp::endpoint{address, port};
    return caf::none;
  }

  void enqueue(const core::node_id& to, core::byte_buffer frame) {
    std::lock_guard lock(mutex_);
    if (stopping_)
      return;
    auto found = peers_.find(to);
    if (found == peers_.end() || (!found->second.address && !found->second.inbound)) {
      ++stats_.dropped_no_address;
      return;
    }
    peer_state& peer = found->second;
    if (peer.queue.size() >= options_.send_queue_messages_max
        || peer.queue_bytes + frame.size() > options_.send_queue_bytes_max
        || queued_bytes_ + frame.size() > options_.send_queues_bytes_max) {
      ++stats_.dropped_queue_full;
      return;
    }
    peer.queue_bytes += frame.size();
    queued_bytes_ += frame.size();
    peer.queue.push_back(std::move(frame));
    // At most one posted kick per peer: the io context's queue stays bounded by the
    // number of peers whatever the send rate.
    if (!peer.kick_posted) {
      peer.kick_posted = true;
      asio::post(io_, [this, to] { on_kick(to); });
    }
  }

  caf::error set_known_peers(const std::vector<core::node_id>& peers) {
    if (peers.size() > known_peers_max)
      return make_error(transport_errc::known_peers_full,
                        fmt::format("{} peers, at most {}", peers.size(), known_peers_max));
    // Built, and the old set freed, outside the lock.
    id_set fresh(peers.begin(), peers.end());
    std::lock_guard lock(mutex_);
    known_.swap(fresh);
    return caf::none;
  }

  transport_stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  // ---- io thread; functions named on_* take the lock, the others REQUIRE it held

  void shutdown() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    for (const auto& c : connections_)
      abort_socket(*c);
    connections_.clear();
    stats_.handshakes_open = 0;
    // Destroying the backoff timers aborts their waits; every handler still queued
    // finds its connection closed or `stopping_` set and returns.
    peers_.clear();
    queued_bytes_ = 0;
    stats_.connections_open = 0;
  }

  void on_kick(const core::node_id& id) {
    std::lock_guard lock(mutex_);
    if (stopping_)
      return;
    auto found = peers_.find(id);
    if (found == peers_.end())
      return;
    found->second.kick_posted = false;
    service(found->first, found->second);
  }

  // Moves queued frames towards the peer: write on a live connection, else dial.
  void service(const core::node_id& id, peer_state& peer) {
    if (auto writer = writer_of(peer)) {
      write_next(writer, peer);
      return;
    }
    if (peer.queue.empty() || peer.outbound || peer.backing_off || !peer.address)
      return;
    dial(id, peer);
  }

  static connection_pointer writer_of(const peer_state& peer) {
    if (peer.outbound && peer.outbound->established)
      return peer.outbound;
    return peer.inbound;
  }

  void dial(const core::node_id& id, peer_state& peer) {
    if (!free_slot()) {
      ++stats_.refused_connections_max;
      dial_failed(id, peer);
      return;
    }
    auto c = std::make_shared<connection>(io_, tls_, direction::outbound, id);
    add_connection(c);
    ++stats_.dialed;
    peer.outbound = c;
    arm_deadline(c, milliseconds(options_.handshake_timeout_ms));
    c->stream.lowest_layer().async_connect(
      *peer.address, [this, c](const error_code& ec) { on_connected(c, ec); });
  }

  void on_connected(const connection_pointer& c, const error_code& ec) {
    std::lock_guard lock(mutex_);
    if (c->closed)
      return;
    if (ec) {
      ++stats_.dial_failures;
      close(c, "connect: " + ec.message());
      return;
    }
    error_code ignored;
    c->stream.lowest_layer().set_option(tcp::no_delay(true), ignored);
    c->stream.async_handshake(asio::ssl::stream_base::client,
                              [this, c](const error_code& e) { on_handshake(c, e); });
  }

  void accept_next() {
    auto c = std::make_shared<connection>(io_, tls_, direction::inbound, core::node_id{});
    acceptor_.async_accept(c->stream.lowest_layer(),
                           [this, c](const error_code& ec) { on_accept(c, ec); });
  }

  void on_accept(const connection_pointer& c, const error_code& ec) {
    std::lock_guard lock(mutex_);
    if (stopping_ || ec == asio::error::operation_aborted)
      return;
    if (ec) {
      spdlog::warn("transport {}: accept failed: {}", short_id(id_), ec.message());
      accept_retry_.expires_after(milliseconds(accept_retry_ms));
      accept_retry_.async_wait([this](const error_code& e) { on_accept_retry(e); });
      return;
    }
    ++stats_.accepted;
    begin_inbound_handshake(c);
    accept_next();
  }

  void begin_inbound_handshake(const connection_pointer& c) {
    error_code ec;
    const auto remote = c->stream.lowest_layer().remote_endpoint(ec);
    if (ec) { // the caller left already
      ++stats_.handshake_failures;
      abort_socket(*c);
      return;
    }
    c->group = group_of(remote.address());
    c->accept_serial = ++accept_serial_;
    make_room_for_handshake(c->group);
    add_connection(c);
    ++stats_.handshakes_open;
    error_code ignored;
    c->stream.lowest_layer().set_option(tcp::no_delay(true), ignored);
    arm_deadline(c, milliseconds(options_.inbound_handshake_timeout_ms));
    c->stream.async_handshake(asio::ssl::stream_base::server,
                              [this, c](const error_code& e) { on_handshake(c, e); });
  }

  static bool in_handshake(const connection& c) {
    return c.way == direction::inbound && !c.established;
  }

  // Before a new handshake joins the pool: closes the oldest handshake of `group` when
  // that address has its share, else the oldest of all when the pool is full. The
  // oldest has had the longest to finish; an honest handshake ends about one round
  // trip after its accept, so a flood must outpace that to close one.
  void make_room_for_handshake(const address_group& group) {
    connection_pointer oldest, oldest_here;
    std::size_t here = 0;
    for (const auto& c : connections_) {
      if (!in_handshake(*c))
        continue;
      if (!oldest || c->accept_serial < oldest->accept_serial)
        oldest = c;
      if (c->group != group)
        continue;
      ++here;
      if (!oldest_here || c->accept_serial < oldest_here->accept_serial)
        oldest_here = c;
    }
    connection_pointer victim;
    if (here >= options_.connections_per_address_max)
      victim = oldest_here;
    else if (stats_.handshakes_open >= options_.inbound_handshakes_max)
      victim = oldest;
    if (!victim)
      return;
    ++stats_.evicted_handshakes;
    close(victim, "evicted by a newer handshake");
  }

  void on_accept_retry(const error_code& ec) {
    std::lock_guard lock(mutex_);
    if (!ec && !stopping_)
      accept_next();
  }

  void on_handshake(const connection_pointer& c, const error_code& ec) {
    std::lock_guard lock(mutex_);
    if (c->closed)
      return;
    if (ec) {
      ++stats_.handshake_failures;
      close(c, "TLS handshake: " + ec.message());
      return;
    }
    auto id = peer_node_id(c->stream.native_handle());
    if (!id) {
      ++stats_.handshake_failures;
      close(c, core::describe(id.error()));
      return;
    }
    if (c->way == direction::outbound && *id != c->peer) {
      ++stats_.identity_mismatches;
      close(c, "the peer's key is " + short_id(*id));
      return;
    }
    if (c->way == direction::inbound && !allowed_.empty() && !allowed_.contains(*id)) {
      ++stats_.peers_not_allowed;
      close(c, "peer " + short_id(*id) + " is not allowed");
      return;
    }
    if (c->way == direction::inbound && !admit_caller(c, *id))
      return;
    establish(c, *id);
  }

  // ---- slots (the file comment of tls_transport.hpp)

  bool is_unknown_caller(const connection& c) const {
    return c.way == direction::inbound && c.established && !known_.contains(c.peer);
  }

  std::size_t slots_used() const {
    assert(connections_.size() >= stats_.handshakes_open);
    return connections_.size() - stats_.handshakes_open;
  }

  // Whether the caller `c`, just authenticated as `id`, may take a slot; if not, `c` is
  // closed and counted.
  bool admit_caller(const connection_pointer& c, const core::node_id& id) {
    assert(in_handshake(*c));
    // A peer's newer connection replaces its older one before anything is counted: a
    // peer that restarted does not compete with its own half-open connection.
    if (auto found = peers_.find(id); found != peers_.end() && found->second.inbound) {
      ++stats_.superseded;
      close(found->second.inbound, "superseded by a newer connection");
    }
    if (known_.contains(id)) {
      if (free_slot())
        return true;
      ++stats_.refused_connections_max;
      close(c, "every slot is held by known peers");
      return false;
    }
    std::size_t unknown = 0, from_address = 0;
    for (const auto& other : connections_)
      if (is_unknown_caller(*other)) {
        ++unknown;
        from_address += other->group == c->group ? 1 : 0;
      }
    if (unknown >= options_.unknown_connections_max) {
      ++stats_.refused_unknown_max;
      close(c, fmt::format("unknown peer {}: {} unknown peers are up", short_id(id), unknown));
      return false;
    }
    if (from_address >= options_.connections_per_address_max) {
      ++stats_.refused_address_max;
      close(c, fmt::format("unknown peer {}: {} unknown peers from its address are up",
                           short_id(id), from_address));
      return false;
    }
    if (slots_used() >= options_.connections_max) {
      ++stats_.refused_connections_max;
      close(c, "unknown peer " + short_id(id) + ": every slot is taken");
      return false;
    }
    return true;
  }

  // True when a slot is free for a known peer or a dial, after closing the unknown
  // caller idle longest if none was.
  bool free_slot() {
    if (slots_used() < options_.connections_max)
      return true;
    connection_pointer victim;
    for (const auto& c : connections_)
      if (is_unknown_caller(*c) && (!victim || c->last_activity < victim->last_activity))
        victim = c;
    if (!victim)
      return false;
    ++stats_.evicted_for_known;
    close(victim, "evicted for a known peer");
    // Closing may have dialed the victim's own peer into the slot.
    return slots_used() < options_.connections_max;
  }

  void establish(const connection_pointer& c, const core::node_id& id) {
    if (in_handshake(*c))
      --stats_.handshakes_open;
    c->established = true;
    c->peer = id;
    c->last_activity = steady_clock::now();
    c->awaiting_first_frame = is_unknown_caller(*c);
    // Replaces the handshake's deadline.
    arm_deadline(c, milliseconds(c->awaiting_first_frame ? options_.first_frame_timeout_ms
                                                         : options_.idle_timeout_ms));
    ++stats_.authenticated;
    spdlog::debug("transport {}: {} connection with {} up", short_id(id_),
                  c->way == direction::outbound ? "outbound" : "inbound", short_id(id));
    peer_state& peer = peers_[id];
    if (c->way == direction::outbound) {
      peer.backoff_ms = 0;
    } else {
      assert(!peer.inbound); // admit_caller closed an older one
      peer.inbound = c;
    }
    start_read(c);
    service(id, peer);
  }

  void arm_deadline(const connection_pointer& c, milliseconds after) {
    c->deadline.expires_after(after);
    c->deadline.async_wait([this, c](const error_code& ec) { on_deadline(c, ec); });
  }

  void on_deadline(const connection_pointer& c, const error_code& ec) {
    if (ec == asio::error::operation_aborted)
      return;
    std::lock_guard lock(mutex_);
    if (c->closed)
      return;
    if (!c->established) {
      ++stats_.handshake_failures;
      close(c, "handshake timed out");
      return;
    }
    if (c->awaiting_first_frame && !known_.contains(c->peer)) {
      ++stats_.first_frame_timeouts;
      close(c, "no frame since the handshake");
      return;
    }
    const auto idle_until = c->last_activity + milliseconds(options_.idle_timeout_ms);
    if (steady_clock::now() >= idle_until) {
      ++stats_.idle_closes;
      close(c, "idle");
      return;
    }
    c->deadline.expires_at(idle_until);
    c->deadline.async_wait([this, c](const error_code& e) { on_deadline(c, e); });
  }

  // ---- reading: header, body in chunks, decode, deliver

  void start_read(const connection_pointer& c) {
    c->stream.async_read(c->header.data(), c->header.size(),
                         [this, c](const error_code& ec, std::size_t) { on_header(c, ec); });
  }

  /// After an I/O completion, with the mutex held: false when the connection is
  /// closed or the operation failed (the connection is then closed here and counted
  /// as lost); otherwise notes the activity and returns true.
  bool completed(const connection_pointer& c, const error_code& ec, std::string_view operation) {
    if (c->closed)
      return false;
    if (ec) {
      ++stats_.connections_lost;
      close(c, fmt::format("{}: {}", operation, ec.message()));
      return false;
    }
    c->last_activity = steady_clock::now();
    return true;
  }

  void on_header(const connection_pointer& c, const error_code& ec) {
    std::lock_guard lock(mutex_);
    if (!completed(c, ec, "read"))
      return;
    auto length = wire::decode_frame_header(c->header);
    if (!length || *length > options_.frame_bytes_max) {
      ++stats_.protocol_errors;
      close(c, length ? fmt::format("frame of {} bytes", *length)
                      : core::describe(length.error()));
      return;
    }
    c->body_bytes = *length;
    c->body.clear();
    read_body(c);
  }

  void read_body(const connection_pointer& c) {
    const std::size_t have = c->body.size();
    const std::size_t chunk = std::min(io_chunk_bytes, c->body_bytes - have);
    if (have > 0 && c->body.capacity() < c->body_bytes)
      c->body.reserve(c->body_bytes); // the peer is sending it: one allocation, no regrowth
    c->body.resize(have + chunk);
    c->stream.async_read(c->body.data() + have, chunk,
                         [this, c](const error_code& ec, std::size_t) { on_body(c, ec); });
  }

  void on_body(const connection_pointer& c, const error_code& ec) {
    {
      std::lock_guard lock(mutex_);
      if (!completed(c, ec, "read"))
        return;
    }
    if (c->body.size() < c->body_bytes) {
      read_body(c);
      return;
    }
    auto message = wire::decode(c->body);
    if (c->body.capacity() > body_bytes_kept_max)
      c->body = core::byte_buffer{}; // a frame this large is rare: its buffer is not kept
    {
      std::lock_guard lock(mutex_);
      if (!message) {
        ++stats_.protocol_errors;
        close(c, core::describe(message.error()));
        return;
      }
      ++stats_.frames_in;
      stats_.bytes_in += limits::frame_header_bytes + c->body_bytes;
      if (std::exchange(c->awaiting_first_frame, false))
        arm_deadline(c, milliseconds(options_.idle_timeout_ms)); // replaces the first frame's
    }
    on_inbound_(world::inbound{c->peer, std::move(*message)});
    // The callback cannot close `c` (only this thread does, and `stop` may not be
    // called from the callback), but a shutdown may have been posted before it.
    if (!c->closed)
      start_read(c);
  }

  // ---- writing: whole frames, batched up to io_chunk_bytes, written in chunks

  void write_next(const connection_pointer& c, peer_state& peer) {
    if (c->writing || peer.queue.empty())
      return;
    // The first frame is moved, not copied: it may be 4 MiB.
    c->write_buffer = std::move(peer.queue.front());
    peer.queue.pop_front();
    c->write_frames = 1;
    while (!peer.queue.empty()
           && c->write_buffer.size() + peer.queue.front().size() <= io_chunk_bytes) {
      const auto& frame = peer.queue.front();
      c->write_buffer.insert(c->write_buffer.end(), frame.begin(), frame.end());
      peer.queue.pop_front();
      ++c->write_frames;
    }
    peer.queue_bytes -= c->write_buffer.size();
    queued_bytes_ -= c->write_buffer.size();
    c->write_offset = 0;
    c->writing = true;
    write_chunk(c);
  }

  void write_chunk(const connection_pointer& c) {
    const std::size_t chunk = std::min(io_chunk_bytes, c->write_buffer.size() - c->write_offset);
    c->stream.async_write(c->write_buffer.data() + c->write_offset, chunk,
                          [this, c](const error_code& ec, std::size_t written) {
                            on_written(c, ec, written);
                          });
  }

  void on_written(const connection_pointer& c, const error_code& ec, std::size_t written) {
    std::lock_guard lock(mutex_);
    if (!completed(c, ec, "write"))
      return;
    c->write_offset += written;
    if (c->write_offset < c->write_buffer.size()) {
      write_chunk(c);
      return;
    }
    stats_.frames_out += c->write_frames;
    stats_.bytes_out += c->write_buffer.size();
    c->writing = false;
    if (c->write_buffer.capacity() > io_chunk_bytes)
      c->write_buffer = core::byte_buffer{};
    auto found = peers_.find(c->peer);
    if (found != peers_.end())
      service(found->first, found->second);
  }

  // ---- closing and backoff

  void add_connection(const connection_pointer& c) {
    connections_.insert(c);
    stats_.connections_open = connections_.size();
  }

  static void abort_socket(connection& c) {
    c.closed = true;
    c.deadline.cancel();
    error_code ignored;
    c.stream.lowest_layer().close(ignored);
  }

  // Closes `c` and settles its peer: a failed dial backs off; a lost connection
  // hands queued frames to another connection or a new dial; a peer left with no
  // address and no connection is forgotten. Frames being written on `c` are lost.
  void close(const connection_pointer& c, std::string_view reason) {
    if (c->closed)
      return;
    spdlog::debug("transport {}: {} connection {} {} closed: {}", short_id(id_),
                  c->way == direction::outbound ? "outbound" : "inbound",
                  c->established || c->way == direction::outbound ? "with" : "from unknown",
                  short_id(c->peer), reason);
    abort_socket(*c);
    connections_.erase(c);
    if (in_handshake(*c))
      --stats_.handshakes_open;
    stats_.connections_open = connections_.size();
    if (stopping_ || !(c->established || c->way == direction::outbound))
      return;
    auto found = peers_.find(c->peer);
    if (found == peers_.end())
      return;
    peer_state& peer = found->second;
    const bool was_registered = peer.outbound == c || peer.inbound == c;
    if (peer.outbound == c)
      peer.outbound.reset();
    if (peer.inbound == c)
      peer.inbound.reset();
    if (!was_registered)
      return;
    if (c->way == direction::outbound && !c->established)
      dial_failed(found->first, peer);
    else
      service(found->first, peer);
    forget_if_unused(found);
  }

  void drop_queue(peer_state& peer) {
    stats_.dropped_unreachable += peer.queue.size();
    queued_bytes_ -= peer.queue_bytes;
    peer.queue.clear();
    peer.queue_bytes = 0;
  }

  void dial_failed(const core::node_id& id, peer_state& peer) {
    drop_queue(peer);
    peer.backoff_ms = peer.backoff_ms == 0
                        ? options_.reconnect_initial_ms
                        : std::min(2 * peer.backoff_ms, options_.reconnect_max_ms);
    // Jitter in [d/2, d]: peers that failed together do not retry together.
    const std::uint32_t half = peer.backoff_ms / 2;
    const auto delay = half + random_.uniform(peer.backoff_ms - half + 1);
    if (!peer.backoff_timer)
      peer.backoff_timer = std::make_unique<asio::steady_timer>(io_);
    peer.backing_off = true;
    peer.backoff_timer->expires_after(milliseconds(delay));
    peer.backoff_timer->async_wait([this, id](const error_code& ec) { on_backoff_end(id, ec); });
  }

  void on_backoff_end(const core::node_id& id, const error_code& ec) {
    if (ec == asio::error::operation_aborted)
      return;
    std::lock_guard lock(mutex_);
    if (stopping_)
      return;
    auto found = peers_.find(id);
    if (found == peers_.end())
      return;
    found->second.backing_off = false;
    service(found->first, found->second);
    forget_if_unused(found);
  }

  void forget_if_unused(peer_map::iterator found) {
    peer_state& peer = found->second;
    if (peer.address || peer.outbound || peer.inbound || peer.backing_off)
      return;
    drop_queue(peer);
    peers_.erase(found);
  }

  // Declaration order is destruction order reversed: connections and timers (in
  // `peers_`, `connections_`, the acceptor) go before the io context they belong
  // to, and the TLS context outlives every stream.
  transport_options options_;
  inbound_handler on_inbound_;
  caf::expected<tls_identity> identity_;
  core::node_id id_;
  core::random_generator random_; // io thread only
  id_set allowed_;
  asio::ssl::context tls_{asio::ssl::context::tls};
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::acceptor acceptor_;          // io thread only (after start)
  asio::steady_timer accept_retry_; // io thread only
  std::thread thread_;
  std::atomic<std::uint16_t> port_{0};
  bool started_ = false; // the owner's thread

  mutable std::mutex mutex_;
  bool stopping_ = false;
  peer_map peers_;
  std::size_t addresses_count_ = 0;
  std::size_t queued_bytes_ = 0; // in every peer's queue
  std::unordered_set<connection_pointer> connections_;
  id_set known_;
  std::uint64_t accept_serial_ = 0; // io thread only
  transport_stats stats_;
};

tls_transport::tls_transport(const core::key_pair& keys, transport_options options,
                             inbound_handler on_inbound)
  : impl_(std::make_unique<impl>(keys, std::move(options), std::move(on_inbound))) {
}

tls_transport::~tls_transport() {
  impl_->stop();
}

caf::error tls_transport::start() {
  return impl_->start();
}

void tls_transport::stop() {
  impl_->stop();
}

std::uint16_t tls_transport::listening_port() const noexcept {
  return impl_->port_;
}

core::node_id tls_transport::id() const noexcept {
  return impl_->id_;
}

caf::error tls_transport::set_address(const core::node_id& peer, std::string_view host,
                                      std::uint16_t port) {
  return impl_->set_address(peer, host, port);
}

void tls_transport::send(const core::node_id& to, wire::message message) {
  core::byte_buffer frame;
  wire::encode_frame(message, frame);
  impl_->enqueue(to, std::move(frame));
}

caf::error tls_transport::set_known_peers(const std::vector<core::node_id>& peers) {
  return impl_->set_known_peers(peers);
}

transport_stats tls_transport::stats() const {
  return impl_->stats();
}

} // namespace stakecast::node
