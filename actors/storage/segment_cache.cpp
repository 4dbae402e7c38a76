#include "actors/storage/segment_cache.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>

#include "actors/core/content_limits.hpp"

namespace stakecast::storage {

static_assert(limits::segment_count_max <= std::numeric_limits<std::uint32_t>::max(),
              "a range's end past the last segment index fits u32");
static_assert(segment_cache_config::segments_max_max <= std::numeric_limits<std::size_t>::max());

segment_cache::segment_cache(segment_cache_config config)
    : config_(config), now_ns_(std::numeric_limits<std::int64_t>::min()) {
  assert(config_.is_valid());
}

bool segment_cache::pins(const content_entry& entry, std::uint32_t segment) noexcept {
  return entry.pinned && segment >= entry.pinned->first && segment < entry.pinned->end;
}

std::uint64_t segment_cache::pinned_bytes_of(const content_entry& entry) const noexcept {
  if (!entry.pinned)
    return 0;
  std::uint64_t bytes = 0;
  for (auto at = entry.segments.lower_bound(entry.pinned->first);
       at != entry.segments.end() && at->first < entry.pinned->end; ++at)
    bytes += at->second.size_bytes;
  return bytes;
}

std::size_t segment_cache::pinned_count_of(const content_entry& entry) const noexcept {
  if (!entry.pinned)
    return 0;
  const auto first = entry.segments.lower_bound(entry.pinned->first);
  const auto end = entry.segments.lower_bound(entry.pinned->end);
  return static_cast<std::size_t>(std::distance(first, end));
}

void segment_cache::use(const core::content_id& content, content_entry& entry,
                        std::uint32_t segment, segment_entry& held, std::int64_t now_ns) {
  assert(now_ns >= now_ns_);
  now_ns_ = now_ns;
  if (held.use_serial != 0)
    lru_.erase(held.use_serial);
  use_serials_ += 1;
  held.use_serial = use_serials_;
  held.last_use_ns = now_ns;
  entry.last_use_serial = use_serials_;
  lru_.emplace(use_serials_, lru_key{.content = content, .segment = segment});
}

// REQUIRES: `segment` was not held.
void segment_cache::add_to_runs(content_entry& entry, std::uint32_t segment) {
  auto& runs = entry.runs;
  auto after = runs.upper_bound(segment); // the first run starting past it
  const bool joins_before = after != runs.begin() && std::prev(after)->second == segment;
  const bool joins_after = after != runs.end() && after->first == segment + 1;
  if (joins_before && joins_after) {
    std::prev(after)->second = after->second;
    runs.erase(after);
  } else if (joins_before) {
    std::prev(after)->second = segment + 1;
  } else if (joins_after) {
    const std::uint32_t end = after->second;
    runs.erase(after);
    runs.emplace(segment, end);
  } else {
    runs.emplace(segment, segment + 1);
  }
}

// REQUIRES: `segment` was held.
void segment_cache::remove_from_runs(content_entry& entry, std::uint32_t segment) {
  auto& runs = entry.runs;
  auto run = std::prev(runs.upper_bound(segment)); // the run holding it
  assert(run->first <= segment && segment < run->second);
  const std::uint32_t first = run->first;
  const std::uint32_t end = run->second;
  runs.erase(run);
  if (first < segment)
    runs.emplace(first, segment);
  if (segment + 1 < end)
    runs.emplace(segment + 1, end);
}

void segment_cache::evict(const lru_key& key, std::vector<segment_ref>& evicted) {
  const auto content = contents_.find(key.content);
  assert(content != contents_.end());
  auto& segments = content->second.segments;
  const auto held = segments.find(key.segment);
  assert(held != segments.end());
  assert(!pins(content->second, key.segment) && "pinned segments are never evicted");
  const std::uint32_t size_bytes = held->second.size_bytes;
  lru_.erase(held->second.use_serial);
  segments.erase(held);
  remove_from_runs(content->second, key.segment);
  bytes_held_ -= size_bytes;
  evictions_ += 1;
  bytes_evicted_ += size_bytes;
  evicted.push_back(
      segment_ref{.content = key.content, .segment = key.segment, .size_bytes = size_bytes});
  forget_if_empty(key.content);
}

void segment_cache::forget_if_empty(const core::content_id& content) {
  const auto at = contents_.find(content);
  if (at != contents_.end() && at->second.segments.empty() && !at->second.pinned)
    contents_.erase(at);
}

// The unpinned content used least recently. Every tracked unpinned content holds a
// segment (empty ones are forgotten), so its last use is a unique serial.
std::optional<core::content_id> segment_cache::content_victim() const {
  std::optional<core::content_id> victim;
  std::uint64_t victim_serial = 0;
  for (const auto& [id, entry] : contents_) {
    if (entry.pinned)
      continue;
    if (!victim || entry.last_use_serial < victim_serial) {
      victim = id;
      victim_serial = entry.last_use_serial;
    }
  }
  return victim;
}

put_result segment_cache::put(const core::content_id& content, std::uint32_t segment,
                              std::uint32_t size_bytes, std::int64_t now_ns) {
  put_result result;
  const auto refuse = [&](put_status status) {
    puts_refused_ += 1;
    result.status = status;
    return result;
  };
  if (size_bytes == 0 || segment >= limits::segment_count_max)
    return refuse(put_status::invalid);

  const auto known = contents_.find(content);
  if (known != contents_.end()) {
    const auto held = known->second.segments.find(segment);
    if (held != known->second.segments.end()) {
      use(content, known->second, segment, held->second, now_ns);
      result.status = put_status::already_held;
      return result;
    }
  }
  if (size_bytes > config_.capacity_bytes)
    return refuse(put_status::refused_too_large);

  // Decide before evicting anything, so a refused put changes nothing.
  std::optional<core::content_id> victim;
  if (known == contents_.end() && contents_.size() >= config_.contents_max) {
    victim = content_victim();
    if (!victim)
      return refuse(put_status::refused_contents);
  }
  if (bytes_pinned_ + size_bytes > config_.capacity_bytes ||
      segments_pinned_ + 1 > config_.segments_max)
    return refuse(put_status::refused_pinned);

  if (victim) {
    // Least recently used first, as the LRU pass below reports.
    std::vector<lru_key> keys;
    for (const auto& [serial, key] : lru_)
      if (key.content == *victim)
        keys.push_back(key);
    for (const lru_key& key : keys)
      evict(key, result.evicted);
    assert(!contents_.contains(*victim));
  }
  for (auto at = lru_.begin();
       at != lru_.end() && (bytes_held_ + size_bytes > config_.capacity_bytes ||
                            lru_.size() + 1 > config_.segments_max);) {
    const lru_key key = at->second;
    ++at; // before `evict` erases the entry it points to
    if (!pins(contents_.at(key.content), key.segment))
      evict(key, result.evicted);
  }

  content_entry& entry = contents_[content]; // evictions above may have forgotten it
  segment_entry& held = entry.segments[segment];
  held.size_bytes = size_bytes;
  add_to_runs(entry, segment);
  use(content, entry, segment, held, now_ns);
  bytes_held_ += size_bytes;
  bytes_stored_ += size_bytes;
  if (pins(entry, segment)) {
    bytes_pinned_ += size_bytes;
    segments_pinned_ += 1;
  }
  assert(bytes_held_ <= config_.capacity_bytes);
  assert(lru_.size() <= config_.segments_max);
  assert(contents_.size() <= config_.contents_max);
  result.status = put_status::stored;
  return result;
}

bool segment_cache::has(const core::content_id& content, std::uint32_t segment) const noexcept {
  const auto at = contents_.find(content);
  return at != contents_.end() && at->second.segments.contains(segment);
}

bool segment_cache::touch(const core::content_id& content, std::uint32_t segment,
                          std::int64_t now_ns) {
  const auto at = contents_.find(content);
  if (at != contents_.end()) {
    const auto held = at->second.segments.find(segment);
    if (held != at->second.segments.end()) {
      hits_ += 1;
      use(content, at->second, segment, held->second, now_ns);
      return true;
    }
  }
  misses_ += 1;
  return false;
}

bool segment_cache::pin(const core::content_id& content, std::uint32_t first, std::uint32_t end) {
  assert(first <= end);
  auto at = contents_.find(content);
  if (at == contents_.end()) {
    if (contents_.size() >= config_.contents_max)
      return false;
    at = contents_.emplace(content, content_entry{}).first;
  }
  content_entry& entry = at->second;
  bytes_pinned_ -= pinned_bytes_of(entry);
  segments_pinned_ -= pinned_count_of(entry);
  entry.pinned = segment_range{.first = first, .end = end};
  bytes_pinned_ += pinned_bytes_of(entry);
  segments_pinned_ += pinned_count_of(entry);
  assert(bytes_pinned_ <= bytes_held_);
  return true;
}

bool segment_cache::unpin(const core::content_id& content) {
  const auto at = contents_.find(content);
  if (at == contents_.end() || !at->second.pinned)
    return false;
  bytes_pinned_ -= pinned_bytes_of(at->second);
  segments_pinned_ -= pinned_count_of(at->second);
  at->second.pinned.reset();
  forget_if_empty(content);
  return true;
}

std::vector<segment_range> segment_cache::ranges(const core::content_id& content,
                                                 std::size_t max_ranges) const {
  std::vector<segment_range> all;
  const auto at = contents_.find(content);
  if (at == contents_.end())
    return all;
  all.reserve(at->second.runs.size());
  for (const auto& [first, end] : at->second.runs)
    all.push_back(segment_range{.first = first, .end = end});
  if (all.size() <= max_ranges)
    return all;
  std::stable_sort(all.begin(), all.end(), [](const segment_range& a, const segment_range& b) {
    return a.count() > b.count(); // stable: among equals, the earlier first
  });
  all.resize(max_ranges);
  std::sort(all.begin(), all.end(),
            [](const segment_range& a, const segment_range& b) { return a.first < b.first; });
  return all;
}

std::optional<std::int64_t> segment_cache::last_use_ns(const core::content_id& content,
                                                       std::uint32_t segment) const noexcept {
  const auto at = contents_.find(content);
  if (at == contents_.end())
    return std::nullopt;
  const auto held = at->second.segments.find(segment);
  if (held == at->second.segments.end())
    return std::nullopt;
  return held->second.last_use_ns;
}

} // namespace stakecast::storage
