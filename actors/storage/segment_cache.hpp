// What a viewer holds and can re-share: which segments of which contents, and their
// sizes, bounded by bytes. It is pure: no actors, no I/O, no clock (time comes in as
// nanoseconds). Not thread-safe: one owner (the viewer's storage or peer actor).
//
// It tracks holdings and sizes only; payload bytes are not stored here. The
// simulator's payloads are virtual (derived from the content on demand), and the real
// node keeps the bytes in LMDB, applying the evictions this cache reports.
//
// Eviction is least-recently-used (a `put` or a `touch` is a use) and never takes a
// pinned segment. The playback session pins its window of one content,
// `pin(content, first, end)`; a content has at most one pinned window, and pinning
// again moves it. Pins apply to segments held later too. So:
//  - held bytes never exceed `capacity_bytes` and held segments never exceed
//    `segments_max`: a `put` that would need to evict pinned data refuses instead
//    (`refused_pinned`) and evicts nothing; the caller plays that segment without
//    keeping it for re-sharing;
//  - a `put` for a new content when `contents_max` contents are tracked evicts every
//    segment of the unpinned content used least recently, or refuses
//    (`refused_contents`) when all are pinned.
// Every eviction is returned to the caller, who updates its have-range announcements.
//
// `ranges(content, max_ranges)` gives the held segments as sorted [first, end)
// ranges for announcements. When there are more than `max_ranges`, the largest are
// kept (ties: the earlier): one entry of an announcement then covers the most
// segments. Iteration is in content-id and segment order; the LRU order is the order
// of uses, so the same calls give the same answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "actors/core/bytes.hpp"

namespace stakecast::storage {

/// Every setting of the segment cache with its default, in one place.
struct segment_cache_config {
  static constexpr std::uint64_t capacity_bytes_max = std::uint64_t{1} << 40; // 1 TiB
  static constexpr std::size_t contents_max_max = 4096;
  static constexpr std::size_t segments_max_max = 1 << 22;

  /// Bytes held at most: 1 GiB, about 45 minutes of 3 Mbit/s video.
  std::uint64_t capacity_bytes = std::uint64_t{1} << 30;
  /// Contents tracked at most: 16 (a viewer rarely keeps more videos worth sharing).
  std::size_t contents_max = 16;
  /// Segments tracked at most: 16,384, 11 times the 2-second 750 KB segments of the
  /// default capacity, so bytes bound the cache unless segments are unusually small.
  std::size_t segments_max = 16384;

  constexpr bool is_valid() const noexcept {
    return capacity_bytes >= 1 && capacity_bytes <= capacity_bytes_max && contents_max >= 1 &&
           contents_max <= contents_max_max && segments_max >= 1 &&
           segments_max <= segments_max_max;
  }
};

static_assert(segment_cache_config{}.is_valid(), "the defaults are a valid configuration");

/// One held segment.
struct segment_ref {
  core::content_id content;
  std::uint32_t segment = 0;
  std::uint32_t size_bytes = 0;

  bool operator==(const segment_ref&) const = default;
};

/// Segments [first, end) of one content.
struct segment_range {
  std::uint32_t first = 0;
  std::uint32_t end = 0;

  std::uint32_t count() const noexcept { return end - first; }
  bool operator==(const segment_range&) const = default;
};

enum class put_status : std::uint8_t {
  stored,            // now held
  already_held,      // was held; counted as a use
  invalid,           // 0 bytes, or a segment index at or above limits::segment_count_max
  refused_too_large, // larger than capacity_bytes on its own
  refused_pinned,    // would fit only by evicting pinned segments
  refused_contents,  // a new content while contents_max are tracked, all pinned
};

struct put_result {
  put_status status = put_status::stored;
  /// What this put evicted, least recently used first.
  std::vector<segment_ref> evicted;
};

class segment_cache {
public:
  /// REQUIRES: config.is_valid().
  explicit segment_cache(segment_cache_config config);

  const segment_cache_config& config() const noexcept { return config_; }

  /// Records that a segment is held, evicting least-recently-used unpinned segments
  /// as needed. REQUIRES: `now_ns` not before the previous put's or touch's.
  put_result put(const core::content_id& content, std::uint32_t segment, std::uint32_t size_bytes,
                 std::int64_t now_ns);
  /// Whether a segment is held; not a use.
  bool has(const core::content_id& content, std::uint32_t segment) const noexcept;
  /// A read of the segment (we serve or play it): a use, counted as a hit or a miss.
  /// True when held. REQUIRES: `now_ns` not before the previous put's or touch's.
  bool touch(const core::content_id& content, std::uint32_t segment, std::int64_t now_ns);

  /// Pins segments [first, end) of `content`, replacing its previous window; held
  /// ones and ones put later are never evicted while pinned. False (no change) when
  /// the content is new and `contents_max` are tracked. REQUIRES: first <= end.
  bool pin(const core::content_id& content, std::uint32_t first, std::uint32_t end);
  /// Removes the content's pinned window. False when it had none.
  bool unpin(const core::content_id& content);

  /// The held segments of `content` as sorted, disjoint, non-adjacent [first, end)
  /// ranges, at most `max_ranges` (the largest when there are more).
  std::vector<segment_range> ranges(const core::content_id& content, std::size_t max_ranges) const;
  /// When a held segment was last used; nullopt when not held.
  std::optional<std::int64_t> last_use_ns(const core::content_id& content,
                                          std::uint32_t segment) const noexcept;

  std::uint64_t bytes_held() const noexcept { return bytes_held_; }
  std::uint64_t bytes_pinned() const noexcept { return bytes_pinned_; }
  std::size_t segment_count() const noexcept { return lru_.size(); }
  std::size_t content_count() const noexcept { return contents_.size(); }
  std::uint64_t hits() const noexcept { return hits_; }
  std::uint64_t misses() const noexcept { return misses_; }
  std::uint64_t evictions() const noexcept { return evictions_; }
  std::uint64_t bytes_evicted() const noexcept { return bytes_evicted_; }
  std::uint64_t bytes_stored() const noexcept { return bytes_stored_; }
  std::uint64_t puts_refused() const noexcept { return puts_refused_; }

private:
  struct segment_entry {
    std::uint32_t size_bytes = 0;
    std::uint64_t use_serial = 0; // its key in lru_
    std::int64_t last_use_ns = 0;
  };
  struct content_entry {
    std::map<std::uint32_t, segment_entry> segments;
    /// The held segments as maximal runs, kept in step with `segments` so that
    /// `ranges` costs the runs, not the segments (it is asked on every announcement).
    std::map<std::uint32_t, std::uint32_t> runs; // first -> end
    std::optional<segment_range> pinned;
    std::uint64_t last_use_serial = 0; // the latest use of any of its segments
  };
  struct lru_key {
    core::content_id content;
    std::uint32_t segment = 0;
  };

  static bool pins(const content_entry& entry, std::uint32_t segment) noexcept;
  static void add_to_runs(content_entry& entry, std::uint32_t segment);
  static void remove_from_runs(content_entry& entry, std::uint32_t segment);
  std::uint64_t pinned_bytes_of(const content_entry& entry) const noexcept;
  std::size_t pinned_count_of(const content_entry& entry) const noexcept;
  void use(const core::content_id& content, content_entry& entry, std::uint32_t segment,
           segment_entry& held, std::int64_t now_ns);
  void evict(const lru_key& key, std::vector<segment_ref>& evicted);
  std::optional<core::content_id> content_victim() const;
  void forget_if_empty(const core::content_id& content);

  segment_cache_config config_;
  std::map<core::content_id, content_entry> contents_; // at most contents_max
  std::map<std::uint64_t, lru_key> lru_;               // use serial -> held segment
  std::uint64_t use_serials_ = 0;
  std::int64_t now_ns_ = 0;
  std::uint64_t bytes_held_ = 0;
  std::uint64_t bytes_pinned_ = 0;
  std::size_t segments_pinned_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t evictions_ = 0;
  std::uint64_t bytes_evicted_ = 0;
  std::uint64_t bytes_stored_ = 0;
  std::uint64_t puts_refused_ = 0;
};

} // namespace stakecast::storage
