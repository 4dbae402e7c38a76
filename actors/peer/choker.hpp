// The upload-slot choker of the peer actor: which interested peers may download
// from us until the next round. It is pure: no actors, no I/O, no clock; time and
// randomness come in as arguments, so the simulator and the real node share it and a
// run replays from its seed.
//
// Two policies (DESIGN.md, "Streaming"), after BitTorrent and libtorrent:
//  - `tit_for_tat` (viewers), the rate-based choker: `upload_slots - 1` regular slots
//    go to the interested peers that uploaded to us fastest (a moving average of
//    bytes per second); one optimistic slot goes to a choked interested peer drawn
//    at random, peers connected within the last `new_peer_rounds` rounds weighted
//    `new_peer_weight` times, and is held for `optimistic_rounds` rounds. It is how a
//    newcomer with nothing to trade gets its first blocks and how we find faster
//    partners. Peers that send us nothing rank last, so they get a regular slot only
//    when too few peers upload to fill them.
//  - `round_robin` (masternodes): the `upload_slots` interested peers unchoked least
//    recently (a queue of unchokes; never-unchoked peers first, in node-id order),
//    so each of n interested peers is served once in every ceil(n / upload_slots)
//    rounds and none twice before all had a turn.
//
// A peer that is not interested is never unchoked. Only `rechoke` changes the
// unchoked set; between rounds the owner reports peers, interest and bytes. Usage,
// once per `rechoke_interval_ns`:
//
//   const auto before = choker.unchoked();       // removed peers already left out
//   const auto after = choker.rechoke(now_ns, generator);
//   const auto changes = diff_unchoked(before, after); // send choke / unchoke
//
// Every table is bounded by `choker_config::peers_max`. Iteration is in node-id
// order and every sort is a total order, so the same calls with the same seed give
// the same answers. Not thread-safe: one owner (the peer actor) calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "actors/core/bytes.hpp"
#include "actors/core/random.hpp"

namespace stakecast::peer {

enum class choke_policy : std::uint8_t {
  tit_for_tat, // viewers: reciprocate by download rate, plus one optimistic slot
  round_robin, // masternodes: serve every interested peer in turn
};

/// Every setting of the choker with its default, in one place.
struct choker_config {
  /// Peers the choker tracks at once (BitTorrent clients keep 50-200 connections).
  static constexpr std::size_t peers_max = 200;
  /// Upload slots at most: a masternode serves more peers at once than a viewer.
  static constexpr std::size_t upload_slots_max = 64;
  static constexpr std::uint32_t optimistic_rounds_max = 100;
  static constexpr std::uint32_t new_peer_rounds_max = 100;
  /// How many times likelier a new peer is to win the optimistic draw than an old
  /// one: the BitTorrent specification's suggestion.
  static constexpr std::uint64_t new_peer_weight = 3;
  static constexpr std::int64_t rechoke_interval_ns_min = 100'000'000;     // 100 ms
  static constexpr std::int64_t rechoke_interval_ns_max = 600'000'000'000; // 10 min

  /// Viewers use tit_for_tat, masternodes round_robin.
  choke_policy policy = choke_policy::tit_for_tat;
  /// Peers unchoked at once: 4, BitTorrent's classic default (3 regular + 1
  /// optimistic); enough to saturate a viewer's uplink without spreading it thin.
  std::size_t upload_slots = 4;
  /// The owner calls `rechoke` this often: 10 s, as BitTorrent does; shorter makes
  /// TCP rates too noisy to rank, longer reacts slowly to a peer leaving. The choker
  /// itself uses it only as the length of the first round.
  std::int64_t rechoke_interval_ns = 10'000'000'000;
  /// Rounds the optimistic slot is held: 3 (30 s at the default interval), as
  /// BitTorrent does, long enough for a new partner to show its rate.
  std::uint32_t optimistic_rounds = 3;
  /// A peer counts as new for the optimistic draw during this many rounds after it
  /// was added: 3, one optimistic period.
  std::uint32_t new_peer_rounds = 3;
  /// Weight of the latest round in the moving average of rates, in (0, 1]: 0.5, so
  /// a round's rate counts half and fades by half each round (about two rounds of
  /// memory): steady enough to rank, quick to notice a peer that stopped.
  double rate_smoothing = 0.5;

  constexpr bool is_valid() const noexcept {
    return upload_slots >= 1 && upload_slots <= upload_slots_max &&
           rechoke_interval_ns >= rechoke_interval_ns_min &&
           rechoke_interval_ns <= rechoke_interval_ns_max && optimistic_rounds >= 1 &&
           optimistic_rounds <= optimistic_rounds_max && new_peer_rounds <= new_peer_rounds_max &&
           rate_smoothing > 0.0 && rate_smoothing <= 1.0;
  }
};

static_assert(choker_config::upload_slots_max <= choker_config::peers_max,
              "every upload slot can be filled by a distinct peer");
static_assert(choker_config::new_peer_weight >= 1);
static_assert(choker_config::rechoke_interval_ns_min > 0, "rates divide by the round length");
static_assert(choker_config::rechoke_interval_ns_min < choker_config::rechoke_interval_ns_max);
static_assert(choker_config{}.is_valid(), "the defaults are a valid configuration");
static_assert(choker_config{}.upload_slots >= 2, "by default tit_for_tat keeps a regular slot");

/// Who to tell what after a rechoke; both lists sorted by node id.
struct choke_changes {
  std::vector<core::node_id> to_choke;
  std::vector<core::node_id> to_unchoke;
};

/// The messages that turn unchoked set `before` into `after`.
/// REQUIRES: both sorted by node id without duplicates (as `rechoke` returns them).
choke_changes diff_unchoked(std::span<const core::node_id> before,
                            std::span<const core::node_id> after);

class choker {
public:
  /// REQUIRES: config.is_valid().
  explicit choker(choker_config config);

  const choker_config& config() const noexcept { return config_; }

  /// Starts tracking a peer, not interested and choked. False (and no change) when
  /// it is already tracked or `peers_max` peers are.
  bool add_peer(const core::node_id& peer);
  /// Forgets a peer and everything recorded about it. False when it was unknown.
  bool remove_peer(const core::node_id& peer);
  /// The peer told us it is (or is no longer) interested in our blocks. It takes
  /// effect at the next rechoke. False when the peer is unknown.
  bool set_interested(const core::node_id& peer, bool interested);
  /// `bytes` of payload arrived from `peer` (they count for tit_for_tat). False
  /// when the peer is unknown, e.g. removed while its bytes were in flight.
  bool record_download(const core::node_id& peer, std::uint64_t bytes);
  /// `bytes` of payload were sent to `peer` (kept for reporting). False when the
  /// peer is unknown.
  bool record_upload(const core::node_id& peer, std::uint64_t bytes);

  /// Ends a round: folds the bytes recorded since the previous rechoke into the
  /// rates (the first round counts as `rechoke_interval_ns` long), then chooses the
  /// new unchoked set and returns it sorted by node id, at most `upload_slots` long.
  /// REQUIRES: `now_ns` greater than at the previous rechoke.
  std::vector<core::node_id> rechoke(std::int64_t now_ns, core::random_generator& generator);

  /// The set the last rechoke chose, sorted, without peers removed since.
  std::vector<core::node_id> unchoked() const;
  /// The peer holding the optimistic slot (tit_for_tat only), if any.
  std::optional<core::node_id> optimistic_peer() const noexcept { return optimistic_; }

  std::size_t peer_count() const noexcept { return peers_.size(); }
  bool contains(const core::node_id& peer) const noexcept;
  bool is_interested(const core::node_id& peer) const noexcept;
  /// Moving averages in bytes per second as of the last rechoke; nullopt when the
  /// peer is unknown.
  std::optional<double> download_rate(const core::node_id& peer) const noexcept;
  std::optional<double> upload_rate(const core::node_id& peer) const noexcept;
  /// Rechokes done so far.
  std::uint64_t round() const noexcept { return round_; }

private:
  struct peer_entry {
    core::node_id id;
    bool interested = false;
    bool unchoked = false;
    std::uint64_t added_round = 0;
    /// Where its last unchoke stands among all unchokes so far (1, 2, ...); 0
    /// when never. Ordering by it is a least-recently-served queue, also among
    /// peers unchoked in the same round.
    std::uint64_t unchoke_serial = 0;
    std::uint64_t downloaded_bytes = 0; // since the last rechoke
    std::uint64_t uploaded_bytes = 0;   // since the last rechoke
    double download_rate = 0.0;         // bytes per second
    double upload_rate = 0.0;           // bytes per second
  };

  peer_entry* find(const core::node_id& peer) noexcept;
  const peer_entry* find(const core::node_id& peer) const noexcept;
  std::optional<std::size_t> index_of(const core::node_id& peer) const noexcept;

  void update_rates(std::int64_t now_ns);
  std::vector<std::size_t> interested_except(std::optional<std::size_t> excluded) const;
  std::vector<std::size_t> choose_tit_for_tat(core::random_generator& generator);
  std::vector<std::size_t> choose_round_robin() const;
  std::optional<std::size_t> draw_optimistic(std::span<const std::size_t> candidates,
                                             core::random_generator& generator) const;
  bool optimistic_due() const noexcept;
  void apply(std::span<const std::size_t> chosen);

  choker_config config_;
  std::vector<peer_entry> peers_; // sorted by id; at most peers_max
  std::optional<core::node_id> optimistic_;
  std::uint64_t optimistic_since_round_ = 0;
  std::uint64_t round_ = 0;
  std::uint64_t unchoke_serials_ = 0; // unchokes so far
  std::optional<std::int64_t> previous_rechoke_ns_;
};

} // namespace stakecast::peer
