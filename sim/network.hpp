// The simulated network (see docs/network-model.md for the model and its limits).
//
// Every node has a region and an access class (uplink and downlink bandwidth). A
// message of S bytes (its exact wire size, `wire::encoded_size`) sent from A to B at
// time t:
//   1. queues behind earlier messages on A's uplink: tx_start = max(t, uplink_free[A]),
//      tx_end = tx_start + 8 S / uplink[A];
//   2. crosses the path: latency(region A, region B) plus a jitter drawn uniformly in
//      [0, jitter]; the first bit reaches B at tx_start + path, the last at
//      tx_end + path;
//   3. queues on B's downlink in order of first-bit arrival:
//      rx_start = max(first bit, downlink_free[B]),
//      rx_end = max(rx_start + 8 S / downlink[B], last bit);
//   4. is delivered to B's inbox actor at rx_end.
// Step 3 normally runs as its own event at the first bit's arrival. When no other
// message to B waits for its first bit and ours arrives within the least latency
// into B's region, no message can claim B's downlink before ours, so it is claimed
// at send time and the message costs one event instead of two, with the same result.
// Links are FIFO queues at message granularity for bulk messages. Control messages
// (at most `control_message_bytes_max`: requests, announcements, acknowledgements)
// pay their own serialization time but neither wait for nor hold a link's queue: on
// real TCP connections they go out between the packets of bulk transfers on other
// connections, so a request never waits seconds behind someone else's segment.
// Links are FIFO queues at message granularity. Protocols send bounded messages (a
// frame is at most 4 MiB), so concurrent flows interleave message by message and
// share a link about fairly.
//
// A message is dropped (and counted) when it is lost (probability `loss`), when the
// regions of A and B are partitioned apart or their link is down at send or at
// delivery, when A is down at send, when A or B crashed between send and delivery,
// or when no actor of B handles the message's type.
//
// Not thread-safe; lives on the kernel's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include <caf/actor_control_block.hpp>

#include "actors/core/random.hpp"
#include "actors/world/world.hpp"
#include "sim/kernel.hpp"
#include "sim/node_directory.hpp"
#include "sim/telemetry.hpp"

namespace stakecast::sim {

using node_index = std::uint32_t;

struct access_class {
  std::string name;
  double uplink_bps = 0;
  double downlink_bps = 0;
};

struct network_config {
  std::vector<std::string> regions;
  /// One-way latency, [from region][to region].
  std::vector<std::vector<virtual_time>> latency;
  virtual_time jitter{0};
  double loss = 0.0;
  std::vector<access_class> access_classes;

  /// The index of the access class named `name`; nullopt when there is none.
  std::optional<std::uint32_t> find_access(std::string_view name) const {
    for (std::uint32_t i = 0; i < access_classes.size(); ++i)
      if (access_classes[i].name == name)
        return i;
    return std::nullopt;
  }
};

struct network_stats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t dropped_loss = 0;
  std::uint64_t dropped_partition = 0;
  std::uint64_t dropped_down = 0;
  std::uint64_t dropped_unknown = 0;
  std::uint64_t dropped_unrouted = 0; // no actor of the receiver handles the type
};

class network final : private event_sink {
public:
  /// Messages up to this size are control messages (see above).
  static constexpr std::uint32_t control_message_bytes_max = 4096;

  network(kernel& clock, network_config config, std::uint64_t seed, telemetry& trace);

  node_index add_node(const core::node_id& id, std::uint32_t region, std::uint32_t access);
  /// Inbound messages of `node` whose type is in `types` go to `receiver`.
  /// REQUIRES: no other receiver of the node handles any of `types`.
  void bind(node_index node, world::message_set types, caf::strong_actor_ptr receiver);
  world::transport& transport_of(node_index node) { return transports_[node]; }

  void send(node_index from, const core::node_id& to, wire::message message);

  /// A crashed node sends and receives nothing until it restarts; messages in flight
  /// to it are dropped, even if they arrive after the restart.
  void crash(node_index node);
  void restart(node_index node);
  bool is_up(node_index node) const { return up_[node]; }
  /// Regions in different groups cannot reach each other. `group_of_region` has one
  /// entry per region.
  void partition(std::vector<std::uint32_t> group_of_region);
  void heal();
  void set_link(std::uint32_t region_a, std::uint32_t region_b, bool up);

  std::size_t node_count() const noexcept { return ids_.size(); }
  const core::node_id& id_of(node_index node) const { return ids_[node]; }
  std::uint32_t access_of(node_index node) const { return access_[node]; }
  /// Gives `node` another access class (a workload's role for it, say masternodes in
  /// a data centre). REQUIRES: access < config().access_classes.size().
  void set_access(node_index node, std::uint32_t access);
  /// Moves `node` to another region (a workload's placement of its nodes, say
  /// validators spread over named regions). Call before anything is sent.
  /// REQUIRES: region < config().regions.size().
  void set_region(node_index node, std::uint32_t region);
  std::uint32_t region_of(node_index node) const { return region_[node]; }
  const network_config& config() const noexcept { return config_; }
  const network_stats& stats() const noexcept { return stats_; }

private:
  enum event_tag : std::uint32_t { first_bit_tag, delivery_tag };

  struct node_transport final : world::transport {
    network* owner = nullptr;
    node_index index = 0;
    void send(const core::node_id& to, wire::message message) override {
      owner->send(index, to, std::move(message));
    }
  };

  struct flight {
    wire::message message;
    std::int64_t last_bit_ns = 0;
    node_index from = 0;
    node_index to = 0;
    std::uint32_t bytes = 0;
    std::uint32_t from_incarnation = 0;
    std::uint32_t to_incarnation = 0;
  };

  void fire(std::uint32_t tag, std::uint32_t slot) override;
  void on_first_bit(std::uint32_t slot);
  void claim_downlink(std::uint32_t slot, std::int64_t first_bit_ns);
  void on_delivery(std::uint32_t slot);
  bool reachable(node_index from, node_index to) const;
  const caf::strong_actor_ptr* receiver_of(node_index node, const wire::message& message) const;
  std::uint32_t new_flight();
  void free_flight(std::uint32_t slot);
  static std::int64_t transmission_ns(std::uint32_t bytes, double bits_per_second);

  kernel& clock_;
  network_config config_;
  core::random_generator random_;
  telemetry& trace_;
  network_stats stats_;

  // Per node, indexed by node_index.
  std::vector<core::node_id> ids_;
  std::vector<std::uint32_t> region_;
  std::vector<std::uint32_t> access_;
  std::vector<std::int64_t> uplink_free_ns_;
  std::vector<std::int64_t> downlink_free_ns_;
  std::vector<bool> up_;
  std::vector<std::uint32_t> incarnation_;
  std::vector<std::uint32_t> pending_first_bits_; // first-bit events not yet fired, by receiver
  struct route {
    world::message_set types = 0;
    caf::strong_actor_ptr receiver;
  };
  std::vector<std::vector<route>> routes_;
  std::deque<node_transport> transports_; // a deque: actors keep pointers to them
  node_directory index_of_;

  std::vector<std::int64_t> latency_into_min_ns_;  // by receiving region
  std::vector<std::uint32_t> group_of_region_;     // empty: no partition
  std::vector<std::vector<bool>> link_down_;       // [region][region]

  std::vector<flight> flights_;
  std::vector<std::uint32_t> free_flights_;
};

} // namespace stakecast::sim
