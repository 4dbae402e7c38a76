// The playback scheduler of one viewing session (VOD): which segment to ask of which
// source, when, and how playback fares. It is pure: no actors, no I/O, no clock;
// time comes in as nanoseconds of the actor clock and randomness as a seeded
// generator, so the simulator and the real node share it and a run replays from its
// seed. The session actor wraps it: on every event it feeds the event in, calls
// `step`, executes the returned actions (send a request, send a cancel) and sets a
// timer for `next_wakeup()`:
//
//   session.on_segment(now_ns, id, verified);          // or on_reject, add_source...
//   for (const auto& action : session.step(now_ns, generator)) send(action);
//   if (const auto at = session.next_wakeup()) set_timer(*at);
//
// Model (DESIGN.md, "Streaming"; docs/architecture.md, "decisions taken by the
// budget"): data moves by whole segments, one request asks one source for one
// segment. Playback goes starting -> playing <-> stalled -> finished. It starts when
// `startup_buffer_ns` of media from the playhead is contiguous in hand (or the rest of
// the content is), stalls when the playhead reaches a segment not yet received, and
// resumes when `resume_buffer_ns` is contiguous ahead. A `seek` moves the playhead to a
// segment start and goes back to starting; the wait after a seek is counted apart
// (`seek_wait_ns`), neither as startup delay nor as a stall (a seek before playback
// first started only moves the playhead: the startup delay runs from session start).
//
// Planning, at every `step`: the segments whose start is at most `window_ns` of media
// ahead of the playhead, neither received nor in flight, are candidates. A segment's
// deadline is the wall time it will be played on the current schedule; while starting
// or stalled it is now + the buffer still missing + its offset from the playhead, as
// if the missing buffer arrived at the playback rate. A segment is urgent when its
// deadline is at most `urgent_ns` away:
//  - urgent segments, earliest deadline first, go to the masternode with the fewest
//    requests outstanding (ties by node id). When no masternode may serve the segment
//    at all (none, or all excluded for it) they go to viewers, before any other;
//  - the others go to viewers that hold them, rarest first (fewest viewer holders,
//    then earliest deadline), each to the holder with the fewest requests
//    outstanding; ties among holders are drawn with the generator, so that a swarm of
//    sessions does not pile onto the lowest node id. A segment no viewer holds waits
//    until it is urgent. Before playback starts, at most `ahead_while_starting_max`
//    of these are in flight;
//  - endgame: a segment in flight from a viewer only that becomes urgent is asked of
//    a masternode too; the first copy in cancels the other.
// A request for a segment whose deadline is at most `critical_ns` away is marked
// critical (`request_action::critical`): the source serves it before the others and
// makes room for it when full (peer/upload_queue.hpp). A busy refusal of a request
// that is not critical backs the source off for other such requests only; critical
// ones are backed off only by the refusal of a critical one. Endgame again: a segment
// turning critical while its one copy in flight was asked as not critical (it may sit
// in a long queue) is asked of a masternode too, as critical: the same one when it
// has the fewest requests outstanding, where the critical copy jumps the queue and
// the first copy in cancels the other.
// A request unanswered after `request_timeout_ns` (`viewer_request_timeout_ns` for a
// viewer source) is cancelled, and a rejected one
// dropped; either way the source is excluded for that segment during
// `exclusion_ns`. A segment failing verification marks its source bad for the rest
// of the session (its other requests are cancelled, it is never used again).
// A removed source's requests fail at once, without cancel messages.
//
// Actions are accumulated and handed out by `step`: events (on_segment, seek,
// close...) only change state, so the caller calls `step` after each of them. Request
// ids are unique within the session, starting at 1. Cancelled and timed-out requests
// are remembered (the last `retired_max`): a copy that still arrives is accepted when
// the segment is missing, and counted as duplicate bytes when not.
//
// `next_wakeup` is exact: the earliest time at which a `step` could act differently
// from the last one (a timeout, an exclusion ending, the playhead reaching a missing
// segment or the end, a segment crossing into the window or the urgent horizon), so a
// driver calling `step` only at wakeups and events sends the same requests at the
// same times as one calling it every millisecond.
//
// Every table is bounded (`playback_config`). Sources are kept in node-id order and
// every choice is a total order or a draw from the generator, so the same calls with
// the same seed give the same actions. Not thread-safe: one owner calls it, with
// times that never decrease.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/core/random.hpp"

namespace stakecast::scheduler {

using segment_index = std::uint32_t;
using request_id = std::uint64_t;

/// Every setting of the scheduler with its default, in one place.
struct playback_config {
  /// Sources (masternodes and viewer peers) known to one session at once.
  static constexpr std::size_t sources_max = 64;
  /// Segments of one content: 65,536 two-second segments are 36 hours.
  static constexpr std::size_t segments_max = 65536;
  /// Have-ranges kept per viewer: a VOD viewer holds about one range plus a cache.
  static constexpr std::size_t have_ranges_max = 32;
  /// Upper bound of the `outstanding_total_max` setting.
  static constexpr std::size_t requests_in_flight_max = 256;
  /// (segment, source) exclusions remembered; the one ending first is dropped when full.
  static constexpr std::size_t exclusions_max = 256;
  /// Cancelled or timed-out requests remembered, so a late copy is still recognised.
  static constexpr std::size_t retired_max = 64;
  /// Sources marked bad remembered (the oldest forgotten when full).
  static constexpr std::size_t bad_sources_max = 256;
  /// Longest segment accepted; with segments_max it keeps every time in int64 ns.
  static constexpr std::int64_t segment_duration_ns_max = 60'000'000'000; // 1 min
  /// Longest buffer, window, timeout or exclusion setting.
  static constexpr std::int64_t setting_ns_max = 3'600'000'000'000; // 1 h

  /// Media contiguous ahead of the playhead before playback starts (and after a
  /// seek): 4 s, two segments, a common player default between fast start and an
  /// immediate stall.
  std::int64_t startup_buffer_ns = 4'000'000'000;
  /// Media contiguous ahead before a stalled playback resumes: 2 s, one segment,
  /// smaller than the startup buffer so a stall is short.
  std::int64_t resume_buffer_ns = 2'000'000'000;
  /// How far ahead of the playhead segments are requested: 60 s of media, enough
  /// for rarest-first to spread load, little enough to waste little on a seek.
  std::int64_t window_ns = 60'000'000'000;
  /// A segment whose deadline is at most this far goes to a masternode: 8 s, two
  /// request timeouts, so a viewer's miss is still recovered in time.
  std::int64_t urgent_ns = 8'000'000'000;
  /// A request for a segment due within this is critical: 2 s, one segment's play
  /// time, so a stalled session's missing segment (due in resume_buffer_ns) and the
  /// next one of a playing session about to stall are, and startup ones (due in the
  /// startup buffer, 4 s) and anything fetched ahead are not. Before it, the longest
  /// stall per viewer of scenarios/flash-crowd.yaml was 18.3 s; with it, 4.9 s
  /// (docs/benchmarks.md).
  /// 0: no request is critical.
  std::int64_t critical_ns = 2'000'000'000;
  /// While playing, a segment that no viewer source holds goes to a masternode once
  /// its deadline is this close: 20 s, well before it is urgent, so the first viewers
  /// to need it seed it into the swarm early and those just behind find it among
  /// viewers instead of all turning to the masternodes at once (a flash crowd).
  std::int64_t seed_ns = 20'000'000'000;
  /// A request to a masternode unanswered for this long is cancelled and planned
  /// again: 4 s, twice a 2 s segment's play time. Not scaled by size: segments are
  /// about equal.
  std::int64_t request_timeout_ns = 4'000'000'000;
  /// The same for a request to a viewer: 30 s. Viewers upload over residential links
  /// shared by several slots, so a segment may take many seconds; a short timeout
  /// would re-request it elsewhere while the first copy still arrives (duplicate
  /// bytes). Urgency does not wait for it: an urgent segment in flight from a viewer
  /// is also asked of a masternode (endgame). On scenarios/quickstart.yaml 4 s gave
  /// 17.7 % duplicate bytes, 20 s 3.1 %, 30 s 2.1 %, rebuffering unchanged.
  std::int64_t viewer_request_timeout_ns = 30'000'000'000;
  /// A source that timed out or said it does not hold a segment is not asked for it
  /// again during this long: 30 s, about a have-range refresh.
  std::int64_t exclusion_ns = 30'000'000'000;
  /// A source that said it is busy (choked us, or its queues are full) is asked
  /// nothing during this long: 2 s. Busy is about the source, not the segment: asking
  /// it for the next segment would be refused too, and meanwhile urgent segments go to
  /// viewers that hold them. Slots turn over within seconds; waiting 30 s would
  /// starve a flash crowd in which every source is busy at first.
  std::int64_t busy_backoff_ns = 2'000'000'000;
  /// A viewer that choked us is asked for nothing but urgent segments during this
  /// long: 10 s, a rechoke interval (peer/choker.hpp), since it unchokes no sooner
  /// than its next rechoke. Asking every busy_backoff_ns instead made 9 in 10
  /// requests to viewers a refusal in a flash crowd; an urgent segment still asks it
  /// after busy_backoff_ns (a held request may meet a slot freed early).
  std::int64_t choked_backoff_ns = 10'000'000'000;
  /// Requests outstanding to one source: 2, one in service and one queued, so the
  /// source never idles between answers.
  std::size_t outstanding_per_source_max = 2;
  /// Requests outstanding in all (endgame copies included): 8.
  std::size_t outstanding_total_max = 8;
  /// Of those, kept for urgent requests to masternodes: 2. Requests to viewers take
  /// at most outstanding_total_max - urgent_reserve, so slow viewers can never
  /// hold every request while a segment due soon waits.
  std::size_t urgent_reserve = 2;
  /// Ask a masternode too for an urgent segment in flight from a viewer only.
  bool endgame = true;
  /// Until playback (re)starts, only the segments it waits for (the startup or
  /// resume buffer) are urgent: on a slow downlink a third segment in parallel delays
  /// the first two. On scenarios/quickstart.yaml startup p95 went from 2.44 s to
  /// 1.99 s. (Not requesting any other segment before the start gave 1.12 s there,
  /// but a flash crowd's newcomers then stalled longer: 27 s instead of 6.5 s at
  /// worst on tests/scenarios/flash-crowd-small.yaml.)
  bool startup_segments_first = true;
  /// Before playback starts (first time or after a seek), requests for segments it
  /// does not wait for, at most this many in flight: 2. They share a slow downlink
  /// with the startup segments. On scenarios/quickstart.yaml startup p95 was 1.99 s
  /// without a limit (2.03 s once critical requests jumped masternode queues), 1.39 s
  /// with 2, 1.31 s with 1; but with 1 a flash crowd's newcomers start with too little
  /// ahead (rebuffering 0.9 % -> 3.1 % on the harsh copy in docs/benchmarks.md).
  std::size_t ahead_while_starting_max = 2;

  constexpr bool is_valid() const noexcept {
    return startup_buffer_ns > 0 && startup_buffer_ns <= setting_ns_max && resume_buffer_ns > 0 &&
           resume_buffer_ns <= setting_ns_max && window_ns > 0 && window_ns <= setting_ns_max &&
           urgent_ns >= 0 && urgent_ns <= window_ns && critical_ns >= 0 &&
           critical_ns <= urgent_ns && seed_ns >= urgent_ns &&
           seed_ns <= window_ns && request_timeout_ns > 0 &&
           request_timeout_ns <= setting_ns_max && viewer_request_timeout_ns > 0 &&
           viewer_request_timeout_ns <= setting_ns_max && exclusion_ns >= 0 &&
           exclusion_ns <= setting_ns_max && busy_backoff_ns >= 0 &&
           busy_backoff_ns <= setting_ns_max && choked_backoff_ns >= 0 &&
           choked_backoff_ns <= setting_ns_max && outstanding_per_source_max >= 1 &&
           outstanding_total_max >= outstanding_per_source_max &&
           outstanding_total_max <= requests_in_flight_max &&
           urgent_reserve < outstanding_total_max;
  }
};

static_assert(playback_config::segments_max <= UINT32_MAX, "segment_index holds every index");
static_assert(static_cast<double>(playback_config::segments_max) *
                      static_cast<double>(playback_config::segment_duration_ns_max) <
                  9.0e18 / 4,
              "content length plus settings stays far from int64 overflow");
static_assert(playback_config::retired_max >= playback_config::requests_in_flight_max / 4);
static_assert(playback_config::bad_sources_max >= playback_config::sources_max);
static_assert(playback_config{}.is_valid(), "the defaults are a valid configuration");
static_assert(playback_config{}.resume_buffer_ns <= playback_config{}.startup_buffer_ns);
static_assert(playback_config{}.request_timeout_ns < playback_config{}.urgent_ns,
              "a timed-out urgent request can be retried before its deadline");

struct segment_info {
  std::uint64_t size_bytes = 0;
  std::int64_t duration_ns = 0; // > 0, at most segment_duration_ns_max
};

/// Segments [first, end) a viewer holds.
struct segment_range {
  segment_index first = 0;
  segment_index end = 0;
};

enum class source_kind : std::uint8_t {
  masternode, // paid, reliable, holds every segment
  viewer,     // free, holds what its have-ranges say
};

enum class playback_state : std::uint8_t { starting, playing, stalled, finished };

/// Ask `source` for `segment`.
struct request_action {
  request_id id = 0;
  segment_index segment = 0;
  core::node_id source;
  bool critical = false; // due within critical_ns: tell the source (wire::segment_request)
  bool operator==(const request_action&) const = default;
};

/// Tell `source` that request `id` is no longer wanted.
struct cancel_action {
  request_id id = 0;
  core::node_id source;
  bool operator==(const cancel_action&) const = default;
};

using action = std::variant<request_action, cancel_action>;

/// What became of an answer handed to `on_segment`.
enum class arrival : std::uint8_t {
  accepted,  // a missing segment, now held
  duplicate, // valid, but the segment was already held: duplicate bytes
  invalid,   // failed verification: the source is now bad
  unknown,   // not a request of this session (or the session is closed): ignored
};

/// Quality of experience as the literature measures it.
struct qoe_report {
  std::optional<std::int64_t> startup_delay_ns; // session start -> first playback
  std::uint64_t stall_count = 0;                // playing -> stalled transitions
  std::int64_t stall_ns = 0;                    // time stalled after startup
  std::int64_t longest_stall_ns = 0;            // the longest single stall
  std::int64_t played_ns = 0;                   // time playing
  std::uint64_t seek_count = 0;
  std::int64_t seek_wait_ns = 0;            // seek -> playback again (not a stall)
  std::uint64_t played_segments = 0;        // distinct segments whose playback began
  std::uint64_t late_segments = 0;          // of those, the ones playback stalled for
  std::uint64_t bytes_from_masternodes = 0; // every verified copy, duplicates included
  std::uint64_t bytes_from_viewers = 0;
  std::uint64_t duplicate_bytes = 0; // verified copies of segments already held
  std::uint64_t requests = 0;
  std::uint64_t cancels = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t rejects = 0;
  std::uint64_t bad_segments = 0;

  /// stall / (played + stall); 0 when neither.
  double rebuffer_ratio() const noexcept;
  /// Fraction of played segments that arrived before playback needed them; 1 when
  /// none was played.
  double continuity_index() const noexcept;
  /// Viewer bytes over all bytes; 0 when none.
  double offload_ratio() const noexcept;

  bool operator==(const qoe_report&) const = default;
};

class playback {
public:
  /// A session of content `segments` whose playhead starts at `start_segment`.
  /// REQUIRES: config.is_valid(); 1 <= segments.size() <= segments_max; every
  /// duration in (0, segment_duration_ns_max]; start_segment < segments.size().
  playback(playback_config config, std::vector<segment_info> segments, segment_index start_segment,
           std::int64_t now_ns);

  const playback_config& config() const noexcept { return config_; }

  /// A source to ask from the next step on; a viewer holds nothing until
  /// `set_have_ranges`. False when already known, marked bad, or sources_max known.
  bool add_source(const core::node_id& source, source_kind kind);
  /// Forgets a source; its requests fail now (no cancel) and are planned again. False
  /// when unknown.
  bool remove_source(std::int64_t now_ns, const core::node_id& source);
  /// Replaces a viewer's holdings. Ranges are clipped to the content, empty ones
  /// dropped, and only the first have_ranges_max kept. False when the source is
  /// unknown or not a viewer.
  bool set_have_ranges(const core::node_id& source, std::span<const segment_range> ranges);

  /// The answer to request `id` came in; `verified` tells whether it passed the
  /// Merkle check.
  arrival on_segment(std::int64_t now_ns, request_id id, bool verified);
  /// The source answered "no" to request `id` (does not hold it, choked, busy).
  /// False when `id` is not in flight.
  /// Why a source refused a request.
  /// not_held: excluded for that segment; busy and choked: the source is asked
  /// nothing for busy_backoff_ns or choked_backoff_ns.
  enum class refusal : std::uint8_t { not_held, busy, choked };
  bool on_reject(std::int64_t now_ns, request_id id, refusal why = refusal::not_held);
  /// Moves the playhead to the start of `segment`; cancels requests outside the new
  /// window. REQUIRES: segment < segment_count(). Ignored once closed.
  void seek(std::int64_t now_ns, segment_index segment);
  /// Ends the session: finished, every request cancelled.
  void close(std::int64_t now_ns);

  /// Advances playback to `now_ns`, cancels timed-out requests and plans new ones.
  /// Returns every action since the previous step, in order.
  /// REQUIRES: now_ns not before any time passed in so far.
  std::vector<action> step(std::int64_t now_ns, core::random_generator& generator);
  /// When to call `step` next if no event comes first; nullopt when nothing will
  /// happen by itself (always once finished). Never before the last time passed in,
  /// and after a `step` always later than its time.
  std::optional<std::int64_t> next_wakeup() const;

  playback_state state() const noexcept { return state_; }
  /// Media position of the playhead as of the last time passed in.
  std::int64_t playhead_ns() const noexcept { return playhead_ns_; }
  segment_index playhead_segment() const noexcept { return segment_at(playhead_ns_); }
  std::size_t segment_count() const noexcept { return segments_.size(); }
  bool has_segment(segment_index segment) const noexcept;
  std::size_t in_flight_count() const noexcept { return in_flight_.size(); }
  /// Requests outstanding to `source` (0 when unknown).
  std::size_t outstanding(const core::node_id& source) const noexcept;
  bool is_bad(const core::node_id& source) const noexcept;
  /// QoE as of the last time passed in (an ongoing stall or seek wait included).
  qoe_report qoe() const;

private:
  struct source_entry {
    core::node_id id;
    source_kind kind = source_kind::viewer;
    std::vector<segment_range> ranges; // viewers only; at most have_ranges_max
    std::size_t outstanding = 0;
    std::int64_t busy_until_ns = 0;   // said busy: asked nothing before this
    std::int64_t critical_busy_until_ns = 0; // refused a critical request as busy
    std::int64_t choked_until_ns = 0; // choked us: asked only urgent segments before this
  };
  struct request_entry {
    request_id id = 0;
    segment_index segment = 0;
    core::node_id source;
    source_kind kind = source_kind::viewer;
    std::int64_t timeout_at_ns = 0;
    bool critical = false;
  };
  struct exclusion {
    segment_index segment = 0;
    core::node_id source;
    std::int64_t until_ns = 0;
  };
  struct candidate {
    segment_index segment = 0;
    bool urgent = false;
    std::size_t viewer_holders = 0;
  };

  static constexpr std::uint8_t received_flag = 1;
  static constexpr std::uint8_t played_flag = 2;
  static constexpr std::uint8_t late_flag = 4;

  segment_index segment_at(std::int64_t position_ns) const noexcept;
  std::int64_t contiguous_end_ns() const noexcept;
  std::int64_t buffer_needed_ns() const noexcept;
  std::int64_t deadline_ns(segment_index segment) const noexcept;
  bool received(segment_index segment) const noexcept {
    return (flags_[segment] & received_flag) != 0;
  }

  source_entry* find_source(const core::node_id& source) noexcept;
  const source_entry* find_source(const core::node_id& source) const noexcept;
  static bool holds(const source_entry& source, segment_index segment) noexcept;
  bool is_excluded(segment_index segment, const core::node_id& source) const noexcept;
  void exclude(segment_index segment, const core::node_id& source, std::int64_t duration_ns);
  std::size_t copies_in_flight(segment_index segment, bool& any_to_masternode) const noexcept;
  std::size_t viewer_holders(segment_index segment) const noexcept;
  bool masternode_may_serve(segment_index segment) const noexcept;
  /// Whether `source` may not be asked now, for a critical request or another.
  bool is_busy(const source_entry& source, bool critical) const noexcept;
  bool is_critical(segment_index segment) const noexcept;
  bool critical_in_flight(segment_index segment) const noexcept;

  void advance(std::int64_t now_ns);
  void count_played(std::int64_t from_ns, std::int64_t to_ns);
  void try_start();
  void end_waits();
  void finish();
  void expire_timeouts();
  void plan(core::random_generator& generator);
  const source_entry* choose_masternode(segment_index segment, bool critical) const;
  const source_entry* choose_viewer(segment_index segment, bool urgent,
                                    core::random_generator& generator) const;
  void issue(segment_index segment, const source_entry& source);
  std::optional<request_entry> take_in_flight(request_id id);
  void cancel(const request_entry& request);
  /// Cancels (and retires) every request in flight for which `predicate` holds.
  template <class Predicate> void cancel_where(Predicate predicate);
  void retire(const request_entry& request);
  void mark_bad(const core::node_id& source);

  playback_config config_;
  std::vector<segment_info> segments_;
  std::vector<std::int64_t> starts_ns_;    // segment starts in media time, plus the end
  std::vector<std::uint8_t> flags_;        // per segment: received, played, late
  std::vector<source_entry> sources_;      // sorted by id; at most sources_max
  std::vector<request_entry> in_flight_;   // in issue order; at most outstanding_total_max
  std::vector<request_entry> retired_;     // oldest first; at most retired_max
  std::vector<exclusion> exclusions_;      // at most exclusions_max
  std::vector<core::node_id> bad_sources_; // oldest first; at most bad_sources_max
  std::vector<action> outbox_;

  playback_state state_ = playback_state::starting;
  bool closed_ = false;
  std::int64_t now_ns_ = 0;
  std::int64_t session_start_ns_ = 0;
  std::int64_t playhead_ns_ = 0;
  std::int64_t stall_started_ns_ = 0;
  std::int64_t seek_started_ns_ = 0;
  request_id next_request_id_ = 1;
  qoe_report qoe_;
};

} // namespace stakecast::scheduler
