// The streaming actors on the seam (DESIGN.md, "Content" and "Streaming";
// docs/architecture.md, "Streaming: decisions taken by the budget"): a masternode,
// which holds whole contents and serves their segments, and a viewer, one actor per
// viewing session, which plays one content from masternodes and from other viewers and
// re-shares what it holds. Both only wrap pure building blocks and talk to the world
// through `world::node_context`: messages through its transport, QoE through its
// metrics, time through CAF's actor clock (virtual in the simulator), randomness
// through a generator seeded from `context.seed`.
//
// Masternode. It holds two kinds of content: what it published (`published`, held
// whole from the start: the publisher's origin) and what the chain assigned to it
// (`hosted` at spawn, more later through `host_atom` when the chain's placement moves
// content onto it), which it fills through a `fetcher`: the manifest first (asked of each
// source in turn, checked against the content id, stored), then every segment,
// verified against the manifest's piece layer and stored through the storage actor
// before it counts as held. A viewer's request for a segment not yet held is kept
// (at most `held_requests_max`) and its segment fetched before the others; it is
// served once stored. At start the masternode loads what its store kept (a restart
// fetches nothing twice). `swarm_join` makes the asker one of the content's recent
// viewers (at most `recent_viewers_max`) and is answered with `swarm_peers` (at most
// limits::peer_list_count_max): first the viewers it sent a segment at or past the
// asker's position, then those it sent any, then those that only joined, each group
// most recent first. Another replica asking for a segment still being fetched is
// refused (not_held) rather than held, and is never listed as a viewer. `segment_request`
// goes through a `segment_server` (round-robin, `upload_slots`, `uplink_bps`; critical
// requests first, and when the table of requesters is full one with nothing running
// or critical queued is forgotten to make room for a critical one); when a
// transfer starts the segment is sent whole: with `stored_payloads` (the real node) its
// bytes as the store holds them (`storage::read_segment`), else the simulator's
// virtual stand-in (size and root). `publish_atom` makes a content whose segments the
// store holds whole a published one (the real node's `stakecast publish`). Refusals
// are `segment_reject` (not_held, choked, busy). `manifest_request`
// for a content whose manifest it holds is answered with its encoding. Counters
// "stream.masternode_*" (a publisher's: "stream.publisher_*"): egress_bytes, requests,
// rejects, ingress_bytes, fetch_failures, store_failures.
//
// Viewer. At start it asks the content's masternodes for the manifest, one at a time
// (`manifest_timeout` each, `manifest_rounds_max` rounds), and takes the first that
// decodes to the content id; the wait counts as startup delay. Then every masternode
// of the content becomes a source and gets a
// `swarm_join` (all of them, not one: each knows only the viewers that joined it, and
// R is small). Viewers named by `swarm_peers` become neighbours (at most
// `neighbours_max`) and get our `have_ranges`; a viewer that sends us `have_ranges`
// becomes one too and is answered with ours at once, so both sides know each other's
// holdings without waiting a round. Every `have_interval` our holdings go to every
// neighbour, and a neighbour silent for `neighbour_silence_intervals` intervals
// (it left without notice) is dropped. The `scheduler::playback` decides what to ask
// of whom; every event is followed by its `step`, whose actions are sent, and one
// timer is kept at the earliest wakeup of the playback and of the upload side.
// `segment_data` is accepted only from the source asked and for the segment asked,
// and verified against the manifest's piece layer: a virtual payload by the root it
// claims, a materialized one by hashing its blocks (`segment_root_of`). Verified
// segments go to the `storage::segment_cache`, whose pinned window follows the
// playhead, and count as downloads for the tit-for-tat choker of our own
// `segment_server`, which serves the segments we hold to other viewers (unless the
// viewer is a free-rider, `uploads = false`, which still announces its holdings but
// rejects every request as choked). Materialized segments (the real node's) keep their
// bytes while the cache holds them and are re-shared as received; virtual ones are
// re-shared as virtual payloads. A `segment_sink`, when given, is handed the manifest
// and every segment accepted. The session ends after `session_length` (leaving
// without notice) or when playback finishes: the QoE is reported and the actor quits.
// A `delivery_meter`, when given, hears of every verified segment a masternode sent
// and of the session's start and end (the chain's receipts, service.hpp).
// QoE metrics: see `viewer_state::metric_ids`; names are listed in streaming.cpp.
//
// Choked requests. upload_queue rejects a request from a requester the last rechoke
// left choked, and brings the next rechoke forward when a slot is free. Rejecting
// would make the requester exclude us for that segment for playback's exclusion
// time, so a newcomer's first request to an idle node would cost it its startup. The
// server therefore holds such a request (at most `waiting_max`) when the next rechoke
// is at most `choked_hold_ns_max` away, and offers it again right after that rechoke;
// only then is it rejected if still choked.
//
// Bounds: recent viewers per content, neighbours, requests remembered
// (`requests_remembered_max`), held requests; the pure classes bound their own tables.
// Not thread-safe (CAF runs one handler of an actor at a time).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <tuple>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/limits.hpp"
#include "actors/core/manifest.hpp"
#include "actors/core/random.hpp"
#include "actors/peer/delivery_meter.hpp"
#include "actors/peer/fetcher.hpp"
#include "actors/peer/segment_sink.hpp"
#include "actors/peer/upload_queue.hpp"
#include "actors/scheduler/playback.hpp"
#include "actors/storage/segment_cache.hpp"
#include "actors/storage/storage_actor.hpp"
#include "actors/world/world.hpp"

namespace stakecast::peer {

using manifest_ptr = std::shared_ptr<const core::manifest>;
/// Every content a node may meet, by id. Shared and immutable.
struct content_library {
  std::map<core::content_id, manifest_ptr> manifests;
};
using library_ptr = std::shared_ptr<const content_library>;

/// Timer of the masternode and of the viewer: wake up at the earliest wakeup of what
/// they drive; the number is the timer's generation (stale ones are ignored).
using stream_wake_atom = caf::atom_constant<caf::atom("strmwake")>;
/// Viewer: announce our holdings to the neighbours, drop silent ones.
using have_tick_atom = caf::atom_constant<caf::atom("havetick")>;
/// Viewer: the session's time is up.
using session_end_atom = caf::atom_constant<caf::atom("sessend")>;
/// A viewer jumps to a segment (scheduled from viewer_config::seeks).
using seek_atom = caf::atom_constant<caf::atom("seek")>;

/// Serves whole segments through an `upload_queue`, the part the masternode and an
/// uploading viewer share: the queue plus the held choked requests (header comment).
/// Pure: time and randomness come in; the caller sends what it gets back.
class segment_server {
public:
  /// Choked requests held for the coming rechoke: 256, the queue's default total.
  static constexpr std::size_t waiting_max = 256;
  /// A choked request is held when the next rechoke is at most this far: 1 s, a
  /// quarter of playback's request timeout.
  static constexpr std::int64_t choked_hold_ns_max = 1'000'000'000;
  static_assert(choked_hold_ns_max < scheduler::playback_config{}.request_timeout_ns,
                "a held request is answered before the requester times out");
  /// A requester that has asked nothing for this long, with nothing queued or
  /// running, may be forgotten to make room for a new one (the queue tracks at most
  /// choker_config::peers_max). Under tit-for-tat: 60 s, twice playback's exclusion
  /// time, so a viewer still watching keeps the rates it earned. Round robin keeps
  /// nothing worth keeping, only a place in the turn: 2 s, so that in a flash crowd
  /// the table turns over to newcomers instead of refusing them as busy.
  static constexpr std::int64_t requester_idle_ns = 60'000'000'000;
  static constexpr std::int64_t round_robin_requester_idle_ns = 2'000'000'000;
  static_assert(requester_idle_ns > scheduler::playback_config{}.exclusion_ns);

  struct reject {
    segment_request request;
    wire::reject_reason reason = wire::reject_reason::busy;
  };
  struct outcome {
    std::vector<upload_transfer> started; // send these segments now
    std::vector<reject> rejects;          // tell these requesters
  };

  /// REQUIRES: config.is_valid().
  segment_server(upload_queue_config config, std::int64_t now_ns);

  /// A request for a segment we hold (the caller checked). Duplicates are ignored.
  void offer(std::int64_t now_ns, const segment_request& request, outcome& out);
  /// Forgets a requester (it left or misbehaved): its queued and held requests are
  /// dropped without answer; its running transfers still finish.
  void remove_requester(const core::node_id& requester);
  /// Withdraws a queued or held request; a started transfer runs to its end.
  void cancel(const core::node_id& requester, std::uint64_t request_id);
  /// Finishes due transfers, rechokes when due (rejecting what it dropped, offering
  /// the held requests again) and starts transfers into free slots.
  void run(std::int64_t now_ns, core::random_generator& generator, outcome& out);
  /// When `run` should be called next if nothing comes first; nullopt when idle.
  std::optional<std::int64_t> next_wakeup() const;

  upload_queue& queue() noexcept { return queue_; }
  const upload_queue& queue() const noexcept { return queue_; }
  std::size_t waiting_count() const noexcept { return waiting_.size(); }

private:
  void admit(std::int64_t now_ns, const segment_request& request, bool may_hold, outcome& out);
  /// Forgets the requesters idle for requester_idle_ns; true when any was.
  bool forget_idle(std::int64_t now_ns);
  /// Round robin only, for a critical request while every requester place is taken:
  /// forgets the requester with no transfer running and no critical request queued
  /// that has the fewest queued (ties by node id), refusing its queued requests as
  /// busy. True when one was forgotten.
  bool make_room(outcome& out);

  upload_queue queue_;
  /// When each requester last offered; only requesters the queue tracks (<= peers_max).
  /// Requesters added without an offer (a viewer's neighbours) are never forgotten.
  std::map<core::node_id, std::int64_t> last_offer_ns_;
  std::vector<segment_request> waiting_; // oldest first; at most waiting_max
  std::optional<std::int64_t> last_rechoke_ns_;
};

/// The one timer an actor keeps: armed at `at_ns` under `generation`.
struct wake_timer {
  std::optional<std::int64_t> at_ns;
  std::uint64_t generation = 0;
};

// -- masternode ---------------------------------------------------------------------

/// A content the chain assigned to a masternode and where to fetch it from: the
/// publisher first, then the content's other masternodes.
struct hosted_assignment {
  core::content_id content;
  std::vector<core::node_id> sources; // at most fetcher::sources_max

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, hosted_assignment& x) {
    return f(caf::meta::type_name("hosted_assignment"), x.content, x.sources);
  }
};

struct masternode_config {
  /// Contents this node published: held whole from the start (a publisher's origin).
  library_ptr published;
  /// Counts its serving as a publisher's ("stream.publisher_*"), not as masternode
  /// egress, which is what the network pays masternodes for.
  bool publisher = false;
  /// Sends each segment as the store holds it (the real node's bytes). Off in the
  /// simulator, whose store holds only the stand-in the masternode makes itself, so
  /// that no transfer pays for a store read there.
  bool stored_payloads = false;
  /// Contents assigned to it: fetched, verified and stored before they are served.
  std::vector<hosted_assignment> hosted;
  /// Where fetched contents go; REQUIRED when `hosted` is not empty.
  storage::storage_actor storage;
  double uplink_bps = 1e9;
  std::size_t upload_slots = 16;
  std::size_t recent_viewers_max = 64; // per content, answered to swarm_join
  /// An adversary for tests and scenarios: serves segments claiming a wrong root.
  bool poison = false;
  fetcher_config fetching{};
  /// A source that has not sent a manifest asked for in this time is asked no more;
  /// the next one is.
  std::chrono::nanoseconds manifest_timeout = std::chrono::seconds(2);
};

constexpr world::message_set masternode_messages =
    world::messages_of<wire::swarm_join, wire::segment_request, wire::segment_cancel,
                       wire::manifest_request, wire::manifest_transfer, wire::segment_data,
                       wire::segment_reject>();

/// Masternode: look again at the manifests still missing.
using manifest_tick_atom = caf::atom_constant<caf::atom("maniftick")>;

/// Masternode: the chain placed these contents on it too (see service.hpp).
using host_atom = caf::atom_constant<caf::atom("host")>;
/// Masternode: this node published this content and its store holds every segment;
/// it is served whole from now on (the real node's `stakecast publish`).
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using masternode_actor =
    caf::typed_actor<caf::reacts_to<world::inbound>, caf::reacts_to<stream_wake_atom, std::uint64_t>,
                     caf::reacts_to<manifest_tick_atom>,
                     caf::reacts_to<host_atom, std::vector<hosted_assignment>>,
                     caf::reacts_to<publish_atom, core::manifest>>;

/// A viewer a masternode met lately, and the furthest segment it sent it.
struct recent_viewer {
  core::node_id id;
  std::optional<std::uint32_t> furthest_served;
};

struct masternode_state {
  /// Viewer requests held until the segment they ask for is fetched.
  static constexpr std::size_t held_requests_max = 1024;

  struct hosted_content {
    manifest_ptr manifest;                         // null until fetched (or loaded)
    bool whole = false;                            // published here: every segment held
    std::vector<core::node_id> sources;            // where to fetch it from
    std::uint32_t manifest_attempts = 0;           // manifest requests sent so far
    std::int64_t manifest_deadline_ns = 0;         // of the last one
    bool manifest_storing = false;                 // being written to storage
    /// Most recent first; at most recent_viewers_max.
    std::deque<recent_viewer> recent_viewers;
    std::optional<wire::payload> encoded_manifest; // encoded on first request
  };

  world::node_context context;
  masternode_config config;
  caf::actor_clock::time_point origin;
  core::random_generator generator{0};
  std::optional<segment_server> server;
  std::optional<fetcher> fetching;
  std::map<core::content_id, hosted_content> hosted; // published plus assigned
  /// A held request not served within this is refused as busy: 4 s, playback's
  /// request timeout, after which the viewer has asked elsewhere anyway.
  static constexpr std::int64_t held_request_ns = 4'000'000'000;
  static_assert(held_request_ns <= scheduler::playback_config{}.request_timeout_ns);

  struct held_request {
    segment_request request;
    std::int64_t since_ns = 0;
  };
  /// Requests for segments being fetched, by (content, segment); <= held_requests_max.
  std::map<std::pair<core::content_id, std::uint32_t>, std::vector<held_request>> held;
  std::size_t held_count = 0;
  /// The stored segments read last (stored_payloads), most recent first: viewers
  /// watching together ask for the same segments, which are then read once.
  static constexpr std::size_t recent_reads_max = 32;
  std::deque<std::tuple<core::content_id, std::uint32_t, wire::payload>> recent_reads;
  bool loaded = false; // what storage held at start is known
  wake_timer timer;

  struct metric_ids {
    world::metrics::counter_id egress_bytes = 0;
    world::metrics::counter_id requests = 0;
    world::metrics::counter_id rejects = 0;
    world::metrics::counter_id ingress_bytes = 0;
    world::metrics::counter_id fetch_failures = 0;
    world::metrics::counter_id store_failures = 0;
  } metric;

  static inline const char* name = "masternode";
};

masternode_actor::behavior_type
masternode(masternode_actor::stateful_pointer<masternode_state> self, world::node_context context,
           masternode_config config);

// -- viewer -------------------------------------------------------------------------

struct viewer_config {
  core::content_id content;
  std::uint32_t start_segment = 0;
  std::vector<core::node_id> masternodes; // the content's masternodes (placement)
  /// A masternode that has not sent the manifest in this time is asked no more; the
  /// next one is, for at most manifest_rounds_max rounds over them all.
  std::chrono::nanoseconds manifest_timeout = std::chrono::seconds(2);
  double uplink_bps = 10e6;
  std::uint64_t cache_bytes = 512ull << 20;
  scheduler::playback_config playback{};
  /// Leaves without notice after this (self->quit()).
  std::chrono::nanoseconds session_length = std::chrono::minutes(10);
  std::chrono::nanoseconds have_interval = std::chrono::seconds(10);
  /// A segment newly held is announced to the neighbours within this, not only at
  /// the next have_interval: 2 s, one segment's play time, so viewers just behind
  /// learn of it while it is still early for them (at most one have_ranges per
  /// neighbour per 2 s).
  std::chrono::nanoseconds have_news_interval = std::chrono::seconds(2);
  std::size_t neighbours_max = 20;
  std::size_t upload_slots = 4;
  bool uploads = true; // false: a free-rider (rejects every request)
  /// When not empty, the session also counts under "content.<label>.*" (viewers
  /// watching, bytes from masternodes and from viewers, stall and played time), so a
  /// scenario can follow chosen contents over time.
  std::string metrics_label;
  /// An adversary for tests and scenarios: serves segments claiming a wrong root.
  bool poison = false;
  /// Jumps during the session: at `at` after its start, to segment `segment`.
  struct planned_seek {
    std::chrono::nanoseconds at{0};
    std::uint32_t segment = 0;
  };
  std::vector<planned_seek> seeks;
  /// Told of the verified bytes each masternode delivered (the chain's receipts);
  /// none when the scenario runs no chain.
  std::shared_ptr<delivery_meter> meter;
  /// Handed the manifest and every verified segment (the real node's gateway); none
  /// in the simulator.
  std::shared_ptr<segment_sink> sink;
};

constexpr world::message_set viewer_messages =
    world::messages_of<wire::swarm_peers, wire::have_ranges, wire::segment_request,
                       wire::segment_cancel, wire::segment_reject, wire::segment_data,
                       wire::manifest_transfer>();

/// Viewer: the manifest request of this attempt has had its time.
using manifest_timeout_atom = caf::atom_constant<caf::atom("maniftime")>;

using viewer_actor =
    caf::typed_actor<caf::reacts_to<world::inbound>,
                     caf::reacts_to<stream_wake_atom, std::uint64_t>,
                     caf::reacts_to<have_tick_atom>, caf::reacts_to<session_end_atom>,
                     caf::reacts_to<seek_atom, std::uint32_t>,
                     caf::reacts_to<manifest_timeout_atom, std::uint32_t>>;

struct viewer_state {
  /// Rounds over the masternodes asking for the manifest before the session fails.
  static constexpr std::uint32_t manifest_rounds_max = 3;
  /// A neighbour silent for this many have intervals has left: dropped.
  static constexpr std::int64_t neighbour_silence_intervals = 3;
  /// Requests remembered to check answers against (in flight plus retired ones,
  /// whose late copies playback still accepts).
  static constexpr std::size_t requests_remembered_max = 512;
  static_assert(requests_remembered_max >= scheduler::playback_config::requests_in_flight_max +
                                               scheduler::playback_config::retired_max);

  struct neighbour {
    core::node_id id;
    std::int64_t last_heard_ns = 0;
  };
  struct asked {
    core::node_id source;
    std::uint32_t segment = 0;
  };

  world::node_context context;
  viewer_config config;
  manifest_ptr manifest; // null until fetched
  std::uint32_t manifest_attempts = 0;
  caf::actor_clock::time_point origin;
  core::random_generator generator{0};
  std::optional<scheduler::playback> playback;
  std::optional<storage::segment_cache> cache;
  std::optional<segment_server> server;
  std::vector<core::node_id> masternodes;  // at most playback sources_max
  std::uint64_t rejoins = 0;            // swarm_join sent after the first
  std::uint64_t exchanges = 0;          // peer lists sent to neighbours (exchange)
  std::vector<neighbour> neighbours;       // at most neighbours_max
  std::map<std::uint64_t, asked> requests; // by request id; <= requests_remembered_max
  std::uint32_t pinned_first = 0;          // the cache's pinned window
  bool pinned = false;
  std::uint64_t bytes_uploaded = 0; // segments sent to other viewers
  /// The bytes of held segments that came materialized (the real node's), to re-share
  /// them; only segments the cache holds, so at most its capacity. Empty in the
  /// simulator, whose payloads are virtual.
  std::map<std::uint32_t, wire::payload> segment_bytes;
  std::uint64_t segment_bytes_held = 0;
  bool have_news = false; // holding a segment not yet announced
  std::int64_t last_announce_ns = 0;
  bool ended = false;
  wake_timer timer;

  struct metric_ids {
    world::metrics::counter_id sessions_started = 0;
    world::metrics::counter_id sessions_ended = 0;
    world::metrics::counter_id played_ns = 0;
    world::metrics::counter_id stall_ns = 0;
    world::metrics::counter_id stalls = 0;
    world::metrics::counter_id startup_failures = 0;
    world::metrics::counter_id segments_played = 0;
    world::metrics::counter_id segments_late = 0;
    world::metrics::counter_id bytes_from_masternodes = 0;
    world::metrics::counter_id bytes_from_viewers = 0;
    world::metrics::counter_id duplicate_bytes = 0;
    world::metrics::counter_id bytes_uploaded = 0;
    world::metrics::counter_id requests = 0;
    world::metrics::counter_id timeouts = 0;
    world::metrics::counter_id rejects = 0;
    world::metrics::counter_id bad_segments = 0;
    world::metrics::counter_id neighbours_from_exchange = 0;
    world::metrics::counter_id seeks = 0;
    world::metrics::counter_id seek_wait_ns = 0;
    world::metrics::histogram_id startup_delay_s = 0;
    world::metrics::histogram_id share_ratio = 0;
    world::metrics::histogram_id longest_stall_s = 0; // per session, 0 without a stall
    world::metrics::event_id session_end = 0;
  } metric;
  struct content_metric_ids {
    world::metrics::counter_id viewers = 0;
    world::metrics::counter_id bytes_from_masternodes = 0;
    world::metrics::counter_id bytes_from_viewers = 0;
    world::metrics::counter_id stall_ns = 0;
    world::metrics::counter_id played_ns = 0;
  };
  std::optional<content_metric_ids> content_metric; // with config.metrics_label

  static inline const char* name = "viewer";
};

viewer_actor::behavior_type viewer(viewer_actor::stateful_pointer<viewer_state> self,
                                   world::node_context context, viewer_config config);

} // namespace stakecast::peer
