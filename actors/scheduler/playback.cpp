#include "actors/scheduler/playback.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace stakecast::scheduler {

namespace {

bool by_id(const auto& entry, const core::node_id& id) {
  return entry.id < id;
}

} // namespace

double qoe_report::rebuffer_ratio() const noexcept {
  const auto total = played_ns + stall_ns;
  return total <= 0 ? 0.0 : static_cast<double>(stall_ns) / static_cast<double>(total);
}

double qoe_report::continuity_index() const noexcept {
  if (played_segments == 0)
    return 1.0;
  return static_cast<double>(played_segments - late_segments) /
         static_cast<double>(played_segments);
}

double qoe_report::offload_ratio() const noexcept {
  const auto total = bytes_from_masternodes + bytes_from_viewers;
  return total == 0 ? 0.0 : static_cast<double>(bytes_from_viewers) / static_cast<double>(total);
}

playback::playback(playback_config config, std::vector<segment_info> segments,
                   segment_index start_segment, std::int64_t now_ns)
    : config_(config), segments_(std::move(segments)), now_ns_(now_ns), session_start_ns_(now_ns) {
  assert(config_.is_valid());
  assert(!segments_.empty());
  assert(segments_.size() <= playback_config::segments_max);
  assert(start_segment < segments_.size());
  starts_ns_.reserve(segments_.size() + 1);
  starts_ns_.push_back(0);
  for (const auto& segment : segments_) {
    assert(segment.duration_ns > 0);
    assert(segment.duration_ns <= playback_config::segment_duration_ns_max);
    starts_ns_.push_back(starts_ns_.back() + segment.duration_ns);
  }
  flags_.assign(segments_.size(), 0);
  sources_.reserve(playback_config::sources_max);
  in_flight_.reserve(config_.outstanding_total_max);
  playhead_ns_ = starts_ns_[start_segment];
}

// ---- queries ----

segment_index playback::segment_at(std::int64_t position_ns) const noexcept {
  const auto after = std::upper_bound(starts_ns_.begin(), starts_ns_.end(), position_ns);
  const auto index = static_cast<std::size_t>(after - starts_ns_.begin()) - 1;
  return static_cast<segment_index>(std::min(index, segments_.size()));
}

// End (media time) of the run of received segments that holds the playhead.
std::int64_t playback::contiguous_end_ns() const noexcept {
  auto segment = segment_at(playhead_ns_);
  while (segment < segments_.size() && received(segment))
    ++segment;
  return starts_ns_[segment];
}

std::int64_t playback::buffer_needed_ns() const noexcept {
  // Starting (first time or after a seek) needs the startup buffer; a stall, the resume one.
  return state_ == playback_state::stalled ? config_.resume_buffer_ns : config_.startup_buffer_ns;
}

std::int64_t playback::deadline_ns(segment_index segment) const noexcept {
  const auto offset = starts_ns_[segment] - playhead_ns_;
  if (state_ == playback_state::playing)
    return now_ns_ + offset;
  const auto missing =
      std::max<std::int64_t>(0, buffer_needed_ns() - (contiguous_end_ns() - playhead_ns_));
  return now_ns_ + missing + offset;
}

bool playback::has_segment(segment_index segment) const noexcept {
  return segment < segments_.size() && received(segment);
}

playback::source_entry* playback::find_source(const core::node_id& source) noexcept {
  const auto at = std::lower_bound(sources_.begin(), sources_.end(), source, by_id<source_entry>);
  return at != sources_.end() && at->id == source ? &*at : nullptr;
}

const playback::source_entry* playback::find_source(const core::node_id& source) const noexcept {
  const auto at = std::lower_bound(sources_.begin(), sources_.end(), source, by_id<source_entry>);
  return at != sources_.end() && at->id == source ? &*at : nullptr;
}

std::size_t playback::outstanding(const core::node_id& source) const noexcept {
  const auto* entry = find_source(source);
  return entry ? entry->outstanding : 0;
}

bool playback::is_bad(const core::node_id& source) const noexcept {
  return std::find(bad_sources_.begin(), bad_sources_.end(), source) != bad_sources_.end();
}

bool playback::holds(const source_entry& source, segment_index segment) noexcept {
  if (source.kind == source_kind::masternode)
    return true;
  return std::any_of(source.ranges.begin(), source.ranges.end(), [&](const segment_range& range) {
    return range.first <= segment && segment < range.end;
  });
}

bool playback::is_excluded(segment_index segment, const core::node_id& source) const noexcept {
  return std::any_of(exclusions_.begin(), exclusions_.end(), [&](const exclusion& entry) {
    return entry.segment == segment && entry.source == source && now_ns_ < entry.until_ns;
  });
}

std::size_t playback::copies_in_flight(segment_index segment,
                                       bool& any_to_masternode) const noexcept {
  std::size_t copies = 0;
  any_to_masternode = false;
  for (const auto& request : in_flight_) {
    if (request.segment != segment)
      continue;
    ++copies;
    any_to_masternode = any_to_masternode || request.kind == source_kind::masternode;
  }
  return copies;
}

std::size_t playback::viewer_holders(segment_index segment) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(sources_.begin(), sources_.end(), [&](const source_entry& source) {
        return source.kind == source_kind::viewer && holds(source, segment);
      }));
}

bool playback::masternode_may_serve(segment_index segment) const noexcept {
  return std::any_of(sources_.begin(), sources_.end(), [&](const source_entry& source) {
    return source.kind == source_kind::masternode && !is_busy(source, is_critical(segment)) &&
           !is_excluded(segment, source.id);
  });
}

bool playback::is_busy(const source_entry& source, bool critical) const noexcept {
  return now_ns_ < (critical ? source.critical_busy_until_ns : source.busy_until_ns);
}

bool playback::critical_in_flight(segment_index segment) const noexcept {
  return std::any_of(in_flight_.begin(), in_flight_.end(), [&](const request_entry& request) {
    return request.segment == segment && request.critical;
  });
}

bool playback::is_critical(segment_index segment) const noexcept {
  return config_.critical_ns > 0 && deadline_ns(segment) - now_ns_ <= config_.critical_ns;
}

qoe_report playback::qoe() const {
  auto report = qoe_;
  if (state_ == playback_state::stalled) {
    report.stall_ns += now_ns_ - stall_started_ns_;
    report.longest_stall_ns = std::max(report.longest_stall_ns, now_ns_ - stall_started_ns_);
  }
  if (state_ == playback_state::starting && qoe_.startup_delay_ns)
    report.seek_wait_ns += now_ns_ - seek_started_ns_;
  return report;
}

// ---- sources ----

bool playback::add_source(const core::node_id& source, source_kind kind) {
  if (sources_.size() >= playback_config::sources_max || is_bad(source))
    return false;
  const auto at = std::lower_bound(sources_.begin(), sources_.end(), source, by_id<source_entry>);
  if (at != sources_.end() && at->id == source)
    return false;
  sources_.insert(at, source_entry{.id = source, .kind = kind, .ranges = {}, .outstanding = 0});
  assert(sources_.size() <= playback_config::sources_max);
  return true;
}

bool playback::remove_source(std::int64_t now_ns, const core::node_id& source) {
  advance(now_ns);
  const auto at = std::lower_bound(sources_.begin(), sources_.end(), source, by_id<source_entry>);
  if (at == sources_.end() || at->id != source)
    return false;
  sources_.erase(at);
  std::erase_if(in_flight_, [&](const request_entry& request) { return request.source == source; });
  return true;
}

bool playback::set_have_ranges(const core::node_id& source, std::span<const segment_range> ranges) {
  auto* entry = find_source(source);
  if (entry == nullptr || entry->kind != source_kind::viewer)
    return false;
  const auto count = static_cast<segment_index>(segments_.size());
  entry->ranges.clear();
  for (const auto& range : ranges) {
    if (entry->ranges.size() >= playback_config::have_ranges_max)
      break;
    const auto end = std::min(range.end, count);
    if (range.first < end)
      entry->ranges.push_back({range.first, end});
  }
  return true;
}

// ---- playback clock ----

void playback::advance(std::int64_t now_ns) {
  assert(now_ns >= now_ns_);
  if (state_ == playback_state::playing) {
    const auto boundary_ns = contiguous_end_ns();
    const auto boundary_wall_ns = now_ns_ + (boundary_ns - playhead_ns_);
    const auto until_ns = std::min(now_ns, boundary_wall_ns);
    const auto position_ns = playhead_ns_ + (until_ns - now_ns_);
    count_played(playhead_ns_, position_ns);
    qoe_.played_ns += until_ns - now_ns_;
    playhead_ns_ = position_ns;
    now_ns_ = until_ns;
    if (now_ns >= boundary_wall_ns) {
      if (boundary_ns == starts_ns_.back()) {
        finish();
      } else {
        state_ = playback_state::stalled;
        stall_started_ns_ = boundary_wall_ns;
        ++qoe_.stall_count;
        flags_[segment_at(boundary_ns)] |= late_flag;
      }
    }
  }
  now_ns_ = now_ns;
}

// Segments whose playback began while the playhead moved from `from_ns` to `to_ns`
// (a segment begins once the playhead is strictly inside it, so a stall at its start
// does not count it).
void playback::count_played(std::int64_t from_ns, std::int64_t to_ns) {
  for (auto segment = segment_at(from_ns);
       segment < segments_.size() && starts_ns_[segment] < to_ns; ++segment) {
    if ((flags_[segment] & played_flag) != 0)
      continue;
    flags_[segment] |= played_flag;
    ++qoe_.played_segments;
    if ((flags_[segment] & late_flag) != 0)
      ++qoe_.late_segments;
  }
}

void playback::try_start() {
  if (state_ != playback_state::starting && state_ != playback_state::stalled)
    return;
  const auto end_ns = contiguous_end_ns();
  if (end_ns - playhead_ns_ < buffer_needed_ns() && end_ns != starts_ns_.back())
    return;
  end_waits();
  if (!qoe_.startup_delay_ns)
    qoe_.startup_delay_ns = now_ns_ - session_start_ns_;
  state_ = playback_state::playing;
}

// Closes the books on an ongoing stall or seek wait at now_ns_.
void playback::end_waits() {
  if (state_ == playback_state::stalled) {
    qoe_.stall_ns += now_ns_ - stall_started_ns_;
    qoe_.longest_stall_ns = std::max(qoe_.longest_stall_ns, now_ns_ - stall_started_ns_);
  }
  if (state_ == playback_state::starting && qoe_.startup_delay_ns)
    qoe_.seek_wait_ns += now_ns_ - seek_started_ns_;
}

void playback::finish() {
  end_waits();
  state_ = playback_state::finished;
  cancel_where([](const request_entry&) { return true; });
}

// ---- requests ----

std::optional<playback::request_entry> playback::take_in_flight(request_id id) {
  const auto at = std::find_if(in_flight_.begin(), in_flight_.end(),
                               [&](const request_entry& request) { return request.id == id; });
  if (at == in_flight_.end())
    return std::nullopt;
  auto request = *at;
  in_flight_.erase(at);
  if (auto* source = find_source(request.source)) {
    assert(source->outstanding > 0);
    --source->outstanding;
  }
  return request;
}

void playback::retire(const request_entry& request) {
  if (retired_.size() >= playback_config::retired_max)
    retired_.erase(retired_.begin());
  retired_.push_back(request);
}

void playback::cancel(const request_entry& request) {
  outbox_.push_back(cancel_action{.id = request.id, .source = request.source});
  ++qoe_.cancels;
  retire(request);
}

template <class Predicate> void playback::cancel_where(Predicate predicate) {
  std::vector<request_id> chosen;
  for (const auto& request : in_flight_)
    if (predicate(request))
      chosen.push_back(request.id);
  for (const auto id : chosen)
    cancel(*take_in_flight(id));
}

void playback::exclude(segment_index segment, const core::node_id& source,
                       std::int64_t duration_ns) {
  const auto until_ns = now_ns_ + duration_ns;
  for (auto& entry : exclusions_) {
    if (entry.segment == segment && entry.source == source) {
      entry.until_ns = std::max(entry.until_ns, until_ns);
      return;
    }
  }
  if (exclusions_.size() >= playback_config::exclusions_max) {
    const auto first_to_end = std::min_element(
        exclusions_.begin(), exclusions_.end(),
        [](const exclusion& a, const exclusion& b) { return a.until_ns < b.until_ns; });
    exclusions_.erase(first_to_end);
  }
  exclusions_.push_back({segment, source, until_ns});
  assert(exclusions_.size() <= playback_config::exclusions_max);
}

void playback::mark_bad(const core::node_id& source) {
  if (!is_bad(source)) {
    if (bad_sources_.size() >= playback_config::bad_sources_max)
      bad_sources_.erase(bad_sources_.begin());
    bad_sources_.push_back(source);
  }
  cancel_where([&](const request_entry& request) { return request.source == source; });
  const auto at = std::lower_bound(sources_.begin(), sources_.end(), source, by_id<source_entry>);
  if (at != sources_.end() && at->id == source)
    sources_.erase(at);
}

void playback::expire_timeouts() {
  cancel_where([&](const request_entry& request) {
    if (now_ns_ < request.timeout_at_ns)
      return false;
    ++qoe_.timeouts;
    exclude(request.segment, request.source, config_.exclusion_ns);
    return true;
  });
}

void playback::issue(segment_index segment, const source_entry& source) {
  assert(in_flight_.size() < config_.outstanding_total_max);
  assert(source.outstanding < config_.outstanding_per_source_max);
  const auto id = next_request_id_++;
  const bool critical = is_critical(segment);
  in_flight_.push_back({.id = id,
                        .segment = segment,
                        .source = source.id,
                        .kind = source.kind,
                        .timeout_at_ns = now_ns_ + (source.kind == source_kind::viewer
                                                                    ? config_.viewer_request_timeout_ns
                                                                    : config_.request_timeout_ns),
                        .critical = critical});
  ++find_source(source.id)->outstanding;
  ++qoe_.requests;
  outbox_.push_back(
      request_action{.id = id, .segment = segment, .source = source.id, .critical = critical});
}

const playback::source_entry* playback::choose_masternode(segment_index segment,
                                                          bool critical) const {
  const source_entry* best = nullptr;
  for (const auto& source : sources_) { // node-id order: the first of equals wins
    if (source.kind != source_kind::masternode ||
        source.outstanding >= config_.outstanding_per_source_max || is_busy(source, critical) ||
        is_excluded(segment, source.id))
      continue;
    if (best == nullptr || source.outstanding < best->outstanding)
      best = &source;
  }
  return best;
}

const playback::source_entry* playback::choose_viewer(segment_index segment, bool urgent,
                                                      core::random_generator& generator) const {
  std::vector<const source_entry*> least_loaded;
  const bool critical = is_critical(segment);
  for (const auto& source : sources_) {
    if (source.kind != source_kind::viewer ||
        source.outstanding >= config_.outstanding_per_source_max || is_busy(source, critical) ||
        (!urgent && now_ns_ < source.choked_until_ns) || !holds(source, segment) ||
        is_excluded(segment, source.id))
      continue;
    if (!least_loaded.empty() && source.outstanding > least_loaded.front()->outstanding)
      continue;
    if (!least_loaded.empty() && source.outstanding < least_loaded.front()->outstanding)
      least_loaded.clear();
    least_loaded.push_back(&source);
  }
  if (least_loaded.empty())
    return nullptr;
  if (least_loaded.size() == 1)
    return least_loaded.front();
  return least_loaded[generator.uniform(least_loaded.size())];
}

void playback::plan(core::random_generator& generator) {
  std::vector<segment_index> to_masternodes; // urgent, in deadline order
  std::vector<candidate> to_viewers;
  for (auto segment = segment_at(playhead_ns_);
       segment < segments_.size() && starts_ns_[segment] - playhead_ns_ <= config_.window_ns;
       ++segment) {
    if (received(segment))
      continue;
    const auto slack_ns = deadline_ns(segment) - now_ns_;
    const bool waiting_for = !config_.startup_segments_first ||
                             state_ == playback_state::playing ||
                             starts_ns_[segment] - playhead_ns_ < buffer_needed_ns();
    const bool urgent = slack_ns <= config_.urgent_ns && waiting_for;
    bool any_to_masternode = false;
    const auto copies = copies_in_flight(segment, any_to_masternode);
    const auto holders = urgent ? 0 : viewer_holders(segment);
    // Not before playback starts: the startup segments would share the downlink with
    // seeded ones and arrive later.
    const bool seeding = state_ == playback_state::playing && !urgent &&
                         slack_ns <= config_.seed_ns && holders == 0;
    const bool masternode_usable = (urgent || seeding) && masternode_may_serve(segment);
    if (copies == 0 && masternode_usable)
      to_masternodes.push_back(segment);
    else if (copies == 0)
      to_viewers.push_back({segment, urgent, holders});
    else if (copies == 1 && !any_to_masternode && urgent && masternode_usable && config_.endgame)
      to_masternodes.push_back(segment);
    else if (copies == 1 && urgent && masternode_usable && config_.endgame &&
             is_critical(segment) && !critical_in_flight(segment))
      to_masternodes.push_back(segment); // the copy asked early may sit in a long queue
  }
  for (const auto segment : to_masternodes) {
    if (in_flight_.size() >= config_.outstanding_total_max)
      return;
    if (const auto* source = choose_masternode(segment, is_critical(segment)))
      issue(segment, *source);
  }
  // Urgent ones first by deadline, then rarest first, then by deadline; segment order
  // is deadline order.
  std::sort(to_viewers.begin(), to_viewers.end(), [](const candidate& a, const candidate& b) {
    if (a.urgent != b.urgent)
      return a.urgent;
    if (a.viewer_holders != b.viewer_holders)
      return a.viewer_holders < b.viewer_holders;
    return a.segment < b.segment;
  });
  const auto viewer_requests_max = config_.outstanding_total_max - config_.urgent_reserve;
  auto viewer_requests = static_cast<std::size_t>(
    std::count_if(in_flight_.begin(), in_flight_.end(),
                  [](const request_entry& request) { return request.kind == source_kind::viewer; }));
  // Before playback starts, segments it does not wait for share the downlink with
  // those it does: at most ahead_while_starting_max of them at once.
  const bool starting = state_ == playback_state::starting;
  const auto is_ahead = [&](segment_index segment) {
    return starts_ns_[segment] - playhead_ns_ >= buffer_needed_ns();
  };
  auto ahead = static_cast<std::size_t>(std::count_if(
      in_flight_.begin(), in_flight_.end(),
      [&](const request_entry& request) { return is_ahead(request.segment); }));
  for (const auto& entry : to_viewers) {
    if (in_flight_.size() >= config_.outstanding_total_max || viewer_requests >= viewer_requests_max)
      return;
    if (starting && is_ahead(entry.segment) && ahead >= config_.ahead_while_starting_max)
      continue;
    if (!entry.urgent && entry.viewer_holders == 0)
      continue; // waits until urgent, then goes to a masternode
    if (const auto* source = choose_viewer(entry.segment, entry.urgent, generator)) {
      issue(entry.segment, *source);
      ++viewer_requests;
      ahead += is_ahead(entry.segment) ? 1 : 0;
    }
  }
}

// ---- events ----

arrival playback::on_segment(std::int64_t now_ns, request_id id, bool verified) {
  advance(now_ns);
  if (closed_)
    return arrival::unknown;
  auto request = take_in_flight(id);
  if (!request) {
    const auto at = std::find_if(retired_.begin(), retired_.end(),
                                 [&](const request_entry& entry) { return entry.id == id; });
    if (at == retired_.end())
      return arrival::unknown;
    request = *at;
    retired_.erase(at);
  }
  const auto segment = request->segment;
  if (!verified) {
    ++qoe_.bad_segments;
    mark_bad(request->source);
    return arrival::invalid;
  }
  const auto size_bytes = segments_[segment].size_bytes;
  if (request->kind == source_kind::masternode)
    qoe_.bytes_from_masternodes += size_bytes;
  else
    qoe_.bytes_from_viewers += size_bytes;
  if (received(segment)) {
    qoe_.duplicate_bytes += size_bytes;
    return arrival::duplicate;
  }
  flags_[segment] |= received_flag;
  cancel_where([&](const request_entry& other) { return other.segment == segment; });
  try_start();
  return arrival::accepted;
}

bool playback::on_reject(std::int64_t now_ns, request_id id, refusal why) {
  advance(now_ns);
  const auto request = take_in_flight(id);
  if (!request)
    return false;
  ++qoe_.rejects;
  if (why == refusal::busy || why == refusal::choked) {
    if (auto* source = find_source(request->source)) {
      source->busy_until_ns = std::max(source->busy_until_ns, now_ns_ + config_.busy_backoff_ns);
      if (request->critical)
        source->critical_busy_until_ns =
            std::max(source->critical_busy_until_ns, now_ns_ + config_.busy_backoff_ns);
      if (why == refusal::choked)
        source->choked_until_ns =
            std::max(source->choked_until_ns, now_ns_ + config_.choked_backoff_ns);
    }
  } else {
    exclude(request->segment, request->source, config_.exclusion_ns);
  }
  return true;
}

void playback::seek(std::int64_t now_ns, segment_index segment) {
  assert(segment < segments_.size());
  advance(now_ns);
  if (closed_)
    return;
  end_waits();
  ++qoe_.seek_count;
  state_ = playback_state::starting;
  playhead_ns_ = starts_ns_[segment];
  seek_started_ns_ = now_ns_;
  cancel_where([&](const request_entry& request) {
    return request.segment < segment ||
           starts_ns_[request.segment] - playhead_ns_ > config_.window_ns;
  });
  try_start();
}

void playback::close(std::int64_t now_ns) {
  advance(now_ns);
  if (closed_)
    return;
  closed_ = true;
  if (state_ != playback_state::finished)
    finish();
}

std::vector<action> playback::step(std::int64_t now_ns, core::random_generator& generator) {
  advance(now_ns);
  expire_timeouts();
  std::erase_if(exclusions_, [&](const exclusion& entry) { return entry.until_ns <= now_ns_; });
  if (state_ != playback_state::finished)
    plan(generator);
  assert(in_flight_.size() <= config_.outstanding_total_max);
  return std::exchange(outbox_, {});
}

std::optional<std::int64_t> playback::next_wakeup() const {
  std::optional<std::int64_t> earliest;
  if (state_ == playback_state::finished)
    return earliest; // nothing is in flight and nothing is planned any more
  const auto consider = [&](std::int64_t at_ns) {
    if (!earliest || at_ns < *earliest)
      earliest = at_ns;
  };
  for (const auto& request : in_flight_)
    consider(request.timeout_at_ns);
  for (const auto& entry : exclusions_)
    if (entry.until_ns > now_ns_)
      consider(entry.until_ns);
  for (const auto& source : sources_) {
    if (is_busy(source, false))
      consider(source.busy_until_ns);
    if (is_busy(source, true))
      consider(source.critical_busy_until_ns);
    if (now_ns_ < source.choked_until_ns)
      consider(source.choked_until_ns);
  }
  if (state_ != playback_state::playing)
    return earliest; // deadlines move with the clock: nothing crosses a horizon
  consider(now_ns_ + (contiguous_end_ns() - playhead_ns_));
  // Deadlines are fixed while playing and grow with the segment index: the first
  // missing segment not yet in the window bounds every later crossing.
  for (auto segment = segment_at(playhead_ns_); segment < segments_.size(); ++segment) {
    if (received(segment))
      continue;
    const auto deadline = deadline_ns(segment);
    if (deadline - config_.urgent_ns > now_ns_)
      consider(deadline - config_.urgent_ns);
    if (deadline - config_.critical_ns > now_ns_)
      consider(deadline - config_.critical_ns);
    if (deadline - config_.seed_ns > now_ns_)
      consider(deadline - config_.seed_ns);
    if (deadline - config_.window_ns > now_ns_) {
      consider(deadline - config_.window_ns);
      break;
    }
  }
  return earliest;
}

} // namespace stakecast::scheduler
