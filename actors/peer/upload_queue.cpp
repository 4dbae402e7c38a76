#include "actors/peer/upload_queue.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>
#include <tuple>
#include <utility>

#include "actors/core/content_limits.hpp"

namespace stakecast::peer {

namespace {

constexpr std::uint64_t ns_per_second = 1'000'000'000;

static_assert(std::uint64_t{limits::segment_bytes_max} * 8 * ns_per_second <=
                  std::numeric_limits<std::uint64_t>::max() / 2,
              "8 S * 1e9 fits 64 bits with room for rounding");
static_assert(std::uint64_t{limits::segment_bytes_max} * 8 * ns_per_second /
                      upload_queue_config::uplink_bps_min * choker_config::upload_slots_max <
                  static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
              "finish times stay far from overflow even with many slots queued ahead");

std::uint64_t saturating_add(std::uint64_t total, std::uint64_t bytes) noexcept {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  return bytes > max - total ? max : total + bytes;
}

bool finishes_before(const upload_transfer& a, const upload_transfer& b) noexcept {
  return std::tie(a.finish_ns, a.request.requester, a.request.request_id) <
         std::tie(b.finish_ns, b.request.requester, b.request.request_id);
}

} // namespace

upload_queue::upload_queue(upload_queue_config config, std::int64_t now_ns)
    : config_(config), choker_(config.choking), now_ns_(now_ns),
      next_rechoke_ns_(now_ns + config.choking.rechoke_interval_ns) {
  assert(config_.is_valid());
  requesters_.reserve(choker_config::peers_max);
  running_.reserve(config_.choking.upload_slots);
}

upload_queue::requester_entry* upload_queue::find(const core::node_id& requester) noexcept {
  const auto* entry = static_cast<const upload_queue*>(this)->find(requester);
  return const_cast<requester_entry*>(entry);
}

const upload_queue::requester_entry*
upload_queue::find(const core::node_id& requester) const noexcept {
  const auto at = std::lower_bound(
      requesters_.begin(), requesters_.end(), requester,
      [](const requester_entry& entry, const core::node_id& id) { return entry.id < id; });
  if (at == requesters_.end() || at->id != requester)
    return nullptr;
  return &*at;
}

upload_queue::requester_entry* upload_queue::find_or_add(const core::node_id& requester) {
  if (requester_entry* entry = find(requester))
    return entry;
  if (!add_requester(requester))
    return nullptr;
  return find(requester);
}

bool upload_queue::add_requester(const core::node_id& requester) {
  if (!choker_.add_peer(requester))
    return false; // already tracked, or peers_max are
  const auto at = std::lower_bound(
      requesters_.begin(), requesters_.end(), requester,
      [](const requester_entry& entry, const core::node_id& id) { return entry.id < id; });
  assert(at == requesters_.end() || at->id != requester);
  requester_entry entry;
  entry.id = requester;
  requesters_.insert(at, std::move(entry));
  assert(requesters_.size() == choker_.peer_count());
  assert(requesters_.size() <= choker_config::peers_max);
  return true;
}

std::vector<segment_request> upload_queue::remove_requester(const core::node_id& requester) {
  requester_entry* entry = find(requester);
  if (entry == nullptr)
    return {};
  std::vector<segment_request> dropped(entry->queued.begin(), entry->queued.end());
  queued_total_ -= dropped.size();
  critical_total_ -= entry->critical;
  if (entry->unchoked)
    unchoked_count_ -= 1;
  requesters_.erase(requesters_.begin() + (entry - requesters_.data()));
  const bool removed = choker_.remove_peer(requester);
  assert(removed);
  (void)removed;
  assert(requesters_.size() == choker_.peer_count());
  return dropped;
}

bool upload_queue::record_download(const core::node_id& peer, std::uint64_t bytes) {
  return choker_.record_download(peer, bytes);
}

void upload_queue::count(offer_result result) noexcept {
  offer_counts_[static_cast<std::size_t>(result)] += 1;
}

bool upload_queue::is_running(const core::node_id& requester,
                              std::uint64_t request_id) const noexcept {
  return std::any_of(running_.begin(), running_.end(), [&](const upload_transfer& transfer) {
    return transfer.request.requester == requester && transfer.request.request_id == request_id;
  });
}

offer_result upload_queue::offer(std::int64_t now_ns, const segment_request& request) {
  assert(now_ns >= now_ns_);
  now_ns_ = now_ns;
  const offer_result result = [&] {
    if (request.size_bytes == 0 || request.size_bytes > limits::segment_bytes_max)
      return offer_result::invalid_size;
    requester_entry* entry = find_or_add(request.requester);
    if (entry == nullptr)
      return offer_result::requesters_full;
    const bool queued =
        std::any_of(entry->queued.begin(), entry->queued.end(), [&](const segment_request& other) {
          return other.request_id == request.request_id;
        });
    if (queued || is_running(request.requester, request.request_id))
      return offer_result::duplicate_request;
    entry->offered_this_round = true; // asking is interest, even when choked
    if (config_.chokes && !entry->unchoked) {
      bring_rechoke_forward(now_ns);
      return offer_result::requester_choked;
    }
    if (entry->queued.size() >= config_.requests_per_requester_max &&
        !(request.critical && displace_for(*entry, false)))
      return offer_result::requester_queue_full;
    if (queued_total_ >= config_.requests_total_max &&
        !(request.critical && displace_for(*entry, true)))
      return offer_result::queue_full;
    entry->queued.push_back(request);
    queued_total_ += 1;
    if (request.critical) {
      entry->critical += 1;
      critical_total_ += 1;
    }
    return offer_result::accepted;
  }();
  count(result);
  assert(queued_total_ <= config_.requests_total_max);
  assert(critical_total_ <= queued_total_);
  return result;
}

void upload_queue::pop_queued(requester_entry& entry, std::deque<segment_request>::iterator at) {
  if (at->critical) {
    entry.critical -= 1;
    critical_total_ -= 1;
  }
  entry.queued.erase(at);
  queued_total_ -= 1;
}

bool upload_queue::displace_for(requester_entry& entry, bool whole_queue_full) {
  requester_entry* victim = nullptr;
  if (!whole_queue_full || entry.queued.size() > entry.critical) {
    victim = &entry; // its own newest request that is not critical goes first
  } else {
    for (requester_entry& other : requesters_) { // node-id order: the first of equals
      const std::size_t movable = other.queued.size() - other.critical;
      if (movable > 0 && (victim == nullptr || movable > victim->queued.size() - victim->critical))
        victim = &other;
    }
  }
  if (victim == nullptr || victim->queued.size() == victim->critical)
    return false;
  const auto newest = std::find_if(victim->queued.rbegin(), victim->queued.rend(),
                                   [](const segment_request& x) { return !x.critical; });
  assert(newest != victim->queued.rend());
  displaced_.push_back(*newest);
  pop_queued(*victim, std::prev(newest.base()));
  return true;
}

std::vector<segment_request> upload_queue::take_displaced() {
  std::vector<segment_request> out;
  out.swap(displaced_);
  return out;
}

// A choked requester asked while an upload slot is unused: unchoking it need not wait
// for the end of the round.
void upload_queue::bring_rechoke_forward(std::int64_t now_ns) {
  if (unchoked_count_ >= config_.choking.upload_slots)
    return;
  const std::int64_t earliest = previous_rechoke_ns_
                                    ? *previous_rechoke_ns_ + choker_config::rechoke_interval_ns_min
                                    : now_ns;
  next_rechoke_ns_ = std::min(next_rechoke_ns_, std::max(now_ns, earliest));
}

bool upload_queue::cancel(const core::node_id& requester, std::uint64_t request_id) {
  requester_entry* entry = find(requester);
  if (entry == nullptr)
    return false;
  const auto at =
      std::find_if(entry->queued.begin(), entry->queued.end(), [&](const segment_request& request) {
        return request.request_id == request_id;
      });
  if (at == entry->queued.end())
    return false;
  pop_queued(*entry, at);
  return true;
}

// The unchoked requester with queued requests (critical ones, when `critical_only`)
// that comes first after the one served last, in node-id order, wrapping around.
std::optional<std::size_t> upload_queue::next_to_serve(bool critical_only) const noexcept {
  const std::size_t count = requesters_.size();
  std::size_t first = 0;
  if (last_served_) {
    const auto after = std::upper_bound(
        requesters_.begin(), requesters_.end(), *last_served_,
        [](const core::node_id& id, const requester_entry& entry) { return id < entry.id; });
    first = static_cast<std::size_t>(after - requesters_.begin());
  }
  for (std::size_t step = 0; step < count; ++step) {
    const std::size_t index = (first + step) % count;
    const requester_entry& entry = requesters_[index];
    if ((entry.unchoked || !config_.chokes) && !entry.queued.empty() &&
        (!critical_only || entry.critical > 0))
      return index;
  }
  return std::nullopt;
}

std::int64_t upload_queue::transmission_ns(std::uint32_t size_bytes) const noexcept {
  // Rounded to the nearest nanosecond, as sim/network.cpp rounds.
  const std::uint64_t numerator = std::uint64_t{size_bytes} * 8 * ns_per_second;
  return static_cast<std::int64_t>((numerator + config_.uplink_bps / 2) / config_.uplink_bps);
}

std::vector<upload_transfer> upload_queue::start(std::int64_t now_ns) {
  assert(now_ns >= now_ns_);
  now_ns_ = now_ns;
  std::vector<upload_transfer> started;
  while (running_.size() < config_.choking.upload_slots) {
    std::optional<std::size_t> index;
    if (critical_total_ > 0)
      index = next_to_serve(true);
    if (!index)
      index = next_to_serve(false);
    if (!index)
      break;
    requester_entry& entry = requesters_[*index];
    const auto at = entry.critical > 0
                        ? std::find_if(entry.queued.begin(), entry.queued.end(),
                                       [](const segment_request& x) { return x.critical; })
                        : entry.queued.begin();
    const segment_request request = *at;
    pop_queued(entry, at);
    last_served_ = entry.id;

    const std::int64_t transmit_from = std::max(now_ns, uplink_free_ns_);
    uplink_free_ns_ = transmit_from + transmission_ns(request.size_bytes);
    const upload_transfer transfer{
        .request = request, .start_ns = now_ns, .finish_ns = uplink_free_ns_};
    running_.push_back(transfer);
    started.push_back(transfer);
  }
  assert(running_.size() <= config_.choking.upload_slots);
  return started;
}

bool upload_queue::finished(std::int64_t now_ns, const core::node_id& requester,
                            std::uint64_t request_id) {
  const auto at = std::find_if(running_.begin(), running_.end(), [&](const upload_transfer& t) {
    return t.request.requester == requester && t.request.request_id == request_id;
  });
  if (at == running_.end())
    return false;
  assert(now_ns >= at->finish_ns);
  assert(now_ns >= now_ns_);
  now_ns_ = now_ns;
  const std::uint32_t bytes = at->request.size_bytes;
  running_.erase(at);
  bytes_served_total_ = saturating_add(bytes_served_total_, bytes);
  if (requester_entry* entry = find(requester))
    entry->bytes_served = saturating_add(entry->bytes_served, bytes);
  choker_.record_upload(requester, bytes); // false once the requester was removed
  return true;
}

std::vector<upload_transfer> upload_queue::finish_due(std::int64_t now_ns) {
  std::vector<upload_transfer> due;
  std::copy_if(running_.begin(), running_.end(), std::back_inserter(due),
               [&](const upload_transfer& transfer) { return transfer.finish_ns <= now_ns; });
  std::sort(due.begin(), due.end(), finishes_before);
  for (const upload_transfer& transfer : due) {
    const bool was_running =
        finished(now_ns, transfer.request.requester, transfer.request.request_id);
    assert(was_running);
    (void)was_running;
  }
  return due;
}

bool upload_queue::is_interested(const requester_entry& entry) const noexcept {
  return entry.offered_this_round || !entry.queued.empty();
}

rechoke_result upload_queue::rechoke(std::int64_t now_ns, core::random_generator& generator) {
  assert(!previous_rechoke_ns_ || now_ns > *previous_rechoke_ns_);
  assert(now_ns >= now_ns_);
  now_ns_ = now_ns;
  for (requester_entry& entry : requesters_) {
    choker_.set_interested(entry.id, is_interested(entry));
    entry.offered_this_round = false;
  }
  rechoke_result result;
  if (!config_.chokes) {
    previous_rechoke_ns_ = now_ns;
    next_rechoke_ns_ = now_ns + config_.choking.rechoke_interval_ns;
    return result;
  }
  const std::vector<core::node_id> before = choker_.unchoked();
  const std::vector<core::node_id> after = choker_.rechoke(now_ns, generator);
  result.changes = diff_unchoked(before, after);

  // Both `after` and requesters_ are sorted by id: one merge pass.
  auto next_unchoked = after.begin();
  unchoked_count_ = 0;
  for (requester_entry& entry : requesters_) {
    while (next_unchoked != after.end() && *next_unchoked < entry.id)
      ++next_unchoked;
    entry.unchoked = next_unchoked != after.end() && *next_unchoked == entry.id;
    if (entry.unchoked) {
      unchoked_count_ += 1;
      continue;
    }
    result.dropped.insert(result.dropped.end(), entry.queued.begin(), entry.queued.end());
    queued_total_ -= entry.queued.size();
    critical_total_ -= entry.critical;
    entry.critical = 0;
    entry.queued.clear();
  }
  assert(unchoked_count_ == after.size());
  assert(unchoked_count_ <= config_.choking.upload_slots);

  previous_rechoke_ns_ = now_ns;
  next_rechoke_ns_ = now_ns + config_.choking.rechoke_interval_ns;
  return result;
}

std::optional<std::int64_t> upload_queue::next_wakeup() const {
  std::optional<std::int64_t> wakeup;
  for (const upload_transfer& transfer : running_)
    if (!wakeup || transfer.finish_ns < *wakeup)
      wakeup = transfer.finish_ns;
  const bool rechoke_matters =
      std::any_of(requesters_.begin(), requesters_.end(), [this](const requester_entry& entry) {
        return entry.unchoked || is_interested(entry);
      });
  if (config_.chokes && rechoke_matters && (!wakeup || next_rechoke_ns_ < *wakeup))
    wakeup = next_rechoke_ns_;
  return wakeup;
}

std::size_t upload_queue::queued_count(const core::node_id& requester) const noexcept {
  const requester_entry* entry = find(requester);
  return entry == nullptr ? 0 : entry->queued.size();
}

std::size_t upload_queue::critical_count(const core::node_id& requester) const noexcept {
  const requester_entry* entry = find(requester);
  return entry == nullptr ? 0 : entry->critical;
}

bool upload_queue::is_unchoked(const core::node_id& requester) const noexcept {
  const requester_entry* entry = find(requester);
  return entry != nullptr && entry->unchoked;
}

std::optional<std::uint64_t>
upload_queue::bytes_served(const core::node_id& requester) const noexcept {
  const requester_entry* entry = find(requester);
  if (entry == nullptr)
    return std::nullopt;
  return entry->bytes_served;
}

} // namespace stakecast::peer
