// The fetcher: demanded segments jump the queue, contents are filled in turn from
// their lowest missing segment, a failed request goes to the next source and the
// content backs off once every source failed it (leaving the budget to the others),
// timeouts fail requests, answers from anyone but the source asked are ignored, a
// segment being stored keeps its place in the budget, and a refused write does not
// blame the source.
#include "actors/peer/fetcher.hpp"

#include <catch2/catch.hpp>

#include "tests/support/ids.hpp"

using namespace stakecast;
using id_maker = decltype(&stakecast::test::node);
constexpr id_maker id = &stakecast::test::node;

namespace {

constexpr std::int64_t second = 1'000'000'000;

peer::fetcher_config config_with(std::size_t in_flight) {
  peer::fetcher_config config;
  config.requests_in_flight_max = in_flight;
  return config;
}

} // namespace

TEST_CASE("the fetcher fills contents in turn from their first segments") {
  peer::fetcher f{config_with(4)};
  f.add_content(id(100), 3, {id(1)}, {});
  f.add_content(id(200), 3, {id(1)}, {1});
  CHECK(f.missing_segments() == 5);
  const auto requests = f.next(0);
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].content == id(100));
  CHECK(requests[0].segment == 0);
  CHECK(requests[1].content == id(200));
  CHECK(requests[1].segment == 0);
  CHECK(requests[2].segment == 1);
  CHECK(requests[3].content == id(200));
  CHECK(requests[3].segment == 2); // segment 1 is held already
  CHECK(f.next(0).empty());        // the budget is spent
  for (const auto& request : requests) {
    auto taken = f.take(request.id, request.source);
    REQUIRE(taken);
    f.stored(*taken);
  }
  const auto last = f.next(0);
  REQUIRE(last.size() == 1);
  CHECK(last[0].content == id(100));
  CHECK(last[0].segment == 2);
  f.stored(*f.take(last[0].id, id(1)));
  CHECK(f.complete());
  CHECK(f.held(id(100), 2));
  CHECK_FALSE(f.next_wakeup());
}

TEST_CASE("a demanded segment is fetched before the others") {
  peer::fetcher f{config_with(1)};
  f.add_content(id(100), 100, {id(1)}, {});
  f.demand(id(100), 57);
  f.demand(id(100), 57); // twice: once
  auto requests = f.next(0);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 57);
  f.stored(*f.take(requests[0].id, id(1)));
  requests = f.next(0);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 0);
  f.demand(id(100), 57); // held: ignored
  f.demand(id(999), 1);  // unknown: ignored
  f.stored(*f.take(requests[0].id, id(1)));
  requests = f.next(0);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 1);
}

TEST_CASE("a failed segment goes to the next source and backs off after all failed") {
  auto config = config_with(1);
  config.retry_backoff_ns = 5 * second;
  peer::fetcher f{config};
  f.add_content(id(100), 1, {id(1), id(2)}, {});
  auto requests = f.next(0);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].source == id(1));
  CHECK_FALSE(f.take(requests[0].id, id(2))); // not the source asked
  f.failed(*f.take(requests[0].id, id(1)), 0);
  requests = f.next(0);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].source == id(2)); // at once, from the next source
  f.failed(*f.take(requests[0].id, id(2)), second);
  CHECK(f.next(second).empty()); // every source failed: back off
  CHECK(f.next_wakeup() == 6 * second);
  requests = f.next(6 * second);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].source == id(1));
}

TEST_CASE("a request unanswered by its timeout fails and the budget holds") {
  auto config = config_with(2);
  config.request_timeout_ns = 3 * second;
  peer::fetcher f{config};
  f.add_content(id(100), 50, {id(1), id(2), id(3)}, {});
  auto first = f.next(0);
  REQUIRE(first.size() == 2);
  CHECK(f.next_wakeup() == 3 * second);
  auto retried = f.next(3 * second);
  REQUIRE(retried.size() == 2); // both timed out: asked again of the next source
  CHECK(retried[0].source == id(2));
  CHECK(retried[0].segment == first[0].segment);
  CHECK(f.in_flight() == 2);
  CHECK_FALSE(f.take(first[0].id, id(1))); // a late answer to a dead request
}

TEST_CASE("a content nobody holds backs off and leaves the budget to the others") {
  // Content 100's only source never answers; content 200's answers at once. Over
  // 200 s the live content is filled whole, and a demand for it goes out at once.
  auto config = config_with(4);
  config.request_timeout_ns = 3 * second;
  peer::fetcher f{config};
  f.add_content(id(100), 50, {id(1)}, {});
  f.add_content(id(200), 50, {id(2)}, {});
  std::int64_t now = 0;
  for (; now < 200 * second && f.missing_segments() > 50; now += second / 10) {
    for (const auto& request : f.next(now)) {
      CHECK(f.in_flight() <= 4);
      if (request.source == id(2))
        f.stored(*f.take(request.id, id(2)));
    }
  }
  CHECK(f.missing_segments() == 50); // all of 200, none of 100
  CHECK_FALSE(f.held(id(100), 0));
  CHECK(f.held(id(200), 49));
}

TEST_CASE("a segment being stored holds its place and a refused write blames no source") {
  auto config = config_with(1);
  config.retry_backoff_ns = 5 * second;
  peer::fetcher f{config};
  f.add_content(id(100), 10, {id(1), id(2)}, {});
  auto requests = f.next(0);
  REQUIRE(requests.size() == 1);
  const auto taken = f.take(requests[0].id, id(1));
  REQUIRE(taken);
  CHECK(f.in_flight() == 1);
  CHECK(f.next(0).empty()); // still in the budget while it is stored
  f.not_stored(*taken, 0);  // the store refused it
  CHECK(f.next(second).empty()); // the content waits out the backoff
  requests = f.next(5 * second);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].segment == 0);
  CHECK(requests[0].source == id(1)); // the same source: it did nothing wrong
}
