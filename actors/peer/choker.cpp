#include "actors/peer/choker.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>

namespace stakecast::peer {

namespace {

std::uint64_t saturating_add(std::uint64_t total, std::uint64_t bytes) noexcept {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  return bytes > max - total ? max : total + bytes;
}

double smoothed(double previous_rate, double sample_rate, double smoothing) noexcept {
  return smoothing * sample_rate + (1.0 - smoothing) * previous_rate;
}

} // namespace

choke_changes diff_unchoked(std::span<const core::node_id> before,
                            std::span<const core::node_id> after) {
  assert(std::is_sorted(before.begin(), before.end()));
  assert(std::is_sorted(after.begin(), after.end()));
  choke_changes changes;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(changes.to_choke));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(changes.to_unchoke));
  return changes;
}

choker::choker(choker_config config) : config_(config) {
  assert(config_.is_valid());
  peers_.reserve(choker_config::peers_max);
}

choker::peer_entry* choker::find(const core::node_id& peer) noexcept {
  const auto index = index_of(peer);
  return index ? &peers_[*index] : nullptr;
}

const choker::peer_entry* choker::find(const core::node_id& peer) const noexcept {
  const auto index = index_of(peer);
  return index ? &peers_[*index] : nullptr;
}

std::optional<std::size_t> choker::index_of(const core::node_id& peer) const noexcept {
  const auto at = std::lower_bound(peers_.begin(), peers_.end(), peer,
                                   [](const peer_entry& entry, const core::node_id& id) {
                                     return entry.id < id;
                                   });
  if (at == peers_.end() || at->id != peer)
    return std::nullopt;
  return static_cast<std::size_t>(at - peers_.begin());
}

bool choker::add_peer(const core::node_id& peer) {
  if (peers_.size() >= choker_config::peers_max)
    return false;
  const auto at = std::lower_bound(peers_.begin(), peers_.end(), peer,
                                   [](const peer_entry& entry, const core::node_id& id) {
                                     return entry.id < id;
                                   });
  if (at != peers_.end() && at->id == peer)
    return false;
  peers_.insert(at, peer_entry{.id = peer, .added_round = round_});
  assert(peers_.size() <= choker_config::peers_max);
  return true;
}

bool choker::remove_peer(const core::node_id& peer) {
  const auto index = index_of(peer);
  if (!index)
    return false;
  peers_.erase(peers_.begin() + static_cast<std::ptrdiff_t>(*index));
  if (optimistic_ == peer)
    optimistic_.reset();
  return true;
}

bool choker::set_interested(const core::node_id& peer, bool interested) {
  peer_entry* entry = find(peer);
  if (entry == nullptr)
    return false;
  entry->interested = interested;
  return true;
}

bool choker::record_download(const core::node_id& peer, std::uint64_t bytes) {
  peer_entry* entry = find(peer);
  if (entry == nullptr)
    return false;
  entry->downloaded_bytes = saturating_add(entry->downloaded_bytes, bytes);
  return true;
}

bool choker::record_upload(const core::node_id& peer, std::uint64_t bytes) {
  peer_entry* entry = find(peer);
  if (entry == nullptr)
    return false;
  entry->uploaded_bytes = saturating_add(entry->uploaded_bytes, bytes);
  return true;
}

std::vector<core::node_id> choker::rechoke(std::int64_t now_ns,
                                           core::random_generator& generator) {
  update_rates(now_ns);
  const std::vector<std::size_t> chosen = config_.policy == choke_policy::tit_for_tat
                                            ? choose_tit_for_tat(generator)
                                            : choose_round_robin();
  assert(chosen.size() <= config_.upload_slots);
  apply(chosen);
  round_ += 1;
  std::vector<core::node_id> result = unchoked();
  assert(result.size() == chosen.size());
  return result;
}

std::vector<core::node_id> choker::unchoked() const {
  std::vector<core::node_id> result;
  for (const peer_entry& entry : peers_)
    if (entry.unchoked)
      result.push_back(entry.id);
  return result;
}

bool choker::contains(const core::node_id& peer) const noexcept {
  return index_of(peer).has_value();
}

bool choker::is_interested(const core::node_id& peer) const noexcept {
  const peer_entry* entry = find(peer);
  return entry != nullptr && entry->interested;
}

std::optional<double> choker::download_rate(const core::node_id& peer) const noexcept {
  const peer_entry* entry = find(peer);
  if (entry == nullptr)
    return std::nullopt;
  return entry->download_rate;
}

std::optional<double> choker::upload_rate(const core::node_id& peer) const noexcept {
  const peer_entry* entry = find(peer);
  if (entry == nullptr)
    return std::nullopt;
  return entry->upload_rate;
}

void choker::update_rates(std::int64_t now_ns) {
  assert(!previous_rechoke_ns_ || now_ns > *previous_rechoke_ns_);
  const std::int64_t elapsed_ns =
    previous_rechoke_ns_ ? now_ns - *previous_rechoke_ns_ : config_.rechoke_interval_ns;
  // Where asserts are compiled out, a clock that stood still must not divide by 0.
  const double elapsed_seconds = static_cast<double>(std::max<std::int64_t>(elapsed_ns, 1)) / 1e9;
  previous_rechoke_ns_ = now_ns;
  for (peer_entry& entry : peers_) {
    entry.download_rate =
      smoothed(entry.download_rate, static_cast<double>(entry.downloaded_bytes) / elapsed_seconds,
               config_.rate_smoothing);
    entry.upload_rate =
      smoothed(entry.upload_rate, static_cast<double>(entry.uploaded_bytes) / elapsed_seconds,
               config_.rate_smoothing);
    entry.downloaded_bytes = 0;
    entry.uploaded_bytes = 0;
  }
}

// Indices of the interested peers but `excluded`, in node-id order.
std::vector<std::size_t> choker::interested_except(std::optional<std::size_t> excluded) const {
  std::vector<std::size_t> result;
  for (std::size_t index = 0; index < peers_.size(); ++index)
    if (peers_[index].interested && index != excluded)
      result.push_back(index);
  return result;
}

bool choker::optimistic_due() const noexcept {
  if (!optimistic_)
    return true;
  const peer_entry* entry = find(*optimistic_);
  if (entry == nullptr || !entry->interested)
    return true;
  return round_ - optimistic_since_round_ >= config_.optimistic_rounds;
}

std::vector<std::size_t> choker::choose_tit_for_tat(core::random_generator& generator) {
  const bool rotate = optimistic_due();
  // A held optimistic peer keeps its slot and stays out of the regular ranking, so
  // the regular slots always go to others.
  const std::optional<std::size_t> held = rotate ? std::nullopt : index_of(*optimistic_);
  std::vector<std::size_t> candidates = interested_except(held);

  // Fastest uploaders first. Equal rates (in practice: peers that sent nothing) go
  // to the one unchoked least recently, so idle regular slots rotate among them;
  // node ids make the order total.
  const auto faster = [this](std::size_t left, std::size_t right) {
    const peer_entry& a = peers_[left];
    const peer_entry& b = peers_[right];
    if (a.download_rate != b.download_rate)
      return a.download_rate > b.download_rate;
    if (a.unchoke_serial != b.unchoke_serial)
      return a.unchoke_serial < b.unchoke_serial;
    return a.id < b.id;
  };
  std::sort(candidates.begin(), candidates.end(), faster);
  const std::size_t regular_count = std::min(config_.upload_slots - 1, candidates.size());
  std::vector<std::size_t> chosen(candidates.begin(),
                                  candidates.begin() + static_cast<std::ptrdiff_t>(regular_count));

  if (held) {
    chosen.push_back(*held);
    return chosen;
  }
  std::vector<std::size_t> rest(candidates.begin() + static_cast<std::ptrdiff_t>(regular_count),
                                candidates.end());
  std::sort(rest.begin(), rest.end()); // node-id order, for a reproducible draw
  const std::optional<std::size_t> drawn = draw_optimistic(rest, generator);
  optimistic_since_round_ = round_;
  if (!drawn) {
    optimistic_.reset();
    return chosen;
  }
  optimistic_ = peers_[*drawn].id;
  chosen.push_back(*drawn);
  return chosen;
}

// One of `candidates` at random, new peers weighted `new_peer_weight`; the outgoing
// optimistic peer only when it is the sole candidate, so the slot really rotates.
std::optional<std::size_t> choker::draw_optimistic(std::span<const std::size_t> candidates,
                                                   core::random_generator& generator) const {
  const auto outgoing = optimistic_ ? index_of(*optimistic_) : std::nullopt;
  const bool skip_outgoing =
    outgoing && candidates.size() > 1 &&
    std::find(candidates.begin(), candidates.end(), *outgoing) != candidates.end();

  const auto weight = [&](std::size_t index) -> std::uint64_t {
    if (skip_outgoing && index == *outgoing)
      return 0;
    const bool is_new = round_ - peers_[index].added_round < config_.new_peer_rounds;
    return is_new ? choker_config::new_peer_weight : 1;
  };
  std::uint64_t total = 0;
  for (const std::size_t index : candidates)
    total += weight(index);
  if (total == 0)
    return std::nullopt;

  std::uint64_t ticket = generator.uniform(total);
  for (const std::size_t index : candidates) {
    const std::uint64_t share = weight(index);
    if (ticket < share)
      return index;
    ticket -= share;
  }
  assert(false && "the ticket is below the total weight");
  return std::nullopt;
}

std::vector<std::size_t> choker::choose_round_robin() const {
  std::vector<std::size_t> candidates = interested_except(std::nullopt);
  const auto served_earlier = [this](std::size_t left, std::size_t right) {
    const peer_entry& a = peers_[left];
    const peer_entry& b = peers_[right];
    if (a.unchoke_serial != b.unchoke_serial)
      return a.unchoke_serial < b.unchoke_serial;
    return a.id < b.id;
  };
  const std::size_t count = std::min(config_.upload_slots, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count),
                    candidates.end(), served_earlier);
  candidates.resize(count);
  return candidates;
}

void choker::apply(std::span<const std::size_t> chosen) {
  for (peer_entry& entry : peers_)
    entry.unchoked = false;
  for (const std::size_t index : chosen) {
    assert(peers_[index].interested);
    assert(!peers_[index].unchoked && "a peer holds one slot at most");
    peers_[index].unchoked = true;
    unchoke_serials_ += 1;
    peers_[index].unchoke_serial = unchoke_serials_;
  }
}

} // namespace stakecast::peer
