// Pins down the node's TLS transport on loopback (127.0.0.1, ports from the OS):
// messages flow both ways and arrive with the sender's authenticated id; a dialer
// that reaches the wrong key delivers nothing; hostile connections (a 64 MiB frame
// header, a body that does not decode, plain-text garbage, a TLS 1.2 client, a peer
// outside the allow-list) are closed and counted while an honest peer on the same
// server keeps talking; an idle connection closes and the next send dials again; a
// full send queue drops and counts; a sender reconnects after its peer restarts
// on the same port; and strangers cannot crowd out known peers: silent sockets and
// TLS callers with throwaway keys, beyond every limit, leave a known peer able to
// connect and talk (a newer handshake closes the oldest, a known peer closes the
// unknown caller idle longest), unknown callers are held to their share and to a few
// per address, and a silent one is dropped after its handshake. Distinct caller
// addresses are loopback ones (127.0.0.2, ...), bound as the client's source.
// Hostile clients are driven by hand with a deadline on every step; every wait polls
// with a deadline of a few seconds, so a broken transport fails the test instead of
// hanging it.
#include "node/tls_transport.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include "actors/core/codec.hpp"
#include "actors/core/error.hpp"
#include "node/tls_identity.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/raw_tls_client.hpp"

using namespace stakecast;
using namespace std::chrono_literals;
using node::tls_transport;
using node::transport_options;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto wait_max = 5s;

using test::key_of;
using test::raw_client;

/// True once `done()` holds, polled until `within` has passed.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds within = wait_max) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// What a transport delivered, gathered from its io thread. Declare it before the
/// transport that calls it, so it outlives it.
class inbox {
public:
  tls_transport::inbound_handler handler() {
    return [this](world::inbound message) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(message));
    };
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds within = wait_max) const {
    return eventually([&] { return size() >= count; }, within);
  }
  world::inbound at(std::size_t index) const {
    std::lock_guard lock(mutex_);
    return messages_.at(index);
  }

private:
  mutable std::mutex mutex_;
  std::vector<world::inbound> messages_;
};

transport_options test_options() {
  transport_options options;
  options.handshake_timeout_ms = 3'000;
  options.reconnect_initial_ms = 20;
  options.reconnect_max_ms = 200;
  return options;
}

std::unique_ptr<tls_transport> started(const core::key_pair& keys, inbox& to,
                                       transport_options options = test_options()) {
  auto transport = std::make_unique<tls_transport>(keys, std::move(options), to.handler());
  const auto error = transport->start();
  INFO(core::describe(error));
  REQUIRE(!error);
  REQUIRE(transport->listening_port() != 0);
  return transport;
}

void point_at(tls_transport& from, const tls_transport& to) {
  REQUIRE(!from.set_address(to.id(), "127.0.0.1", to.listening_port()));
}

std::uint64_t ping_nonce(const world::inbound& message) {
  REQUIRE(std::holds_alternative<wire::ping>(message.body));
  return std::get<wire::ping>(message.body).nonce;
}

/// A frame header announcing `body_bytes`, little-endian.
core::byte_buffer header_of(std::uint32_t body_bytes) {
  return {static_cast<std::uint8_t>(body_bytes), static_cast<std::uint8_t>(body_bytes >> 8),
          static_cast<std::uint8_t>(body_bytes >> 16), static_cast<std::uint8_t>(body_bytes >> 24)};
}

/// `honest` sends a ping to `server` and gets a pong back on the same connection.
void exchange(tls_transport& honest, inbox& honest_inbox, tls_transport& server,
              inbox& server_inbox, std::uint64_t nonce) {
  const auto server_seen = server_inbox.size();
  const auto honest_seen = honest_inbox.size();
  honest.send(server.id(), wire::ping{nonce});
  REQUIRE(server_inbox.wait_for(server_seen + 1));
  CHECK(server_inbox.at(server_seen).from == honest.id());
  CHECK(ping_nonce(server_inbox.at(server_seen)) == nonce);
  server.send(honest.id(), wire::pong{nonce});
  REQUIRE(honest_inbox.wait_for(honest_seen + 1));
  CHECK(honest_inbox.at(honest_seen).from == server.id());
  CHECK(honest_inbox.at(honest_seen).body == wire::message{wire::pong{nonce}});
}

} // namespace

TEST_CASE("two transports exchange messages both ways with authenticated ids", "[tls]") {
  inbox a_inbox, b_inbox;
  const auto a_keys = key_of(1);
  const auto b_keys = key_of(2);
  auto a = started(a_keys, a_inbox);
  auto b = started(b_keys, b_inbox);
  point_at(*a, *b);

  // b knows no address for a: it answers on the connection a opened.
  exchange(*a, a_inbox, *b, b_inbox, 41);
  exchange(*a, a_inbox, *b, b_inbox, 42);

  const auto a_stats = a->stats();
  const auto b_stats = b->stats();
  CHECK(a_stats.dialed == 1);
  CHECK(a_stats.frames_out == 2);
  CHECK(a_stats.frames_in == 2);
  CHECK(b_stats.accepted == 1);
  CHECK(b_stats.dialed == 0);
  CHECK(b_stats.frames_in == 2);
  CHECK(b_stats.bytes_in == a_stats.bytes_out);
  CHECK(b_stats.protocol_errors == 0);
}

TEST_CASE("a dialer that reaches the wrong key delivers nothing", "[tls]") {
  inbox client_inbox, server_inbox;
  const auto client_keys = key_of(1);
  const auto server_keys = key_of(2);
  const auto expected = key_of(3).public_key();
  auto client = started(client_keys, client_inbox);
  auto server = started(server_keys, server_inbox);
  REQUIRE(!client->set_address(expected, "127.0.0.1", server->listening_port()));

  client->send(expected, wire::ping{1});
  REQUIRE(eventually([&] { return client->stats().identity_mismatches == 1; }));
  CHECK(eventually([&] { return client->stats().dropped_unreachable == 1; }));
  CHECK(client->stats().frames_out == 0);
  CHECK(server_inbox.size() == 0);
}

TEST_CASE("an oversize frame header closes only the connection that sent it", "[tls]") {
  inbox honest_inbox, server_inbox;
  const auto honest_keys = key_of(1);
  const auto server_keys = key_of(2);
  auto honest = started(honest_keys, honest_inbox);
  auto server = started(server_keys, server_inbox);
  point_at(*honest, *server);
  exchange(*honest, honest_inbox, *server, server_inbox, 1);

  raw_client hostile(key_of(4));
  REQUIRE(!hostile.connect(server->listening_port()));
  REQUIRE(!hostile.handshake());
  REQUIRE(!hostile.write_tls(header_of(64u * 1024 * 1024)));
  CHECK(hostile.closed_by_server(true));
  REQUIRE(eventually([&] { return server->stats().protocol_errors == 1; }));

  exchange(*honest, honest_inbox, *server, server_inbox, 2);
  CHECK(honest->stats().dialed == 1);
  CHECK(server_inbox.size() == 2);
}

TEST_CASE("a frame body that does not decode closes the connection", "[tls]") {
  inbox honest_inbox, server_inbox;
  const auto honest_keys = key_of(1);
  const auto server_keys = key_of(2);
  auto honest = started(honest_keys, honest_inbox);
  auto server = started(server_keys, server_inbox);
  point_at(*honest, *server);

  raw_client hostile(key_of(4));
  REQUIRE(!hostile.connect(server->listening_port()));
  REQUIRE(!hostile.handshake());
  auto frame = header_of(3);
  frame.insert(frame.end(), {0xee, 0x01, 0x02}); // 0xee names no message
  REQUIRE(!hostile.write_tls(frame));
  CHECK(hostile.closed_by_server(true));
  REQUIRE(eventually([&] { return server->stats().protocol_errors == 1; }));
  CHECK(server_inbox.size() == 0);

  exchange(*honest, honest_inbox, *server, server_inbox, 1);
}

TEST_CASE("plain-text garbage on the port is dropped without harm", "[tls]") {
  inbox honest_inbox, server_inbox;
  const auto honest_keys = key_of(1);
  const auto server_keys = key_of(2);
  auto honest = started(honest_keys, honest_inbox);
  auto server = started(server_keys, server_inbox);
  point_at(*honest, *server);
  exchange(*honest, honest_inbox, *server, server_inbox, 1);

  raw_client hostile(key_of(4));
  REQUIRE(!hostile.connect(server->listening_port()));
  const std::string garbage = "GET / HTTP/1.1\r\nHost: stakecast\r\n\r\n";
  REQUIRE(!hostile.write_plain(core::byte_buffer(garbage.begin(), garbage.end())));
  CHECK(hostile.closed_by_server(false));
  REQUIRE(eventually([&] { return server->stats().handshake_failures == 1; }));

  exchange(*honest, honest_inbox, *server, server_inbox, 2);
  CHECK(server_inbox.size() == 2);
}

TEST_CASE("a TLS 1.2 client is refused", "[tls]") {
  inbox server_inbox;
  const auto server_keys = key_of(2);
  auto server = started(server_keys, server_inbox);

  raw_client old_client(key_of(4), raw_client::tls_version::v1_2_only);
  REQUIRE(!old_client.connect(server->listening_port()));
  CHECK(old_client.handshake());
  REQUIRE(eventually([&] { return server->stats().handshake_failures == 1; }));
  CHECK(server->stats().authenticated == 0);
}

TEST_CASE("an inbound peer outside the allow-list is refused", "[tls]") {
  inbox stranger_inbox, friend_inbox, server_inbox;
  const auto stranger_keys = key_of(1);
  const auto friend_keys = key_of(3);
  const auto server_keys = key_of(2);
  auto options = test_options();
  options.allowed_peers = {friend_keys.public_key()};
  auto server = started(server_keys, server_inbox, options);
  auto stranger = started(stranger_keys, stranger_inbox);
  auto ally = started(friend_keys, friend_inbox);
  point_at(*stranger, *server);
  point_at(*ally, *server);

  stranger->send(server->id(), wire::ping{1});
  REQUIRE(eventually([&] { return server->stats().peers_not_allowed == 1; }));
  exchange(*ally, friend_inbox, *server, server_inbox, 2);
  CHECK(server_inbox.size() == 1);
  CHECK(server_inbox.at(0).from == ally->id());
}

TEST_CASE("an idle connection is closed and the next send dials again", "[tls]") {
  inbox a_inbox, b_inbox;
  const auto a_keys = key_of(1);
  const auto b_keys = key_of(2);
  auto options = test_options();
  options.idle_timeout_ms = 300;
  auto a = started(a_keys, a_inbox, options);
  auto b = started(b_keys, b_inbox, options);
  point_at(*a, *b);
  point_at(*b, *a); // so that b can answer even if its end of the connection went idle
  exchange(*a, a_inbox, *b, b_inbox, 1);

  REQUIRE(eventually([&] {
    return a->stats().connections_open == 0 && b->stats().connections_open == 0;
  }));
  CHECK(a->stats().idle_closes + b->stats().idle_closes >= 1);

  exchange(*a, a_inbox, *b, b_inbox, 2);
  CHECK(a->stats().dialed >= 2);
}

TEST_CASE("a full send queue drops and counts", "[tls]") {
  // A server that takes TCP connections into its backlog and never answers the TLS
  // handshake: nothing queued can leave, so the queue fills.
  asio::io_context silent_io;
  tcp::acceptor silent{silent_io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  const auto unreachable_key = key_of(9).public_key();
  const auto silent_key = key_of(2).public_key();
  constexpr std::size_t ping_frame_bytes = 4 + 1 + 8;
  inbox sender_inbox;
  const auto sender_keys = key_of(1);
  auto options = test_options();

  SECTION("by messages") {
    options.send_queue_messages_max = 4;
    auto sender = started(sender_keys, sender_inbox, options);
    REQUIRE(!sender->set_address(silent_key, "127.0.0.1", silent.local_endpoint().port()));
    for (std::uint64_t nonce = 0; nonce < 10; ++nonce)
      sender->send(silent_key, wire::ping{nonce});
    sender->send(unreachable_key, wire::ping{99});
    const auto stats = sender->stats();
    CHECK(stats.dropped_queue_full == 6);
    CHECK(stats.dropped_no_address == 1);
    CHECK(stats.frames_out == 0);
  }
  SECTION("by bytes") {
    options.send_queue_bytes_max = 3 * ping_frame_bytes;
    auto sender = started(sender_keys, sender_inbox, options);
    REQUIRE(!sender->set_address(silent_key, "127.0.0.1", silent.local_endpoint().port()));
    for (std::uint64_t nonce = 0; nonce < 10; ++nonce)
      sender->send(silent_key, wire::ping{nonce});
    CHECK(sender->stats().dropped_queue_full == 7);
  }
}

TEST_CASE("a sender reconnects after its peer restarts on the same port", "[tls]") {
  inbox sender_inbox, first_inbox, second_inbox;
  const auto sender_keys = key_of(1);
  const auto receiver_keys = key_of(2);
  auto sender = started(sender_keys, sender_inbox);
  auto receiver = started(receiver_keys, first_inbox);
  const auto port = receiver->listening_port();
  point_at(*sender, *receiver);
  sender->send(receiver_keys.public_key(), wire::ping{1});
  REQUIRE(first_inbox.wait_for(1));

  receiver.reset();
  REQUIRE(eventually([&] { return sender->stats().connections_open == 0; }));
  // Nobody listens now: the dial fails, what was queued is dropped, backoff starts.
  sender->send(receiver_keys.public_key(), wire::ping{2});
  REQUIRE(eventually([&] { return sender->stats().dial_failures >= 1; }));
  CHECK(sender->stats().dropped_unreachable >= 1);

  auto options = test_options();
  options.listen_port = port;
  auto restarted = started(receiver_keys, second_inbox, options);
  std::uint64_t nonce = 3;
  const bool delivered = eventually([&] {
    sender->send(receiver_keys.public_key(), wire::ping{nonce++});
    return second_inbox.wait_for(1, 50ms);
  });
  REQUIRE(delivered);
  CHECK(second_inbox.at(0).from == sender->id());
  CHECK(ping_nonce(second_inbox.at(0)) >= 3);
  CHECK(sender->stats().dialed >= 3);
}

namespace {

/// Strangers held open by the test: each a socket that connected and, for `tls`,
/// finished its handshake with a throwaway key, and then sends nothing.
class crowd {
public:
  /// Connects `count` strangers from `source`; returns how many connected.
  std::size_t add(std::uint16_t port, const char* source, std::size_t count, bool tls) {
    std::size_t connected = 0;
    for (std::size_t i = 0; i < count; ++i) {
      REQUIRE(next_key_ < 250);
      auto client = std::make_unique<raw_client>(key_of(next_key_++));
      if (client->connect(port, source))
        continue;
      if (tls && client->handshake())
        continue;
      clients_.push_back(std::move(client));
      ++connected;
    }
    return connected;
  }
  raw_client& at(std::size_t index) {
    return *clients_.at(index);
  }

private:
  std::uint8_t next_key_ = 100; // keys 100 and up: never a test's named node
  std::vector<std::unique_ptr<raw_client>> clients_;
};

/// Limits small enough to exceed by hand, and timeouts long enough that nothing is
/// dropped by time while a test runs: what makes room is the limits alone.
transport_options crowded_options() {
  auto options = test_options();
  options.connections_max = 8;
  options.unknown_connections_max = 8;
  options.inbound_handshakes_max = 4;
  options.connections_per_address_max = 3;
  options.inbound_handshake_timeout_ms = 30'000;
  options.first_frame_timeout_ms = 30'000;
  return options;
}

/// A ping frame as a transport would send it.
core::byte_buffer ping_frame(std::uint64_t nonce) {
  core::byte_buffer frame;
  wire::encode_frame(wire::message{wire::ping{nonce}}, frame);
  return frame;
}

} // namespace

TEST_CASE("a known peer connects and talks while strangers hold more than every slot", "[tls]") {
  inbox known_inbox, server_inbox;
  const auto known_keys = key_of(1);
  const auto server_keys = key_of(2);
  auto server = started(server_keys, server_inbox, crowded_options());
  REQUIRE(!server->set_known_peers({known_keys.public_key()}));
  const auto port = server->listening_port();
  crowd strangers;

  // Ten TLS callers for eight slots, at most three per address: eight are admitted.
  REQUIRE(strangers.add(port, "127.0.0.2", 3, true) == 3);
  REQUIRE(strangers.add(port, "127.0.0.3", 3, true) == 3);
  REQUIRE(strangers.add(port, "127.0.0.4", 3, true) == 3);
  REQUIRE(strangers.add(port, "127.0.0.5", 1, true) == 1);
  REQUIRE(eventually([&] {
    const auto stats = server->stats();
    return stats.authenticated + stats.refused_unknown_max == 10;
  }));
  CHECK(server->stats().authenticated == 8);
  CHECK(server->stats().refused_unknown_max == 2);

  // Eight silent sockets for four handshake places, three of them from the known
  // peer's own address: the oldest are closed as newer ones come.
  REQUIRE(strangers.add(port, "127.0.0.1", 3, false) == 3);
  REQUIRE(strangers.add(port, "127.0.0.6", 5, false) == 5);
  REQUIRE(eventually([&] { return server->stats().accepted == 18; }));
  auto stats = server->stats();
  CHECK(stats.evicted_handshakes == 4);
  CHECK(stats.handshakes_open == 4);
  CHECK(stats.connections_open == 8 + 4);

  auto known = started(known_keys, known_inbox);
  point_at(*known, *server);
  exchange(*known, known_inbox, *server, server_inbox, 7);
  stats = server->stats();
  CHECK(stats.evicted_for_known == 1);
  CHECK(stats.evicted_handshakes == 5);
  CHECK(stats.connections_open <= 8 + 4);
  CHECK(known->stats().dialed == 1);
}

TEST_CASE("unknown callers get their share of the slots and known peers the rest", "[tls]") {
  inbox known_inbox, server_inbox;
  const auto known_keys = key_of(1);
  const auto server_keys = key_of(2);
  auto options = crowded_options();
  options.connections_max = 5;
  options.unknown_connections_max = 3;
  options.connections_per_address_max = 8;
  auto server = started(server_keys, server_inbox, options);
  REQUIRE(!server->set_known_peers({known_keys.public_key()}));
  crowd strangers;

  REQUIRE(strangers.add(server->listening_port(), "127.0.0.1", 5, true) == 5);
  REQUIRE(eventually([&] {
    const auto stats = server->stats();
    return stats.authenticated + stats.refused_unknown_max == 5;
  }));
  CHECK(server->stats().authenticated == 3);
  CHECK(server->stats().refused_unknown_max == 2);
  CHECK(server->stats().connections_open == 3);

  auto known = started(known_keys, known_inbox);
  point_at(*known, *server);
  exchange(*known, known_inbox, *server, server_inbox, 1);
  CHECK(server->stats().evicted_for_known == 0);
  CHECK(server->stats().connections_open == 4);

  const std::vector<core::node_id> too_many(tls_transport::known_peers_max + 1);
  const auto error = server->set_known_peers(too_many);
  CHECK(core::describe(error).find("known_peers_full") != std::string::npos);
}

TEST_CASE("unknown callers are held to a few per address", "[tls]") {
  inbox server_inbox;
  const auto server_keys = key_of(2);
  auto options = crowded_options();
  options.connections_per_address_max = 2;
  options.inbound_handshakes_max = 6;
  auto server = started(server_keys, server_inbox, options);
  const auto port = server->listening_port();
  crowd strangers;

  REQUIRE(strangers.add(port, "127.0.0.1", 3, true) == 3);
  REQUIRE(eventually([&] {
    const auto stats = server->stats();
    return stats.authenticated + stats.refused_address_max == 3;
  }));
  CHECK(server->stats().authenticated == 2);
  CHECK(server->stats().refused_address_max == 1);
  CHECK(strangers.at(2).closed_by_server(true));

  // Another address has its own share, and an admitted stranger is served.
  REQUIRE(strangers.add(port, "127.0.0.2", 1, true) == 1);
  REQUIRE(!strangers.at(3).write_tls(ping_frame(5)));
  REQUIRE(server_inbox.wait_for(1));
  CHECK(server_inbox.at(0).from == key_of(103).public_key());
  CHECK(ping_nonce(server_inbox.at(0)) == 5);

  // Silent sockets too: the third from one address closes the first.
  REQUIRE(strangers.add(port, "127.0.0.3", 3, false) == 3);
  REQUIRE(eventually([&] { return server->stats().accepted == 7; }));
  CHECK(server->stats().evicted_handshakes == 1);
  CHECK(server->stats().handshakes_open == 2);
  CHECK(strangers.at(4).closed_by_server(false));
}

TEST_CASE("a silent stranger is dropped soon after its handshake and a silent socket before it",
          "[tls]") {
  inbox server_inbox;
  const auto server_keys = key_of(2);
  auto options = test_options();
  options.inbound_handshake_timeout_ms = 200;
  options.first_frame_timeout_ms = 200;
  auto server = started(server_keys, server_inbox, options);
  crowd strangers;

  REQUIRE(strangers.add(server->listening_port(), "127.0.0.1", 1, true) == 1);
  REQUIRE(strangers.add(server->listening_port(), "127.0.0.1", 1, false) == 1);
  // closed_by_server waits 3 s for each read: far beyond the 200 ms allowed.
  CHECK(strangers.at(0).closed_by_server(true));
  CHECK(strangers.at(1).closed_by_server(false));
  const auto stats = server->stats();
  CHECK(stats.first_frame_timeouts == 1);
  CHECK(stats.handshake_failures == 1);
  CHECK(stats.connections_open == 0);
}

TEST_CASE("a dial closes an unknown caller when every slot is taken", "[tls]") {
  inbox known_inbox, node_inbox;
  const auto known_keys = key_of(1);
  const auto node_keys = key_of(2);
  auto options = crowded_options();
  options.connections_max = 2;
  options.unknown_connections_max = 2;
  auto node = started(node_keys, node_inbox, options);
  auto known = started(known_keys, known_inbox);
  crowd strangers;
  REQUIRE(strangers.add(node->listening_port(), "127.0.0.1", 2, true) == 2);
  REQUIRE(eventually([&] { return node->stats().authenticated == 2; }));

  point_at(*node, *known);
  node->send(known->id(), wire::ping{3});
  REQUIRE(known_inbox.wait_for(1));
  CHECK(known_inbox.at(0).from == node->id());
  CHECK(node->stats().evicted_for_known == 1);
  CHECK(node->stats().refused_connections_max == 0);
}
