// Pins the simulator's telemetry (telemetry.hpp): names intern to stable ids, counters
// accumulate by name, listeners see every event of their kind with its values, the
// trace hash is a function of every event's fields, the virtual time and their order,
// and time_series_csv writes one column per counter (in name order) and one row per
// sample, with 0 for counters registered after a row was sampled. Each test drives a
// telemetry over a bare kernel whose clock it moves with run_until.
#include "sim/telemetry.hpp"

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace stakecast;
using namespace std::chrono_literals;

namespace {

core::node_id node_with_first_byte(std::uint8_t first) {
  core::node_id id;
  id.bytes[0] = first;
  return id;
}

} // namespace

TEST_CASE("counters are interned by name and accumulate", "[telemetry]") {
  sim::kernel clock;
  sim::telemetry telemetry{clock};
  world::metrics& metrics = telemetry;

  const auto sent = metrics.counter("messages_sent");
  const auto lost = metrics.counter("messages_lost");
  CHECK(sent != lost);
  CHECK(metrics.counter("messages_sent") == sent);
  CHECK(metrics.counter("messages_lost") == lost);

  metrics.add(sent, 3);
  metrics.add(metrics.counter("messages_sent"), 4);
  metrics.add(lost, 5);
  metrics.add(lost, -2);
  CHECK(telemetry.counter_value("messages_sent") == 7);
  CHECK(telemetry.counter_value("messages_lost") == 3);
  CHECK(telemetry.counter_value("never registered") == 0);
  CHECK(telemetry.counters() ==
        std::map<std::string, std::int64_t>{{"messages_lost", 3}, {"messages_sent", 7}});

  // Histograms and event kinds are interned the same way, each in its own space.
  const auto latency = metrics.histogram("latency");
  CHECK(metrics.histogram("latency") == latency);
  metrics.record(latency, 2.0);
  metrics.record(metrics.histogram("latency"), 4.0);
  REQUIRE(telemetry.find_histogram("latency") != nullptr);
  CHECK(telemetry.find_histogram("latency")->count() == 2);
  CHECK(telemetry.find_histogram("latency")->mean() == 3.0);
  CHECK(telemetry.find_histogram("missing") == nullptr);
  CHECK(metrics.event_kind("block") == metrics.event_kind("block"));
  CHECK(metrics.event_kind("block") != metrics.event_kind("vote"));
}

TEST_CASE("listeners get every event of their kind with its values", "[telemetry]") {
  sim::kernel clock;
  sim::telemetry telemetry{clock};
  using call = std::tuple<std::string, core::node_id, std::uint64_t, std::uint64_t>;
  std::vector<call> calls;

  // Listening before the kind is used registers it.
  telemetry.listen("block", [&calls](const core::node_id& node, std::uint64_t a, std::uint64_t b) {
    calls.emplace_back("first", node, a, b);
  });
  telemetry.listen("block", [&calls](const core::node_id& node, std::uint64_t a, std::uint64_t b) {
    calls.emplace_back("second", node, a, b);
  });
  telemetry.listen("vote", [&calls](const core::node_id& node, std::uint64_t a, std::uint64_t b) {
    calls.emplace_back("vote", node, a, b);
  });

  const auto block = telemetry.event_kind("block");
  const auto ignored = telemetry.event_kind("nobody listens");
  telemetry.event(block, node_with_first_byte(1), 10, 20);
  telemetry.event(ignored, node_with_first_byte(2), 30, 40);
  telemetry.event(block, node_with_first_byte(3), ~0ULL, 0);

  const std::vector<call> expected{{"first", node_with_first_byte(1), 10, 20},
                                   {"second", node_with_first_byte(1), 10, 20},
                                   {"first", node_with_first_byte(3), ~0ULL, 0},
                                   {"second", node_with_first_byte(3), ~0ULL, 0}};
  CHECK(calls == expected);
}

TEST_CASE("the trace hash depends on every event field and the time and the order",
          "[telemetry]") {
  struct event {
    sim::virtual_time at;
    const char* kind;
    std::uint8_t node;
    std::uint64_t a;
    std::uint64_t b;
  };
  // The hash after emitting `events` (in order) into a fresh telemetry.
  auto hash_of = [](const std::vector<event>& events) {
    sim::kernel clock;
    sim::telemetry telemetry{clock};
    telemetry.event_kind("kind0");
    telemetry.event_kind("kind1");
    for (const auto& emitted : events) {
      REQUIRE(clock.run_until(emitted.at).empty());
      telemetry.event(telemetry.event_kind(emitted.kind), node_with_first_byte(emitted.node),
                      emitted.a, emitted.b);
    }
    return telemetry.trace().value();
  };

  const event base{5ms, "kind0", 1, 100, 200};
  const event other{7ms, "kind1", 2, 300, 400};
  const std::uint64_t reference = hash_of({base});
  CHECK(hash_of({base}) == reference);
  CHECK(hash_of({}) != reference);

  auto changed = base;
  changed.at = 6ms;
  CHECK(hash_of({changed}) != reference);
  changed = base;
  changed.kind = "kind1";
  CHECK(hash_of({changed}) != reference);
  changed = base;
  changed.node = 2;
  CHECK(hash_of({changed}) != reference);
  changed = base;
  changed.a = 101;
  CHECK(hash_of({changed}) != reference);
  changed = base;
  changed.b = 201;
  CHECK(hash_of({changed}) != reference);
  // a and b are not interchangeable.
  changed = base;
  std::swap(changed.a, changed.b);
  CHECK(hash_of({changed}) != reference);

  // Order: the same two events swapped (at the same time, so only the order differs).
  auto second = other;
  second.at = base.at;
  CHECK(hash_of({base, second}) == hash_of({base, second}));
  CHECK(hash_of({base, second}) != hash_of({second, base}));
  CHECK(hash_of({base, other}) != hash_of({base}));

  // The hex form is the value, 16 lowercase digits.
  sim::trace_hash trace;
  trace.fold(1);
  CHECK(trace.to_hex() == fmt::format("{:016x}", trace.value()));
  CHECK(trace.to_hex().size() == 16);
}

TEST_CASE("time_series_csv has every counter and one row per sample", "[telemetry]") {
  sim::kernel clock;
  sim::telemetry telemetry{clock};
  const auto sent = telemetry.counter("sent");
  const auto blocks = telemetry.counter("blocks");
  CHECK(telemetry.time_series_csv() == "time_s,blocks,sent\n");

  telemetry.add(sent, 5);
  telemetry.sample(1s);
  telemetry.add(blocks, 2);
  telemetry.add(sent, 1);
  telemetry.sample(2500ms);
  // Registered after two samples: those rows read 0 for it.
  const auto added_late = telemetry.counter("added_late");
  telemetry.add(added_late, 9);
  telemetry.add(blocks, -1);
  telemetry.sample(3s + 250us);

  CHECK(telemetry.time_series_csv() == "time_s,added_late,blocks,sent\n"
                                       "1.000,0,0,5\n"
                                       "2.500,0,2,6\n"
                                       "3.000,9,1,6\n");
}
