#include "sim/network.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>

#include "actors/core/codec.hpp"

namespace stakecast::sim {

network::network(kernel& clock, network_config config, std::uint64_t seed, telemetry& trace)
  : clock_(clock), config_(std::move(config)), random_(seed), trace_(trace) {
  const auto regions = config_.regions.size();
  assert(config_.latency.size() == regions);
  link_down_.assign(regions, std::vector<bool>(regions, false));
  latency_into_min_ns_.assign(regions, std::numeric_limits<std::int64_t>::max());
  for (std::size_t from = 0; from < regions; ++from)
    for (std::size_t to = 0; to < regions; ++to)
      latency_into_min_ns_[to] = std::min(latency_into_min_ns_[to], config_.latency[from][to].count());
}

node_index network::add_node(const core::node_id& id, std::uint32_t region, std::uint32_t access) {
  assert(region < config_.regions.size());
  assert(access < config_.access_classes.size());
  auto index = static_cast<node_index>(ids_.size());
  ids_.push_back(id);
  region_.push_back(region);
  access_.push_back(access);
  uplink_free_ns_.push_back(0);
  downlink_free_ns_.push_back(0);
  up_.push_back(true);
  incarnation_.push_back(0);
  pending_first_bits_.push_back(0);
  routes_.emplace_back();
  auto& transport = transports_.emplace_back();
  transport.owner = this;
  transport.index = index;
  index_of_.insert(id, index);
  return index;
}

void network::set_access(node_index node, std::uint32_t access) {
  assert(access < config_.access_classes.size());
  access_[node] = access;
}

void network::set_region(node_index node, std::uint32_t region) {
  assert(region < config_.regions.size());
  region_[node] = region;
}

void network::bind(node_index node, world::message_set types, caf::strong_actor_ptr receiver) {
  for ([[maybe_unused]] const auto& existing : routes_[node])
    assert((existing.types & types) == 0);
  routes_[node].push_back({types, std::move(receiver)});
}

std::int64_t network::transmission_ns(std::uint32_t bytes, double bits_per_second) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(bytes) * 8e9 / bits_per_second));
}

bool network::reachable(node_index from, node_index to) const {
  const auto region_from = region_[from];
  const auto region_to = region_[to];
  if (!group_of_region_.empty() && group_of_region_[region_from] != group_of_region_[region_to])
    return false;
  return !link_down_[region_from][region_to];
}

void network::send(node_index from, const core::node_id& to, wire::message message) {
  const auto bytes = static_cast<std::uint32_t>(wire::encoded_size(message));
  ++stats_.sent;
  stats_.bytes_sent += bytes;
  const auto found = index_of_.find(to);
  if (!found) {
    ++stats_.dropped_unknown;
    return;
  }
  const node_index receiver = *found;
  if (!up_[from] || !up_[receiver]) {
    ++stats_.dropped_down;
    return;
  }
  if (!reachable(from, receiver)) {
    ++stats_.dropped_partition;
    return;
  }
  if (config_.loss > 0.0 && random_.bernoulli(config_.loss)) {
    ++stats_.dropped_loss;
    return;
  }
  const std::int64_t now = clock_.now().count();
  const auto& access = config_.access_classes[access_[from]];
  const bool bulk = bytes > control_message_bytes_max;
  const std::int64_t tx_start = bulk ? std::max(now, uplink_free_ns_[from]) : now;
  const std::int64_t tx_end = tx_start + transmission_ns(bytes, access.uplink_bps);
  if (bulk)
    uplink_free_ns_[from] = tx_end;
  std::int64_t path = config_.latency[region_[from]][region_[receiver]].count();
  if (config_.jitter.count() > 0)
    path += static_cast<std::int64_t>(random_.uniform(static_cast<std::uint64_t>(config_.jitter.count()) + 1));

  const auto slot = new_flight();
  auto& in_flight = flights_[slot];
  in_flight.message = std::move(message);
  in_flight.last_bit_ns = tx_end + path;
  in_flight.from = from;
  in_flight.to = receiver;
  in_flight.bytes = bytes;
  in_flight.from_incarnation = incarnation_[from];
  in_flight.to_incarnation = incarnation_[receiver];
  const std::int64_t first_bit = tx_start + path;
  // A control message does not touch the downlink's queue, so its order of arrival
  // does not matter either.
  if (!bulk || (pending_first_bits_[receiver] == 0 &&
                first_bit <= now + latency_into_min_ns_[region_[receiver]])) {
    claim_downlink(slot, first_bit);
    return;
  }
  ++pending_first_bits_[receiver];
  clock_.schedule(virtual_time{first_bit}, *this, first_bit_tag, slot);
}

void network::fire(std::uint32_t tag, std::uint32_t slot) {
  if (tag == first_bit_tag)
    on_first_bit(slot);
  else
    on_delivery(slot);
}

void network::on_first_bit(std::uint32_t slot) {
  --pending_first_bits_[flights_[slot].to];
  claim_downlink(slot, clock_.now().count());
}

void network::claim_downlink(std::uint32_t slot, std::int64_t first_bit_ns) {
  auto& in_flight = flights_[slot];
  const auto& access = config_.access_classes[access_[in_flight.to]];
  const bool bulk = in_flight.bytes > control_message_bytes_max;
  const std::int64_t rx_start =
    bulk ? std::max(first_bit_ns, downlink_free_ns_[in_flight.to]) : first_bit_ns;
  const std::int64_t rx_end =
    std::max(rx_start + transmission_ns(in_flight.bytes, access.downlink_bps), in_flight.last_bit_ns);
  if (bulk)
    downlink_free_ns_[in_flight.to] = rx_end;
  clock_.schedule(virtual_time{rx_end}, *this, delivery_tag, slot);
}

void network::on_delivery(std::uint32_t slot) {
  auto& in_flight = flights_[slot];
  const node_index to = in_flight.to;
  const node_index from = in_flight.from;
  if (incarnation_[to] != in_flight.to_incarnation ||
      incarnation_[from] != in_flight.from_incarnation) {
    ++stats_.dropped_down;
  } else if (!reachable(in_flight.from, to)) {
    ++stats_.dropped_partition;
  } else if (const auto* receiver = receiver_of(to, in_flight.message); receiver == nullptr) {
    ++stats_.dropped_unrouted;
  } else {
    ++stats_.delivered;
    stats_.bytes_delivered += in_flight.bytes;
    auto& trace = trace_.trace();
    trace.fold(static_cast<std::uint64_t>(clock_.now().count()));
    trace.fold((static_cast<std::uint64_t>(in_flight.from) << 32) | to);
    trace.fold((static_cast<std::uint64_t>(in_flight.message.index()) << 32) | in_flight.bytes);
    (*receiver)->enqueue(nullptr, caf::make_message_id(),
                        caf::make_message(world::inbound{ids_[in_flight.from],
                                                         std::move(in_flight.message)}),
                        nullptr);
  }
  free_flight(slot);
}

const caf::strong_actor_ptr* network::receiver_of(node_index node,
                                                  const wire::message& message) const {
  const auto bit = world::type_bit(message);
  for (const auto& candidate : routes_[node])
    if ((candidate.types & bit) != 0)
      return &candidate.receiver;
  return nullptr;
}

std::uint32_t network::new_flight() {
  if (free_flights_.empty()) {
    flights_.emplace_back();
    return static_cast<std::uint32_t>(flights_.size() - 1);
  }
  auto slot = free_flights_.back();
  free_flights_.pop_back();
  return slot;
}

void network::free_flight(std::uint32_t slot) {
  flights_[slot].message = wire::message{};
  free_flights_.push_back(slot);
}

void network::crash(node_index node) {
  up_[node] = false;
  ++incarnation_[node];
  routes_[node].clear();
  uplink_free_ns_[node] = 0;
  downlink_free_ns_[node] = 0;
}

void network::restart(node_index node) {
  up_[node] = true;
}

void network::partition(std::vector<std::uint32_t> group_of_region) {
  assert(group_of_region.size() == config_.regions.size());
  group_of_region_ = std::move(group_of_region);
}

void network::heal() {
  group_of_region_.clear();
}

void network::set_link(std::uint32_t region_a, std::uint32_t region_b, bool up) {
  link_down_[region_a][region_b] = !up;
  link_down_[region_b][region_a] = !up;
}

} // namespace stakecast::sim
