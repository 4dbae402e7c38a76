// Pins down the network model against arithmetic (docs/network-model.md): the time a
// transfer takes from latency and serialization at both ends, queueing and sharing
// of a busy link, and the drops of partitions, links and crashes. Each test builds a
// bare kernel + network, sends messages by hand and reads arrival times.
#include <catch2/catch.hpp>

#include <deque>

#include <caf/all.hpp>

#include "actors/core/codec.hpp"
#include "actors/core/sha256.hpp"
#include "sim/kernel.hpp"
#include "sim/network.hpp"
#include "sim/telemetry.hpp"

using namespace stakecast;
using namespace std::chrono_literals;

namespace {

struct arrival {
  double at_seconds;
  core::node_id from;
  std::uint32_t bytes;
};

struct fixture {
  sim::kernel clock;
  sim::telemetry trace{clock};
  sim::network net;
  std::deque<std::vector<arrival>> arrivals; // by receiving node; a deque keeps the
                                             // actors' pointers into it valid

  explicit fixture(sim::network_config config) : net(clock, std::move(config), 7, trace) {}
  fixture(double uplink_bps, double downlink_bps, sim::virtual_time latency,
          std::uint32_t regions = 1)
    : fixture(make_config(uplink_bps, downlink_bps, latency, regions)) {}

  static sim::network_config make_config(double uplink_bps, double downlink_bps,
                                         sim::virtual_time latency, std::uint32_t regions) {
    sim::network_config config;
    for (std::uint32_t region = 0; region < regions; ++region)
      config.regions.push_back("r" + std::to_string(region));
    config.latency.assign(regions, std::vector<sim::virtual_time>(regions, latency));
    config.access_classes.push_back({"link", uplink_bps, downlink_bps});
    return config;
  }

  sim::node_index add(std::uint32_t region = 0) {
    auto index = static_cast<sim::node_index>(arrivals.size());
    std::uint64_t word = index;
    auto id = core::sha256({reinterpret_cast<const std::uint8_t*>(&word), sizeof(word)});
    net.add_node(id, region, 0);
    arrivals.emplace_back();
    auto* sink = &arrivals.back();
    auto* kernel = &clock;
    auto receiver = clock.system().spawn([sink, kernel](caf::event_based_actor*) -> caf::behavior {
      return {[sink, kernel](const world::inbound& message) {
        sink->push_back({std::chrono::duration<double>(kernel->now()).count(), message.from,
                         static_cast<std::uint32_t>(wire::encoded_size(message.body))});
      }};
    });
    net.bind(index, ~world::message_set{0}, caf::actor_cast<caf::strong_actor_ptr>(receiver));
    return index;
  }

  /// A message whose wire size is `bytes` (a block transfer with a virtual payload).
  static wire::message message_of(std::uint32_t bytes) {
    wire::block_transfer probe{{}, 0, 0, wire::payload::virtual_of(0)};
    const auto overhead = static_cast<std::uint32_t>(wire::encoded_size(wire::message{probe}));
    probe.body = wire::payload::virtual_of(bytes - overhead);
    return probe;
  }

  void send(sim::node_index from, sim::node_index to, std::uint32_t bytes) {
    net.transport_of(from).send(net.id_of(to), message_of(bytes));
  }

  void run(sim::virtual_time until = 10'000s) {
    REQUIRE(clock.run_until(until).empty());
  }
};

constexpr std::uint32_t megabyte = 1'000'000;

} // namespace

TEST_CASE("a small message takes the path latency plus its serialization") {
  fixture world(10e6, 100e6, 50ms);
  auto a = world.add();
  auto b = world.add();
  world.send(a, b, 1250); // 10,000 bits: 1 ms at 10 Mbit/s
  world.run();
  REQUIRE(world.arrivals[b].size() == 1);
  CHECK(world.arrivals[b][0].at_seconds == Approx(0.051).epsilon(1e-9));
}

TEST_CASE("100 MB over a 10 Mbit/s uplink takes about 80 s") {
  fixture world(10e6, 1e9, 50ms);
  auto a = world.add();
  auto b = world.add();
  for (int i = 0; i < 100; ++i)
    world.send(a, b, megabyte);
  world.run();
  REQUIRE(world.arrivals[b].size() == 100);
  CHECK(world.arrivals[b].back().at_seconds == Approx(80.05).epsilon(1e-6));
  // Messages leave the uplink one after another, 0.8 s apart.
  CHECK(world.arrivals[b][1].at_seconds - world.arrivals[b][0].at_seconds == Approx(0.8));
}

TEST_CASE("a slow downlink is the bottleneck when the uplink is fast") {
  fixture world(1e9, 10e6, 50ms);
  auto a = world.add();
  auto b = world.add();
  for (int i = 0; i < 100; ++i)
    world.send(a, b, megabyte);
  world.run();
  REQUIRE(world.arrivals[b].size() == 100);
  CHECK(world.arrivals[b].back().at_seconds == Approx(80.05 + 0.008).epsilon(1e-3));
}

TEST_CASE("two concurrent transfers share the sender's uplink") {
  fixture world(10e6, 1e9, 50ms);
  auto a = world.add();
  auto b = world.add();
  auto c = world.add();
  for (int i = 0; i < 50; ++i) {
    world.send(a, b, megabyte);
    world.send(a, c, megabyte);
  }
  world.run();
  REQUIRE(world.arrivals[b].size() == 50);
  REQUIRE(world.arrivals[c].size() == 50);
  // Together 100 MB through one 10 Mbit/s link: both finish near 80 s, and half-way
  // through each has had half the link.
  CHECK(world.arrivals[b].back().at_seconds == Approx(79.25).epsilon(1e-3));
  CHECK(world.arrivals[c].back().at_seconds == Approx(80.05).epsilon(1e-3));
  auto received_by = [](const std::vector<arrival>& arrivals, double seconds) {
    return std::count_if(arrivals.begin(), arrivals.end(),
                         [&](const arrival& x) { return x.at_seconds <= seconds; });
  };
  CHECK(received_by(world.arrivals[b], 40.0) == 25);
  CHECK(received_by(world.arrivals[c], 40.0) == 24);
}

TEST_CASE("two senders share the receiver's downlink") {
  fixture world(100e6, 10e6, 50ms);
  auto a = world.add();
  auto b = world.add();
  auto c = world.add();
  for (int i = 0; i < 50; ++i) {
    world.send(a, c, megabyte);
    world.send(b, c, megabyte);
  }
  world.run();
  REQUIRE(world.arrivals[c].size() == 100);
  CHECK(world.arrivals[c].back().at_seconds == Approx(80.0).epsilon(2e-3));
  std::size_t from_a_by_half = 0;
  for (const auto& x : world.arrivals[c])
    if (x.at_seconds <= 40.0 && x.from == world.net.id_of(a))
      ++from_a_by_half;
  CHECK(from_a_by_half >= 24);
  CHECK(from_a_by_half <= 26);
}

TEST_CASE("an idle downlink is not held by a message still far away") {
  // A far message sent first must not delay a near one that arrives earlier.
  auto config = fixture::make_config(100e6, 10e6, 10ms, 2);
  config.latency[1][0] = 200ms;
  config.latency[0][1] = 200ms;
  fixture world(config);
  auto near_sender = world.add(0);
  auto far_sender = world.add(1);
  auto receiver = world.add(0);
  world.send(far_sender, receiver, 12'500);  // 10 ms on the downlink
  world.send(near_sender, receiver, 12'500);
  world.run();
  REQUIRE(world.arrivals[receiver].size() == 2);
  CHECK(world.arrivals[receiver][0].from == world.net.id_of(near_sender));
  CHECK(world.arrivals[receiver][0].at_seconds == Approx(0.020).epsilon(0.05));
  CHECK(world.arrivals[receiver][1].at_seconds == Approx(0.211).epsilon(0.01));
}

TEST_CASE("partitions and cut links and crashes drop messages until healed") {
  fixture world(100e6, 100e6, 10ms, 2);
  auto a = world.add(0);
  auto b = world.add(1);
  world.net.partition({0, 1});
  world.send(a, b, 1000);
  world.run(1s);
  CHECK(world.arrivals[b].empty());
  CHECK(world.net.stats().dropped_partition == 1);

  world.net.heal();
  world.send(a, b, 1000);
  world.run(2s);
  CHECK(world.arrivals[b].size() == 1);

  world.net.set_link(0, 1, false);
  world.send(a, b, 1000);
  world.run(3s);
  CHECK(world.arrivals[b].size() == 1);
  world.net.set_link(0, 1, true);

  // A message in flight to a node that crashes is lost, even if the node is back
  // before it would have arrived.
  world.send(a, b, 1000);
  world.net.crash(b);
  world.net.restart(b);
  world.run(4s);
  CHECK(world.arrivals[b].size() == 1);
  CHECK(world.net.stats().dropped_down == 1);
}

TEST_CASE("loss drops about the configured fraction") {
  auto config = fixture::make_config(1e9, 1e9, 1ms, 1);
  config.loss = 0.25;
  fixture world(config);
  auto a = world.add();
  auto b = world.add();
  for (int i = 0; i < 10'000; ++i)
    world.net.transport_of(a).send(world.net.id_of(b), wire::ping{1});
  world.run();
  CHECK(world.net.stats().dropped_loss > 2300);
  CHECK(world.net.stats().dropped_loss < 2700);
  CHECK(world.arrivals[b].size() == 10'000 - world.net.stats().dropped_loss);
}

TEST_CASE("a control message does not wait behind bulk data on a busy link") {
  // 4 MB queued on a 2 Mbit/s uplink take 16 s; a 100-byte request sent after them
  // still arrives after its latency and its own serialization, as it would between
  // the packets of the bulk connections.
  fixture world(2e6, 100e6, 20ms);
  auto a = world.add();
  auto b = world.add();
  auto c = world.add();
  for (int i = 0; i < 4; ++i)
    world.send(a, b, megabyte);
  world.send(a, c, 100);
  world.run();
  REQUIRE(world.arrivals[c].size() == 1);
  CHECK(world.arrivals[c][0].at_seconds == Approx(0.0204).epsilon(0.01));
  REQUIRE(world.arrivals[b].size() == 4);
  CHECK(world.arrivals[b].back().at_seconds == Approx(16.02).epsilon(1e-3));
}
