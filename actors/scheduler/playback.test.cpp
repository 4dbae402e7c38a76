// Pins the playback scheduler of playback.hpp: playback starts exactly when the
// startup buffer is in and stalls and resumes at exact times; urgent segments go to
// masternodes earliest deadline first and the others to viewers rarest first;
// timeouts, rejects, bad segments and removed sources re-plan elsewhere; endgame
// duplicates are cancelled and counted; outstanding requests stay within bounds;
// requests due within critical_ns are marked critical and pass a source busy for
// others; few segments beyond the startup buffer are asked before the start; and
// a driver that steps only at `next_wakeup` and events sends the same requests at the
// same times, with the same QoE, as one stepping every millisecond. Each test scripts
// a timeline by hand or through a toy network (a fixed latency per source, scripted
// holds, rejects and poison) with fixed seeds, so every number below is exact.
#include "actors/scheduler/playback.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/ids.hpp"

using namespace stakecast;
using scheduler::action;
using scheduler::arrival;
using scheduler::cancel_action;
using scheduler::playback;
using scheduler::playback_config;
using scheduler::playback_state;
using scheduler::request_action;
using scheduler::request_id;
using scheduler::segment_index;
using scheduler::segment_range;
using scheduler::source_kind;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t second = 1'000 * ms;
constexpr std::uint64_t segment_bytes = 750'000;

using test::node;

std::vector<scheduler::segment_info> content(std::size_t count) {
  return std::vector<scheduler::segment_info>(count, {segment_bytes, 2 * second});
}

std::vector<request_action> requests_in(const std::vector<action>& actions) {
  std::vector<request_action> requests;
  for (const auto& entry : actions)
    if (const auto* request = std::get_if<request_action>(&entry))
      requests.push_back(*request);
  return requests;
}

std::vector<cancel_action> cancels_in(const std::vector<action>& actions) {
  std::vector<cancel_action> cancels;
  for (const auto& entry : actions)
    if (const auto* cancel = std::get_if<cancel_action>(&entry))
      cancels.push_back(*cancel);
  return cancels;
}

void hold_all(playback& session, const core::node_id& viewer) {
  const segment_range everything{0, static_cast<segment_index>(session.segment_count())};
  REQUIRE(session.set_have_ranges(viewer, std::span(&everything, 1)));
}

// A toy network around one session: each source answers after its fixed latency
// (never before `hold_until_ns` of the segment); rejecting sources answer "no",
// poisoning ones send segments that fail verification, silent ones never answer.
// Cancelled requests are still answered, as a real network may.
struct world {
  struct answer {
    std::int64_t at_ns = 0;
    std::uint64_t order = 0;
    request_id id = 0;
    bool reject = false;
    bool verified = true;
  };

  world(playback_config config, std::size_t segment_count, std::uint64_t seed)
      : session(config, content(segment_count), 0, 0), generator(seed) {}

  void add(std::size_t index, source_kind kind, std::int64_t latency_ns) {
    REQUIRE(session.add_source(node(index), kind));
    latency_ns_of[node(index)] = latency_ns;
    if (kind == source_kind::viewer)
      hold_all(session, node(index));
  }

  void execute(std::int64_t now_ns, const std::vector<action>& actions) {
    for (const auto& entry : actions) {
      log.emplace_back(now_ns, entry);
      const auto* request = std::get_if<request_action>(&entry);
      if (request == nullptr || silent.contains(request->source))
        continue;
      auto at_ns = now_ns + latency_ns_of.at(request->source);
      if (const auto hold = hold_until_ns.find(request->segment); hold != hold_until_ns.end())
        at_ns = std::max(at_ns, hold->second);
      pending.push_back({at_ns, order++, request->id, rejecting.contains(request->source),
                         !poisoning.contains(request->source)});
    }
    REQUIRE(session.in_flight_count() <= session.config().outstanding_total_max);
    for (const auto& [id, latency] : latency_ns_of)
      REQUIRE(session.outstanding(id) <= session.config().outstanding_per_source_max);
  }

  std::optional<std::int64_t> next_answer() const {
    std::optional<std::int64_t> earliest;
    for (const auto& entry : pending)
      if (!earliest || entry.at_ns < *earliest)
        earliest = entry.at_ns;
    return earliest;
  }

  void deliver_due(std::int64_t now_ns) {
    std::sort(pending.begin(), pending.end(), [](const answer& a, const answer& b) {
      return std::pair(a.at_ns, a.order) < std::pair(b.at_ns, b.order);
    });
    std::size_t delivered = 0;
    for (; delivered < pending.size() && pending[delivered].at_ns <= now_ns; ++delivered) {
      const auto& entry = pending[delivered];
      if (entry.reject)
        session.on_reject(now_ns, entry.id);
      else
        session.on_segment(now_ns, entry.id, entry.verified);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(delivered));
  }

  void tick(std::int64_t now_ns) {
    deliver_due(now_ns);
    execute(now_ns, session.step(now_ns, generator));
  }

  void run_every_millisecond(std::int64_t end_ns) {
    for (std::int64_t now_ns = 0; now_ns <= end_ns && session.state() != playback_state::finished;
         now_ns += ms)
      tick(now_ns);
  }

  void run_on_wakeups(std::int64_t end_ns) {
    tick(0);
    for (std::size_t ticks = 0; session.state() != playback_state::finished; ++ticks) {
      REQUIRE(ticks < 100'000); // a wakeup that does not move time would spin here
      auto next_ns = session.next_wakeup();
      if (const auto answer_ns = next_answer(); answer_ns && (!next_ns || *answer_ns < *next_ns))
        next_ns = answer_ns;
      if (!next_ns || *next_ns > end_ns)
        break;
      tick(*next_ns);
    }
  }

  playback session;
  core::random_generator generator;
  std::map<core::node_id, std::int64_t> latency_ns_of;
  std::set<core::node_id> rejecting;
  std::set<core::node_id> poisoning;
  std::set<core::node_id> silent;
  std::map<segment_index, std::int64_t> hold_until_ns;
  std::vector<answer> pending;
  std::uint64_t order = 0;
  std::vector<std::pair<std::int64_t, action>> log;
};

playback_config single_requests() {
  playback_config config;
  config.outstanding_per_source_max = 1;
  config.outstanding_total_max = 1;
  config.urgent_reserve = 0; // one request at a time, to viewers too
  config.urgent_ns = 0; // nothing is urgent while starting: only viewers are asked
  return config;
}

} // namespace

TEST_CASE("playback starts exactly when the startup buffer is in") {
  playback session(playback_config{}, content(10), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  const auto first = requests_in(session.step(0, generator));
  REQUIRE(first.size() == 2);
  CHECK(first[0].segment == 0);
  CHECK(first[1].segment == 1);
  CHECK(first[0].id == 1);
  CHECK(first[1].id == 2);

  CHECK(session.on_segment(1 * second, first[0].id, true) == arrival::accepted);
  CHECK(session.state() == playback_state::starting); // 2 s in hand, 4 s needed
  CHECK(session.on_segment(1500 * ms, first[1].id, true) == arrival::accepted);
  CHECK(session.state() == playback_state::playing);
  REQUIRE(session.qoe().startup_delay_ns == 1500 * ms);

  session.step(2500 * ms, generator);
  CHECK(session.playhead_ns() == 1 * second);
  CHECK(session.qoe().played_ns == 1 * second);
  CHECK(session.qoe().played_segments == 1);
}

TEST_CASE("the earliest deadlines are requested first") {
  playback_config config;
  config.startup_segments_first = false;
  config.outstanding_per_source_max = 3;
  config.outstanding_total_max = 3;
  config.urgent_reserve = 0;
  playback session(config, content(10), 4, 0); // starts at segment 4
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  const auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].segment == 4);
  CHECK(requests[1].segment == 5);
  CHECK(requests[2].segment == 6);
  CHECK(session.next_wakeup() == config.request_timeout_ns);
}

TEST_CASE("urgent segments go to masternodes and the others to viewers") {
  playback session(playback_config{.startup_segments_first = false}, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  hold_all(session, node(2));
  // Deadlines while starting: now + 4 s still missing + offset, so segments 0-2
  // (4, 6, 8 s) are urgent. The masternode takes two; segment 2 waits for it rather
  // than go to a viewer; the viewer takes the next two in deadline order.
  const auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 4);
  CHECK(requests[0] == request_action{1, 0, node(1)});
  CHECK(requests[1] == request_action{2, 1, node(1)});
  CHECK(requests[2] == request_action{3, 3, node(2)});
  CHECK(requests[3] == request_action{4, 4, node(2)});
}

TEST_CASE("urgent segments go to viewers when no masternode may serve them") {
  playback session(playback_config{}, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  hold_all(session, node(2));
  const auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].segment == 0);
  CHECK(requests[1].segment == 1);
}

TEST_CASE("viewers are asked rarest first") {
  auto config = single_requests();
  config.outstanding_total_max = 8;
  playback session(config, content(30), 0, 0);
  core::random_generator generator(3);
  for (std::size_t index = 1; index <= 3; ++index)
    REQUIRE(session.add_source(node(index), source_kind::viewer));
  hold_all(session, node(1));
  const segment_range first_ten{0, 10};
  REQUIRE(session.set_have_ranges(node(2), std::span(&first_ten, 1)));
  REQUIRE(session.set_have_ranges(node(3), std::span(&first_ten, 1)));
  // Segments 10-29 have one holder (node 1), 0-9 three: segment 10 first, to its only
  // holder; then the earliest common ones to the two idle holders.
  const auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 3);
  CHECK(requests[0] == request_action{1, 10, node(1)});
  CHECK(requests[1].segment == 0);
  CHECK(requests[2].segment == 1);
  CHECK(std::set{requests[1].source, requests[2].source} == std::set{node(2), node(3)});
}

TEST_CASE("a segment no viewer holds waits until it is urgent") {
  playback_config config;
  config.outstanding_per_source_max = 8;
  config.seed_ns = config.urgent_ns; // no seeding: only urgency sends to masternodes
  config.startup_segments_first = false;
  playback session(config, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  const auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 3); // segments 0-2 are urgent; 3 and on wait
  CHECK(requests.back().segment == 2);
}

TEST_CASE("a segment no viewer holds is seeded from a masternode within the seed horizon") {
  // Before the start only the urgent segments 0-2 go (seeding would slow the
  // startup). Once playing at 1 s, with segments 0 and 1 held, segment k's deadline
  // is 2k - 1 s: with a 20 s horizon segments 2-10 go to the masternode, 11 and on
  // wait. A segment that a viewer holds (7) goes to that viewer instead.
  playback_config config;
  config.outstanding_per_source_max = 16;
  config.outstanding_total_max = 16;
  config.startup_segments_first = false;
  playback session(config, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  const segment_range held{7, 8};
  REQUIRE(session.set_have_ranges(node(2), std::span(&held, 1)));
  auto from = [](const std::vector<request_action>& requests, const core::node_id& source) {
    std::set<segment_index> segments;
    for (const auto& request : requests)
      if (request.source == source)
        segments.insert(request.segment);
    return segments;
  };
  auto requests = requests_in(session.step(0, generator));
  CHECK(from(requests, node(1)) == std::set<segment_index>{0, 1, 2});
  CHECK(from(requests, node(2)) == std::set<segment_index>{7});
  REQUIRE(session.on_segment(second, requests[0].id, true) == arrival::accepted);
  REQUIRE(session.on_segment(second, requests[1].id, true) == arrival::accepted);
  REQUIRE(session.state() == playback_state::playing);
  requests = requests_in(session.step(second, generator));
  CHECK(from(requests, node(1)) == std::set<segment_index>{3, 4, 5, 6, 8, 9, 10});
  CHECK(from(requests, node(2)).empty());
}

TEST_CASE("a timeout cancels and asks another source") {
  playback_config config;
  config.outstanding_per_source_max = 1;
  config.seed_ns = config.urgent_ns;
  config.startup_segments_first = false;
  playback session(config, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  REQUIRE(session.add_source(node(2), source_kind::masternode));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 2);
  CHECK(requests[0] == request_action{1, 0, node(1)});
  CHECK(requests[1] == request_action{2, 1, node(2)});
  REQUIRE(session.on_segment(1 * second, 2, true) == arrival::accepted);
  requests = requests_in(session.step(1 * second, generator));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0] == request_action{3, 2, node(2)});
  REQUIRE(session.on_segment(2 * second, 3, true) == arrival::accepted);
  CHECK(session.step(2 * second, generator).empty()); // segment 3 is not urgent yet

  CHECK(session.next_wakeup() == 4 * second);
  const auto actions = session.step(4 * second, generator);
  const auto cancels = cancels_in(actions);
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0] == cancel_action{1, node(1)});
  requests = requests_in(actions);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0] == request_action{4, 0, node(2)}); // node 1 is excluded for it
  CHECK(session.qoe().timeouts == 1);
  CHECK(session.qoe().cancels == 1);

  // The timed-out copy still arrives first: it is accepted and the re-request cancelled.
  CHECK(session.on_segment(4100 * ms, 1, true) == arrival::accepted);
  CHECK(cancels_in(session.step(4100 * ms, generator)) == std::vector{cancel_action{4, node(2)}});
  CHECK(session.state() == playback_state::playing);
}

TEST_CASE("a reject plans again without that source") {
  playback session(single_requests(), content(30), 0, 0);
  core::random_generator generator(5);
  REQUIRE(session.add_source(node(1), source_kind::viewer));
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  hold_all(session, node(1));
  hold_all(session, node(2));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 0);
  const auto first_source = requests[0].source;
  const auto other_source = first_source == node(1) ? node(2) : node(1);

  REQUIRE(session.on_reject(100 * ms, requests[0].id));
  requests = requests_in(session.step(100 * ms, generator));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 0);
  CHECK(requests[0].source == other_source);

  REQUIRE(session.on_reject(200 * ms, requests[0].id));
  requests = requests_in(session.step(200 * ms, generator));
  REQUIRE(requests.size() == 1); // both excluded for segment 0: the next one goes
  CHECK(requests[0].segment == 1);
  CHECK(session.qoe().rejects == 2);
  CHECK_FALSE(session.on_reject(300 * ms, 999));
}

TEST_CASE("an exclusion ends on time") {
  auto config = single_requests();
  playback session(config, content(1), 0, 0);
  core::random_generator generator(5);
  REQUIRE(session.add_source(node(1), source_kind::viewer));
  hold_all(session, node(1));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 1);
  REQUIRE(session.on_reject(100 * ms, requests[0].id));
  CHECK(session.step(100 * ms, generator).empty());
  REQUIRE(session.next_wakeup() == 100 * ms + config.exclusion_ns);
  CHECK(session.step(100 * ms + config.exclusion_ns - 1, generator).empty());
  requests = requests_in(session.step(100 * ms + config.exclusion_ns, generator));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].source == node(1));
}

TEST_CASE("endgame asks a masternode and cancels the slower copy") {
  playback session(playback_config{.startup_segments_first = false}, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  hold_all(session, node(2));
  const auto first = requests_in(session.step(0, generator));
  REQUIRE(first.size() == 4); // 0, 1 to the masternode; 3, 4 to the viewer
  CHECK(first[2] == request_action{3, 3, node(2)});
  REQUIRE(session.on_segment(1 * second, 1, true) == arrival::accepted);
  REQUIRE(session.on_segment(1 * second, 2, true) == arrival::accepted);
  REQUIRE(session.state() == playback_state::playing);

  // Playing from 1 s: segment 2 is due at 5 s and segment 3 at 7 s, both urgent.
  const auto second_round = requests_in(session.step(1 * second, generator));
  REQUIRE(second_round.size() == 2);
  CHECK(second_round[0] == request_action{5, 2, node(1)});
  CHECK(second_round[1] == request_action{6, 3, node(1)}); // the endgame copy
  CHECK(session.in_flight_count() == 4);

  REQUIRE(session.on_segment(1500 * ms, 6, true) == arrival::accepted);
  CHECK(cancels_in(session.step(1500 * ms, generator)) == std::vector{cancel_action{3, node(2)}});
  // The viewer's copy was already on its way.
  CHECK(session.on_segment(1600 * ms, 3, true) == arrival::duplicate);
  const auto qoe = session.qoe();
  CHECK(qoe.duplicate_bytes == segment_bytes);
  CHECK(qoe.bytes_from_viewers == segment_bytes);
  CHECK(qoe.bytes_from_masternodes == 3 * segment_bytes);
  CHECK(session.on_segment(1700 * ms, 3, true) == arrival::unknown); // answered once
}

TEST_CASE("stall and resume are timed exactly and the late segment lowers continuity") {
  playback_config config;
  config.request_timeout_ns = 20 * second; // segment 3 is late but never times out
  world net(config, 10, 1);
  net.add(1, source_kind::masternode, 500 * ms);
  net.hold_until_ns[3] = 9500 * ms;
  net.run_on_wakeups(60 * second);
  // Playing from 0.5 s, segment 3 is due at 6.5 s; it arrives at 9.5 s and is one
  // resume buffer by itself, so playback resumes at once and ends 20 s of media later.
  REQUIRE(net.session.state() == playback_state::finished);
  const auto qoe = net.session.qoe();
  CHECK(qoe.startup_delay_ns == 500 * ms);
  CHECK(qoe.stall_count == 1);
  CHECK(qoe.stall_ns == 3 * second);
  CHECK(qoe.played_ns == 20 * second);
  CHECK(qoe.rebuffer_ratio() == Approx(3.0 / 23.0));
  CHECK(qoe.played_segments == 10);
  CHECK(qoe.late_segments == 1);
  CHECK(qoe.continuity_index() == Approx(0.9));
  // Segment 3 turned critical at 4.5 s and was asked again as such; the toy network
  // answers the cancelled copy too: one duplicate.
  CHECK(qoe.bytes_from_masternodes == 11 * segment_bytes);
  CHECK(qoe.duplicate_bytes == segment_bytes);
  CHECK(qoe.timeouts == 0);
}

TEST_CASE("a stall waits for the resume buffer") {
  playback_config config;
  config.request_timeout_ns = 20 * second;
  config.resume_buffer_ns = 4 * second; // two segments
  world net(config, 10, 1);
  net.add(1, source_kind::masternode, 500 * ms);
  net.hold_until_ns[3] = 9500 * ms;
  net.hold_until_ns[4] = 10 * second;
  net.run_on_wakeups(60 * second);
  const auto qoe = net.session.qoe();
  CHECK(qoe.stall_count == 1);
  CHECK(qoe.stall_ns == 3500 * ms); // 6.5 s to 10 s
  CHECK(qoe.late_segments == 1);
}

TEST_CASE("a bad segment excludes its source for the session") {
  auto config = single_requests();
  world net(config, 4, 1);
  net.add(1, source_kind::viewer, 100 * ms);
  net.add(2, source_kind::viewer, 100 * ms);
  net.poisoning.insert(node(1));
  net.run_on_wakeups(60 * second);
  REQUIRE(net.session.state() == playback_state::finished);
  CHECK(net.session.is_bad(node(1)));
  CHECK_FALSE(net.session.add_source(node(1), source_kind::viewer));
  const auto qoe = net.session.qoe();
  CHECK(qoe.bad_segments == 1);
  CHECK(qoe.bytes_from_viewers == 4 * segment_bytes);
  std::size_t asked_of_bad = 0;
  for (const auto& [at, entry] : net.log)
    if (const auto* request = std::get_if<request_action>(&entry))
      asked_of_bad += request->source == node(1) ? 1 : 0;
  CHECK(asked_of_bad <= 1);
}

TEST_CASE("a removed source's requests are planned again") {
  playback session(single_requests(), content(30), 0, 0);
  core::random_generator generator(5);
  REQUIRE(session.add_source(node(1), source_kind::viewer));
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  hold_all(session, node(1));
  hold_all(session, node(2));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 1);
  const auto gone = requests[0].source;
  REQUIRE(session.remove_source(100 * ms, gone));
  CHECK(session.in_flight_count() == 0);
  const auto actions = session.step(100 * ms, generator);
  CHECK(cancels_in(actions).empty()); // nothing to tell a source that is gone
  requests = requests_in(actions);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 0);
  CHECK(requests[0].source != gone);
  CHECK(session.on_segment(200 * ms, 1, true) == arrival::unknown);
  CHECK_FALSE(session.remove_source(300 * ms, gone));
}

TEST_CASE("outstanding requests stay within their bounds") {
  playback_config config;
  config.ahead_while_starting_max = config.outstanding_total_max; // tested on its own
  playback session(config, content(100), 0, 0);
  core::random_generator generator(9);
  for (std::size_t index = 0; index < 4; ++index)
    REQUIRE(session.add_source(node(index), source_kind::masternode));
  for (std::size_t index = 4; index < 14; ++index) {
    REQUIRE(session.add_source(node(index), source_kind::viewer));
    hold_all(session, node(index));
  }
  const auto requests = requests_in(session.step(0, generator));
  CHECK(requests.size() == session.config().outstanding_total_max);
  for (std::size_t index = 0; index < 14; ++index)
    CHECK(session.outstanding(node(index)) <= session.config().outstanding_per_source_max);

  std::size_t added = 0;
  for (std::size_t index = 100; index < 200; ++index)
    added += session.add_source(node(index), source_kind::viewer) ? 1 : 0;
  CHECK(added == playback_config::sources_max - 14);
}

TEST_CASE("a seek cancels requests outside the new window") {
  playback_config config;
  config.window_ns = 10 * second;
  config.urgent_ns = 4 * second;
  config.request_timeout_ns = 3 * second;
  playback session(config, content(100), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  REQUIRE(session.add_source(node(2), source_kind::viewer));
  hold_all(session, node(2));
  const auto first = requests_in(session.step(0, generator));
  REQUIRE(first.size() == 3); // 0 to the masternode (urgent), 1 and 2 to the viewer
  session.seek(1 * second, 50);
  CHECK(session.state() == playback_state::starting);
  CHECK(session.playhead_segment() == 50);
  const auto actions = session.step(1 * second, generator);
  CHECK(cancels_in(actions).size() == 3);
  const auto requests = requests_in(actions);
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].segment == 50);
  CHECK(session.qoe().seek_count == 1);
}

TEST_CASE("a seek into held segments plays at once") {
  playback session(playback_config{}, content(10), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  for (std::int64_t round = 0; round < 5; ++round) {
    for (const auto& request : requests_in(session.step(round * second, generator)))
      REQUIRE(session.on_segment(round * second + 500 * ms, request.id, true) == arrival::accepted);
  }
  REQUIRE(session.state() == playback_state::playing);
  session.seek(5 * second, 0);
  CHECK(session.state() == playback_state::playing);
  CHECK(session.qoe().seek_wait_ns == 0);
  session.close(6 * second);
  CHECK(session.state() == playback_state::finished);
  CHECK(session.qoe().played_segments >= 3);
}

TEST_CASE("close cancels everything in flight") {
  playback session(playback_config{}, content(10), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  const auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 2);
  session.close(1 * second);
  CHECK(cancels_in(session.step(1 * second, generator)).size() == 2);
  CHECK(session.next_wakeup() == std::nullopt);
  CHECK(session.on_segment(2 * second, requests[0].id, true) == arrival::unknown);
  CHECK(session.qoe().startup_delay_ns == std::nullopt);
}

namespace {

// Masternode, a fast and a slow viewer, a rejecting one, a silent one (timeouts) and
// one slower than the timeout (late copies); segment 12 held back to force a stall.
world mixed_world(std::uint64_t seed) {
  playback_config config;
  config.urgent_ns = 6 * second;
  world net(config, 40, seed);
  net.add(1, source_kind::masternode, 700 * ms);
  net.add(2, source_kind::viewer, 300 * ms);
  net.add(3, source_kind::viewer, 1200 * ms);
  net.add(4, source_kind::viewer, 400 * ms);
  net.add(5, source_kind::viewer, 200 * ms);
  net.add(6, source_kind::viewer, 5000 * ms);
  net.rejecting.insert(node(4));
  net.silent.insert(node(5));
  net.hold_until_ns[12] = 30 * second;
  return net;
}

} // namespace

TEST_CASE("stepping at wakeups equals stepping every millisecond") {
  auto by_wakeups = mixed_world(11);
  auto by_milliseconds = mixed_world(11);
  by_wakeups.run_on_wakeups(600 * second);
  by_milliseconds.run_every_millisecond(600 * second);
  REQUIRE(by_wakeups.session.state() == playback_state::finished);
  REQUIRE(by_milliseconds.session.state() == playback_state::finished);
  const auto qoe = by_wakeups.session.qoe();
  CHECK(qoe == by_milliseconds.session.qoe());
  CHECK(by_wakeups.log == by_milliseconds.log);
  // The run exercises what it claims to.
  CHECK(qoe.stall_count >= 1);
  CHECK(qoe.timeouts >= 1);
  CHECK(qoe.rejects >= 1);
  CHECK(qoe.cancels >= 1);
  CHECK(qoe.bytes_from_viewers > 0);
  CHECK(qoe.bytes_from_masternodes > 0);
  CHECK(qoe.played_segments == 40);
}

TEST_CASE("the same seed replays the same session") {
  auto first = mixed_world(42);
  auto second_run = mixed_world(42);
  first.run_on_wakeups(600 * second);
  second_run.run_on_wakeups(600 * second);
  CHECK(first.log == second_run.log);
  CHECK(first.session.qoe() == second_run.session.qoe());
}

TEST_CASE("slow viewers never hold the requests an urgent segment needs") {
  // Default config: 8 requests in all, 2 of them kept for urgent masternode requests.
  // Ten viewers hold everything and never answer; the masternode answers at once.
  // Viewers get at most 6 requests, and every segment that turns urgent still goes
  // to the masternode, so playback never waits on the slow viewers.
  playback session(playback_config{}, content(100), 0, 0);
  core::random_generator generator(3);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  for (std::size_t index = 10; index < 20; ++index) {
    REQUIRE(session.add_source(node(index), source_kind::viewer));
    hold_all(session, node(index));
  }
  std::size_t to_viewers = 0;
  std::int64_t now = 0;
  for (int round = 0; round < 40; ++round, now += 500 * ms) {
    for (const auto& request : requests_in(session.step(now, generator))) {
      if (request.source == node(1))
        CHECK(session.on_segment(now, request.id, true) == arrival::accepted);
      else
        ++to_viewers;
    }
    std::size_t viewer_outstanding = 0;
    for (std::size_t index = 10; index < 20; ++index)
      viewer_outstanding += session.outstanding(node(index));
    CHECK(viewer_outstanding <= 6);
  }
  CHECK(to_viewers >= 6);
  CHECK(session.qoe().stall_count == 0);
  CHECK(session.state() == playback_state::playing);
}

TEST_CASE("before playback starts only the segments it waits for are urgent") {
  // The 4 s startup buffer is segments 0 and 1: segment 2, urgent by its deadline,
  // waits until playback starts, so it does not share a slow downlink with them.
  playback session(playback_config{}, content(30), 0, 0);
  core::random_generator generator(1);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].segment == 0);
  CHECK(requests[1].segment == 1);
  REQUIRE(session.on_segment(second, requests[0].id, true) == arrival::accepted);
  REQUIRE(session.on_segment(second, requests[1].id, true) == arrival::accepted);
  CHECK(session.state() == playback_state::playing);
  requests = requests_in(session.step(second, generator));
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].segment == 2);
}

TEST_CASE("a viewer that choked us is asked only for urgent segments until a rechoke") {
  // One viewer source holding everything, no masternode. It chokes the request for
  // segment 0 at 100 ms: nothing is asked of it before 2.1 s (busy backoff), and
  // then only urgent segments until 10.1 s (choked backoff).
  auto config = single_requests();
  config.urgent_ns = 0; // nothing is urgent: the choke holds for the whole backoff
  playback session(config, content(30), 0, 0);
  core::random_generator generator(5);
  REQUIRE(session.add_source(node(1), source_kind::viewer));
  hold_all(session, node(1));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 1);
  REQUIRE(session.on_reject(100 * ms, requests[0].id, playback::refusal::choked));
  CHECK(requests_in(session.step(2500 * ms, generator)).empty());
  CHECK(requests_in(session.step(9 * second, generator)).empty());
  CHECK(session.next_wakeup() == 10100 * ms);
  requests = requests_in(session.step(10100 * ms, generator));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].source == node(1));
}

TEST_CASE("an urgent segment asks a viewer that choked us after the busy backoff") {
  auto config = single_requests();
  config.urgent_ns = 60 * second; // everything is urgent
  playback session(config, content(30), 0, 0);
  core::random_generator generator(5);
  REQUIRE(session.add_source(node(1), source_kind::viewer));
  hold_all(session, node(1));
  auto requests = requests_in(session.step(0, generator));
  REQUIRE(requests.size() == 1);
  REQUIRE(session.on_reject(100 * ms, requests[0].id, playback::refusal::choked));
  CHECK(requests_in(session.step(2 * second, generator)).empty());
  requests = requests_in(session.step(2100 * ms, generator));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 0);
}

TEST_CASE("requests due within critical_ns are critical and pass a busy source") {
  playback session(playback_config{}, content(30), 0, 0);
  core::random_generator generator(4);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  // Startup segments are due in the startup buffer (4 s): not critical.
  const auto startup = requests_in(session.step(0, generator));
  REQUIRE(startup.size() == 2);
  CHECK_FALSE(startup[0].critical);
  CHECK(session.on_segment(100 * ms, startup[0].id, true) == arrival::accepted);
  CHECK(session.on_segment(100 * ms, startup[1].id, true) == arrival::accepted);
  REQUIRE(session.state() == playback_state::playing);
  // Playing from 0.1 s: segment 2 is due at 4.1 s, segment 3 at 6.1 s.
  const auto ahead = requests_in(session.step(100 * ms, generator));
  REQUIRE(ahead.size() == 2);
  CHECK(ahead[0].segment == 2);
  CHECK_FALSE(ahead[0].critical);
  // A busy refusal of a request that is not critical backs the masternode off for
  // such requests (2 s) ...
  REQUIRE(session.on_reject(200 * ms, ahead[0].id, playback::refusal::busy));
  CHECK(requests_in(session.step(200 * ms, generator)).empty());
  // ... but segment 2 turns critical at 2.1 s, before the back-off ends, and is asked.
  CHECK(session.next_wakeup() == 2100 * ms);
  const auto pressing = requests_in(session.step(2100 * ms, generator));
  REQUIRE(pressing.size() == 1);
  CHECK(pressing[0].segment == 2);
  CHECK(pressing[0].critical);
  // A busy refusal of a critical request backs off critical ones too.
  REQUIRE(session.on_reject(2150 * ms, pressing[0].id, playback::refusal::busy));
  CHECK(requests_in(session.step(2150 * ms, generator)).empty());
  CHECK(requests_in(session.step(4100 * ms, generator)).empty());
  const auto again = requests_in(session.step(4150 * ms, generator));
  REQUIRE(again.size() == 1);
  CHECK(again[0].segment == 2);
  CHECK(again[0].critical);
}

TEST_CASE("before playback starts few segments beyond the startup buffer are asked") {
  playback_config config;
  config.ahead_while_starting_max = 2;
  playback session(config, content(30), 0, 0);
  core::random_generator generator(6);
  REQUIRE(session.add_source(node(1), source_kind::masternode));
  for (std::size_t index = 2; index <= 5; ++index) {
    REQUIRE(session.add_source(node(index), source_kind::viewer));
    hold_all(session, node(index));
  }
  // Segments 0 and 1 (the startup buffer) go to the masternode; of the rest, held by
  // viewers, only two are asked while starting.
  const auto first = requests_in(session.step(0, generator));
  REQUIRE(first.size() == 4);
  CHECK(first[0].segment == 0);
  CHECK(first[1].segment == 1);
  CHECK(first[2].segment >= 2);
  CHECK(first[3].segment >= 2);
  CHECK(requests_in(session.step(50 * ms, generator)).empty());
  // Once playing, the viewers are asked for more.
  CHECK(session.on_segment(100 * ms, first[0].id, true) == arrival::accepted);
  CHECK(session.on_segment(100 * ms, first[1].id, true) == arrival::accepted);
  REQUIRE(session.state() == playback_state::playing);
  CHECK(requests_in(session.step(100 * ms, generator)).size() >= 2);
}
