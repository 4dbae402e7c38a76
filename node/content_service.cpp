#include "node/content_service.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/core/error.hpp"

namespace stakecast::node {

namespace {

/// The longest a publishing call waits for the storage actor's commit.
constexpr std::chrono::seconds store_timeout{10};
/// The longest a session's start waits for the chain's placement.
constexpr std::chrono::seconds placement_timeout{5};
/// Decoded manifests of stored contents kept at hand.
constexpr std::size_t manifests_cached_max = 1024;
/// Uploads begun and not published that a failure may remove again.
constexpr std::size_t uploads_max = 1024;
/// A read waiting for a segment more than this many past where the session last
/// started or sought (or before it) seeks there: the playhead moves at play speed, so
/// a reader faster than that (`stakecast get`, a browser filling its buffer) brings it
/// along; nearer segments are urgent for the playback already.
constexpr std::uint32_t seek_ahead_segments = 2;
/// How often sessions are looked at for being unread (at most: twice per
/// session_idle).
constexpr std::chrono::seconds reap_interval{10};

api_response error_response(unsigned status, std::string message) {
  return {status, {{"error", std::move(message)}}};
}

/// The segment holding byte `offset`. REQUIRES: offset < m.content_bytes.
std::uint32_t segment_at(const core::manifest& m, std::uint64_t offset) {
  const auto after = std::upper_bound(
      m.segments.begin(), m.segments.end(), offset,
      [](std::uint64_t at, const core::segment_entry& entry) { return at < entry.offset_bytes; });
  return static_cast<std::uint32_t>(std::distance(m.segments.begin(), after) - 1);
}

/// Up to `max_bytes` of segment `index`'s bytes (`body`) from content offset `offset`,
/// shared with the body. REQUIRES: body is materialized.
content_source::shared_bytes slice(const core::manifest& m, std::uint32_t index,
                                   const wire::payload& body, std::uint64_t offset,
                                   std::size_t max_bytes) {
  const core::byte_span bytes = body.view();
  const std::uint64_t from = std::min<std::uint64_t>(offset - m.segments[index].offset_bytes, bytes.size());
  const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, bytes.size() - from));
  return {body.bytes, bytes.subspan(static_cast<std::size_t>(from), count)};
}

} // namespace

std::string mime_type_of(std::string_view title) {
  const auto dot = title.rfind('.');
  if (dot == std::string_view::npos)
    return {};
  std::string extension(title.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::map<std::string, std::string, std::less<>> types = {
      {"mp4", "video/mp4"},   {"m4v", "video/mp4"},         {"webm", "video/webm"},
      {"mkv", "video/x-matroska"}, {"ts", "video/mp2t"},   {"mp3", "audio/mpeg"},
      {"m4a", "audio/mp4"},   {"ogg", "application/ogg"}, {"txt", "text/plain"}};
  const auto found = types.find(extension);
  return found == types.end() ? std::string{} : found->second;
}

// -- a viewing session ----------------------------------------------------------------

struct content_service::session final : peer::segment_sink {
  struct waiter {
    std::uint64_t offset = 0;
    std::uint32_t segment = 0;
    std::size_t max_bytes = 0;
    std::function<void(read_result)> done;
  };

  session(core::content_id id, std::uint32_t start, std::uint64_t bytes_max,
          std::function<void()> on_end)
      : content(id), bytes_max_(bytes_max), sought_(start), on_end_(std::move(on_end)) {}

  void manifest(std::shared_ptr<const core::manifest> m) override {
    std::lock_guard lock(mutex_);
    manifest_ = std::move(m);
    changed_.notify_all();
  }

  void segment(std::uint32_t index, const wire::payload& body) override {
    if (body.is_virtual())
      return;
    std::vector<std::pair<waiter, shared_bytes>> ready;
    {
      std::lock_guard lock(mutex_);
      if (!manifest_ || !segments_.emplace(index, body).second)
        return;
      bytes_ += body.size_bytes;
      evict();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->segment != index) {
          ++it;
          continue;
        }
        ready.emplace_back(std::move(*it), slice(*manifest_, index, body, it->offset, it->max_bytes));
        it = waiters_.erase(it);
      }
    }
    for (auto& [w, bytes] : ready)
      w.done(std::move(bytes));
  }

  void ended() override { fail("the viewing session ended"); }

  /// Ends the session from outside: its waiting reads fail with `why`.
  void fail(const std::string& why) {
    std::vector<waiter> failed;
    {
      std::lock_guard lock(mutex_);
      if (ended_)
        return;
      ended_ = true;
      error_ = why;
      failed.swap(waiters_);
      changed_.notify_all();
    }
    for (auto& w : failed)
      w.done(fmt::format("content {}: {}", content.to_hex(), why));
    on_end_();
  }

  void set_actor(caf::actor actor) {
    std::lock_guard lock(mutex_);
    actor_ = std::move(actor);
  }
  caf::actor actor() const {
    std::lock_guard lock(mutex_);
    return actor_;
  }

  /// Waits for the manifest; null when the session ended first or `wait` passed.
  std::shared_ptr<const core::manifest> wait_manifest(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, wait, [&] { return manifest_ != nullptr || ended_; });
    return manifest_;
  }

  /// Serves the read now when its segment is here, else keeps it for later (seeking
  /// when it is far from the position).
  void read(std::uint64_t offset, std::size_t max_bytes, std::function<void(read_result)> done,
            std::chrono::steady_clock::time_point now) {
    std::optional<shared_bytes> bytes;
    std::string error;
    caf::actor seek_to;
    std::uint32_t index = 0;
    {
      std::lock_guard lock(mutex_);
      last_read_ = now;
      if (ended_)
        error = error_;
      else if (!manifest_)
        error = "its manifest has not arrived yet";
      else {
        index = segment_at(*manifest_, offset);
        if (const auto found = segments_.find(index); found != segments_.end())
          bytes = slice(*manifest_, index, found->second, offset, max_bytes);
        else {
          waiters_.push_back({offset, index, max_bytes, std::move(done)});
          if (index < sought_ || index > sought_ + seek_ahead_segments) {
            seek_to = actor_;
            sought_ = index;
          }
        }
        position_ = index;
      }
    }
    if (bytes)
      return done(std::move(*bytes));
    if (!error.empty())
      return done(fmt::format("content {}: {}", content.to_hex(), error));
    if (seek_to)
      caf::anon_send(caf::actor_cast<peer::viewer_actor>(seek_to), peer::seek_atom::value, index);
  }

  bool idle_since(std::chrono::steady_clock::time_point cutoff) const {
    std::lock_guard lock(mutex_);
    return last_read_ < cutoff;
  }

  const core::content_id content;

private:
  /// Past bytes_max_, drops the segments furthest behind the position, then the ones
  /// furthest ahead of it.
  void evict() {
    while (bytes_ > bytes_max_ && segments_.size() > 1) {
      auto victim = segments_.begin();
      if (victim->first >= position_)
        victim = std::prev(segments_.end());
      bytes_ -= victim->second.size_bytes;
      segments_.erase(victim);
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::shared_ptr<const core::manifest> manifest_;
  std::map<std::uint32_t, wire::payload> segments_;
  std::uint64_t bytes_ = 0;
  std::uint64_t bytes_max_;
  std::vector<waiter> waiters_;
  std::uint32_t position_ = 0; // of the last read
  std::uint32_t sought_ = 0;   // where the session started or last sought
  bool ended_ = false;
  std::string error_;
  caf::actor actor_;
  std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();
  std::function<void()> on_end_;
};

// -- the service ------------------------------------------------------------------------

struct content_service::state {
  caf::actor_system& system;
  world::node_context context;
  content_settings settings;
  storage::storage_actor storage;
  peer::masternode_actor masternode;
  chain_client_actor client;

  mutable std::mutex mutex;
  std::map<core::content_id, std::shared_ptr<session>> sessions;
  std::map<core::content_id, std::shared_ptr<const core::manifest>> manifests; // stored ones
  std::set<core::content_id> hosted; // placed on this masternode: never a session
  /// Manifests put through the API that were not stored before and are not published
  /// yet: what a failed upload may remove again. At most uploads_max: an upload begun
  /// beyond them is simply kept on the store when it fails.
  std::set<core::content_id> uploads;
  std::uint64_t next_nonce = 0;
  bool stopped = false;
  std::condition_variable reaper_wake;
  std::thread reaper; // ends the sessions nobody reads

  /// Ends a session from outside: its viewer leaves the swarm, its reads fail.
  static void end(const std::shared_ptr<session>& s, const std::string& why) {
    if (auto actor = s->actor())
      caf::anon_send(caf::actor_cast<peer::viewer_actor>(actor), peer::session_end_atom::value);
    s->fail(why);
  }

  /// Every reap_interval until stopped: ends the sessions unread for session_idle
  /// (a player closed, a client gone).
  void reap() {
    std::unique_lock lock(mutex);
    while (!stopped) {
      reaper_wake.wait_for(lock, std::min<std::chrono::milliseconds>(reap_interval, settings.session_idle / 2));
      const auto cutoff = std::chrono::steady_clock::now() - settings.session_idle;
      std::vector<std::shared_ptr<session>> idle;
      for (const auto& [id, s] : sessions)
        if (s->idle_since(cutoff))
          idle.push_back(s);
      lock.unlock();
      for (auto& s : idle)
        end(s, "nobody read it for a while");
      lock.lock();
    }
  }

  state(caf::actor_system& sys, world::node_context ctx, content_settings s,
        storage::storage_actor st, peer::masternode_actor mn, chain_client_actor cl)
      : system(sys), context(ctx), settings(std::move(s)), storage(std::move(st)),
        masternode(std::move(mn)), client(std::move(cl)) {}

  /// Sessions of one account open deposits with consecutive nonces, even before the
  /// chain has committed the previous one.
  std::uint64_t take_nonce(std::uint64_t committed) {
    std::lock_guard lock(mutex);
    const std::uint64_t nonce = std::max(committed, next_nonce);
    next_nonce = nonce + 1;
    return nonce;
  }

  /// Starts the session's viewer once the chain said where the content lives.
  void launch(const std::shared_ptr<session>& s, std::uint32_t start, const wire::chain_answer& answer) {
    const wire::content_placement* placement = nullptr;
    for (const auto& p : answer.placements)
      if (p.content == s->content && p.found)
        placement = &p;
    if (placement == nullptr)
      return s->fail("the chain knows no such content");
    peer::viewer_config config;
    config.content = s->content;
    config.start_segment = start;
    for (const auto& id : placement->masternodes)
      if (id != context.id)
        config.masternodes.push_back(id);
    if (placement->publisher != context.id &&
        std::find(config.masternodes.begin(), config.masternodes.end(), placement->publisher) ==
            config.masternodes.end())
      config.masternodes.push_back(placement->publisher);
    if (config.masternodes.empty())
      return s->fail("no node but this one holds it");
    config.uplink_bps = settings.uplink_bps;
    config.cache_bytes = settings.cache_bytes;
    config.session_length = std::chrono::hours(24);
    // A node's reader (a save, a browser filling its buffer) runs far ahead of play
    // speed, and a source is a real process that reads, encrypts and sends a segment
    // per request: 2 requests in flight left it idle between them (a 4 x 256 MiB
    // transfer took 2.1-2.4 s with 2, 1.75-2.0 s with 4).
    config.playback.outstanding_per_source_max = 4;
    config.sink = s;
    if (settings.deposit > 0 && answer.balance >= settings.deposit + settings.fee &&
        !settings.validators.empty()) {
      peer::receipt_signer_config receipts;
      receipts.chain = settings.chain;
      receipts.content = s->content;
      receipts.nonce = take_nonce(answer.nonce);
      receipts.validator = settings.validators[receipts.nonce % settings.validators.size()];
      receipts.deposit = settings.deposit;
      receipts.fee = settings.fee;
      receipts.receipt_interval = settings.receipt_interval;
      config.meter = std::make_shared<peer::receipt_signer>(
          std::move(*core::key_pair::from_seed(settings.key->seed())), receipts);
    }
    auto actor = system.spawn(peer::viewer, context, std::move(config));
    s->set_actor(caf::actor_cast<caf::actor>(actor));
  }
};

content_service::content_service(caf::actor_system& system, world::node_context context,
                                 content_settings settings, storage::storage_actor storage,
                                 peer::masternode_actor masternode, chain_client_actor client)
    : state_(std::make_shared<state>(system, context, std::move(settings), std::move(storage),
                                     std::move(masternode), std::move(client))) {
  state_->reaper = std::thread([st = state_.get()] { st->reap(); });
}

content_service::~content_service() {
  stop();
}

void content_service::stop() {
  std::map<core::content_id, std::shared_ptr<session>> ending;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopped = true;
    ending.swap(state_->sessions);
  }
  state_->reaper_wake.notify_all();
  if (state_->reaper.joinable())
    state_->reaper.join();
  for (auto& [id, s] : ending) {
    if (auto actor = s->actor())
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    s->fail("the node is stopping");
  }
}

caf::actor content_service::session_for(const core::content_id& content) const {
  std::lock_guard lock(state_->mutex);
  const auto found = state_->sessions.find(content);
  return found == state_->sessions.end() ? caf::actor{} : found->second->actor();
}

void content_service::set_hosted(const std::vector<core::content_id>& contents) {
  std::vector<std::shared_ptr<session>> ending;
  {
    std::lock_guard lock(state_->mutex);
    state_->hosted = {contents.begin(), contents.end()};
    for (const auto& content : contents)
      if (const auto found = state_->sessions.find(content); found != state_->sessions.end())
        ending.push_back(found->second);
  }
  for (auto& s : ending)
    state::end(s, "this masternode hosts it now");
}

std::shared_ptr<const core::manifest>
content_service::stored_manifest(const core::content_id& content) const {
  {
    std::lock_guard lock(state_->mutex);
    if (const auto found = state_->manifests.find(content); found != state_->manifests.end())
      return found->second;
  }
  const auto encoded = state_->context.storage->get(storage::manifest_key(content));
  if (!encoded)
    return nullptr;
  auto decoded = core::decode_manifest(*encoded);
  if (!decoded || core::validate(*decoded) || core::id_of(*decoded) != content)
    return nullptr;
  auto manifest = std::make_shared<const core::manifest>(std::move(*decoded));
  std::lock_guard lock(state_->mutex);
  if (state_->manifests.size() >= manifests_cached_max)
    state_->manifests.erase(state_->manifests.begin());
  state_->manifests.emplace(content, manifest);
  return manifest;
}

std::shared_ptr<content_service::session> content_service::open_session(const core::content_id& content,
                                                                        std::uint32_t start) {
  std::shared_ptr<session> s;
  {
    std::lock_guard lock(state_->mutex);
    if (const auto found = state_->sessions.find(content); found != state_->sessions.end())
      s = found->second;
    else if (!state_->stopped && !state_->hosted.contains(content)) {
      std::weak_ptr<state> owner = state_;
      s = std::make_shared<session>(content, start, state_->settings.session_bytes_max, [owner, content] {
        if (auto st = owner.lock()) {
          std::lock_guard inner(st->mutex);
          st->sessions.erase(content);
        }
      });
      state_->sessions.emplace(content, s);
      auto st = state_;
      state_->system.spawn([st, s, start](caf::event_based_actor* self) {
        self->request(st->client, placement_timeout, account_query_atom::value, st->context.id,
                      std::vector<core::content_id>{s->content})
            .then([st, s, start](const wire::chain_answer& answer) { st->launch(s, start, answer); },
                  [s](const caf::error& error) {
                    s->fail("the chain did not answer: " + core::describe(error));
                  });
      });
    }
  }
  return s;
}

std::shared_ptr<const core::manifest> content_service::manifest_of(const core::content_id& id) {
  if (auto manifest = stored_manifest(id))
    return manifest;
  auto s = open_session(id, 0);
  return s ? s->wait_manifest(state_->settings.manifest_wait) : nullptr;
}

auto content_service::describe(const core::content_id& id) -> std::optional<description> {
  const auto manifest = manifest_of(id);
  if (!manifest)
    return std::nullopt;
  return description{manifest->content_bytes, mime_type_of(manifest->title)};
}

void content_service::read(const core::content_id& id, std::uint64_t offset, std::size_t max_bytes,
                           std::function<void(read_result)> done) {
  if (const auto manifest = stored_manifest(id); manifest && offset < manifest->content_bytes) {
    const std::uint32_t index = segment_at(*manifest, offset);
    const auto body = storage::read_segment(*state_->context.storage, id, index);
    if (body && !body->is_virtual())
      return done(slice(*manifest, index, *body, offset, max_bytes));
  }
  auto s = open_session(id, 0);
  if (!s)
    return done(std::string("not held here yet (this masternode is fetching it), or the node is stopping"));
  s->read(offset, max_bytes, std::move(done), std::chrono::steady_clock::now());
}

// -- publishing -------------------------------------------------------------------------

namespace {

/// Waits for the storage actor's answer to one write.
template <class... Args>
std::string store_through(caf::actor_system& system, const storage::storage_actor& storage,
                          Args&&... args) {
  std::string error;
  caf::scoped_actor self{system};
  self->request(storage, store_timeout, std::forward<Args>(args)...)
      .receive([](caf::ok_atom) {}, [&](const caf::error& e) { error = core::describe(e); });
  return error;
}

} // namespace

api_response content_service::put_manifest(const std::string& encoded) {
  const core::byte_span bytes(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  auto manifest = core::decode_manifest(bytes);
  if (!manifest)
    return error_response(400, "not a manifest: " + core::describe(manifest.error()));
  if (auto invalid = core::validate(*manifest))
    return error_response(400, "an invalid manifest: " + core::describe(invalid));
  const auto id = core::id_of(*manifest);
  const bool fresh = !stored_manifest(id);
  if (auto error = store_through(state_->system, state_->storage, storage::put_manifest_atom::value,
                                 id, core::byte_buffer(bytes.begin(), bytes.end()));
      !error.empty())
    return error_response(507, "cannot store the manifest: " + error);
  if (fresh) {
    std::lock_guard lock(state_->mutex);
    if (state_->uploads.size() < uploads_max)
      state_->uploads.insert(id);
  }
  return {201, {{"content", id.to_hex()}, {"segments", manifest->segments.size()}}};
}

std::string content_service::abandon_upload(const core::content_id& content) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->uploads.erase(content) == 0)
      return "what the node held of it before stays";
    state_->manifests.erase(content);
  }
  std::string outcome;
  caf::scoped_actor self{state_->system};
  self->request(state_->storage, store_timeout, storage::drop_content_atom::value, content)
      .receive(
          [&](std::uint32_t removed) {
            outcome = fmt::format("the upload was abandoned and its {} stored entries removed; "
                                  "publish it again once there is room",
                                  removed);
          },
          [&](const caf::error& e) {
            outcome = "removing what the upload stored failed too: " + core::describe(e);
          });
  spdlog::warn("upload of {}: {}", content.to_hex(), outcome);
  return outcome;
}

api_response content_service::put_segment(const core::content_id& content, std::uint32_t index,
                                          const std::string& bytes) {
  const auto manifest = stored_manifest(content);
  if (!manifest)
    return error_response(404, "no manifest for content " + content.to_hex() + " on this node");
  const core::byte_span view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (index >= manifest->segments.size())
    return error_response(400, fmt::format("segment {}: the content has {} segments", index,
                                           manifest->segments.size()));
  if (!core::matches_segment(*manifest, index, view))
    return error_response(400, fmt::format("segment {}: {} bytes that do not match the manifest",
                                           index, bytes.size()));
  if (auto error = store_through(state_->system, state_->storage, storage::put_segment_atom::value,
                                 content, index,
                                 wire::payload::materialized(core::byte_buffer(view.begin(), view.end())));
      !error.empty())
    return error_response(507, fmt::format("cannot store segment {}: {}; {}", index, error,
                                           abandon_upload(content)));
  return {200, {{"content", content.to_hex()}, {"segment", index}}};
}

api_response content_service::finish_publish(const core::content_id& content) {
  const auto manifest = stored_manifest(content);
  if (!manifest)
    return error_response(404, "no manifest for content " + content.to_hex() + " on this node");
  for (std::uint32_t i = 0; i < manifest->segments.size(); ++i)
    if (!state_->context.storage->get(storage::segment_key(content, i)))
      return error_response(409, fmt::format("segment {} of {} is not stored yet", i,
                                             manifest->segments.size()));
  {
    std::lock_guard lock(state_->mutex);
    state_->uploads.erase(content); // published: no failure removes it any more
  }
  caf::anon_send(state_->masternode, peer::publish_atom::value, *manifest);
  return {200, {{"content", content.to_hex()}, {"published", true}}};
}

api_response content_service::info(const core::content_id& content) {
  auto manifest = stored_manifest(content);
  std::size_t held = 0;
  if (manifest) {
    for (std::uint32_t i = 0; i < manifest->segments.size(); ++i)
      held += state_->context.storage->get(storage::segment_key(content, i)) ? 1 : 0;
  } else {
    manifest = manifest_of(content);
  }
  if (!manifest)
    return error_response(404, "no content " + content.to_hex() + " here or on the chain");
  return {200,
          {{"content", content.to_hex()},
           {"title", manifest->title},
           {"size_bytes", manifest->content_bytes},
           {"segments", manifest->segments.size()},
           {"stored_segments", held},
           {"manifest", core::to_hex(core::encode_manifest(*manifest))}}};
}

} // namespace stakecast::node
