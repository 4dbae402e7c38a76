// Pins how the world's metrics become Prometheus metrics (prometheus_metrics.hpp): the
// names, idempotent registration, level counters as gauges, negative deltas refused and
// counted, the overflow past names_max, and totals under concurrent updates from four
// threads, by reading the registry's text exposition back.
#include "node/prometheus_metrics.hpp"

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <prometheus/text_serializer.h>

using namespace stakecast;
using namespace stakecast::node;

namespace {

std::string exposition(const prometheus_metrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry()->Collect());
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("world names map to valid Prometheus names", "[gateway][metrics]") {
  CHECK(prometheus_name("stream.masternode_egress_bytes") == "stream_masternode_egress_bytes");
  CHECK(prometheus_name("content.my-show.viewers") == "content_my_show_viewers");
  CHECK(prometheus_name("a b/c:d") == "a_b_c_d");
}

TEST_CASE("registration is idempotent and each kind has its name", "[gateway][metrics]") {
  prometheus_metrics metrics;
  const auto first = metrics.counter("stream.rejects");
  CHECK(metrics.counter("stream.rejects") == first);
  CHECK(metrics.counter("stream-rejects") == first); // equal once mapped
  CHECK(metrics.counter("stream.requests") != first);
  const auto histogram = metrics.histogram("chain.finality_s");
  CHECK(metrics.histogram("chain.finality_s") == histogram);
  const auto event = metrics.event_kind("chain.commit");
  CHECK(metrics.event_kind("chain.commit") == event);

  metrics.add(first, 3);
  metrics.add(metrics.counter("stream-rejects"), 4);
  metrics.record(histogram, 0.003);
  metrics.record(histogram, 100.0);
  metrics.event(event, core::node_id{}, 7, 8);
  metrics.event(event, core::node_id{}, 9, 10);
  const std::string text = exposition(metrics);
  CHECK(has_line(text, "stakecast_stream_rejects_total 7"));
  CHECK(has_line(text, "stakecast_stream_requests_total 0"));
  CHECK(has_line(text, "stakecast_events_chain_commit_total 2"));
  CHECK(has_line(text, "stakecast_chain_finality_s_count 2"));
  CHECK(has_line(text, "stakecast_chain_finality_s_bucket{le=\"0.004\"} 1"));
}

TEST_CASE("level counters are gauges and other counters refuse to go down", "[gateway][metrics]") {
  prometheus_metrics metrics;
  const auto viewers = metrics.counter("content.show.viewers");
  metrics.add(viewers, 1);
  metrics.add(viewers, 1);
  metrics.add(viewers, -1);
  const auto bytes = metrics.counter("stream.bytes_uploaded");
  metrics.add(bytes, 10);
  metrics.add(bytes, -4);
  const std::string text = exposition(metrics);
  CHECK(has_line(text, "stakecast_content_show_viewers 1"));
  CHECK(has_line(text, "stakecast_stream_bytes_uploaded_total 10"));
  CHECK(has_line(text, "stakecast_metrics_negative_deltas_total 1"));
}

TEST_CASE("names past names_max or clashing share the overflow metric", "[gateway][metrics]") {
  SECTION("past names_max") {
    prometheus_metrics_options options;
    options.names_max = 3; // the overflow slot and two names
    prometheus_metrics metrics(options);
    const auto a = metrics.counter("a");
    const auto b = metrics.counter("b");
    const auto c = metrics.counter("c");
    CHECK(a != b);
    CHECK(c != a);
    CHECK(c != b);
    CHECK(metrics.event_kind("d") == c);
    metrics.add(c, 5);
    CHECK(has_line(exposition(metrics), "stakecast_metrics_overflow_total 5"));
  }
  SECTION("a histogram named like a gauge") {
    prometheus_metrics metrics;
    metrics.counter("x.viewers");
    metrics.record(metrics.histogram("x.viewers"), 1.0);
    const std::string text = exposition(metrics);
    CHECK(has_line(text, "stakecast_x_viewers 0"));
    CHECK(has_line(text, "stakecast_metrics_overflow_count 1"));
  }
}

TEST_CASE("concurrent updates from several threads are all counted", "[gateway][metrics]") {
  prometheus_metrics metrics;
  constexpr int threads_count = 4;
  constexpr int adds_per_thread = 10'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; ++t)
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < adds_per_thread; ++i) {
        // Registration races with updates: every thread registers as it goes.
        metrics.add(metrics.counter("stream.requests"), 1);
        metrics.add(metrics.counter("thread." + std::to_string(t) + ".n" + std::to_string(i % 50)),
                    1);
        metrics.event(metrics.event_kind("ping.done"), core::node_id{}, 0, 0);
      }
    });
  for (auto& thread : threads)
    thread.join();
  const std::string text = exposition(metrics);
  CHECK(has_line(text, "stakecast_stream_requests_total 40000"));
  CHECK(has_line(text, "stakecast_events_ping_done_total 40000"));
  CHECK(has_line(text, "stakecast_thread_3_n49_total 200"));
}
