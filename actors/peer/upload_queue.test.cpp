// Pins the upload queue of upload_queue.hpp: running transfers never exceed the slots;
// a lone transfer takes 8 S / uplink and concurrent ones leave the uplink back to back;
// unchoked requesters are served one request each in node-id turn and FIFO within one;
// cancel removes only what has not started; every bound rejects with its own reason;
// tit_for_tat rejects choked requesters and a rechoke drops what it chokes; a
// masternode's round_robin serves every requester over a few rounds; a seed replays a
// run; critical requests are served first and take the place of others when full.
// Each test scripts offers, rechokes and finishes at fixed virtual times with
// fixed seeds, so every count and time below is exact.
#include "actors/peer/upload_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/ids.hpp"

using namespace stakecast;
using peer::choke_policy;
using peer::offer_result;
using peer::segment_request;
using peer::upload_queue;
using peer::upload_queue_config;
using peer::upload_transfer;

namespace {

constexpr std::int64_t round_ns = 10'000'000'000;
// 8 Mbit/s: one byte per microsecond, so S bytes take S * 1000 ns.
constexpr std::uint64_t uplink_bps = 8'000'000;

using test::node;

core::content_id content() {
  core::content_id id;
  id.bytes[0] = 0xc0;
  return id;
}

segment_request request(std::size_t requester, std::uint64_t request_id,
                        std::uint32_t size_bytes = 1000) {
  return segment_request{.requester = node(requester),
                         .request_id = request_id,
                         .content = content(),
                         .segment = static_cast<std::uint32_t>(request_id),
                         .size_bytes = size_bytes};
}

upload_queue_config config_of(choke_policy policy, std::size_t upload_slots) {
  upload_queue_config config;
  config.choking.policy = policy;
  config.choking.upload_slots = upload_slots;
  config.uplink_bps = uplink_bps;
  return config;
}

// Requesters 0..count-1 ask once (rejected: nobody is unchoked yet), which brings
// the first rechoke forward to `now_ns`; the rechoke then unchokes them.
void unchoke_first(upload_queue& queue, std::size_t count, std::int64_t now_ns,
                   core::random_generator& generator) {
  for (std::size_t index = 0; index < count; ++index)
    REQUIRE(queue.offer(now_ns, request(index, 1'000'000)) == offer_result::requester_choked);
  REQUIRE(queue.next_wakeup() == now_ns);
  queue.rechoke(now_ns, generator);
}

std::vector<std::size_t> requesters_of(const std::vector<upload_transfer>& transfers) {
  std::vector<std::size_t> result;
  for (const upload_transfer& transfer : transfers)
    result.push_back(transfer.request.requester.bytes[1]);
  return result;
}

} // namespace

TEST_CASE("a lone transfer holds its slot for 8 S over the uplink") {
  upload_queue queue{config_of(choke_policy::tit_for_tat, 4), 0};
  core::random_generator generator{1};
  unchoke_first(queue, 1, 0, generator);
  REQUIRE(queue.offer(5, request(0, 1, 750'000)) == offer_result::accepted);
  const auto started = queue.start(5);
  REQUIRE(started.size() == 1);
  CHECK(started[0].start_ns == 5);
  CHECK(started[0].finish_ns == 5 + 750'000'000); // 6 Mbit over 8 Mbit/s: 0.75 s
  CHECK(queue.next_wakeup() == 5 + 750'000'000);

  SECTION("rounded to the nearest nanosecond") {
    upload_queue_config config = config_of(choke_policy::tit_for_tat, 4);
    config.uplink_bps = 3'000; // 1 byte: 8 / 3000 s = 2,666,666.67 ns
    upload_queue slow{config, 0};
    unchoke_first(slow, 1, 0, generator);
    REQUIRE(slow.offer(0, request(0, 1, 1)) == offer_result::accepted);
    CHECK(slow.start(0).at(0).finish_ns == 2'666'667);
  }
}

TEST_CASE("concurrent transfers leave the uplink one after another") {
  upload_queue queue{config_of(choke_policy::round_robin, 3), 0};
  core::random_generator generator{1};
  unchoke_first(queue, 3, 0, generator);
  for (std::size_t index = 0; index < 3; ++index)
    REQUIRE(queue.offer(0, request(index, 1, 2000)) == offer_result::accepted);
  const auto started = queue.start(0);
  REQUIRE(started.size() == 3);
  CHECK(started[0].finish_ns == 2'000'000);
  CHECK(started[1].finish_ns == 4'000'000);
  CHECK(started[2].finish_ns == 6'000'000);

  // A transfer started later than the uplink frees starts at once.
  REQUIRE(queue.finish_due(7'000'000).size() == 3);
  REQUIRE(queue.offer(9'000'000, request(0, 2, 500)) == offer_result::accepted);
  CHECK(queue.start(9'000'000).at(0).finish_ns == 9'500'000);
}

TEST_CASE("running transfers never exceed the upload slots") {
  for (const std::size_t slots : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
    upload_queue queue{config_of(choke_policy::round_robin, slots), 0};
    core::random_generator generator{3};
    unchoke_first(queue, slots, 0, generator);
    for (std::size_t index = 0; index < slots; ++index)
      for (std::uint64_t id = 1; id <= 6; ++id)
        REQUIRE(queue.offer(0, request(index, id, 1000 + 100 * static_cast<std::uint32_t>(id))) ==
                offer_result::accepted);
    std::size_t served = 0;
    std::int64_t now = 0;
    while (served < 6 * slots) {
      const auto started = queue.start(now);
      REQUIRE(queue.running_count() <= slots);
      REQUIRE(started.size() <= slots);
      const auto wakeup = queue.next_wakeup();
      REQUIRE(wakeup);
      REQUIRE(*wakeup > now);
      now = *wakeup;
      served += queue.finish_due(now).size();
      REQUIRE(now < round_ns); // everything fits the first round
    }
    CHECK(queue.queued_count() == 0);
    CHECK(queue.running_count() == 0);
    CHECK(queue.bytes_served_total() == slots * (6 * 1000 + 2100));
  }
}

TEST_CASE("slots go round-robin across unchoked requesters") {
  upload_queue queue{config_of(choke_policy::round_robin, 4), 0};
  core::random_generator generator{1};
  unchoke_first(queue, 3, 0, generator);
  // Uneven queues, offered out of order: requester 2 first, 0 last.
  for (std::uint64_t id = 1; id <= 4; ++id)
    REQUIRE(queue.offer(0, request(2, id)) == offer_result::accepted);
  for (std::uint64_t id = 1; id <= 2; ++id)
    REQUIRE(queue.offer(0, request(1, id)) == offer_result::accepted);
  for (std::uint64_t id = 1; id <= 3; ++id)
    REQUIRE(queue.offer(0, request(0, id)) == offer_result::accepted);

  std::vector<upload_transfer> order;
  std::int64_t now = 0;
  for (int step = 0; step < 9; ++step) {
    // One slot frees at a time, so every start is one round-robin step.
    const auto started = queue.start(now);
    order.insert(order.end(), started.begin(), started.end());
    now = *queue.next_wakeup();
    REQUIRE(queue.finish_due(now).size() == 1);
  }
  REQUIRE(order.size() == 9);
  CHECK(requesters_of(order) == std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0, 2, 2});
}

TEST_CASE("one requester is served in the order it asked") {
  upload_queue queue{config_of(choke_policy::tit_for_tat, 2), 0};
  core::random_generator generator{1};
  unchoke_first(queue, 1, 0, generator);
  const std::vector<std::uint64_t> ids{7, 3, 9, 1, 5};
  for (const std::uint64_t id : ids)
    REQUIRE(queue.offer(0, request(0, id)) == offer_result::accepted);
  std::vector<std::uint64_t> served;
  std::int64_t now = 0;
  while (served.size() < ids.size()) {
    for (const upload_transfer& transfer : queue.start(now))
      served.push_back(transfer.request.request_id);
    now = *queue.next_wakeup();
    queue.finish_due(now);
  }
  CHECK(served == ids);
  while (queue.running_count() > 0)
    queue.finish_due(*queue.next_wakeup());
  CHECK(queue.bytes_served(node(0)) == 5 * 1000);
}

TEST_CASE("cancel removes a queued request but not a started one") {
  upload_queue queue{config_of(choke_policy::tit_for_tat, 2), 0};
  core::random_generator generator{1};
  unchoke_first(queue, 1, 0, generator);
  for (std::uint64_t id = 1; id <= 4; ++id)
    REQUIRE(queue.offer(0, request(0, id)) == offer_result::accepted);
  REQUIRE(queue.start(0).size() == 2); // 1 and 2 run

  CHECK_FALSE(queue.cancel(node(0), 1)); // started: cannot be recalled
  CHECK(queue.cancel(node(0), 3));
  CHECK_FALSE(queue.cancel(node(0), 3)); // already gone
  CHECK_FALSE(queue.cancel(node(0), 99));
  CHECK_FALSE(queue.cancel(node(5), 4)); // unknown requester
  CHECK(queue.queued_count() == 1);
  CHECK(queue.running_count() == 2);

  const auto finished = queue.finish_due(*queue.next_wakeup());
  REQUIRE(finished.size() == 1);
  CHECK(finished[0].request.request_id == 1);
  const auto started = queue.start(finished[0].finish_ns);
  REQUIRE(started.size() == 1);
  CHECK(started[0].request.request_id == 4);
}

TEST_CASE("bounds reject with the reason that applies") {
  upload_queue_config config = config_of(choke_policy::round_robin, 2);
  config.requests_per_requester_max = 3;
  config.requests_total_max = 5;
  upload_queue queue{config, 0};
  core::random_generator generator{1};
  unchoke_first(queue, 2, 0, generator);

  CHECK(queue.offer(0, request(0, 1, 0)) == offer_result::invalid_size);
  CHECK(queue.offer(0, request(0, 1, 64 * 1024 * 1024 + 1)) == offer_result::invalid_size);
  for (std::uint64_t id = 1; id <= 3; ++id)
    REQUIRE(queue.offer(0, request(0, id)) == offer_result::accepted);
  CHECK(queue.offer(0, request(0, 4)) == offer_result::requester_queue_full);
  CHECK(queue.offer(0, request(0, 2)) == offer_result::duplicate_request);
  for (std::uint64_t id = 1; id <= 2; ++id)
    REQUIRE(queue.offer(0, request(1, id)) == offer_result::accepted);
  CHECK(queue.offer(0, request(1, 3)) == offer_result::queue_full);
  CHECK(queue.queued_count() == 5);

  // A running request is still a duplicate; a finished one may be asked again.
  REQUIRE(queue.start(0).size() == 2);
  CHECK(queue.offer(0, request(0, 1)) == offer_result::duplicate_request);
  queue.finish_due(*queue.next_wakeup());
  CHECK(queue.offer(*queue.next_wakeup(), request(0, 1)) == offer_result::accepted);

  SECTION("a new requester past peers_max") {
    for (std::size_t index = 2; index < peer::choker_config::peers_max; ++index)
      REQUIRE(queue.add_requester(node(index)));
    REQUIRE(queue.requester_count() == peer::choker_config::peers_max);
    CHECK(queue.offer(1'000'000'000, request(999, 1)) == offer_result::requesters_full);
    CHECK(queue.requester_count() == peer::choker_config::peers_max);
    CHECK(queue.offers(offer_result::requesters_full) == 1);
  }

  CHECK(queue.offers(offer_result::invalid_size) == 2);
  CHECK(queue.offers(offer_result::requester_queue_full) == 1);
  CHECK(queue.offers(offer_result::duplicate_request) == 2);
  CHECK(queue.offers(offer_result::queue_full) == 1);
  CHECK(queue.offers(offer_result::requester_choked) == 2); // unchoke_first's probes
  CHECK(queue.offers(offer_result::accepted) == 6);
}

TEST_CASE("tit_for_tat rejects requesters it keeps choked") {
  upload_queue queue{config_of(choke_policy::tit_for_tat, 2), 0};
  core::random_generator generator{7};
  for (std::size_t index = 0; index < 5; ++index)
    REQUIRE(queue.add_requester(node(index)));
  // Requester 3 uploads to us far faster than the others: it earns the regular slot.
  REQUIRE(queue.record_download(node(3), 50'000'000));
  CHECK_FALSE(queue.record_download(node(42), 1));
  for (std::size_t index = 0; index < 5; ++index)
    REQUIRE(queue.offer(0, request(index, 1)) == offer_result::requester_choked);
  const std::int64_t rechoked_at = queue.next_rechoke_ns();
  CHECK(rechoked_at == 0); // brought forward: every slot was free
  const auto result = queue.rechoke(rechoked_at, generator);
  REQUIRE(result.changes.to_unchoke.size() == 2);
  CHECK(queue.is_unchoked(node(3)));

  std::size_t choked = 0;
  for (std::size_t index = 0; index < 5; ++index) {
    const offer_result answer = queue.offer(1, request(index, 2));
    if (queue.is_unchoked(node(index))) {
      CHECK(answer == offer_result::accepted);
    } else {
      CHECK(answer == offer_result::requester_choked);
      choked += 1;
    }
  }
  CHECK(choked == 3);
  CHECK(queue.queued_count() == 2);
  // No slot is free, so a choked requester's asking does not bring the rechoke forward.
  CHECK(queue.next_rechoke_ns() == rechoked_at + round_ns);
}

TEST_CASE("a rechoke drops the queued requests of the requesters it chokes") {
  upload_queue queue{config_of(choke_policy::round_robin, 1), 0};
  core::random_generator generator{1};
  REQUIRE(queue.offer(0, request(0, 1)) == offer_result::requester_choked);
  REQUIRE(queue.offer(0, request(1, 1)) == offer_result::requester_choked);
  queue.rechoke(0, generator);
  REQUIRE(queue.is_unchoked(node(0)));
  for (std::uint64_t id = 1; id <= 3; ++id)
    REQUIRE(queue.offer(0, request(0, id)) == offer_result::accepted);
  REQUIRE(queue.start(0).size() == 1);
  REQUIRE(queue.offer(0, request(1, 1)) == offer_result::requester_choked);

  const auto result = queue.rechoke(round_ns, generator);
  CHECK(result.changes.to_choke == std::vector<core::node_id>{node(0)});
  CHECK(result.changes.to_unchoke == std::vector<core::node_id>{node(1)});
  REQUIRE(result.dropped.size() == 2);
  CHECK(result.dropped[0] == request(0, 2));
  CHECK(result.dropped[1] == request(0, 3));
  CHECK(queue.queued_count() == 0);
  CHECK(queue.running_count() == 1); // the started transfer runs to its end
  CHECK(queue.finish_due(round_ns).size() == 1);
  CHECK(queue.bytes_served(node(0)) == 1000);
}

TEST_CASE("a masternode's round_robin serves every requester over time") {
  constexpr std::size_t requesters = 13;
  constexpr std::size_t slots = 4;
  upload_queue queue{config_of(choke_policy::round_robin, slots), 0};
  core::random_generator generator{11};
  std::uint64_t next_id = 1;
  std::vector<std::size_t> rounds_until_served(requesters, 0);
  // Every requester asks for one segment each second; choked ones are turned away.
  for (int round = 1; round <= 5; ++round) {
    for (int second = 0; second < 10; ++second) {
      const std::int64_t now = (round - 1) * round_ns + second * 1'000'000'000LL + 1;
      queue.finish_due(now);
      for (std::size_t index = 0; index < requesters; ++index)
        queue.offer(now, request(index, next_id++, 100'000));
      const auto started = queue.start(now);
      REQUIRE(queue.running_count() <= slots);
      for (const upload_transfer& transfer : started) {
        const std::size_t index = transfer.request.requester.bytes[1];
        if (rounds_until_served[index] == 0)
          rounds_until_served[index] = static_cast<std::size_t>(round);
      }
    }
    const auto result = queue.rechoke(round * round_ns, generator);
    REQUIRE(result.changes.to_unchoke.size() <= slots);
  }
  // Rechoking on the regular schedule only, round 1 serves nobody (nobody is unchoked
  // before the first rechoke); then ceil(13 / 4) = 4 rounds reach everyone, 4
  // requesters a round in node-id order, none twice before all had a turn.
  for (std::size_t index = 0; index < requesters; ++index) {
    INFO("requester " << index);
    CHECK(rounds_until_served[index] == 2 + index / slots);
    CHECK(queue.bytes_served(node(index)) > 0);
  }
}

TEST_CASE("the next wake-up is the earliest finish or the rechoke") {
  upload_queue queue{config_of(choke_policy::round_robin, 2), 1000};
  core::random_generator generator{1};
  CHECK_FALSE(queue.next_wakeup()); // idle: nothing to finish, nobody to choke
  CHECK(queue.next_rechoke_ns() == 1000 + round_ns);

  REQUIRE(queue.offer(2000, request(0, 1)) == offer_result::requester_choked);
  CHECK(queue.next_wakeup() == 2000); // a free slot: rechoke now
  queue.rechoke(2000, generator);
  CHECK(queue.next_wakeup() == 2000 + round_ns); // requester 0 is unchoked

  REQUIRE(queue.offer(3000, request(1, 1)) == offer_result::requester_choked);
  // A slot is still free, but rechokes come at most every 100 ms.
  CHECK(queue.next_wakeup() == 2000 + peer::choker_config::rechoke_interval_ns_min);
  queue.rechoke(2000 + peer::choker_config::rechoke_interval_ns_min, generator);

  // Requester 0 asked nothing during the last round: no longer interested, choked.
  CHECK_FALSE(queue.is_unchoked(node(0)));
  REQUIRE(queue.offer(200'000'000, request(1, 2, 3000)) == offer_result::accepted);
  REQUIRE(queue.start(200'000'000).size() == 1);
  CHECK(queue.next_wakeup() == 200'000'000 + 3'000'000);
}

TEST_CASE("the same calls with the same seed replay the same run") {
  const auto run = [](std::uint64_t seed) {
    upload_queue queue{config_of(choke_policy::tit_for_tat, 3), 0};
    core::random_generator generator{seed};
    core::random_generator script{seed + 1000};
    std::vector<upload_transfer> trace;
    std::vector<core::node_id> unchokes;
    std::uint64_t next_id = 1;
    std::int64_t now = 0;
    for (int step = 0; step < 400; ++step) {
      now += 1 + static_cast<std::int64_t>(script.uniform(200'000'000));
      queue.finish_due(now);
      const std::size_t index = script.uniform(12);
      queue.record_download(node(index), script.uniform(1'000'000));
      queue.offer(
          now, request(index, next_id++, 1 + static_cast<std::uint32_t>(script.uniform(500'000))));
      if (now >= queue.next_rechoke_ns()) {
        const auto result = queue.rechoke(now, generator);
        unchokes.insert(unchokes.end(), result.changes.to_unchoke.begin(),
                        result.changes.to_unchoke.end());
      }
      const auto started = queue.start(now);
      trace.insert(trace.end(), started.begin(), started.end());
    }
    return std::make_pair(trace, unchokes);
  };
  const auto first = run(5);
  CHECK(first.first.size() > 50);
  CHECK(first == run(5));
  CHECK(first != run(6));
}

TEST_CASE("critical requests are served first and displace queued ones when full") {
  upload_queue_config config = config_of(choke_policy::round_robin, 1);
  config.chokes = false; // a masternode
  config.requests_per_requester_max = 3;
  config.requests_total_max = 4;
  upload_queue queue{config, 0};
  auto critical = [](std::size_t requester, std::uint64_t id) {
    segment_request made = request(requester, id);
    made.critical = true;
    return made;
  };
  // One slot busy with requester 0's first request; 0 and 1 then fill the queue.
  REQUIRE(queue.offer(0, request(0, 1)) == offer_result::accepted);
  REQUIRE(queue.start(0).size() == 1);
  for (std::uint64_t id = 2; id <= 3; ++id)
    REQUIRE(queue.offer(0, request(0, id)) == offer_result::accepted);
  for (std::uint64_t id = 1; id <= 2; ++id)
    REQUIRE(queue.offer(0, request(1, id)) == offer_result::accepted);
  REQUIRE(queue.queued_count() == 4);
  CHECK(queue.offer(0, request(2, 1)) == offer_result::queue_full);
  CHECK(queue.take_displaced().empty());

  // A critical request from a third requester takes the newest place of the requester
  // holding the most that are not critical (0 and 1 hold two each: 0, by node id).
  CHECK(queue.offer(0, critical(2, 2)) == offer_result::accepted);
  const auto displaced = queue.take_displaced();
  REQUIRE(displaced.size() == 1);
  CHECK(displaced[0] == request(0, 3));
  CHECK(queue.critical_count(node(2)) == 1);
  CHECK(queue.queued_count() == 4);
  // A critical request of a requester whose own queue is full displaces its own.
  REQUIRE(queue.offer(0, critical(1, 3)) == offer_result::accepted);
  REQUIRE(queue.offer(0, critical(1, 4)) == offer_result::accepted);
  CHECK(queue.take_displaced() == std::vector{request(1, 2), request(1, 1)});
  // Requester 1 holds only critical ones now: the next takes requester 0's last place;
  // once 1's own queue is full of critical ones, a further one is refused.
  REQUIRE(queue.offer(0, critical(1, 5)) == offer_result::accepted);
  CHECK(queue.take_displaced() == std::vector{request(0, 2)});
  CHECK(queue.offer(0, critical(1, 6)) == offer_result::requester_queue_full);
  CHECK(queue.take_displaced().empty());

  // Serving: critical ones first, round robin among their requesters after the one
  // served last (0): 1, 2, then 1 twice.
  std::vector<std::uint64_t> order;
  for (int turn = 0; turn < 4; ++turn) {
    const auto due = queue.next_wakeup();
    REQUIRE(due);
    queue.finish_due(*due);
    const auto started = queue.start(*due);
    REQUIRE(started.size() == 1);
    order.push_back(started[0].request.requester.bytes[1] * 10 + started[0].request.request_id);
  }
  CHECK(order == std::vector<std::uint64_t>{13, 22, 14, 15});
  CHECK(queue.queued_count() == 0);
}
