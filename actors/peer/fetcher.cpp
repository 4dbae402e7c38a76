#include "actors/peer/fetcher.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "actors/core/content_limits.hpp"

namespace stakecast::peer {

fetcher::fetcher(fetcher_config config) : config_(config) {
  assert(config_.is_valid());
}

void fetcher::add_content(const core::content_id& content, std::uint32_t segment_count,
                          std::vector<core::node_id> sources,
                          const std::vector<std::uint32_t>& held) {
  assert(segment_count >= 1 && segment_count <= limits::segment_count_max);
  assert(!sources.empty() && sources.size() <= sources_max);
  if (contents_.contains(content))
    return;
  assert(contents_.size() < contents_max);
  content_state state;
  state.held.assign(segment_count, false);
  state.busy.assign(segment_count, false);
  state.sources = std::move(sources);
  std::uint64_t held_count = 0;
  for (std::uint32_t segment : held)
    if (segment < segment_count && !state.held[segment]) {
      state.held[segment] = true;
      ++held_count;
    }
  missing_ += segment_count - held_count;
  contents_.emplace(content, std::move(state));
  order_.push_back(content);
}

bool fetcher::knows(const core::content_id& content) const {
  return contents_.contains(content);
}

bool fetcher::held(const core::content_id& content, std::uint32_t segment) const {
  const auto found = contents_.find(content);
  return found != contents_.end() && segment < found->second.held.size() &&
         found->second.held[segment];
}

void fetcher::demand(const core::content_id& content, std::uint32_t segment) {
  const auto found = contents_.find(content);
  if (found == contents_.end() || segment >= found->second.held.size() ||
      found->second.held[segment] || found->second.busy[segment] ||
      demands_.size() >= demands_max)
    return;
  const std::pair<core::content_id, std::uint32_t> wanted{content, segment};
  if (std::find(demands_.begin(), demands_.end(), wanted) == demands_.end())
    demands_.push_back(wanted);
}

std::vector<fetch_request> fetcher::next(std::int64_t now_ns) {
  std::vector<std::pair<core::content_id, std::uint32_t>> expired;
  for (auto at = out_.begin(); at != out_.end();) {
    if (at->second.deadline_ns <= now_ns) {
      expired.emplace_back(at->second.request.content, at->second.request.segment);
      at = out_.erase(at);
    } else {
      ++at;
    }
  }
  for (const auto& [content, segment] : expired)
    fail(content, segment, now_ns, true);
  for (auto& [id, state] : contents_)
    if (state.not_before_ns <= now_ns)
      state.not_before_ns = 0; // over: next_wakeup no longer waits for it
  std::vector<fetch_request> requests;
  while (out_.size() + storing_ < config_.requests_in_flight_max) {
    const auto picked = pick(now_ns);
    if (!picked)
      break;
    requests.push_back(issue(picked->first, picked->second, now_ns));
  }
  return requests;
}

bool fetcher::backing_off(const content_state& state, std::int64_t now_ns) noexcept {
  return now_ns < state.not_before_ns;
}

std::optional<std::pair<core::content_id, std::uint32_t>> fetcher::pick(std::int64_t now_ns) {
  // A segment refused by one source goes to the next at once.
  while (!retries_.empty()) {
    const auto retry = retries_.front();
    retries_.pop_front();
    const content_state& state = contents_.at(retry.first);
    if (!state.held[retry.second] && !state.busy[retry.second] && !backing_off(state, now_ns))
      return retry;
  }
  while (!demands_.empty()) {
    const auto wanted = demands_.front();
    demands_.pop_front();
    const content_state& state = contents_.at(wanted.first);
    if (!state.held[wanted.second] && !state.busy[wanted.second] && !backing_off(state, now_ns))
      return wanted;
  }
  // Each content in turn offers its lowest missing, idle segment; a content whose
  // sources all failed a segment waits out its backoff and leaves the turn to others.
  for (std::size_t tried = 0; tried < order_.size(); ++tried) {
    const core::content_id& content = order_[turn_ % order_.size()];
    ++turn_;
    content_state& state = contents_.at(content);
    if (backing_off(state, now_ns))
      continue;
    while (state.cursor < state.held.size() &&
           (state.held[state.cursor] || state.busy[state.cursor]))
      ++state.cursor;
    if (state.cursor < state.held.size())
      return std::pair{content, state.cursor};
  }
  return std::nullopt;
}

fetch_request fetcher::issue(const core::content_id& content, std::uint32_t segment,
                             std::int64_t now_ns) {
  content_state& state = contents_.at(content);
  state.busy[segment] = true;
  const auto failed_before = state.failures.find(segment);
  const std::uint32_t attempt = failed_before == state.failures.end() ? 0 : failed_before->second;
  fetch_request request{next_id_++, state.sources[attempt % state.sources.size()], content, segment};
  out_.emplace(request.id, outstanding{request, now_ns + config_.request_timeout_ns});
  return request;
}

std::optional<fetch_request> fetcher::take(std::uint64_t id, const core::node_id& from) {
  const auto found = out_.find(id);
  if (found == out_.end() || found->second.request.source != from)
    return std::nullopt;
  fetch_request request = found->second.request;
  out_.erase(found);
  ++storing_; // still in the budget until stored or failed
  return request;
}

void fetcher::stored(const fetch_request& request) {
  assert(storing_ > 0);
  --storing_;
  content_state& state = contents_.at(request.content);
  assert(state.busy[request.segment]);
  state.busy[request.segment] = false;
  state.failures.erase(request.segment);
  if (!state.held[request.segment]) {
    state.held[request.segment] = true;
    --missing_;
  }
}

void fetcher::failed(const fetch_request& request, std::int64_t now_ns) {
  assert(storing_ > 0);
  --storing_;
  fail(request.content, request.segment, now_ns, true);
}

void fetcher::not_stored(const fetch_request& request, std::int64_t now_ns) {
  assert(storing_ > 0);
  --storing_;
  fail(request.content, request.segment, now_ns, false);
}

void fetcher::fail(const core::content_id& content, std::uint32_t segment, std::int64_t now_ns,
                   bool source_failed) {
  content_state& state = contents_.at(content);
  state.busy[segment] = false;
  state.cursor = std::min(state.cursor, segment);
  if (!source_failed) { // our store refused it: the source was fine; try later
    state.not_before_ns = std::max(state.not_before_ns, now_ns + config_.retry_backoff_ns);
    return;
  }
  const std::uint32_t failures = ++state.failures[segment];
  if (failures % state.sources.size() == 0) {
    // Every source failed it in a row: the content waits, the others go on.
    state.not_before_ns = std::max(state.not_before_ns, now_ns + config_.retry_backoff_ns);
    return;
  }
  if (retries_.size() < retries_max)
    retries_.emplace_back(content, segment);
}

std::optional<std::int64_t> fetcher::next_wakeup() const {
  std::optional<std::int64_t> at;
  auto consider = [&](std::int64_t t) { at = at ? std::min(*at, t) : t; };
  for (const auto& entry : out_)
    consider(entry.second.deadline_ns);
  for (const auto& [id, state] : contents_)
    if (state.not_before_ns > 0 && state.cursor < state.held.size())
      consider(state.not_before_ns);
  return at;
}

} // namespace stakecast::peer
