// The seam between the protocol and the world it runs in.
//
// "This interface abstracts the physical or simulated network, event loop and
// hardware" (FoundationDB). Every actor under actors/ gets everything it needs from
// outside through a `node_context` handed to it at spawn, and cannot tell whether a
// real node (node/: TLS sockets, LMDB, the system clock) or the simulator (sim/:
// network model, in-memory store, virtual time) stands behind it.
//
// - time: CAF's actor clock only (`self->clock().now()`, `delayed_send`, request
//   timeouts) plus `clock::now_utc()` for agreed wall time (slot times, block
//   timestamps). The simulator drives CAF's test clock, so both are virtual there.
// - randomness: `node_context::seed`, from which each actor derives its own stream
//   with core::derive_seed(seed, "<actor name>").
// - transport: `transport::send(to, message)`; inbound messages arrive at the node's
//   inbox actor as a `world::inbound`.
// - storage: `store`, a key-value store with atomic batches.
// - metrics and trace: `metrics`, counters, histograms and structured events.
//
// Concurrency: in the simulator everything runs on one thread. In the real node the
// implementations of these interfaces are thread-safe; actors may call them from any
// CAF worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/messages.hpp"

namespace stakecast::world {

/// Nanoseconds since the Unix epoch, as agreed by consensus.
using utc_time = std::chrono::sys_time<std::chrono::nanoseconds>;

/// Agreed wall time. The node maps it to the system clock, the simulator to its
/// virtual time plus a per-node skew.
class clock {
public:
  virtual ~clock() = default;
  virtual utc_time now_utc() const = 0;
};

/// A message from another node, as the world delivers it to the node's inbox actor.
/// The sender is authenticated by the world (TLS certificate in the node; the
/// network model in the simulator).
struct inbound {
  core::node_id from;
  wire::message body;
};

/// A set of message types, one bit per alternative of `wire::message`. Each actor of
/// a node that receives messages from other nodes declares the types it handles;
/// the world routes every inbound message to the one actor whose set holds its type.
using message_set = std::uint64_t;
static_assert(std::variant_size_v<wire::message> <= 64, "a message_set has 64 bits");

namespace detail {
template <class T, class... Ts>
constexpr std::size_t index_of(std::variant<Ts...>*) {
  std::size_t index = 0;
  bool found = false;
  ((found = found || std::is_same_v<T, Ts>, index += found ? 0 : 1), ...);
  return index;
}
} // namespace detail

/// The set of the message types `Ts...`.
template <class... Ts>
constexpr message_set messages_of() {
  return ((message_set{1} << detail::index_of<Ts>(static_cast<wire::message*>(nullptr))) | ...);
}

/// The set holding only the type of `message`.
inline message_set type_bit(const wire::message& message) {
  return message_set{1} << message.index();
}

/// Sends protocol messages to other nodes. Delivery is at most once: a message may be
/// lost (a dropped connection, a partition, a crashed receiver) and messages may be
/// reordered, so protocols keep their own timeouts. Sending never blocks; a full
/// per-peer queue drops the message and counts it.
class transport {
public:
  virtual ~transport() = default;
  virtual void send(const core::node_id& to, wire::message message) = 0;
};

/// A key-value store with atomic batches (LMDB in the node, in memory in the
/// simulator). Keys sort bytewise. A batch either applies whole or not at all; once
/// `write` returns success the batch survives a crash of the node.
class store {
public:
  struct write_batch {
    struct operation {
      std::string key;
      std::optional<core::byte_buffer> value; // nullopt erases the key
    };
    std::vector<operation> operations;

    void put(std::string key, core::byte_buffer value) {
      operations.push_back({std::move(key), std::move(value)});
    }
    void erase(std::string key) {
      operations.push_back({std::move(key), std::nullopt});
    }
  };

  virtual ~store() = default;
  virtual std::optional<core::byte_buffer> get(std::string_view key) const = 0;
  /// Returns an empty string on success, otherwise what went wrong (a full disk).
  virtual std::string write(const write_batch& batch) = 0;
  /// Calls `visit(key, value)` for keys starting with `prefix`, in key order, until
  /// it returns false.
  template <class Visit>
  void for_each_prefix(std::string_view prefix, Visit visit) const {
    scan_prefix(prefix, [&](std::string_view key, core::byte_span value) {
      return visit(key, value);
    });
  }

protected:
  using scan_visitor = std::function<bool(std::string_view, core::byte_span)>;
  virtual void scan_prefix(std::string_view prefix, const scan_visitor& visit) const = 0;
};

/// Counters, histograms and structured events. Names are registered once and then
/// used by id, so the hot path is an index, not a string lookup. The simulator folds
/// every event into its trace hash; the node exports Prometheus metrics.
class metrics {
public:
  using counter_id = std::uint32_t;
  using histogram_id = std::uint32_t;
  using event_id = std::uint32_t;

  virtual ~metrics() = default;
  virtual counter_id counter(std::string_view name) = 0;
  virtual histogram_id histogram(std::string_view name) = 0;
  virtual event_id event_kind(std::string_view name) = 0;

  virtual void add(counter_id counter, std::int64_t delta) = 0;
  virtual void record(histogram_id histogram, double value) = 0;
  /// A structured event of `node`: two integers whose meaning the event kind names.
  virtual void event(event_id kind, const core::node_id& node, std::uint64_t a,
                     std::uint64_t b) = 0;
};

/// What an actor of one node is handed at spawn. The world owns every pointee and
/// outlives the node's actors.
struct node_context {
  core::node_id id;
  std::uint64_t seed = 0;
  clock* wall_clock = nullptr;
  transport* network = nullptr;
  store* storage = nullptr;
  metrics* telemetry = nullptr;
};

} // namespace stakecast::world

// `inbound` is only ever delivered within one process (the node has its own
// transport), so CAF never has to serialize it.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stakecast::world::inbound)
