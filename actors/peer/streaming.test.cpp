// Pins down the streaming actors end to end on the simulated world: a masternode and
// a few viewers of a short virtual content (60 segments of 16 blocks at 1 Mbit/s,
// about 126 s), wired by hand to a sim::kernel + sim::network + sim::telemetry as
// sim/network.test.cpp does, run for a few virtual minutes (seed 7 for the network,
// node seeds 1..n). Each test reads the "stream.*" counters and the per-session
// "stream.session_end" events; its bound is the run's end time: a session that has
// not finished playing by then fails the played-time or ended-count checks.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/all.hpp>
#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/core/sha256.hpp"
#include "actors/core/virtual_content.hpp"
#include "actors/peer/streaming.hpp"
#include "actors/storage/memory_store.hpp"
#include "actors/storage/storage_actor.hpp"
#include "sim/kernel.hpp"
#include "sim/network.hpp"
#include "sim/telemetry.hpp"

using namespace stakecast;
using namespace std::chrono_literals;

namespace {

struct session_result {
  std::uint64_t played_ns = 0;
  std::uint64_t stall_ns = 0;
};

struct stream_world {
  sim::kernel clock;
  sim::telemetry trace{clock};
  sim::network net;
  core::manifest manifest;
  core::content_id content;
  peer::library_ptr library;
  std::vector<caf::actor> actors;
  std::map<core::node_id, session_result> sessions;

  /// Access class 0: masternode (`masternode_uplink_bps` up); 1: viewers (20 Mbit/s
  /// up, 100 Mbit/s down). One region, 20 ms one way.
  explicit stream_world(double masternode_uplink_bps)
      : net(clock, make_config(masternode_uplink_bps), 7, trace) {
    core::hash256 seed;
    seed.bytes[0] = 42;
    manifest =
        core::virtual_content{seed, 60ull * 16 * core::block_bytes}.make("test", 1'000'000, 2000);
    content = core::id_of(manifest);
    auto shelf = std::make_shared<peer::content_library>();
    shelf->manifests.emplace(content, std::make_shared<const core::manifest>(manifest));
    library = shelf;
    trace.listen("stream.session_end",
                 [this](const core::node_id& node, std::uint64_t played, std::uint64_t stalled) {
                   sessions[node] = {played, stalled};
                 });
  }

  static sim::network_config make_config(double masternode_uplink_bps) {
    sim::network_config config;
    config.regions.push_back("r0");
    config.latency.assign(1, std::vector<sim::virtual_time>(1, 20ms));
    config.access_classes.push_back({"masternode", masternode_uplink_bps, 1e9});
    config.access_classes.push_back({"viewer", 20e6, 100e6});
    return config;
  }

  world::node_context add_node(std::uint32_t access) {
    const auto index = static_cast<sim::node_index>(net.node_count());
    std::uint64_t word = index + 1;
    const auto id = core::sha256({reinterpret_cast<const std::uint8_t*>(&word), sizeof(word)});
    net.add_node(id, 0, access);
    return world::node_context{id, word, nullptr, &net.transport_of(index), nullptr, &trace};
  }

  /// A masternode that starts with nothing: it fetches `content` from `sources`
  /// into `store` before serving it.
  core::node_id add_fetching_masternode(std::vector<core::node_id> sources,
                                        storage::memory_store& store) {
    auto context = add_node(0);
    context.storage = &store;
    spawn_fetching_masternode(context, static_cast<sim::node_index>(net.node_count() - 1),
                              std::move(sources));
    return context.id;
  }

  void spawn_fetching_masternode(const world::node_context& context, sim::node_index index,
                                 std::vector<core::node_id> sources) {
    peer::masternode_config config;
    config.hosted = {{content, std::move(sources)}};
    config.storage = clock.system().spawn(storage::storage, context);
    actors.push_back(caf::actor_cast<caf::actor>(config.storage));
    auto actor = clock.system().spawn(peer::masternode, context, config);
    net.bind(index, peer::masternode_messages, caf::actor_cast<caf::strong_actor_ptr>(actor));
    actors.push_back(caf::actor_cast<caf::actor>(actor));
  }

  core::node_id add_masternode(double uplink_bps) {
    const auto context = add_node(0);
    peer::masternode_config config;
    config.published = library; // holds the content whole from the start
    config.publisher = true;    // its serving counts as the origin's
    config.uplink_bps = uplink_bps;
    auto actor = clock.system().spawn(peer::masternode, context, config);
    net.bind(static_cast<sim::node_index>(net.node_count() - 1), peer::masternode_messages,
             caf::actor_cast<caf::strong_actor_ptr>(actor));
    actors.push_back(caf::actor_cast<caf::actor>(actor));
    return context.id;
  }

  peer::viewer_config viewer_config(const core::node_id& masternode) const {
    peer::viewer_config config;
    config.content = content;
    config.masternodes = {masternode};
    config.uplink_bps = 20e6;
    return config;
  }

  /// Adds a viewer node now and starts its session at `start`.
  core::node_id add_viewer(sim::virtual_time start, peer::viewer_config config) {
    const auto context = add_node(1);
    const auto index = static_cast<sim::node_index>(net.node_count() - 1);
    clock.at(start, [this, context, config, index] {
      auto actor = clock.system().spawn(peer::viewer, context, config);
      net.bind(index, peer::viewer_messages, caf::actor_cast<caf::strong_actor_ptr>(actor));
      actors.push_back(caf::actor_cast<caf::actor>(actor));
    });
    return context.id;
  }

  void run(sim::virtual_time until) { REQUIRE(clock.run_until(until).empty()); }

  std::int64_t counter(std::string_view name) const { return trace.counter_value(name); }

  std::int64_t content_ns() const {
    std::int64_t total = 0;
    for (const auto& segment : manifest.segments)
      total += std::int64_t{segment.duration_ms} * 1'000'000;
    return total;
  }
};

} // namespace

TEST_CASE("viewers on a fast network play the whole content without a stall", "[streaming]") {
  stream_world world(1e9);
  const auto masternode = world.add_masternode(1e9);
  std::vector<core::node_id> viewers;
  for (int i = 0; i < 3; ++i)
    viewers.push_back(world.add_viewer(std::chrono::seconds(i), world.viewer_config(masternode)));
  world.run(5min);

  CHECK(world.counter("stream.sessions_started") == 3);
  CHECK(world.counter("stream.sessions_ended") == 3);
  CHECK(world.counter("stream.startup_failures") == 0);
  CHECK(world.counter("stream.stalls") == 0);
  CHECK(world.counter("stream.stall_ns") == 0);
  CHECK(world.counter("stream.bad_segments") == 0);
  CHECK(world.counter("stream.segments_played") == 3 * 60);
  // add_masternode's node holds the content from the start, as a publisher does.
  CHECK(world.counter("stream.publisher_egress_bytes") > 0);
  for (const auto& viewer : viewers) {
    REQUIRE(world.sessions.count(viewer) == 1);
    CHECK(world.sessions[viewer].played_ns == static_cast<std::uint64_t>(world.content_ns()));
    CHECK(world.sessions[viewer].stall_ns == 0);
  }
  const auto* startup = world.trace.find_histogram("stream.startup_delay_s");
  REQUIRE(startup != nullptr);
  CHECK(startup->count() == 3);
  CHECK(startup->max() < 1.0);
}

TEST_CASE("a later viewer gets segments from an earlier one when the masternode is slow",
          "[streaming]") {
  stream_world world(3e6);
  const auto masternode = world.add_masternode(3e6);
  const auto first = world.add_viewer(0s, world.viewer_config(masternode));
  const auto second = world.add_viewer(30s, world.viewer_config(masternode));
  world.run(6min);

  CHECK(world.counter("stream.sessions_ended") == 2);
  CHECK(world.counter("stream.startup_failures") == 0);
  CHECK(world.counter("stream.bytes_from_viewers") > 0);
  CHECK(world.counter("stream.bytes_uploaded") >= world.counter("stream.bytes_from_viewers"));
  CHECK(world.counter("stream.bad_segments") == 0);
  REQUIRE(world.sessions.count(first) == 1);
  REQUIRE(world.sessions.count(second) == 1);
  CHECK(world.sessions[second].played_ns == static_cast<std::uint64_t>(world.content_ns()));
  const auto* share = world.trace.find_histogram("stream.share_ratio");
  REQUIRE(share != nullptr);
  CHECK(share->max() > 0.0);
}

TEST_CASE("a poisoning viewer is detected and its victim finishes from the masternode",
          "[streaming]") {
  stream_world world(3e6);
  const auto masternode = world.add_masternode(3e6);
  auto poisoner_config = world.viewer_config(masternode);
  poisoner_config.poison = true;
  world.add_viewer(0s, poisoner_config);
  const auto victim = world.add_viewer(30s, world.viewer_config(masternode));
  world.run(6min);

  CHECK(world.counter("stream.sessions_ended") == 2);
  CHECK(world.counter("stream.bad_segments") > 0);
  CHECK(world.counter("stream.bytes_from_viewers") == 0);
  REQUIRE(world.sessions.count(victim) == 1);
  CHECK(world.sessions[victim].played_ns == static_cast<std::uint64_t>(world.content_ns()));
}

TEST_CASE("a session leaves when its time is up and reports what it played", "[streaming]") {
  stream_world world(1e9);
  const auto masternode = world.add_masternode(1e9);
  auto config = world.viewer_config(masternode);
  config.session_length = 30s;
  const auto viewer = world.add_viewer(0s, config);
  world.run(2min);

  CHECK(world.counter("stream.sessions_ended") == 1);
  REQUIRE(world.sessions.count(viewer) == 1);
  CHECK(world.sessions[viewer].played_ns > 20'000'000'000ull);
  CHECK(world.sessions[viewer].played_ns < 30'000'000'000ull);
}

TEST_CASE("a viewer whose content is unknown counts a startup failure", "[streaming]") {
  stream_world world(1e9);
  const auto masternode = world.add_masternode(1e9);
  auto config = world.viewer_config(masternode);
  config.content.bytes[0] ^= 1;
  world.add_viewer(0s, config);
  world.run(10s);
  CHECK(world.counter("stream.sessions_ended") == 1);
  CHECK(world.counter("stream.startup_failures") == 1);
}

TEST_CASE("a masternode answers a manifest request with the manifest", "[streaming]") {
  stream_world world(1e9);
  world.add_masternode(1e9);
  world.add_node(1);
  std::optional<wire::manifest_transfer> received;
  auto sink = world.clock.system().spawn([&received](caf::event_based_actor*) -> caf::behavior {
    return {[&received](const world::inbound& message) {
      if (const auto* transfer = std::get_if<wire::manifest_transfer>(&message.body))
        received = *transfer;
    }};
  });
  world.net.bind(1, ~world::message_set{0}, caf::actor_cast<caf::strong_actor_ptr>(sink));
  world.net.transport_of(1).send(world.net.id_of(0), wire::manifest_request{world.content});
  world.run(1s);
  REQUIRE(received.has_value());
  CHECK(received->content == world.content);
  auto decoded = core::decode_manifest(received->encoded.view());
  REQUIRE(decoded);
  CHECK(core::id_of(*decoded) == world.content);
}

TEST_CASE("a free rider rejects every request and its neighbour still finishes", "[streaming]") {
  stream_world world(3e6);
  const auto masternode = world.add_masternode(3e6);
  auto rider = world.viewer_config(masternode);
  rider.uploads = false;
  world.add_viewer(0s, rider);
  const auto honest = world.add_viewer(30s, world.viewer_config(masternode));
  world.run(6min);

  CHECK(world.counter("stream.sessions_ended") == 2);
  CHECK(world.counter("stream.bytes_from_viewers") == 0);
  CHECK(world.counter("stream.rejects") > 0);
  REQUIRE(world.sessions.count(honest) == 1);
  CHECK(world.sessions[honest].played_ns == static_cast<std::uint64_t>(world.content_ns()));
}

TEST_CASE("the same streaming run gives the same trace hash", "[streaming]") {
  auto run_once = [] {
    stream_world world(3e6);
    const auto masternode = world.add_masternode(3e6);
    for (int i = 0; i < 3; ++i)
      world.add_viewer(std::chrono::seconds(20 * i), world.viewer_config(masternode));
    world.run(4min);
    return std::make_pair(world.trace.trace().value(), world.counter("stream.bytes_from_viewers"));
  };
  const auto first = run_once();
  CHECK(first == run_once());
  CHECK(first.second > 0);
}

TEST_CASE("a segment server holds a newcomer's first request until the rechoke it brings forward",
          "[streaming]") {
  peer::upload_queue_config config;
  config.choking.policy = peer::choke_policy::round_robin;
  peer::segment_server server(config, 0);
  core::random_generator generator(1);
  core::node_id requester;
  requester.bytes[0] = 1;
  peer::segment_server::outcome out;
  server.offer(0, {requester, 1, {}, 0, 1000}, out);
  CHECK(out.rejects.empty());
  CHECK(server.waiting_count() == 1);
  REQUIRE(server.next_wakeup() == std::optional<std::int64_t>{0});
  server.run(0, generator, out);
  CHECK(out.rejects.empty());
  REQUIRE(out.started.size() == 1);
  CHECK(out.started[0].request.requester == requester);
  CHECK(server.waiting_count() == 0);
}

TEST_CASE("viewers meet through peer exchange what no masternode told them", "[streaming]") {
  // A joins only masternode 1 and C only masternode 2; B joins both, so only B knows
  // A and C. Peer exchange lets one of them learn of the other (the other then learns
  // of it from its have-ranges, which is not counted): without exchange, 0.
  stream_world world(1e9);
  const auto first_masternode = world.add_masternode(1e9);
  const auto second_masternode = world.add_masternode(1e9);
  auto only_first = world.viewer_config(first_masternode);
  auto only_second = world.viewer_config(second_masternode);
  auto both = world.viewer_config(first_masternode);
  both.masternodes.push_back(second_masternode);
  world.add_viewer(0s, only_first);
  world.add_viewer(1s, only_second);
  world.add_viewer(2s, both);
  world.run(1min);
  CHECK(world.counter("stream.neighbours_from_exchange") >= 1);
}

TEST_CASE("a viewer that seeks jumps ahead and plays on from there", "[streaming]") {
  // One viewer on a fast network seeks at 20 s from the start to segment 40 of 60:
  // it plays less than the whole content (the skipped part is never played), waits
  // briefly after the seek, and finishes without a stall.
  stream_world world(1e9);
  const auto masternode = world.add_masternode(1e9);
  auto config = world.viewer_config(masternode);
  config.seeks = {{20s, 40}};
  const auto viewer = world.add_viewer(0s, config);
  world.run(5min);
  CHECK(world.counter("stream.seeks") == 1);
  CHECK(world.counter("stream.seek_wait_ns") > 0);
  CHECK(world.counter("stream.seek_wait_ns") < 5'000'000'000);
  CHECK(world.counter("stream.stalls") == 0);
  REQUIRE(world.sessions.count(viewer) == 1);
  CHECK(world.sessions[viewer].played_ns > 0);
  CHECK(world.sessions[viewer].played_ns < static_cast<std::uint64_t>(world.content_ns()) * 3 / 4);
}

TEST_CASE("a masternode fetches its content from the publisher and then serves it",
          "[streaming]") {
  // The masternode starts empty; its only source is a publisher. A viewer that asks
  // the masternode alone plays the whole content, every byte the masternode sent it
  // came in from the publisher once, and the store holds every segment.
  stream_world world(1e9);
  const auto publisher = world.add_masternode(1e9);
  storage::memory_store store;
  const auto masternode = world.add_fetching_masternode({publisher}, store);
  const auto viewer = world.add_viewer(1s, world.viewer_config(masternode));
  world.run(4min);
  CHECK(world.counter("stream.masternode_ingress_bytes") ==
        static_cast<std::int64_t>(world.manifest.content_bytes));
  CHECK(world.counter("stream.masternode_egress_bytes") > 0);
  CHECK(world.counter("stream.masternode_fetch_failures") == 0);
  CHECK(world.counter("stream.startup_failures") == 0);
  REQUIRE(world.sessions.count(viewer) == 1);
  CHECK(world.sessions[viewer].played_ns == static_cast<std::uint64_t>(world.content_ns()));
  std::size_t segments_stored = 0;
  store.for_each_prefix("content/", [&](std::string_view key, core::byte_span) {
    segments_stored += key.find("/segment/") != std::string_view::npos ? 1 : 0;
    return true;
  });
  CHECK(segments_stored == world.manifest.segments.size());
}

TEST_CASE("a masternode asked for a segment it is still fetching holds the request",
          "[streaming]") {
  // The publisher's uplink (8 Mbit/s) is slower than the whole content arrives, so the
  // viewer's first requests reach the masternode before those segments: they are
  // fetched first and served, and the viewer starts within a few seconds.
  stream_world world(8e6);
  const auto publisher = world.add_masternode(8e6);
  storage::memory_store store;
  const auto masternode = world.add_fetching_masternode({publisher}, store);
  auto config = world.viewer_config(masternode);
  config.start_segment = 40;
  world.add_viewer(1s, config);
  world.run(3min);
  CHECK(world.counter("stream.startup_failures") == 0);
  CHECK(world.counter("stream.masternode_rejects") == 0); // held, never refused
  const auto* startup = world.trace.find_histogram("stream.startup_delay_s");
  REQUIRE(startup != nullptr);
  REQUIRE(startup->count() == 1);
  CHECK(startup->max() < 5.0);
}

TEST_CASE("a masternode restarted on its store fetches nothing again", "[streaming]") {
  stream_world world(1e9);
  const auto publisher = world.add_masternode(1e9);
  storage::memory_store store;
  world.add_fetching_masternode({publisher}, store);
  world.run(1min);
  const auto fetched = world.counter("stream.masternode_ingress_bytes");
  CHECK(fetched == static_cast<std::int64_t>(world.manifest.content_bytes));
  // Kill it and start it again on the same store.
  caf::anon_send_exit(world.actors.back(), caf::exit_reason::kill);
  auto context = world.add_node(0);
  context.storage = &store;
  world.spawn_fetching_masternode(context, static_cast<sim::node_index>(world.net.node_count() - 1),
                                  {publisher});
  const auto viewer = world.add_viewer(world.clock.now() + 1s, world.viewer_config(context.id));
  world.run(world.clock.now() + 4min);
  CHECK(world.counter("stream.masternode_ingress_bytes") == fetched);
  REQUIRE(world.sessions.count(viewer) == 1);
  CHECK(world.sessions[viewer].played_ns == static_cast<std::uint64_t>(world.content_ns()));
}

TEST_CASE("the storage actor reports a full store and keeps what it acknowledged", "[streaming]") {
  sim::kernel clock;
  storage::memory_store store(4096);
  world::node_context context;
  context.storage = &store;
  auto actor = clock.system().spawn(storage::storage, context);
  core::content_id content;
  content.bytes[0] = 1;
  std::vector<std::string> outcomes;
  auto probe = clock.system().spawn([&](caf::event_based_actor* self) {
    auto note = [&outcomes](std::string what) { outcomes.push_back(std::move(what)); };
    auto reply = [note](caf::ok_atom) { note("ok"); };
    auto failure = [note](const caf::error& error) { note(core::describe(error)); };
    self->request(actor, caf::infinite, storage::put_segment_atom::value, content, 0u,
                  wire::payload::virtual_of(1000)).then(reply, failure);
    self->request(actor, caf::infinite, storage::put_manifest_atom::value, content,
                  core::byte_buffer(100, 7)).then(reply, failure);
    self->request(actor, caf::infinite, storage::put_segment_atom::value, content, 0u,
                  wire::payload::virtual_of(1000)).then(reply, failure);
    self->request(actor, caf::infinite, storage::put_segment_atom::value, content, 1u,
                  wire::payload::materialized(core::byte_buffer(8000, 1))).then(reply, failure);
    self->request(actor, caf::infinite, storage::load_contents_atom::value)
        .then([note](const std::vector<storage::stored_content>& contents) {
          note(fmt::format("{} content, {} segment", contents.size(),
                           contents.empty() ? 0 : contents[0].segments.size()));
        });
  });
  clock.run_until(1s);
  REQUIRE(outcomes.size() == 5);
  CHECK(outcomes[0].find("no_manifest") != std::string::npos);
  CHECK(outcomes[1] == "ok");
  CHECK(outcomes[2] == "ok");
  CHECK(outcomes[3].find("full") != std::string::npos);
  CHECK(outcomes[4] == "1 content, 1 segment");
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  clock.run_until(2s);
}

TEST_CASE("a masternode names the viewers it served before those that only joined",
          "[streaming]") {
  // Viewer A streams from 0 s to 10 s; node C only joins (it holds nothing) at 20 s;
  // node D joins at 21 s and must hear of A first although C came last (most recent
  // first alone would name C first).
  stream_world world(1e9);
  const auto masternode = world.add_masternode(1e9);
  auto short_session = world.viewer_config(masternode);
  short_session.session_length = 10s;
  const auto streaming_viewer = world.add_viewer(0s, short_session);
  const auto joiner = world.add_node(1);
  world.add_node(1); // node 3: the asker, bound to the sink below
  std::optional<wire::swarm_peers> answer;
  auto sink = world.clock.system().spawn([&answer](caf::event_based_actor*) -> caf::behavior {
    return {[&answer](const world::inbound& message) {
      if (const auto* peers = std::get_if<wire::swarm_peers>(&message.body))
        answer = *peers;
    }};
  });
  world.net.bind(3, ~world::message_set{0}, caf::actor_cast<caf::strong_actor_ptr>(sink));
  world.clock.at(20s, [&] {
    world.net.transport_of(2).send(masternode, wire::swarm_join{world.content, 0});
  });
  world.clock.at(21s, [&] {
    world.net.transport_of(3).send(masternode, wire::swarm_join{world.content, 0});
  });
  world.run(22s);
  REQUIRE(answer.has_value());
  REQUIRE(answer->peers.size() == 2);
  CHECK(answer->peers[0] == streaming_viewer);
  CHECK(answer->peers[1] == joiner.id);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}
