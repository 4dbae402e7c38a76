// The fetcher: how a masternode fills itself with the contents the chain assigns to
// it, before and while it serves them (DESIGN.md, "Content").
//
// For each assigned content the caller hands over its segment count (once it holds
// the verified manifest), the segments it already stores, and its sources in order of
// preference: the publisher first, then the content's other masternodes. The fetcher
// decides which segment to ask of whom:
//  - demanded segments first (a viewer asked for one we lack: the masternode holds
//    that request until the segment arrives), in the order demanded;
//  - then the lowest missing segment of each content in turn, so that the start of
//    every content, which every viewer plays first, is held early;
//  - a request that fails (refused, timed out, or its bytes did not verify) is asked
//    again of the next source; once every source has failed it in a row, the whole
//    content waits `retry_backoff_ns` while the others go on, so a content nobody
//    holds costs one round per backoff and never blocks the rest.
// At most `requests_in_flight_max` requests are out or being stored at once: a
// masternode's downlink stays free for the demanded segments, which jump the queue.
//
// Pure: time comes in; the caller sends the requests, verifies and stores the bytes,
// and reports back (`take` then `stored` or `failed`). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/core/limits.hpp"

namespace stakecast::peer {

struct fetcher_config {
  /// Requests out at once: 4 keeps a demanded segment behind at most 4 others on the
  /// masternode's downlink.
  std::size_t requests_in_flight_max = 4;
  /// A source that has not answered in this time has failed the request: 10 s.
  std::int64_t request_timeout_ns = 10'000'000'000;
  /// Wait after every source failed a segment in a row: 2 s.
  std::int64_t retry_backoff_ns = 2'000'000'000;

  static constexpr std::size_t requests_in_flight_limit = 64;

  bool is_valid() const noexcept {
    return requests_in_flight_max >= 1 && requests_in_flight_max <= requests_in_flight_limit &&
           request_timeout_ns > 0 && retry_backoff_ns >= 0;
  }
};

struct fetch_request {
  std::uint64_t id = 0;
  core::node_id source;
  core::content_id content;
  std::uint32_t segment = 0;
};

class fetcher {
public:
  /// Contents one fetcher fills; a masternode hosts far fewer.
  static constexpr std::size_t contents_max = 1 << 16;
  /// Sources per content: the publisher and the other replicas.
  static constexpr std::size_t sources_max = 64;
  /// Demanded segments remembered (beyond it, demands are ignored: the segment still
  /// comes in its turn).
  static constexpr std::size_t demands_max = 1024;
  /// Segments waiting to be asked of their next source (each came from a request
  /// that was out, so the in-flight limit bounds them too).
  static constexpr std::size_t retries_max = fetcher_config::requests_in_flight_limit;

  /// REQUIRES: config.is_valid().
  explicit fetcher(fetcher_config config);

  /// Starts filling `content`, of `segment_count` segments, of which `held` (indices)
  /// are stored already. A content added twice keeps its first state.
  /// REQUIRES: 1 <= segment_count <= limits::segment_count_max; sources not empty,
  /// at most sources_max; fewer than contents_max contents.
  void add_content(const core::content_id& content, std::uint32_t segment_count,
                   std::vector<core::node_id> sources, const std::vector<std::uint32_t>& held);

  bool knows(const core::content_id& content) const;
  bool held(const core::content_id& content, std::uint32_t segment) const;
  /// Whether every segment of every content is held.
  bool complete() const noexcept { return missing_ == 0; }
  std::uint64_t missing_segments() const noexcept { return missing_; }

  /// A viewer asked for `segment`: fetch it before the rest. Ignored when held, in
  /// flight, already demanded, unknown, or demands_max are waiting.
  void demand(const core::content_id& content, std::uint32_t segment);

  /// The requests to send now: timed-out ones fail first, then the free slots fill.
  std::vector<fetch_request> next(std::int64_t now_ns);

  /// The request answered by `id` if it is ours, out, and `from` is its source. It
  /// stays in the budget (being verified and stored) until reported with `stored`,
  /// `failed` or `not_stored`.
  std::optional<fetch_request> take(std::uint64_t id, const core::node_id& from);
  /// The segment of a taken request is stored: it is held from now on.
  void stored(const fetch_request& request);
  /// A taken request failed at its source (refused, or bad bytes): the next source
  /// is asked.
  void failed(const fetch_request& request, std::int64_t now_ns);
  /// A taken request's segment was good but our store refused it (a full disk): the
  /// content waits retry_backoff_ns, the source is not blamed.
  void not_stored(const fetch_request& request, std::int64_t now_ns);

  /// When `next` has work that waits for time (a timeout, a backoff); nullopt when
  /// nothing does.
  std::optional<std::int64_t> next_wakeup() const;
  /// Requests out plus those taken and not yet reported: at most
  /// requests_in_flight_max.
  std::size_t in_flight() const noexcept { return out_.size() + storing_; }

private:
  struct content_state {
    std::vector<bool> held;
    std::vector<bool> busy; // in flight, or taken and being stored
    std::vector<core::node_id> sources;
    std::uint32_t cursor = 0; // no segment below it is missing and idle
    std::map<std::uint32_t, std::uint32_t> failures; // by busy-or-missing segment
    std::int64_t not_before_ns = 0; // backing off until then
  };
  struct outstanding {
    fetch_request request;
    std::int64_t deadline_ns = 0;
  };

  static bool backing_off(const content_state& state, std::int64_t now_ns) noexcept;
  void fail(const core::content_id& content, std::uint32_t segment, std::int64_t now_ns,
            bool source_failed);
  std::optional<std::pair<core::content_id, std::uint32_t>> pick(std::int64_t now_ns);
  fetch_request issue(const core::content_id& content, std::uint32_t segment, std::int64_t now_ns);

  fetcher_config config_;
  std::map<core::content_id, content_state> contents_;
  std::vector<core::content_id> order_; // round robin over contents
  std::size_t turn_ = 0;
  std::deque<std::pair<core::content_id, std::uint32_t>> demands_; // <= demands_max
  std::deque<std::pair<core::content_id, std::uint32_t>> retries_; // <= retries_max
  std::map<std::uint64_t, outstanding> out_;
  std::size_t storing_ = 0; // taken, not yet reported; with out_ <= in flight max
  std::uint64_t next_id_ = 1;
  std::uint64_t missing_ = 0;
};

} // namespace stakecast::peer
