#include "actors/peer/streaming.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "actors/core/merkle.hpp"
#include "actors/peer/actor_time.hpp"

namespace stakecast::peer {

namespace {

using masternode_pointer = masternode_actor::stateful_pointer<masternode_state>;
using viewer_pointer = viewer_actor::stateful_pointer<viewer_state>;

static_assert(limits::have_ranges_count_max <= scheduler::playback_config::have_ranges_max,
              "every announced range fits the scheduler's table");

std::optional<std::int64_t> earliest(std::optional<std::int64_t> a, std::optional<std::int64_t> b) {
  if (!a)
    return b;
  if (!b)
    return a;
  return std::min(*a, *b);
}

/// Keeps one timer at the earliest time asked for: a later request leaves the armed
/// timer (which wakes early and re-arms); an earlier one supersedes it, and the old
/// one fires under a stale generation and is ignored.
template <class Self> void arm(Self self, std::optional<std::int64_t> at) {
  auto& timer = self->state.timer;
  if (!at || (timer.at_ns && *timer.at_ns <= *at))
    return;
  timer.at_ns = *at;
  timer.generation += 1;
  const std::int64_t delay = std::max<std::int64_t>(*at - now_ns(self), 0);
  self->delayed_send(self, std::chrono::nanoseconds(delay), stream_wake_atom::value,
                     timer.generation);
}

/// True when the wake-up of `generation` is the armed one (then it is disarmed).
template <class Self> bool take_wakeup(Self self, std::uint64_t generation) {
  auto& timer = self->state.timer;
  if (generation != timer.generation || !timer.at_ns)
    return false;
  timer.at_ns.reset();
  return true;
}

upload_queue_config queue_config(choke_policy policy, std::size_t upload_slots, double uplink_bps) {
  upload_queue_config config;
  config.choking.policy = policy;
  // Masternodes serve every requester in turn; viewers reciprocate (DESIGN.md).
  config.chokes = policy == choke_policy::tit_for_tat;
  config.choking.upload_slots =
      std::clamp<std::size_t>(upload_slots, 1, choker_config::upload_slots_max);
  // Clamped as a double first, so that no value (NaN included) overflows the cast.
  const double bps = std::isnan(uplink_bps) ? 0.0 : uplink_bps;
  config.uplink_bps = static_cast<std::uint64_t>(
      std::llround(std::clamp(bps, static_cast<double>(upload_queue_config::uplink_bps_min),
                              static_cast<double>(upload_queue_config::uplink_bps_max))));
  assert(config.is_valid());
  return config;
}

/// The segment's size when it can be carried in one message, else nullopt.
std::optional<std::uint32_t> sendable_size(const core::manifest& manifest, std::uint32_t segment) {
  if (segment >= manifest.segments.size())
    return std::nullopt;
  const std::uint32_t size = manifest.segments[segment].size_bytes;
  if (size == 0 || size > limits::payload_bytes_max)
    return std::nullopt;
  return size;
}

/// Whether `body` is segment `segment` of `manifest`: its size, then its subtree root
/// against the piece layer (claimed by a virtual payload, computed from the blocks of
/// a materialized one).
bool verify(const core::manifest& manifest, std::uint32_t segment, const wire::payload& body) {
  if (segment >= manifest.segments.size() ||
      body.size_bytes != manifest.segments[segment].size_bytes || body.size_bytes == 0)
    return false;
  if (body.is_virtual())
    return core::verify_segment(manifest, segment, body.virtual_digest);
  return core::matches_segment(manifest, segment, body.view());
}

wire::segment_reject reject_message(const segment_request& request, wire::reject_reason reason) {
  return {request.content, request.request_id, static_cast<std::uint8_t>(reason)};
}

wire::segment_reject reject_message(const wire::segment_request& request,
                                    wire::reject_reason reason) {
  return {request.content, request.request_id, static_cast<std::uint8_t>(reason)};
}

/// The manifest in `encoded` if it decodes, validates, is `content`'s (its id) and a
/// viewer can play it; else null. Anyone may send a manifest: its id proves it.
manifest_ptr decode_fetched_manifest(const core::content_id& content, const wire::payload& encoded) {
  if (encoded.is_virtual())
    return nullptr;
  auto decoded = core::decode_manifest(encoded.view());
  if (!decoded || core::validate(*decoded) || core::id_of(*decoded) != content ||
      decoded->segments.empty() ||
      decoded->segments.size() > scheduler::playback_config::segments_max ||
      decoded->segment_roots.size() != decoded->segments.size())
    return nullptr;
  return std::make_shared<const core::manifest>(std::move(*decoded));
}

} // namespace

// -- segment_server -----------------------------------------------------------------

segment_server::segment_server(upload_queue_config config, std::int64_t now_ns)
    : queue_(config, now_ns) {
  waiting_.reserve(waiting_max);
}

void segment_server::offer(std::int64_t now_ns, const segment_request& request, outcome& out) {
  const bool held = std::any_of(waiting_.begin(), waiting_.end(), [&](const segment_request& x) {
    return x.requester == request.requester && x.request_id == request.request_id;
  });
  if (!held)
    admit(now_ns, request, true, out);
}

bool segment_server::forget_idle(std::int64_t now_ns) {
  std::vector<core::node_id> idle;
  for (const auto& [requester, last_ns] : last_offer_ns_) {
    const bool running = std::any_of(
        queue_.running().begin(), queue_.running().end(),
        [&](const upload_transfer& transfer) { return transfer.request.requester == requester; });
    const std::int64_t idle_ns = queue_.config().chokes ? requester_idle_ns
                                                        : round_robin_requester_idle_ns;
    if (now_ns - last_ns >= idle_ns && !running && queue_.queued_count(requester) == 0)
      idle.push_back(requester);
  }
  for (const core::node_id& requester : idle) {
    queue_.remove_requester(requester);
    last_offer_ns_.erase(requester);
  }
  return !idle.empty();
}

void segment_server::admit(std::int64_t now_ns, const segment_request& request, bool may_hold,
                           outcome& out) {
  offer_result result = queue_.offer(now_ns, request);
  if (result == offer_result::requesters_full && forget_idle(now_ns))
    result = queue_.offer(now_ns, request);
  if (result == offer_result::requesters_full && request.critical && make_room(out))
    result = queue_.offer(now_ns, request);
  if (result != offer_result::requesters_full)
    last_offer_ns_[request.requester] = now_ns;
  assert(last_offer_ns_.size() <= choker_config::peers_max);
  for (const segment_request& displaced : queue_.take_displaced())
    out.rejects.push_back({displaced, wire::reject_reason::busy});
  switch (result) {
    case offer_result::accepted:
    case offer_result::duplicate_request: // the first copy is being served
      return;
    case offer_result::requester_choked:
      if (may_hold && waiting_.size() < waiting_max &&
          queue_.next_rechoke_ns() - now_ns <= choked_hold_ns_max) {
        waiting_.push_back(request);
        return;
      }
      out.rejects.push_back({request, wire::reject_reason::choked});
      return;
    case offer_result::invalid_size:
      out.rejects.push_back({request, wire::reject_reason::not_held});
      return;
    case offer_result::requesters_full:
    case offer_result::requester_queue_full:
    case offer_result::queue_full:
      out.rejects.push_back({request, wire::reject_reason::busy});
      return;
  }
}

bool segment_server::make_room(outcome& out) {
  if (queue_.config().chokes)
    return false; // a tit-for-tat entry holds rates earned; it is not given away
  std::optional<core::node_id> victim;
  std::size_t victim_queued = 0;
  for (const auto& [requester, last_ns] : last_offer_ns_) { // node-id order
    const bool running = std::any_of(
        queue_.running().begin(), queue_.running().end(),
        [&](const upload_transfer& transfer) { return transfer.request.requester == requester; });
    const std::size_t queued = queue_.queued_count(requester);
    if (running || queue_.critical_count(requester) > 0)
      continue;
    if (!victim || queued < victim_queued) {
      victim = requester;
      victim_queued = queued;
    }
  }
  if (!victim)
    return false;
  for (const segment_request& dropped : queue_.remove_requester(*victim))
    out.rejects.push_back({dropped, wire::reject_reason::busy});
  last_offer_ns_.erase(*victim);
  return true;
}

void segment_server::remove_requester(const core::node_id& requester) {
  queue_.remove_requester(requester);
  last_offer_ns_.erase(requester);
  std::erase_if(waiting_, [&](const segment_request& x) { return x.requester == requester; });
}

void segment_server::cancel(const core::node_id& requester, std::uint64_t request_id) {
  queue_.cancel(requester, request_id);
  std::erase_if(waiting_, [&](const segment_request& x) {
    return x.requester == requester && x.request_id == request_id;
  });
}

void segment_server::run(std::int64_t now_ns, core::random_generator& generator, outcome& out) {
  queue_.finish_due(now_ns);
  if (now_ns >= queue_.next_rechoke_ns() && (!last_rechoke_ns_ || now_ns > *last_rechoke_ns_)) {
    rechoke_result result = queue_.rechoke(now_ns, generator);
    last_rechoke_ns_ = now_ns;
    for (const segment_request& dropped : result.dropped)
      out.rejects.push_back({dropped, wire::reject_reason::choked});
    std::vector<segment_request> held;
    held.swap(waiting_);
    waiting_.reserve(waiting_max);
    for (const segment_request& request : held)
      admit(now_ns, request, false, out);
  }
  std::vector<upload_transfer> started = queue_.start(now_ns);
  out.started.insert(out.started.end(), started.begin(), started.end());
  assert(waiting_.size() <= waiting_max);
}

std::optional<std::int64_t> segment_server::next_wakeup() const {
  std::optional<std::int64_t> at = queue_.next_wakeup();
  if (!waiting_.empty())
    at = earliest(at, queue_.next_rechoke_ns());
  return at;
}

// -- masternode ---------------------------------------------------------------------

namespace {

void send(masternode_pointer self, const core::node_id& to, wire::message message) {
  self->state.context.network->send(to, std::move(message));
}

void masternode_reject(masternode_pointer self, const core::node_id& to,
                       wire::segment_reject message) {
  send(self, to, std::move(message));
  self->state.context.telemetry->add(self->state.metric.rejects, 1);
}

/// Puts `viewer` first among the content's recent viewers, with the furthest segment
/// sent to it (`served`, when this is a transfer).
void remember_viewer(masternode_state& state, masternode_state::hosted_content& content,
                     const core::node_id& viewer, std::optional<std::uint32_t> served) {
  auto& recent = content.recent_viewers;
  const auto known = std::find_if(recent.begin(), recent.end(),
                                  [&](const recent_viewer& entry) { return entry.id == viewer; });
  recent_viewer entry{viewer, served};
  if (known != recent.end()) {
    if (known->furthest_served && (!served || *served < *known->furthest_served))
      entry.furthest_served = known->furthest_served;
    recent.erase(known);
  }
  recent.push_front(entry);
  while (recent.size() > state.config.recent_viewers_max)
    recent.pop_back();
}

/// The peers to give a viewer joining at `position`: first those we sent a segment
/// at or past it (they hold what it will play next), then those we sent anything,
/// then those that only joined, each group most recent first. In a flash crowd the
/// newest joiners hold nothing; the viewers served lately do.
std::vector<core::node_id> peers_for(const masternode_state::hosted_content& content,
                                     const core::node_id& asker, std::uint32_t position) {
  std::vector<core::node_id> peers;
  auto take = [&](auto&& wanted) {
    for (const recent_viewer& entry : content.recent_viewers) {
      if (peers.size() >= limits::peer_list_count_max)
        return;
      if (entry.id != asker && wanted(entry))
        peers.push_back(entry.id);
    }
  };
  take([&](const recent_viewer& entry) {
    return entry.furthest_served && *entry.furthest_served >= position;
  });
  take([&](const recent_viewer& entry) {
    return entry.furthest_served && *entry.furthest_served < position;
  });
  take([&](const recent_viewer& entry) { return !entry.furthest_served; });
  return peers;
}

bool holds(const masternode_state& state, const masternode_state::hosted_content& content,
           const core::content_id& id, std::uint32_t segment) {
  return content.whole || (state.fetching && state.fetching->held(id, segment));
}

/// Every held request for (content, segment) is offered to the server, now that the
/// segment is stored (or refused, when the fetch failed for good).
std::vector<segment_request> release_held(masternode_state& state, const core::content_id& content,
                                          std::uint32_t segment) {
  const auto found = state.held.find({content, segment});
  if (found == state.held.end())
    return {};
  std::vector<segment_request> released;
  for (const auto& entry : found->second)
    released.push_back(entry.request);
  state.held.erase(found);
  state.held_count -= released.size();
  return released;
}

/// Drops the held requests that match `drop` (their requesters get what `out` says).
template <class Predicate>
void drop_held(masternode_state& state, Predicate drop) {
  for (auto at = state.held.begin(); at != state.held.end();) {
    auto& requests = at->second;
    const auto before = requests.size();
    std::erase_if(requests, drop);
    state.held_count -= before - requests.size();
    at = requests.empty() ? state.held.erase(at) : std::next(at);
  }
}

/// Held requests older than held_request_ns are refused as busy; returns when the
/// next one will be.
std::optional<std::int64_t> expire_held(masternode_state& state, std::int64_t now,
                                        segment_server::outcome& out) {
  std::optional<std::int64_t> next;
  drop_held(state, [&](const masternode_state::held_request& entry) {
    const auto expires = entry.since_ns + masternode_state::held_request_ns;
    if (expires <= now) {
      out.rejects.push_back({entry.request, wire::reject_reason::busy});
      return true;
    }
    next = earliest(next, expires);
    return false;
  });
  return next;
}

/// A stored segment's bytes, read once for the viewers asking for it together.
std::optional<wire::payload> read_stored(masternode_state& state, const core::content_id& content,
                                         std::uint32_t segment) {
  auto& recent = state.recent_reads;
  for (const auto& [held_content, held_segment, body] : recent)
    if (held_segment == segment && held_content == content)
      return body;
  auto body = storage::read_segment(*state.context.storage, content, segment);
  if (body) {
    recent.emplace_front(content, segment, *body);
    if (recent.size() > masternode_state::recent_reads_max)
      recent.pop_back();
  }
  return body;
}

/// Runs the server and the fetcher and sends what they decided, then re-arms the
/// timer at the earliest wakeup of either.
void masternode_pump(masternode_pointer self, segment_server::outcome out = {}) {
  auto& state = self->state;
  const std::int64_t now = now_ns(self);
  const std::optional<std::int64_t> held_expiry =
      state.held_count > 0 ? expire_held(state, now, out) : std::nullopt;
  state.server->run(now, state.generator, out);
  for (const upload_transfer& transfer : out.started) {
    const segment_request& request = transfer.request;
    const auto found = state.hosted.find(request.content);
    assert(found != state.hosted.end());
    const core::manifest& manifest = *found->second.manifest;
    // The stored bytes (the real node's); else the simulator's stand-in: only its size
    // and the root an honest sender claims. A poisoning masternode claims another
    // root, which fails verification as wrong bytes would.
    std::optional<wire::payload> body;
    if (state.config.stored_payloads && state.context.storage != nullptr && !state.config.poison)
      body = read_stored(state, request.content, request.segment);
    if (!body || body->size_bytes != request.size_bytes) {
      core::hash256 digest = manifest.segment_roots[request.segment];
      if (state.config.poison)
        digest.bytes[0] ^= 0xff;
      body = wire::payload::virtual_of(request.size_bytes, digest);
    }
    send(self, request.requester,
         wire::segment_data{request.content, request.segment, request.request_id, std::move(*body)});
    state.context.telemetry->add(state.metric.egress_bytes, request.size_bytes);
    const auto& sources = found->second.sources;
    if (std::find(sources.begin(), sources.end(), request.requester) == sources.end())
      remember_viewer(state, found->second, request.requester, request.segment);
  }
  for (const segment_server::reject& reject : out.rejects)
    masternode_reject(self, reject.request.requester,
                      reject_message(reject.request, reject.reason));
  std::optional<std::int64_t> wakeup = earliest(state.server->next_wakeup(), held_expiry);
  if (state.fetching) {
    for (const fetch_request& fetch : state.fetching->next(now))
      send(self, fetch.source, wire::segment_request{fetch.content, fetch.segment, fetch.id});
    wakeup = earliest(wakeup, state.fetching->next_wakeup());
  }
  arm(self, wakeup);
}

void masternode_on_join(masternode_pointer self, const core::node_id& from,
                        const wire::swarm_join& message) {
  auto& state = self->state;
  wire::swarm_peers answer{message.content, {}};
  const auto found = state.hosted.find(message.content);
  if (found == state.hosted.end()) {
    send(self, from, std::move(answer)); // not ours: no peers to give
    return;
  }
  answer.peers = peers_for(found->second, from, message.position);
  send(self, from, std::move(answer));
  remember_viewer(state, found->second, from, std::nullopt);
}

/// A request for a segment we are still fetching waits for it (the fetch jumps the
/// queue); beyond held_requests_max it is refused as busy.
void hold_until_fetched(masternode_pointer self, const segment_request& request) {
  auto& state = self->state;
  if (state.held_count >= masternode_state::held_requests_max) {
    masternode_reject(self, request.requester,
                      reject_message(request, wire::reject_reason::busy));
    return;
  }
  state.held[{request.content, request.segment}].push_back({request, now_ns(self)});
  ++state.held_count;
  state.fetching->demand(request.content, request.segment);
  masternode_pump(self);
}

void masternode_on_request(masternode_pointer self, const core::node_id& from,
                           const wire::segment_request& message) {
  auto& state = self->state;
  state.context.telemetry->add(state.metric.requests, 1);
  const auto found = state.hosted.find(message.content);
  const std::optional<std::uint32_t> size =
      found == state.hosted.end() || !found->second.manifest
          ? std::nullopt
          : sendable_size(*found->second.manifest, message.segment);
  if (!size) {
    // Hosted but its manifest not yet in hand: it comes within a manifest round trip.
    const bool soon = found != state.hosted.end() && !found->second.manifest;
    masternode_reject(self, from,
                      reject_message(message, soon ? wire::reject_reason::busy
                                                   : wire::reject_reason::not_held));
    return;
  }
  const segment_request request{from,    message.request_id, message.content, message.segment,
                                *size,   message.critical};
  if (!holds(state, found->second, message.content, message.segment)) {
    const auto& sources = found->second.sources;
    if (std::find(sources.begin(), sources.end(), from) != sources.end()) {
      // Another replica fetching: it asks the next source rather than wait for us.
      masternode_reject(self, from, reject_message(message, wire::reject_reason::not_held));
      return;
    }
    hold_until_fetched(self, request);
    return;
  }
  segment_server::outcome out;
  state.server->offer(now_ns(self), request, out);
  masternode_pump(self, std::move(out));
}

void masternode_on_manifest_request(masternode_pointer self, const core::node_id& from,
                                    const wire::manifest_request& message) {
  auto& state = self->state;
  const auto found = state.hosted.find(message.content);
  if (found == state.hosted.end() || !found->second.manifest)
    return; // not (yet) held: the asker times out and asks another source
  auto& hosted = found->second;
  if (!hosted.encoded_manifest) {
    core::byte_buffer encoded = core::encode_manifest(*hosted.manifest);
    if (encoded.size() > limits::payload_bytes_max)
      return; // too large for one message (the limits allow it; no chunking yet)
    hosted.encoded_manifest = wire::payload::materialized(std::move(encoded));
  }
  send(self, from, wire::manifest_transfer{message.content, *hosted.encoded_manifest});
}

/// Asks the next source for each assigned content whose manifest is missing and whose
/// last request timed out; keeps ticking while any is missing.
void masternode_request_manifests(masternode_pointer self) {
  auto& state = self->state;
  const std::int64_t now = now_ns(self);
  bool missing = false;
  for (auto& [id, hosted] : state.hosted) {
    if (hosted.manifest || hosted.whole || hosted.sources.empty())
      continue;
    missing = true;
    if (hosted.manifest_storing || (hosted.manifest_attempts > 0 && now < hosted.manifest_deadline_ns))
      continue;
    send(self, hosted.sources[hosted.manifest_attempts++ % hosted.sources.size()],
         wire::manifest_request{id});
    hosted.manifest_deadline_ns = now + state.config.manifest_timeout.count();
  }
  if (missing)
    self->delayed_send(self, state.config.manifest_timeout, manifest_tick_atom::value);
}


void masternode_on_stored(masternode_pointer self, const fetch_request& fetch) {
  auto& state = self->state;
  state.fetching->stored(fetch);
  segment_server::outcome out;
  const std::int64_t now = now_ns(self);
  for (const segment_request& request : release_held(state, fetch.content, fetch.segment))
    state.server->offer(now, request, out);
  masternode_pump(self, std::move(out));
}

void masternode_on_fetched(masternode_pointer self, const core::node_id& from,
                           const wire::segment_data& message) {
  auto& state = self->state;
  if (!state.fetching)
    return;
  const std::optional<fetch_request> fetch = state.fetching->take(message.request_id, from);
  if (!fetch)
    return; // not asked of this source: ignored
  const auto& hosted = state.hosted.at(fetch->content);
  if (message.content != fetch->content || message.segment != fetch->segment ||
      !verify(*hosted.manifest, fetch->segment, message.body)) {
    state.context.telemetry->add(state.metric.fetch_failures, 1);
    state.fetching->failed(*fetch, now_ns(self));
    masternode_pump(self);
    return;
  }
  const std::uint32_t size = message.body.size_bytes;
  self->request(state.config.storage, caf::infinite, storage::put_segment_atom::value,
                fetch->content, fetch->segment, message.body)
      .then(
          [self, fetch = *fetch, size](caf::ok_atom) {
            self->state.context.telemetry->add(self->state.metric.ingress_bytes, size);
            masternode_on_stored(self, fetch);
          },
          [self, fetch = *fetch](const caf::error&) {
            // A full disk: the segment is not held; the content is tried again after
            // the fetcher's backoff, and viewers ask other sources meanwhile.
            auto& session = self->state;
            session.context.telemetry->add(session.metric.store_failures, 1);
            session.fetching->not_stored(fetch, now_ns(self));
            segment_server::outcome out;
            for (const segment_request& request :
                 release_held(session, fetch.content, fetch.segment))
              out.rejects.push_back({request, wire::reject_reason::busy});
            masternode_pump(self, std::move(out));
          });
}

void masternode_on_fetch_refused(masternode_pointer self, const core::node_id& from,
                                 const wire::segment_reject& message) {
  auto& state = self->state;
  if (!state.fetching)
    return;
  if (const auto fetch = state.fetching->take(message.request_id, from)) {
    state.context.telemetry->add(state.metric.fetch_failures, 1);
    state.fetching->failed(*fetch, now_ns(self));
    masternode_pump(self);
  }
}

void masternode_on_cancel(masternode_pointer self, const core::node_id& from,
                          const wire::segment_cancel& message) {
  auto& state = self->state;
  state.server->cancel(from, message.request_id);
  drop_held(state, [&](const masternode_state::held_request& entry) {
    return entry.request.requester == from && entry.request.request_id == message.request_id;
  });
}

/// The fetcher starts on `id` once its manifest is in hand, with what storage holds.
void start_fetching(masternode_pointer self, const core::content_id& id,
                    const std::vector<std::uint32_t>& stored) {
  auto& state = self->state;
  auto& hosted = state.hosted.at(id);
  if (!state.fetching)
    state.fetching.emplace(state.config.fetching);
  state.fetching->add_content(id, static_cast<std::uint32_t>(hosted.manifest->segments.size()),
                              hosted.sources, stored);
}

void masternode_on_manifest(masternode_pointer self, const wire::manifest_transfer& message) {
  auto& state = self->state;
  const auto found = state.hosted.find(message.content);
  // Before the store is loaded a manifest (an answer to a request of an earlier run)
  // would start the fetcher without what the store holds.
  if (!state.loaded || found == state.hosted.end() || found->second.manifest ||
      found->second.manifest_storing)
    return;
  manifest_ptr manifest = decode_fetched_manifest(message.content, message.encoded);
  if (!manifest)
    return; // not the content asked for: the next source is asked after the timeout
  found->second.manifest_storing = true;
  const core::content_id id = message.content;
  self->request(state.config.storage, caf::infinite, storage::put_manifest_atom::value, id,
                core::byte_buffer(message.encoded.view().begin(), message.encoded.view().end()))
      .then(
          [self, id, manifest](caf::ok_atom) {
            auto& hosted = self->state.hosted.at(id);
            hosted.manifest = manifest;
            hosted.manifest_storing = false;
            start_fetching(self, id, {});
            masternode_pump(self);
          },
          [self, id](const caf::error&) {
            self->state.hosted.at(id).manifest_storing = false; // asked again later
            self->state.context.telemetry->add(self->state.metric.store_failures, 1);
          });
}

/// What storage held at start (a restart keeps its disk): those manifests and
/// segments need no fetching.
void masternode_on_loaded(masternode_pointer self,
                          const std::vector<storage::stored_content>& contents) {
  auto& state = self->state;
  state.loaded = true;
  for (const storage::stored_content& content : contents) {
    const auto found = state.hosted.find(content.content);
    if (found == state.hosted.end() || found->second.manifest)
      continue; // no longer assigned, or already fetched
    found->second.manifest = decode_fetched_manifest(
        content.content, wire::payload::materialized(content.manifest));
    if (found->second.manifest)
      start_fetching(self, content.content, content.segments);
  }
  masternode_request_manifests(self);
  masternode_pump(self);
}

/// A content newly assigned: fetched from its sources (we are never one of them).
/// Nothing changes for a content already held or being fetched.
void masternode_add(masternode_state& state, const hosted_assignment& assignment) {
  if (state.hosted.contains(assignment.content))
    return;
  auto sources = assignment.sources;
  std::erase(sources, state.context.id);
  if (sources.size() > fetcher::sources_max)
    sources.resize(fetcher::sources_max);
  if (!sources.empty())
    state.hosted[assignment.content].sources = std::move(sources);
}

void masternode_setup(masternode_state& state) {
  if (state.config.published) {
    for (const auto& [id, manifest] : state.config.published->manifests)
      if (manifest) {
        auto& published = state.hosted[id];
        published.manifest = manifest;
        published.whole = true;
      }
  }
  for (const hosted_assignment& assignment : state.config.hosted)
    masternode_add(state, assignment);
  // A publisher's serving is counted apart: masternode egress is what the network
  // pays masternodes for.
  auto& telemetry = *state.context.telemetry;
  const std::string_view role = state.config.publisher ? "publisher" : "masternode";
  auto counter = [&](std::string_view what) {
    return telemetry.counter(fmt::format("stream.{}_{}", role, what));
  };
  state.metric = {counter("egress_bytes"),   counter("requests"),       counter("rejects"),
                  counter("ingress_bytes"),  counter("fetch_failures"), counter("store_failures")};
}

} // namespace

masternode_actor::behavior_type masternode(masternode_pointer self, world::node_context context,
                                           masternode_config config) {
  assert(config.fetching.is_valid());
  assert(config.hosted.empty() || config.storage);
  auto& state = self->state;
  state.context = context;
  state.config = std::move(config);
  state.origin = self->clock().now();
  state.generator = core::random_generator(core::derive_seed(context.seed, "masternode"));
  state.server.emplace(
      queue_config(choke_policy::round_robin, state.config.upload_slots, state.config.uplink_bps),
      0);
  masternode_setup(state);
  if (state.config.storage) {
    self->request(state.config.storage, caf::infinite, storage::load_contents_atom::value)
        .then([self](const std::vector<storage::stored_content>& contents) {
          masternode_on_loaded(self, contents);
        });
  }
  return {
      [self](const world::inbound& message) {
        std::visit(
            [&](const auto& body) {
              using body_type = std::decay_t<decltype(body)>;
              if constexpr (std::is_same_v<body_type, wire::swarm_join>)
                masternode_on_join(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_request>)
                masternode_on_request(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_cancel>)
                masternode_on_cancel(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::manifest_request>)
                masternode_on_manifest_request(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::manifest_transfer>)
                masternode_on_manifest(self, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_data>)
                masternode_on_fetched(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_reject>)
                masternode_on_fetch_refused(self, message.from, body);
            },
            message.body);
      },
      [self](stream_wake_atom, std::uint64_t generation) {
        if (take_wakeup(self, generation))
          masternode_pump(self);
      },
      [self](manifest_tick_atom) {
        if (self->state.loaded)
          masternode_request_manifests(self);
      },
      [self](host_atom, const std::vector<hosted_assignment>& assignments) {
        for (const auto& assignment : assignments)
          masternode_add(self->state, assignment);
        if (self->state.loaded)
          masternode_request_manifests(self);
      },
      [self](publish_atom, const core::manifest& manifest) {
        auto& content = self->state.hosted[core::id_of(manifest)];
        content.manifest = std::make_shared<const core::manifest>(manifest);
        content.whole = true;
        masternode_pump(self);
      },
  };
}

// -- viewer -------------------------------------------------------------------------

namespace {

void send(viewer_pointer self, const core::node_id& to, wire::message message) {
  self->state.context.network->send(to, std::move(message));
}

viewer_state::neighbour* find_neighbour(viewer_state& state, const core::node_id& id) {
  const auto at = std::find_if(state.neighbours.begin(), state.neighbours.end(),
                               [&](const viewer_state::neighbour& n) { return n.id == id; });
  return at == state.neighbours.end() ? nullptr : &*at;
}

bool is_masternode(const viewer_state& state, const core::node_id& id) {
  return std::find(state.masternodes.begin(), state.masternodes.end(), id) !=
         state.masternodes.end();
}

std::size_t neighbours_max(const viewer_state& state) {
  return std::min(state.config.neighbours_max,
                  scheduler::playback_config::sources_max - state.masternodes.size());
}

/// What we hold, as announced. The cache keeps its runs of held segments, so this
/// costs the runs, not the segments.
wire::have_ranges our_ranges(const viewer_state& state) {
  wire::have_ranges message{state.config.content, {}};
  for (const storage::segment_range& range :
       state.cache->ranges(state.config.content, limits::have_ranges_count_max))
    message.ranges.push_back({range.first, range.end});
  return message;
}

/// Makes `id` a neighbour (a viewer source) and tells it what we hold. False when it
/// cannot be one (ourselves, a masternode, bad, known, or no room).
bool add_neighbour(viewer_pointer self, const core::node_id& id, std::int64_t now) {
  auto& state = self->state;
  if (id == state.context.id || is_masternode(state, id) || find_neighbour(state, id) != nullptr ||
      state.neighbours.size() >= neighbours_max(state) ||
      !state.playback->add_source(id, scheduler::source_kind::viewer))
    return false;
  state.neighbours.push_back({id, now});
  state.server->queue().add_requester(id); // its uploads to us count before it asks
  send(self, id, our_ranges(state));
  return true;
}

void drop_neighbour(viewer_pointer self, const core::node_id& id, std::int64_t now) {
  auto& state = self->state;
  std::erase_if(state.neighbours, [&](const viewer_state::neighbour& n) { return n.id == id; });
  state.playback->remove_source(now, id);
  state.server->remove_requester(id); // it left: its queued requests go too
}

/// Pins the playback window (the playhead's segment and those starting within
/// window_ns of media after it) so that it is never evicted.
void repin(viewer_state& state) {
  const std::uint32_t first = state.playback->playhead_segment();
  if (state.pinned && first == state.pinned_first)
    return;
  const auto& segments = state.manifest->segments;
  std::uint32_t end = first;
  std::int64_t ahead_ns = 0;
  while (end < segments.size() && ahead_ns <= state.config.playback.window_ns) {
    ahead_ns += std::int64_t{segments[end].duration_ms} * 1'000'000;
    ++end;
  }
  state.pinned = state.cache->pin(state.config.content, first, end);
  state.pinned_first = first;
}

void remember_request(viewer_state& state, const scheduler::request_action& request) {
  state.requests[request.id] = {request.source, request.segment};
  while (state.requests.size() > viewer_state::requests_remembered_max)
    state.requests.erase(state.requests.begin()); // ids increase: the oldest
}

void execute(viewer_pointer self, const std::vector<scheduler::action>& actions) {
  auto& state = self->state;
  for (const scheduler::action& action : actions) {
    if (const auto* request = std::get_if<scheduler::request_action>(&action)) {
      remember_request(state, *request);
      send(self, request->source,
           wire::segment_request{state.config.content, request->segment, request->id,
                                 request->critical});
    } else {
      const auto& cancel = std::get<scheduler::cancel_action>(action);
      send(self, cancel.source, wire::segment_cancel{state.config.content, cancel.id});
    }
  }
}

void serve_uploads(viewer_pointer self, const segment_server::outcome& out) {
  auto& state = self->state;
  const std::int64_t now = now_ns(self);
  for (const upload_transfer& transfer : out.started) {
    const segment_request& request = transfer.request;
    if (!state.cache->touch(request.content, request.segment, now)) {
      // Evicted since it was queued: its slot time is lost, the requester asks elsewhere.
      send(self, request.requester, reject_message(request, wire::reject_reason::not_held));
      continue;
    }
    core::hash256 digest = state.manifest->segment_roots[request.segment];
    if (state.config.poison)
      digest.bytes[0] ^= 0xff; // any other root fails verification as wrong bytes would
    // The bytes received when they came materialized (the real node's), else a
    // virtual payload as the masternode's.
    const auto held = state.segment_bytes.find(request.segment);
    send(self, request.requester,
         wire::segment_data{request.content, request.segment, request.request_id,
                            held != state.segment_bytes.end() && !state.config.poison
                                ? held->second
                                : wire::payload::virtual_of(request.size_bytes, digest)});
    state.bytes_uploaded += request.size_bytes;
  }
  for (const segment_server::reject& reject : out.rejects) {
    send(self, reject.request.requester, reject_message(reject.request, reject.reason));
  }
}

void end_session(viewer_pointer self);

/// Our holdings to every neighbour. (Sending news only to the neighbours not known to
/// hold the newest segment halved these messages but cut the offload of
/// tests/scenarios/flash-crowd-small.yaml from 0.75 to 0.67: a neighbour's known
/// ranges lag, and the ones it lacks are what it asks us for.)
void announce(viewer_pointer self, std::int64_t now) {
  auto& state = self->state;
  const wire::have_ranges ours = our_ranges(state);
  for (const viewer_state::neighbour& neighbour : state.neighbours)
    send(self, neighbour.id, ours);
  state.have_news = false;
  state.last_announce_ns = now;
}

/// After every event: step the playback and send its actions, keep the window
/// pinned, serve uploads, and arm the timer at the earliest wakeup.
void drive(viewer_pointer self, segment_server::outcome out = {}) {
  auto& state = self->state;
  if (state.ended)
    return;
  const std::int64_t now = now_ns(self);
  execute(self, state.playback->step(now, state.generator));
  if (state.playback->state() == scheduler::playback_state::finished) {
    end_session(self);
    return;
  }
  repin(state);
  state.server->run(now, state.generator, out);
  serve_uploads(self, out);
  std::optional<std::int64_t> news_at;
  if (state.have_news) {
    news_at = state.last_announce_ns + state.config.have_news_interval.count();
    if (now >= *news_at) {
      announce(self, now);
      news_at.reset();
    }
  }
  arm(self, earliest(earliest(state.playback->next_wakeup(), state.server->next_wakeup()), news_at));
}

void report(viewer_state& state) {
  auto& telemetry = *state.context.telemetry;
  const auto& metric = state.metric;
  telemetry.add(metric.sessions_ended, 1);
  if (state.content_metric)
    telemetry.add(state.content_metric->viewers, -1);
  if (!state.playback) { // no manifest: the session never started
    telemetry.add(metric.startup_failures, 1);
    telemetry.event(metric.session_end, state.context.id, 0, 0);
    return;
  }
  const scheduler::qoe_report qoe = state.playback->qoe();
  auto add = [&](world::metrics::counter_id counter, std::uint64_t value) {
    telemetry.add(counter, static_cast<std::int64_t>(value));
  };
  add(metric.played_ns, static_cast<std::uint64_t>(qoe.played_ns));
  add(metric.stall_ns, static_cast<std::uint64_t>(qoe.stall_ns));
  if (state.content_metric) {
    add(state.content_metric->played_ns, static_cast<std::uint64_t>(qoe.played_ns));
    add(state.content_metric->stall_ns, static_cast<std::uint64_t>(qoe.stall_ns));
  }
  add(metric.stalls, qoe.stall_count);
  add(metric.segments_played, qoe.played_segments);
  add(metric.segments_late, qoe.late_segments);
  add(metric.duplicate_bytes, qoe.duplicate_bytes);
  add(metric.bytes_uploaded, state.bytes_uploaded);
  add(metric.requests, qoe.requests);
  add(metric.timeouts, qoe.timeouts);
  add(metric.rejects, qoe.rejects);
  add(metric.bad_segments, qoe.bad_segments);
  add(metric.seeks, qoe.seek_count);
  add(metric.seek_wait_ns, static_cast<std::uint64_t>(qoe.seek_wait_ns));
  telemetry.record(metric.longest_stall_s, static_cast<double>(qoe.longest_stall_ns) / 1e9);
  if (qoe.startup_delay_ns)
    telemetry.record(metric.startup_delay_s, static_cast<double>(*qoe.startup_delay_ns) / 1e9);
  else
    add(metric.startup_failures, 1);
  const std::uint64_t downloaded = qoe.bytes_from_masternodes + qoe.bytes_from_viewers;
  if (downloaded > 0)
    telemetry.record(metric.share_ratio,
                     static_cast<double>(state.bytes_uploaded) / static_cast<double>(downloaded));
  telemetry.event(metric.session_end, state.context.id, static_cast<std::uint64_t>(qoe.played_ns),
                  static_cast<std::uint64_t>(qoe.stall_ns));
}

void end_session(viewer_pointer self) {
  auto& state = self->state;
  if (state.ended)
    return;
  state.ended = true;
  if (state.playback)
    state.playback->close(now_ns(self)); // its cancels are not sent: we leave without notice
  if (state.config.meter)
    state.config.meter->finish(now_ns(self));
  if (state.config.sink)
    state.config.sink->ended();
  report(state);
  self->quit();
}

/// Bytes received, counted as they arrive (so the time series shows them when they
/// moved), overall and for the content when it is labelled.
void count_download(viewer_state& state, const core::node_id& from, std::uint32_t size) {
  auto& telemetry = *state.context.telemetry;
  const bool masternode = is_masternode(state, from);
  telemetry.add(masternode ? state.metric.bytes_from_masternodes : state.metric.bytes_from_viewers,
                size);
  if (state.content_metric)
    telemetry.add(masternode ? state.content_metric->bytes_from_masternodes
                             : state.content_metric->bytes_from_viewers,
                  size);
}

/// The answer must come from the source asked; returns the segment asked for.
std::optional<std::uint32_t> take_request(viewer_state& state, const core::node_id& from,
                                          std::uint64_t request_id) {
  const auto found = state.requests.find(request_id);
  if (found == state.requests.end() || found->second.source != from)
    return std::nullopt;
  const std::uint32_t segment = found->second.segment;
  state.requests.erase(found);
  return segment;
}

void heard_from(viewer_state& state, const core::node_id& from, std::int64_t now) {
  if (auto* neighbour = find_neighbour(state, from))
    neighbour->last_heard_ns = now;
}

/// Keeps a materialized segment's bytes for re-sharing while the cache holds it: past
/// the cache's capacity, the bytes of segments it evicted are dropped.
void keep_bytes(viewer_state& state, std::uint32_t segment, const wire::payload& body) {
  if (!state.cache->has(state.config.content, segment))
    return; // refused by the cache: played, not kept
  if (state.segment_bytes.emplace(segment, body).second)
    state.segment_bytes_held += body.size_bytes;
  if (state.segment_bytes_held <= state.cache->config().capacity_bytes)
    return;
  for (auto it = state.segment_bytes.begin(); it != state.segment_bytes.end();) {
    if (state.cache->has(state.config.content, it->first)) {
      ++it;
      continue;
    }
    state.segment_bytes_held -= it->second.size_bytes;
    it = state.segment_bytes.erase(it);
  }
}

void viewer_on_data(viewer_pointer self, const core::node_id& from,
                    const wire::segment_data& message) {
  auto& state = self->state;
  if (message.content != state.config.content)
    return;
  const std::optional<std::uint32_t> segment = take_request(state, from, message.request_id);
  if (!segment)
    return; // not asked of this source: ignored, never verified against a guess
  const std::int64_t now = now_ns(self);
  heard_from(state, from, now);
  // A valid segment other than the one asked would pass against its own root, so it
  // is checked against the one asked.
  const bool verified =
      message.segment == *segment && verify(*state.manifest, *segment, message.body);
  const scheduler::arrival arrival = state.playback->on_segment(now, message.request_id, verified);
  const std::uint32_t size = message.body.size_bytes;
  if (arrival == scheduler::arrival::accepted) {
    state.cache->put(state.config.content, *segment, size, now); // refused: played, not kept
    state.have_news = true;
    if (!message.body.is_virtual())
      keep_bytes(state, *segment, message.body);
    if (state.config.sink)
      state.config.sink->segment(*segment, message.body);
  }
  if (arrival == scheduler::arrival::accepted || arrival == scheduler::arrival::duplicate) {
    state.server->queue().record_download(from, size);
    count_download(state, from, size);
    if (state.config.meter && is_masternode(state, from))
      state.config.meter->delivered(from, size, now);
  }
  if (arrival == scheduler::arrival::invalid && find_neighbour(state, from) != nullptr) {
    // The playback never asks it again; stop talking to it too.
    std::erase_if(state.neighbours, [&](const viewer_state::neighbour& n) { return n.id == from; });
    state.server->remove_requester(from);
  }
  drive(self);
}

void viewer_on_reject(viewer_pointer self, const core::node_id& from,
                      const wire::segment_reject& message) {
  auto& state = self->state;
  if (message.content != state.config.content || !take_request(state, from, message.request_id))
    return;
  const std::int64_t now = now_ns(self);
  heard_from(state, from, now);
  // Not holding the segment lasts until the sender announces otherwise; being busy
  // (choked, full queues) passes within seconds.
  using refusal = scheduler::playback::refusal;
  const auto why = message.reason == static_cast<std::uint8_t>(wire::reject_reason::not_held)
                       ? refusal::not_held
                   : message.reason == static_cast<std::uint8_t>(wire::reject_reason::choked)
                       ? refusal::choked
                       : refusal::busy;
  state.playback->on_reject(now, message.request_id, why);
  drive(self);
}

void viewer_on_have(viewer_pointer self, const core::node_id& from,
                    const wire::have_ranges& message) {
  auto& state = self->state;
  if (message.content != state.config.content)
    return;
  const std::int64_t now = now_ns(self);
  if (find_neighbour(state, from) == nullptr && !add_neighbour(self, from, now)) {
    // No room for it (or it cannot be one): still tell it what we hold, so a newcomer
    // can ask us for segments; full tables are the rule early in a flash crowd.
    if (!message.reply && from != state.context.id &&
        !our_ranges(state).ranges.empty()) {
      wire::have_ranges answer = our_ranges(state);
      answer.reply = true;
      send(self, from, std::move(answer));
    }
    return;
  }
  heard_from(state, from, now);
  std::vector<scheduler::segment_range> ranges;
  ranges.reserve(message.ranges.size());
  for (const wire::segment_range& range : message.ranges)
    if (range.first < range.end)
      ranges.push_back({range.first, range.end});
  state.playback->set_have_ranges(from, ranges);
  drive(self);
}

/// Peers from a masternode's list, or from a neighbour's (peer exchange).
void viewer_on_peers(viewer_pointer self, const core::node_id& from,
                     const wire::swarm_peers& message) {
  auto& state = self->state;
  if (message.content != state.config.content)
    return;
  const std::int64_t now = now_ns(self);
  const bool exchanged = !is_masternode(state, from);
  for (const core::node_id& peer : message.peers) {
    if (state.neighbours.size() >= neighbours_max(state))
      break;
    if (add_neighbour(self, peer, now) && exchanged)
      state.context.telemetry->add(state.metric.neighbours_from_exchange, 1);
  }
}

void viewer_on_request(viewer_pointer self, const core::node_id& from,
                       const wire::segment_request& message) {
  auto& state = self->state;
  if (!state.config.uploads) {
    send(self, from, reject_message(message, wire::reject_reason::choked));
    return;
  }
  const std::optional<std::uint32_t> size = message.content == state.config.content
                                                ? sendable_size(*state.manifest, message.segment)
                                                : std::nullopt;
  if (!size || !state.cache->has(message.content, message.segment)) {
    send(self, from, reject_message(message, wire::reject_reason::not_held));
    return;
  }
  segment_server::outcome out;
  state.server->offer(
      now_ns(self),
      {from, message.request_id, message.content, message.segment, *size, message.critical}, out);
  drive(self, std::move(out));
}

void viewer_on_have_tick(viewer_pointer self) {
  auto& state = self->state;
  if (state.ended)
    return;
  const std::int64_t now = now_ns(self);
  const std::int64_t silence_ns =
      viewer_state::neighbour_silence_intervals * state.config.have_interval.count();
  std::vector<core::node_id> silent;
  for (const viewer_state::neighbour& neighbour : state.neighbours)
    if (now - neighbour.last_heard_ns > silence_ns)
      silent.push_back(neighbour.id);
  for (const core::node_id& id : silent)
    drop_neighbour(self, id, now);
  announce(self, now);
  // Peer exchange: one neighbour in turn hears who our other neighbours are, so
  // holders spread through the swarm and not only through masternodes' lists. One
  // message per tick keeps the cost to a tenth of a message per second per viewer.
  if (state.neighbours.size() > 1) {
    const auto& target = state.neighbours[state.exchanges++ % state.neighbours.size()].id;
    wire::swarm_peers known{state.config.content, {}};
    for (const viewer_state::neighbour& neighbour : state.neighbours)
      if (neighbour.id != target && known.peers.size() < limits::peer_list_count_max)
        known.peers.push_back(neighbour.id);
    send(self, target, std::move(known));
  }
  // Short of neighbours (a swarm that was empty when we joined, neighbours that
  // left): ask the next masternode, in turn, for viewers it joined or served lately.
  if (state.neighbours.size() < neighbours_max(state) && !state.config.masternodes.empty()) {
    const auto& masternode =
      state.config.masternodes[state.rejoins++ % state.config.masternodes.size()];
    send(self, masternode,
         wire::swarm_join{state.config.content, state.playback->playhead_segment()});
  }
  self->delayed_send(self, state.config.have_interval, have_tick_atom::value);
  drive(self);
}

void register_metrics(viewer_state& state) {
  auto& telemetry = *state.context.telemetry;
  if (!state.config.metrics_label.empty()) {
    auto counter = [&](std::string_view what) {
      return telemetry.counter(fmt::format("content.{}.{}", state.config.metrics_label, what));
    };
    state.content_metric = {counter("viewers"), counter("bytes_from_masternodes"),
                            counter("bytes_from_viewers"), counter("stall_ns"),
                            counter("played_ns")};
  }
  state.metric = {
      telemetry.counter("stream.sessions_started"),
      telemetry.counter("stream.sessions_ended"),
      telemetry.counter("stream.played_ns"),
      telemetry.counter("stream.stall_ns"),
      telemetry.counter("stream.stalls"),
      telemetry.counter("stream.startup_failures"),
      telemetry.counter("stream.segments_played"),
      telemetry.counter("stream.segments_late"),
      telemetry.counter("stream.bytes_from_masternodes"),
      telemetry.counter("stream.bytes_from_viewers"),
      telemetry.counter("stream.duplicate_bytes"),
      telemetry.counter("stream.bytes_uploaded"),
      telemetry.counter("stream.requests"),
      telemetry.counter("stream.timeouts"),
      telemetry.counter("stream.rejects"),
      telemetry.counter("stream.bad_segments"),
      telemetry.counter("stream.neighbours_from_exchange"),
      telemetry.counter("stream.seeks"),
      telemetry.counter("stream.seek_wait_ns"),
      telemetry.histogram("stream.startup_delay_s"),
      telemetry.histogram("stream.share_ratio"),
      telemetry.histogram("stream.longest_stall_s"),
      telemetry.event_kind("stream.session_end"),
  };
}

/// Asks the next masternode for the manifest, or fails the session once every
/// masternode has had manifest_rounds_max chances.
void request_manifest(viewer_pointer self) {
  auto& state = self->state;
  const auto& masternodes = state.config.masternodes;
  if (masternodes.empty() ||
      state.manifest_attempts >= viewer_state::manifest_rounds_max * masternodes.size()) {
    end_session(self); // nothing to play: a startup failure
    return;
  }
  const std::uint32_t attempt = state.manifest_attempts++;
  send(self, masternodes[attempt % masternodes.size()], wire::manifest_request{state.config.content});
  self->delayed_send(self, state.config.manifest_timeout, manifest_timeout_atom::value, attempt);
}

void start_session(viewer_pointer self) {
  auto& state = self->state;
  const core::manifest& manifest = *state.manifest;
  std::vector<scheduler::segment_info> segments;
  segments.reserve(manifest.segments.size());
  for (const core::segment_entry& entry : manifest.segments)
    segments.push_back({entry.size_bytes, std::int64_t{entry.duration_ms} * 1'000'000});
  const auto start = static_cast<scheduler::segment_index>(
      std::min<std::size_t>(state.config.start_segment, segments.size() - 1));
  // Time 0 is the session's start: the manifest's round trip counts as startup delay.
  state.playback.emplace(state.config.playback, std::move(segments), start, 0);

  storage::segment_cache_config cache_config;
  cache_config.capacity_bytes = std::clamp<std::uint64_t>(
      state.config.cache_bytes, 1, storage::segment_cache_config::capacity_bytes_max);
  state.cache.emplace(cache_config);
  state.server.emplace(
      queue_config(choke_policy::tit_for_tat, state.config.upload_slots, state.config.uplink_bps),
      0);

  for (const core::node_id& id : state.config.masternodes) {
    if (state.masternodes.size() >= scheduler::playback_config::sources_max ||
        !state.playback->add_source(id, scheduler::source_kind::masternode))
      continue; // duplicates and the excess are ignored
    state.masternodes.push_back(id);
    send(self, id, wire::swarm_join{state.config.content, start});
  }
  self->delayed_send(self, state.config.have_interval, have_tick_atom::value);
  drive(self);
}

} // namespace

viewer_actor::behavior_type viewer(viewer_pointer self, world::node_context context,
                                   viewer_config config) {
  assert(config.playback.is_valid());
  assert(config.have_interval.count() > 0);
  auto& state = self->state;
  state.context = context;
  state.config = std::move(config);
  state.origin = self->clock().now();
  state.generator = core::random_generator(core::derive_seed(context.seed, "viewer"));
  register_metrics(state);
  context.telemetry->add(state.metric.sessions_started, 1);
  if (state.content_metric)
    context.telemetry->add(state.content_metric->viewers, 1);
  self->delayed_send(self, std::max(state.config.session_length, std::chrono::nanoseconds{0}),
                     session_end_atom::value);
  for (const auto& seek : state.config.seeks)
    self->delayed_send(self, std::max(seek.at, std::chrono::nanoseconds{0}), seek_atom::value,
                       seek.segment);
  if (state.config.meter)
    state.config.meter->start(context, 0);
  request_manifest(self);
  return {
      [self](const world::inbound& message) {
        auto& session = self->state;
        if (session.ended)
          return;
        if (!session.playback) { // waiting for the manifest: nothing else makes sense yet
          if (const auto* transfer = std::get_if<wire::manifest_transfer>(&message.body);
              transfer && transfer->content == session.config.content) {
            session.manifest = decode_fetched_manifest(transfer->content, transfer->encoded);
            if (session.manifest) {
              if (session.config.sink)
                session.config.sink->manifest(session.manifest);
              start_session(self);
            }
          }
          return;
        }
        std::visit(
            [&](const auto& body) {
              using body_type = std::decay_t<decltype(body)>;
              if constexpr (std::is_same_v<body_type, wire::swarm_peers>)
                viewer_on_peers(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::have_ranges>)
                viewer_on_have(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_request>)
                viewer_on_request(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_cancel>)
                self->state.server->cancel(message.from, body.request_id);
              else if constexpr (std::is_same_v<body_type, wire::segment_reject>)
                viewer_on_reject(self, message.from, body);
              else if constexpr (std::is_same_v<body_type, wire::segment_data>)
                viewer_on_data(self, message.from, body);
            },
            message.body);
      },
      [self](stream_wake_atom, std::uint64_t generation) {
        if (take_wakeup(self, generation))
          drive(self);
      },
      [self](have_tick_atom) { viewer_on_have_tick(self); },
      [self](session_end_atom) { end_session(self); },
      [self](manifest_timeout_atom, std::uint32_t attempt) {
        auto& session = self->state;
        if (!session.ended && !session.playback && attempt + 1 == session.manifest_attempts)
          request_manifest(self);
      },
      [self](seek_atom, std::uint32_t segment) {
        auto& session = self->state;
        if (session.ended || !session.playback || segment >= session.manifest->segments.size())
          return;
        session.playback->seek(now_ns(self), segment);
        drive(self);
      },
  };
}

} // namespace stakecast::peer
