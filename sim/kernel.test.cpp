// Pins the discrete-event kernel's ordering rules (kernel.hpp): world events fire in
// time order and, at equal times, in scheduling order; a CAF timer fires at its virtual
// time, after the world events of the same instant; messages that an event sends are
// processed before the next event; run_until stops at its end (inclusive), leaves later
// events pending and sets the clock to the end, and split runs equal one long run;
// run_ready never advances time; and kernel_stats counts what ran. Each test builds a
// bare kernel, spawns small event-based actors on its actor system, and compares a log
// of (virtual time, what) entries against the expected one.
//
// Not tested: the livelock bound. messages_per_instant_max is 100 million messages;
// at the ~200 ns per message that `stakecast bench kernel --pairs 1 --round-trips
// 500000` measured on a CAF test_coordinator, reaching it takes about 20 s.
#include "sim/kernel.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

using namespace stakecast;
using namespace std::chrono_literals;

namespace {

using note_log = std::vector<std::pair<sim::virtual_time, std::string>>;

// (name, delay_ms): notes "<name> set" and sets a timer that notes `name` when it fires.
// (name): notes `name` at the current virtual time.
caf::behavior timer_actor(caf::event_based_actor* self, sim::kernel* clock, note_log* log) {
  return {
    [=](const std::string& name, std::int64_t delay_ms) {
      log->emplace_back(clock->now(), name + " set");
      self->delayed_send(self, std::chrono::milliseconds(delay_ms), name);
    },
    [=](const std::string& name) { log->emplace_back(clock->now(), name); },
  };
}

// (remaining, partner): counts the message and passes remaining - 1 on to the partner,
// with itself as the partner's partner, until remaining reaches 0.
caf::behavior bouncer(caf::event_based_actor* self, std::uint64_t* received) {
  return {[=](std::uint64_t remaining, const caf::actor& partner) {
    ++*received;
    if (remaining > 0)
      self->send(partner, remaining - 1, caf::actor_cast<caf::actor>(self));
  }};
}

} // namespace

TEST_CASE("world events fire in time order and then in scheduling order", "[kernel]") {
  note_log log;
  sim::kernel clock;
  auto note = [&](std::string what) {
    return [&log, &clock, what] { log.emplace_back(clock.now(), what); };
  };
  clock.at(30ms, note("c"));
  clock.at(10ms, note("a1"));
  clock.at(20ms, note("b"));
  clock.at(10ms, note("a2"));
  clock.at(10ms, [&] {
    log.emplace_back(clock.now(), "a3");
    // Scheduled during the instant, for the same instant: after what is already due.
    clock.at(clock.now(), note("a3 nested"));
    clock.at(clock.now() + 5ms, note("a3 later"));
  });
  clock.at(10ms, note("a4"));
  clock.at(0ms, note("start"));

  REQUIRE(clock.run_until(1s).empty());
  const note_log expected{{0ms, "start"},     {10ms, "a1"},        {10ms, "a2"},
                          {10ms, "a3"},       {10ms, "a4"},        {10ms, "a3 nested"},
                          {15ms, "a3 later"}, {20ms, "b"},         {30ms, "c"}};
  CHECK(log == expected);
  CHECK(clock.now() == 1s);
  CHECK(clock.stats().world_events == 9);
}

TEST_CASE("CAF timers fire at their virtual time after world events of that instant",
          "[kernel]") {
  note_log log;
  sim::kernel clock;
  auto actor = clock.system().spawn(timer_actor, &clock, &log);
  caf::anon_send(actor, std::string{"timer 7"}, std::int64_t{7});
  caf::anon_send(actor, std::string{"timer 10"}, std::int64_t{10});
  REQUIRE(clock.run_ready().empty());

  auto note = [&](std::string what) {
    return [&log, &clock, what] { log.emplace_back(clock.now(), what); };
  };
  clock.at(5ms, note("world 5"));
  clock.at(10ms, note("world 10"));
  clock.at(12ms, [&] {
    log.emplace_back(clock.now(), "world 12a");
    caf::anon_send(actor, std::string{"message from world 12a"});
    caf::anon_send(actor, std::string{"timer 12+3"}, std::int64_t{3});
  });
  clock.at(12ms, note("world 12b"));
  clock.at(15ms, note("world 15"));

  REQUIRE(clock.run_until(1s).empty());
  const note_log expected{
    {0ms, "timer 7 set"},
    {0ms, "timer 10 set"},
    {5ms, "world 5"},
    {7ms, "timer 7"},
    {10ms, "world 10"},
    {10ms, "timer 10"},
    {12ms, "world 12a"},
    // Messages sent by a world event run before the next event, even of the same instant.
    {12ms, "message from world 12a"},
    {12ms, "timer 12+3 set"},
    {12ms, "world 12b"},
    {15ms, "world 15"},
    {15ms, "timer 12+3"},
  };
  CHECK(log == expected);
}

TEST_CASE("run_until stops at its end and a later run continues", "[kernel]") {
  note_log log;
  sim::kernel clock;
  auto actor = clock.system().spawn(timer_actor, &clock, &log);
  caf::anon_send(actor, std::string{"timer 25"}, std::int64_t{25});
  auto note = [&](std::string what) {
    return [&log, &clock, what] { log.emplace_back(clock.now(), what); };
  };
  clock.at(10ms, note("world 10"));
  clock.at(20ms, note("world 20"));
  clock.at(30ms, note("world 30"));

  // The end is inclusive: an event at exactly the end fires in this run.
  REQUIRE(clock.run_until(20ms).empty());
  CHECK(clock.now() == 20ms);
  CHECK(log == note_log{{0ms, "timer 25 set"}, {10ms, "world 10"}, {20ms, "world 20"}});

  // Nothing due before the end: the clock still moves to the end.
  REQUIRE(clock.run_until(22ms).empty());
  CHECK(clock.now() == 22ms);
  CHECK(log.size() == 3);

  REQUIRE(clock.run_until(1s).empty());
  CHECK(clock.now() == 1s);
  CHECK(log == note_log{{0ms, "timer 25 set"},
                        {10ms, "world 10"},
                        {20ms, "world 20"},
                        {25ms, "timer 25"},
                        {30ms, "world 30"}});

  // Nothing left at all: the clock moves to the end.
  REQUIRE(clock.run_until(2s).empty());
  CHECK(clock.now() == 2s);
  CHECK(log.size() == 5);
}

TEST_CASE("a run split at event times equals one long run", "[kernel]") {
  // Events at the split points fire in the first part and not again in the second.
  auto run = [](const std::vector<sim::virtual_time>& ends) {
    note_log log;
    sim::kernel clock;
    auto actor = clock.system().spawn(timer_actor, &clock, &log);
    caf::anon_send(actor, std::string{"timer 20"}, std::int64_t{20});
    for (auto at : {10ms, 20ms, 20ms, 35ms})
      clock.at(at, [&log, &clock] { log.emplace_back(clock.now(), "world"); });
    for (auto end : ends)
      REQUIRE(clock.run_until(end).empty());
    return log;
  };
  const note_log whole = run({100ms});
  CHECK(whole.size() == 6);
  CHECK(run({10ms, 20ms, 35ms, 100ms}) == whole);
  CHECK(run({5ms, 19ms, 21ms, 100ms}) == whole);
}

TEST_CASE("run_ready runs every ready message without advancing time", "[kernel]") {
  std::uint64_t received_by_a = 0;
  std::uint64_t received_by_b = 0;
  sim::kernel clock;
  REQUIRE(clock.run_until(5ms).empty());
  auto a = clock.system().spawn(bouncer, &received_by_a);
  auto b = clock.system().spawn(bouncer, &received_by_b);
  caf::anon_send(a, std::uint64_t{999}, b); // 1000 messages, 500 to each
  REQUIRE(clock.run_ready().empty());
  CHECK(received_by_a == 500);
  CHECK(received_by_b == 500);
  CHECK(clock.now() == 5ms);
}

TEST_CASE("kernel_stats counts messages and timers and world events", "[kernel]") {
  note_log log;
  std::uint64_t received_by_a = 0;
  std::uint64_t received_by_b = 0;
  sim::kernel clock;
  CHECK(clock.stats().events() == 0);

  auto timers = clock.system().spawn(timer_actor, &clock, &log);
  auto a = clock.system().spawn(bouncer, &received_by_a);
  auto b = clock.system().spawn(bouncer, &received_by_b);
  REQUIRE(clock.run_ready().empty());
  // Spawning may cost a scheduler step each (CAF runs an actor's initialization as a
  // job); measure from here.
  const sim::kernel_stats before = clock.stats();
  CHECK(before.timers == 0);
  CHECK(before.world_events == 0);

  caf::anon_send(a, std::uint64_t{99}, b); // 100 messages
  caf::anon_send(timers, std::string{"t1"}, std::int64_t{1});
  caf::anon_send(timers, std::string{"t2"}, std::int64_t{2});
  int callbacks_run = 0;
  for (auto at : {1ms, 3ms, 3ms})
    clock.at(at, [&callbacks_run] { ++callbacks_run; });
  REQUIRE(clock.run_until(10ms).empty());

  const sim::kernel_stats& after = clock.stats();
  CHECK(callbacks_run == 3);
  CHECK(after.world_events == 3);
  CHECK(after.timers == 2);
  // 100 bounces, 2 timer requests and the 2 messages the timers delivered.
  CHECK(after.messages - before.messages == 104);
  CHECK(after.events() == after.messages + after.timers + after.world_events);
}

TEST_CASE("run_until reports progress every progress_every steps", "[kernel]") {
  sim::kernel clock;
  for (int i = 1; i <= 7; ++i)
    clock.at(std::chrono::milliseconds(i), [] {});
  int progress_calls = 0;
  REQUIRE(clock.run_until(1s, [&progress_calls] { ++progress_calls; }, 3).empty());
  CHECK(progress_calls == 2); // after steps 3 and 6 of 7
}
