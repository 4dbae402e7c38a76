// How a node serves segment requests through a bounded number of upload slots. It is
// pure: no actors, no I/O, no clock; time (nanoseconds) and randomness come in as
// arguments, so the simulator and the real node share it and a run replays from its
// seed. Not thread-safe: one owner (the peer actor) calls it.
//
// Admission. The queue owns a `choker` (choker.hpp): tit_for_tat for viewers,
// round_robin for masternodes. A request from a requester the last rechoke left choked
// is rejected at once (`requester_choked`), so the requester can ask elsewhere instead
// of waiting a round; the request still counts as interest, and when an upload slot is
// free the next rechoke is brought forward (at most one every
// `choker_config::rechoke_interval_ns_min`), as libtorrent unchokes into a free slot.
// Interest is derived, not declared: a requester is interested at a rechoke when it
// offered a request since the previous one or still has requests queued, so unchoke
// slots go to peers that ask. A requester that a rechoke chokes loses its queued
// requests (BitTorrent discards a choked peer's requests); `rechoke` returns them so
// the caller can reject them explicitly. Transfers already started run to the end.
//
// Serving. At most `upload_slots` transfers at once. Among unchoked requesters with
// queued requests, slots go round-robin by requester in node-id order (one request
// each in turn, resuming after the last one served), FIFO within a requester.
// Critical requests (the requester's playback waits for them, `segment_request::
// critical`) come first: while any is queued, the turn goes round the requesters with
// a critical request queued, and each serves its oldest critical one.
//
// Room for critical requests. A critical request that finds its requester's queue or
// the whole queue full takes the place of a queued request that is not critical: its
// requester's newest such request, else the newest of the requester holding the most
// of them (ties by node id). The displaced request is handed out by `take_displaced`,
// for the caller to refuse as busy. Without this, in a flash crowd a stalled viewer
// is refused by every full masternode as often as one fetching ahead. A requester
// may claim urgency falsely; it gains at most its own queue
// (requests_per_requester_max) ahead of others, served in turn with the honest ones.
//
// Timing. A lone transfer of S bytes takes 8 S / uplink_bps. Concurrent transfers
// queue behind one another on the uplink, exactly as sim/network.hpp (step 1) sends
// them: finish = max(now, uplink free) + 8 S / uplink_bps. So a slot is held until
// its last byte has left the uplink and the slots never promise more than the uplink
// carries; a slot's value is to keep the uplink busy between a finish and the next
// start. (Small control messages share the real uplink and are not counted here.)
//
// Usage (the caller re-arms one timer to `next_wakeup()` after every call; a wake-up
// at or before now means "now"):
//
//   on request:  queue.offer(now, request)           // reject -> tell the requester
//   on timer:    for (t : queue.finish_due(now)) ...  // bytes were counted
//                if (now >= queue.next_rechoke_ns())  // send choke / unchoke,
//                  queue.rechoke(now, generator);     // reject what it dropped
//                for (t : queue.start(now)) send the segment of t to t.request.requester
//
// Bounds: requesters tracked <= choker_config::peers_max; queued requests
// <= requests_per_requester_max each and <= requests_total_max in all; transfers
// running <= upload_slots. Every iteration is in node-id order, so the same calls
// with the same seed give the same answers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/core/random.hpp"
#include "actors/peer/choker.hpp"

namespace stakecast::peer {

/// One request for a whole segment, as the peer actor decoded it. `size_bytes` is the
/// segment's size from our manifest, not the requester's claim.
struct segment_request {
  core::node_id requester;
  std::uint64_t request_id = 0; // unique per requester among its open requests
  core::content_id content;
  std::uint32_t segment = 0;
  std::uint32_t size_bytes = 0;
  bool critical = false; // the requester's playback waits for it (header comment)

  bool operator==(const segment_request&) const = default;
};

/// A request being sent: its slot is held from `start_ns` until `finish_ns`.
struct upload_transfer {
  segment_request request;
  std::int64_t start_ns = 0;
  std::int64_t finish_ns = 0;

  bool operator==(const upload_transfer&) const = default;
};

/// The answer to `offer`: accepted, or why not. Operating errors, not bugs: each is
/// counted and the caller tells the requester.
enum class offer_result : std::uint8_t {
  accepted,
  invalid_size,         // 0 bytes or above limits::segment_bytes_max
  requesters_full,      // a new requester while choker_config::peers_max are tracked
  duplicate_request,    // this requester already has this request_id queued or running
  requester_choked,     // the last rechoke did not unchoke this requester
  requester_queue_full, // requests_per_requester_max queued for this requester
  queue_full,           // requests_total_max queued in all
};
inline constexpr std::size_t offer_result_count = 7;

/// Every setting of the upload queue with its default, in one place.
struct upload_queue_config {
  static constexpr std::size_t requests_per_requester_max_max = 1024;
  static constexpr std::size_t requests_total_max_max = 65536;
  static constexpr std::uint64_t uplink_bps_min = 1'000;
  static constexpr std::uint64_t uplink_bps_max = 1'000'000'000'000; // 1 Tbit/s

  /// The choker's policy, slot count and round length; `choking.upload_slots` is also
  /// the number of transfers running at once.
  choker_config choking{};
  /// Whether requesters are choked at all. A masternode does not choke: it is paid
  /// for what it serves and serves every requester in turn (round robin across
  /// requesters, FIFO within one), bounded by its queues; only viewers reciprocate.
  bool chokes = true;
  /// The node's configured uplink: 10 Mbit/s, a typical home connection.
  std::uint64_t uplink_bps = 10'000'000;
  /// Requests queued per requester: 8, a pipeline deep enough for a viewer's
  /// look-ahead window of about 16 s of 2-second segments.
  std::size_t requests_per_requester_max = 8;
  /// Requests queued in all: 256 (about 190 MB of 750 KB segments, minutes of a
  /// viewer's uplink): past that, asking elsewhere is faster than waiting here.
  std::size_t requests_total_max = 256;

  constexpr bool is_valid() const noexcept {
    return choking.is_valid() && uplink_bps >= uplink_bps_min && uplink_bps <= uplink_bps_max &&
           requests_per_requester_max >= 1 &&
           requests_per_requester_max <= requests_per_requester_max_max &&
           requests_per_requester_max <= requests_total_max &&
           requests_total_max <= requests_total_max_max;
  }
};

static_assert(upload_queue_config{}.is_valid(), "the defaults are a valid configuration");
static_assert(upload_queue_config::requests_per_requester_max_max <=
              upload_queue_config::requests_total_max_max);
static_assert(upload_queue_config::uplink_bps_min > 0, "transfer times divide by the uplink");

/// What a rechoke changed: the messages to send, and the queued requests of the
/// requesters it choked (dropped; the caller rejects them), in node-id then FIFO order.
struct rechoke_result {
  choke_changes changes;
  std::vector<segment_request> dropped;
};

class upload_queue {
public:
  /// The first regular rechoke is due at `now_ns + rechoke_interval_ns`.
  /// REQUIRES: config.is_valid().
  upload_queue(upload_queue_config config, std::int64_t now_ns);

  const upload_queue_config& config() const noexcept { return config_; }

  /// Starts tracking a requester (say, a connected peer that may upload to us) so its
  /// downloads count before it asks for anything. False when already tracked or
  /// `peers_max` are. `offer` adds unknown requesters by itself.
  bool add_requester(const core::node_id& requester);
  /// Forgets a requester: its queued requests are dropped (and returned, FIFO), its
  /// counters forgotten. Its running transfers still finish. Empty when unknown.
  std::vector<segment_request> remove_requester(const core::node_id& requester);
  /// Pass-through to the choker: `bytes` of payload arrived from `peer` (tit_for_tat
  /// reciprocates them). False when the peer is not tracked.
  bool record_download(const core::node_id& peer, std::uint64_t bytes);

  /// Admits a request into its requester's queue, or says why not. A critical request
  /// may displace a queued one (header comment; see `take_displaced`).
  /// REQUIRES: `now_ns` not before the previous call's.
  offer_result offer(std::int64_t now_ns, const segment_request& request);
  /// The queued requests displaced by critical ones since the last call, oldest
  /// displacement first; the caller refuses them. At most one per accepted offer.
  std::vector<segment_request> take_displaced();
  /// Removes a queued request. True when it was still queued; false when it already
  /// started (a sent segment cannot be recalled) or is unknown.
  bool cancel(const core::node_id& requester, std::uint64_t request_id);

  /// The transfers to begin now, each with its finish time; fills free slots.
  std::vector<upload_transfer> start(std::int64_t now_ns);
  /// Frees the slot of a running transfer and counts its bytes as served (for the
  /// requester and for the choker). False when no such transfer runs.
  /// REQUIRES: `now_ns` >= its finish time.
  bool finished(std::int64_t now_ns, const core::node_id& requester, std::uint64_t request_id);
  /// `finished` for every transfer with finish_ns <= now_ns; returns them by finish
  /// time (ties by requester, then request id).
  std::vector<upload_transfer> finish_due(std::int64_t now_ns);

  /// Ends a choke round: requesters interested as the header explains go to the
  /// choker, whose new unchoked set takes effect for admission and serving.
  /// REQUIRES: `now_ns` greater than at the previous rechoke.
  rechoke_result rechoke(std::int64_t now_ns, core::random_generator& generator);

  /// When the next rechoke is due (possibly in the past if the caller is late).
  std::int64_t next_rechoke_ns() const noexcept { return next_rechoke_ns_; }
  /// The earliest of the next finish and, when a rechoke would change anything (some
  /// requester is interested or unchoked), the next rechoke; nullopt when idle.
  std::optional<std::int64_t> next_wakeup() const;

  std::size_t running_count() const noexcept { return running_.size(); }
  const std::vector<upload_transfer>& running() const noexcept { return running_; }
  std::size_t queued_count() const noexcept { return queued_total_; }
  std::size_t queued_count(const core::node_id& requester) const noexcept;
  /// Critical requests queued for `requester` (0 when unknown).
  std::size_t critical_count(const core::node_id& requester) const noexcept;
  std::size_t requester_count() const noexcept { return requesters_.size(); }
  bool is_unchoked(const core::node_id& requester) const noexcept;
  /// Payload bytes served to a requester since it was added; nullopt when unknown.
  std::optional<std::uint64_t> bytes_served(const core::node_id& requester) const noexcept;
  std::uint64_t bytes_served_total() const noexcept { return bytes_served_total_; }
  /// How many offers got this answer (`accepted` included).
  std::uint64_t offers(offer_result result) const noexcept {
    return offer_counts_[static_cast<std::size_t>(result)];
  }
  const choker& choking() const noexcept { return choker_; }

private:
  struct requester_entry {
    core::node_id id;
    std::deque<segment_request> queued; // FIFO; at most requests_per_requester_max
    std::size_t critical = 0;           // of those, critical
    bool unchoked = false;
    bool offered_this_round = false;
    std::uint64_t bytes_served = 0;
  };

  requester_entry* find(const core::node_id& requester) noexcept;
  const requester_entry* find(const core::node_id& requester) const noexcept;
  requester_entry* find_or_add(const core::node_id& requester);
  bool is_running(const core::node_id& requester, std::uint64_t request_id) const noexcept;
  bool is_interested(const requester_entry& entry) const noexcept;
  void bring_rechoke_forward(std::int64_t now_ns);
  std::optional<std::size_t> next_to_serve(bool critical_only) const noexcept;
  /// Makes room for a critical request of `entry`: displaces a request that is not
  /// critical (header comment). False when every queued request is critical.
  bool displace_for(requester_entry& entry, bool whole_queue_full);
  void pop_queued(requester_entry& entry, std::deque<segment_request>::iterator at);
  std::int64_t transmission_ns(std::uint32_t size_bytes) const noexcept;
  void count(offer_result result) noexcept;

  upload_queue_config config_;
  choker choker_;
  std::vector<requester_entry> requesters_; // sorted by id; at most peers_max
  std::vector<upload_transfer> running_;    // at most upload_slots
  std::size_t queued_total_ = 0;
  std::size_t critical_total_ = 0;
  std::vector<segment_request> displaced_; // until take_displaced; at most a few
  std::size_t unchoked_count_ = 0;
  std::optional<core::node_id> last_served_;
  std::int64_t uplink_free_ns_ = 0;
  std::int64_t now_ns_ = 0; // the latest time seen, for monotonicity checks
  std::optional<std::int64_t> previous_rechoke_ns_;
  std::int64_t next_rechoke_ns_ = 0;
  std::uint64_t bytes_served_total_ = 0;
  std::array<std::uint64_t, offer_result_count> offer_counts_{};
};

} // namespace stakecast::peer
