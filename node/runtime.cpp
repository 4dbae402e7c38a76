#include "node/runtime.hpp"

#include <cassert>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "actors/core/error.hpp"
#include "actors/core/limits.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/validator/rules/transaction.hpp"
#include "actors/peer/service.hpp"
#include "actors/peer/streaming.hpp"
#include "actors/storage/storage_actor.hpp"
#include "actors/validator/validator.hpp"
#include "node/chain_client.hpp"
#include "node/content_saver.hpp"
#include "node/content_service.hpp"
#include "node/gateway.hpp"
#include "node/lmdb_store.hpp"
#include "node/prometheus_metrics.hpp"
#include "node/tls_transport.hpp"

namespace stakecast::node {

namespace {

/// How long the API waits for the chain client; below the command line's API timeout.
constexpr std::chrono::milliseconds api_query_timeout{5000};

struct system_clock final : world::clock {
  world::utc_time now_utc() const override {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  }
};

/// Which actor of the node receives which inbound messages. Filled before the
/// transport starts and never changed after (see runtime.hpp), except the viewing
/// sessions, which the content service looks up under its own lock.
class inbox_routes {
public:
  void bind(world::message_set types, caf::actor receiver) {
    routes_.emplace_back(types, std::move(receiver));
  }
  void bind_sessions(const content_service* sessions) { sessions_ = sessions; }

  void deliver(world::inbound message) const {
    const auto bit = world::type_bit(message.body);
    if (sessions_ != nullptr && (bit & peer::viewer_messages) != 0)
      if (auto session = sessions_->session_for(content_of(message.body))) {
        caf::anon_send(session, std::move(message));
        return;
      }
    // Answers carry the asker's query id: every actor that asks sees them all.
    const bool to_all = std::holds_alternative<wire::chain_answer>(message.body);
    for (const auto& [types, receiver] : routes_)
      if ((types & bit) != 0) {
        caf::anon_send(receiver, message);
        if (!to_all)
          return;
      }
    // No actor of this node handles it (a role the node does not have): dropped.
  }

private:
  static core::content_id content_of(const wire::message& body) {
    return std::visit(
        [](const auto& m) {
          if constexpr (requires { m.content; })
            return core::content_id(m.content);
          else
            return core::content_id{};
        },
        body);
  }

  std::vector<std::pair<world::message_set, caf::actor>> routes_;
  const content_service* sessions_ = nullptr;
};

/// The node's world::transport: the TLS transport, plus local delivery of messages
/// the node sends itself.
class node_transport final : public world::transport {
public:
  node_transport(core::node_id self, const inbox_routes& routes, tls_transport& remote)
      : self_(self), routes_(routes), remote_(remote) {}

  void send(const core::node_id& to, wire::message message) override {
    if (to == self_)
      routes_.deliver(world::inbound{self_, std::move(message)});
    else
      remote_.send(to, std::move(message));
  }

private:
  core::node_id self_;
  const inbox_routes& routes_;
  tls_transport& remote_;
};

/// Segment messages of 1-4 MiB are allocated and freed for every segment a node sends
/// or receives. glibc hands blocks that large out of fresh mmaps (and gives freed heap
/// tops back), so each one was faulted in page by page again: a masternode serving
/// 256 MiB took 90,000-170,000 page faults and 0.4-0.5 s of CPU; with blocks up to
/// 8 MiB from the heap and up to 64 MiB of freed heap kept, 6,000 and 0.25 s
/// (docs/benchmarks.md, "Transfer").
constexpr int heap_block_bytes_max = 8 << 20;
constexpr int heap_kept_bytes = 64 << 20;
static_assert(static_cast<std::size_t>(heap_block_bytes_max) > limits::frame_bytes_max,
              "a whole frame comes from the heap");

void keep_segment_memory() {
  ::mallopt(M_MMAP_THRESHOLD, heap_block_bytes_max);
  ::mallopt(M_TRIM_THRESHOLD, heap_kept_bytes);
}

std::unique_ptr<caf::actor_system_config> actor_config() {
  auto config = std::make_unique<caf::actor_system_config>();
  config->set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  config->set("logger.file-verbosity", caf::atom("quiet"));
  config->set("logger.console-verbosity", caf::atom("quiet"));
  // An idle worker spins briefly, then sleeps on its condition variable until work
  // arrives. CAF's default polls in between (500 times, 50 us apart): on a node that
  // takes a message every millisecond or so, that is tens of thousands of wake-ups a
  // second per worker. Without it, a viewer node streaming 256 MiB through its
  // gateway used half the CPU time (docs/benchmarks.md, "Transfer").
  config->set("work-stealing.moderate-poll-attempts", std::size_t{0});
  return config;
}

/// Tells the transport which peers to rank first (tls_transport.hpp, "Slots"): the
/// configured peers, then the validators and masternodes the chain registers. Both
/// registrations are staked, so a stranger cannot mint them as it mints keys. The
/// genesis gives the first set; on a validator node every commit refreshes it from
/// the committed state. Other nodes keep the genesis's (they read no registrations
/// yet: docs/node.md, "Not yet").
///
/// Not thread-safe: `from_genesis` before the validator starts, then `from_state` on
/// the validator's thread only.
class known_peers_feed {
public:
  known_peers_feed(const std::vector<peer_address>& configured, tls_transport& transport)
      : transport_(transport) {
    for (const auto& peer : configured)
      configured_.push_back(peer.id);
  }

  void from_genesis(const rules::genesis& genesis) {
    std::vector<core::node_id> registered;
    for (const auto& v : genesis.validators)
      registered.push_back(v.id);
    for (const auto& m : genesis.masternodes)
      registered.push_back(m.id);
    publish(std::move(registered));
  }

  /// After a commit. Cheap when the registrations did not change (most blocks).
  void from_state(const rules::state& state) {
    std::vector<core::node_id> registered;
    registered.reserve(state.validators.size() + state.masternodes.size());
    for (const auto& entry : state.validators.entries())
      registered.push_back(entry.first);
    for (const auto& entry : state.masternodes.entries())
      registered.push_back(entry.first);
    if (registered != registered_)
      publish(std::move(registered));
  }

private:
  void publish(std::vector<core::node_id> registered) {
    registered_ = std::move(registered);
    auto known = configured_;
    known.insert(known.end(), registered_.begin(), registered_.end());
    if (known.size() > tls_transport::known_peers_max) {
      // The configured peers and the validators come first, so a chain with more
      // masternodes than this ranks some of them as strangers.
      spdlog::warn("{} known peers, the transport ranks the first {}", known.size(),
                   tls_transport::known_peers_max);
      known.resize(tls_transport::known_peers_max);
    }
    const auto error = transport_.set_known_peers(known);
    assert(!error); // the size was bounded above
    (void)error;
  }

  std::vector<core::node_id> configured_;
  std::vector<core::node_id> registered_; // the last published
  tls_transport& transport_;
};

api_response error_response(unsigned status, std::string message) {
  return {status, {{"error", std::move(message)}}};
}

/// The blocks a masternode shows an audit: read from the segments its store holds,
/// with proofs from the segment's blocks and the manifest's piece layer.
class stored_blocks final : public peer::audit_source {
public:
  explicit stored_blocks(const world::store& store) : store_(store) {}

  std::optional<peer::audit_block> read(const core::content_id& content,
                                        std::uint32_t index) const override {
    const auto encoded = store_.get(storage::manifest_key(content));
    if (!encoded)
      return std::nullopt;
    auto manifest = core::decode_manifest(*encoded);
    if (!manifest || core::validate(*manifest) ||
        index >= core::block_count(manifest->content_bytes))
      return std::nullopt;
    const std::uint32_t segment = index >> manifest->segment_height;
    const auto body = storage::read_segment(store_, content, segment);
    if (!body || body->is_virtual())
      return std::nullopt;
    const auto bytes = body->view();
    const auto leaves = core::leaf_hashes(bytes);
    const std::uint32_t first = core::blocks_of_segment(*manifest, segment).first;
    const std::size_t from = std::size_t{index - first} * core::block_bytes;
    if (from >= bytes.size())
      return std::nullopt;
    const auto block = bytes.subspan(from, std::min(core::block_bytes, bytes.size() - from));
    return peer::audit_block{{block.begin(), block.end()}, core::block_proof(*manifest, leaves, index)};
  }

private:
  const world::store& store_;
};

} // namespace

struct node_runtime::parts {
  home_folder home;
  node_config config;
  std::optional<core::key_pair> key;
  rules::genesis genesis;
  core::hash256 chain;
  core::direct_verifier signatures;
  std::unique_ptr<lmdb_store> store;
  std::unique_ptr<prometheus_metrics> metrics;
  system_clock clock;
  inbox_routes routes;
  std::unique_ptr<tls_transport> remote;
  std::shared_ptr<known_peers_feed> known_peers;
  std::unique_ptr<node_transport> network;
  std::unique_ptr<caf::actor_system_config> actor_config;
  std::unique_ptr<caf::actor_system> system;
  std::vector<caf::actor> actors;
  chain_client_actor client;
  storage::storage_actor storage;
  peer::masternode_actor masternode;
  std::shared_ptr<content_service> contents;
  std::unique_ptr<content_saver> saver;
  std::shared_ptr<const core::key_pair> shared_key;
  std::string api_token;
  std::unique_ptr<gateway> http;
  std::uint64_t seed = 0;

  world::node_context context() {
    return {key->public_key(), seed, &clock, network.get(), store.get(), metrics.get()};
  }

  std::string start_world();
  void spawn_actors();
  std::string start_network();
  void spawn_content_actors(const std::vector<core::node_id>& validators);
  api_response answer(const api_request& request);
  api_response content_api(std::string_view path, const api_request& request);
  api_response account(const core::node_id& id);
  api_response submit(const std::string& body);
  std::optional<wire::chain_answer> query(const core::node_id& account, std::string& error);
  nlohmann::json status();
  api_response health();
  void stop();

  /// What /healthz last saw of the chain (the gateway thread only): the height, since
  /// when it has not moved, and whether the node was healthy.
  std::uint64_t health_height = 0;
  std::chrono::steady_clock::time_point health_height_since{};
  bool healthy = true;
};

std::string node_runtime::parts::start_world() {
  auto loaded_key = load_key(home);
  if (!loaded_key)
    return loaded_key.error;
  key.emplace(std::move(*loaded_key.value));
  auto loaded_genesis = load_genesis(home);
  if (!loaded_genesis)
    return loaded_genesis.error;
  genesis = std::move(*loaded_genesis.value);
  chain = rules::chain_id(genesis);
  if (config.validator && std::none_of(genesis.validators.begin(), genesis.validators.end(),
                                       [&](const auto& v) { return v.id == key->public_key(); }))
    return fmt::format("the config gives this node the validator role, but {} does not name "
                       "its key {} among the validators",
                       home.genesis_file().string(), key->public_key().to_hex());
  lmdb_options store_options;
  store_options.map_size_initial_bytes = config.map_size_bytes;
  store_options.map_size_max_bytes = config.map_size_max_bytes;
  store_options.reserved_bytes = config.chain_reserve();
  auto opened = lmdb_store::open(home.data_dir(), store_options);
  if (!opened)
    return core::describe(opened.error());
  store = std::move(*opened);
  // A validator that cannot read what it signed last could sign a vote that conflicts
  // with it: it does not start until an operator has looked.
  if (auto signed_last = validator::load_sign_state(*store); config.validator && !signed_last)
    return fmt::format("{}: {}: the validator does not know what it signed last, and could "
                       "sign a vote that conflicts with it and be slashed; start it on a fresh "
                       "data folder only once the chain has committed past the heights it was "
                       "voting on",
                       home.data_dir().string(), core::describe(signed_last.error()));
  metrics = std::make_unique<prometheus_metrics>();
  auto random = fresh_seed();
  if (!random)
    return random.error;
  seed = random.value->prefix64();
  // Publishing through the API needs this token: only who can read the home may.
  auto token = fresh_seed();
  if (!token)
    return token.error;
  api_token = token.value->to_hex();
  if (auto problem = write_file_atomically(home.api_token_file(), api_token + "\n", true); !problem.empty())
    return problem;
  std::error_code made;
  std::filesystem::create_directories(home.downloads_dir(), made);
  if (made)
    spdlog::warn("cannot make {}: {}; `get` writes its files itself", home.downloads_dir().string(),
                 made.message());

  transport_options options;
  options.listen_host = config.listen.host;
  options.listen_port = config.listen.port;
  options.connections_max = config.connections_max;
  options.unknown_connections_max = config.unknown_connections_max;
  options.inbound_handshakes_max = config.inbound_handshakes_max;
  options.connections_per_address_max = config.connections_per_address_max;
  const auto ms = [](std::chrono::milliseconds value) {
    return static_cast<std::uint32_t>(value.count());
  };
  options.handshake_timeout_ms = ms(config.handshake_timeout);
  options.inbound_handshake_timeout_ms = ms(config.inbound_handshake_timeout);
  options.first_frame_timeout_ms = ms(config.first_frame_timeout);
  options.idle_timeout_ms = ms(config.idle_timeout);
  remote = std::make_unique<tls_transport>(*key, options, [this](world::inbound message) {
    routes.deliver(std::move(message));
  });
  known_peers = std::make_shared<known_peers_feed>(config.peers, *remote);
  known_peers->from_genesis(genesis);
  network = std::make_unique<node_transport>(key->public_key(), routes, *remote);
  actor_config = node::actor_config();
  system = std::make_unique<caf::actor_system>(*actor_config);
  return {};
}

void node_runtime::parts::spawn_actors() {
  std::vector<core::node_id> validators;
  for (const auto& v : genesis.validators)
    validators.push_back(v.id);
  if (config.validator) {
    validator::validator_config settings;
    settings.genesis = genesis;
    settings.key_seed = key->seed();
    settings.signatures = &signatures;
    settings.tick_ms = config.tick.count();
    settings.block_interval_ms = config.block_interval.count();
    settings.engine = validator::consensus_config::for_block_interval(config.block_interval.count());
    // The transport outlives the validator (stop() ends the actors before it goes).
    settings.on_commit = [feed = known_peers](const validator::commit_report& report) {
      feed->from_state(report.state);
    };
    auto actor = system->spawn(validator::validator, context(), std::move(settings));
    routes.bind(validator::validator_messages, caf::actor_cast<caf::actor>(actor));
    actors.push_back(caf::actor_cast<caf::actor>(actor));
    // The node's own queries go to its own validator: it has the state at hand.
    validators = {key->public_key()};
  }
  chain_client_config client_config;
  client_config.validators = validators;
  client = system->spawn(chain_client, context(), std::move(client_config));
  routes.bind(chain_client_messages, caf::actor_cast<caf::actor>(client));
  actors.push_back(caf::actor_cast<caf::actor>(client));
  spawn_content_actors(validators);
}

/// Storage, the masternode (every node serves what it published; a masternode also
/// what the chain assigns it), its service agent, and the content service.
void node_runtime::parts::spawn_content_actors(const std::vector<core::node_id>& validators) {
  storage = system->spawn(storage::storage, context());
  actors.push_back(caf::actor_cast<caf::actor>(storage));
  // Whatever the store holds whole is served whole: published here, or fetched.
  auto published = std::make_shared<peer::content_library>();
  for (const auto& stored : storage::load_contents(*store)) {
    auto manifest = core::decode_manifest(stored.manifest);
    if (manifest && !core::validate(*manifest) && stored.segments.size() == manifest->segments.size())
      published->manifests.emplace(stored.content,
                                   std::make_shared<const core::manifest>(std::move(*manifest)));
  }
  peer::masternode_config serving;
  serving.published = std::move(published);
  serving.publisher = !config.masternode;
  serving.stored_payloads = true;
  serving.storage = storage;
  serving.uplink_bps = config.uplink_bps;
  serving.upload_slots = config.upload_slots;
  masternode = system->spawn(peer::masternode, context(), std::move(serving));
  routes.bind(peer::masternode_messages, caf::actor_cast<caf::actor>(masternode));
  actors.push_back(caf::actor_cast<caf::actor>(masternode));

  shared_key = std::make_shared<const core::key_pair>(std::move(*core::key_pair::from_seed(key->seed())));
  content_settings settings;
  settings.chain = chain;
  settings.validators = validators;
  settings.key = shared_key;
  settings.deposit = config.viewer ? config.deposit_micro : 0;
  settings.fee = genesis.params.tx_fee_min;
  settings.receipt_interval = config.receipt_interval;
  settings.uplink_bps = config.uplink_bps;
  contents = std::make_shared<content_service>(*system, context(), settings, storage, masternode, client);
  routes.bind_sessions(contents.get());
  save_settings saving;
  // Not the whole home: a save there could overwrite the node's key or its store.
  saving.folders = {home.downloads_dir()};
  saving.folders.insert(saving.folders.end(), config.download_folders.begin(),
                        config.download_folders.end());
  saver = std::make_unique<content_saver>(
      [contents = contents](const core::content_id& id) { return contents->manifest_of(id); },
      contents, std::move(saving));
  if (config.masternode) {
    // An assigned content is fetched from the node's peers that are not validators:
    // the publisher and the other masternodes are among them on a devnet.
    std::vector<core::node_id> sources;
    for (const auto& peer : config.peers)
      if (std::find(validators.begin(), validators.end(), peer.id) == validators.end() &&
          sources.size() < peer::fetcher::sources_max)
        sources.push_back(peer.id);
    peer::service_agent_config agent;
    agent.chain = chain;
    agent.validators = validators;
    agent.fee = genesis.params.tx_fee_min;
    agent.claim_interval = config.claim_interval;
    agent.blocks = std::make_shared<stored_blocks>(*store);
    agent.signatures = &signatures;
    agent.on_assignments = [this, sources](const std::vector<core::content_id>& assigned) {
      contents->set_hosted(assigned);
      std::vector<peer::hosted_assignment> hosted;
      for (const auto& content : assigned)
        hosted.push_back({content, sources});
      caf::anon_send(masternode, peer::host_atom::value, std::move(hosted));
    };
    auto actor = system->spawn(peer::service_agent, context(), shared_key, std::move(agent));
    routes.bind(peer::service_agent_messages, caf::actor_cast<caf::actor>(actor));
    actors.push_back(caf::actor_cast<caf::actor>(actor));
  }
}

std::string node_runtime::parts::start_network() {
  if (auto error = remote->start())
    return fmt::format("cannot listen on {}: {}", config.listen.to_string(), core::describe(error));
  for (const auto& peer : config.peers)
    if (auto error = remote->set_address(peer.id, peer.address.host, peer.address.port))
      return fmt::format("peer {}: {}", peer.address.to_string(), core::describe(error));
  if (!config.gateway)
    return {};
  gateway_options options;
  options.address = config.gateway->host;
  options.port = config.gateway->port;
  // A segment upload is the largest body: a segment and some slack.
  options.body_bytes_max = limits::payload_bytes_max + 4096;
  options.connections_max = config.gateway_connections_max;
  options.connections_per_address_max = config.gateway_connections_per_address_max;
  options.header_timeout_ms = static_cast<std::uint32_t>(config.gateway_header_timeout.count());
  options.idle_timeout_ms = static_cast<std::uint32_t>(config.gateway_idle_timeout.count());
  // The command line sends it: it reaches the node when every other slot is taken.
  options.api_token = api_token;
  gateway_services services;
  services.content = contents;
  services.metrics = metrics->registry();
  services.api = [this](const api_request& request) { return answer(request); };
  std::string error;
  http = gateway::start(options, std::move(services), error);
  if (!http)
    return fmt::format("cannot start the gateway on {}: {}", config.gateway->to_string(), error);
  return {};
}

std::optional<wire::chain_answer> node_runtime::parts::query(const core::node_id& account,
                                                             std::string& error) {
  std::optional<wire::chain_answer> answer;
  caf::scoped_actor self{*system};
  self->request(client, api_query_timeout, account_query_atom::value, account,
                std::vector<core::content_id>{})
      .receive([&](const wire::chain_answer& a) { answer = a; },
               [&](const caf::error& e) { error = core::describe(e); });
  return answer;
}

api_response node_runtime::parts::account(const core::node_id& id) {
  std::string error;
  const auto answer = query(id, error);
  if (!answer)
    return error_response(503, "the chain did not answer: " + error);
  return {200,
          {{"account", id.to_hex()},
           {"height", answer->height},
           {"balance", answer->balance},
           {"nonce", answer->nonce},
           {"jailed", answer->jailed}}};
}

api_response node_runtime::parts::submit(const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("tx") ||
      !parsed["tx"].is_string())
    return error_response(400, "expected a JSON object {\"tx\": \"<hex of a signed transaction>\"}");
  auto bytes = core::from_hex(parsed["tx"].get<std::string>());
  if (!bytes)
    return error_response(400, "tx: not hex");
  if (bytes->size() > wire::chain_tx_bytes_max)
    return error_response(413, fmt::format("tx: {} bytes, at most {}", bytes->size(),
                                           wire::chain_tx_bytes_max));
  auto tx = core::decode_record<rules::transaction>(*bytes, "transaction");
  if (!tx)
    return error_response(400, "tx: not a transaction: " + core::describe(tx.error()));
  if (tx->chain != chain)
    return error_response(400, "tx: signed for another chain");
  if (!rules::verify(*tx, signatures))
    return error_response(400, "tx: bad signature");
  caf::anon_send(client, submit_tx_atom::value, std::move(*bytes));
  return {202, {{"hash", rules::tx_hash(*tx).to_hex()}, {"nonce", tx->nonce}}};
}

api_response node_runtime::parts::answer(const api_request& request) {
  auto path = std::string_view(request.target);
  path = path.substr(0, path.find('?'));
  if (path == "/api/status" && request.method == "GET")
    return {200, status()};
  if (path == "/healthz" && request.method == "GET")
    return health();
  if (path.starts_with("/api/account/") && request.method == "GET") {
    const auto id = core::hash256::from_hex(path.substr(std::string_view("/api/account/").size()));
    if (!id)
      return error_response(400, "an account is 64 hex digits");
    return account(*id);
  }
  if (path == "/api/tx" && request.method == "POST")
    return submit(request.body);
  if (path.starts_with("/api/content"))
    return content_api(path, request);
  return error_response(404, fmt::format("no API at {} {}", request.method, path));
}

/// The whole of `digits` as a decimal number.
template <class T>
std::optional<T> decimal(std::string_view digits) {
  T value{};
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return value;
}

/// POST /api/content (a manifest), POST /api/content/<id>/segment/<n> (its bytes),
/// POST /api/content/<id>/publish and the saves (content_saver.hpp) need the node's api
/// token; GET /api/content/<id> not.
api_response node_runtime::parts::content_api(std::string_view path, const api_request& request) {
  const bool get = request.method == "GET";
  constexpr std::string_view save = "/save";
  const bool saving = path.find(save) != std::string_view::npos;
  if ((!get || saving) && request.authorization != "Bearer " + api_token)
    return error_response(401, fmt::format("{} needs the token in {}", saving ? "saving" : "publishing",
                                           home.api_token_file().string()));
  if (path == "/api/content" && !get)
    return contents->put_manifest(request.body);
  constexpr std::string_view prefix = "/api/content/";
  if (!path.starts_with(prefix))
    return error_response(404, fmt::format("no API at {} {}", request.method, path));
  path.remove_prefix(prefix.size());
  const auto id = core::hash256::from_hex(path.substr(0, 2 * core::hash256::size_bytes));
  if (!id)
    return error_response(400, "a content id is 64 hex digits");
  path.remove_prefix(std::min(path.size(), 2 * core::hash256::size_bytes));
  if (path.empty() && get)
    return contents->info(*id);
  if (path == "/publish" && !get)
    return contents->finish_publish(*id);
  if (path == save && !get)
    return saver->start(*id, request.body);
  constexpr std::string_view save_status = "/save/";
  if (path.starts_with(save_status) && get) {
    const auto number = decimal<std::uint64_t>(path.substr(save_status.size()));
    if (!number)
      return error_response(400, "a save is a decimal number");
    return saver->status(*id, *number);
  }
  constexpr std::string_view segment = "/segment/";
  if (path.starts_with(segment) && !get) {
    const auto index = decimal<std::uint32_t>(path.substr(segment.size()));
    if (!index)
      return error_response(400, "a segment index is a decimal number");
    return contents->put_segment(*id, *index, request.body);
  }
  return error_response(404, fmt::format("no API at {} {}", request.method, request.target));
}

void node_runtime::parts::stop() {
  http.reset();
  saver.reset();
  if (contents)
    contents->stop();
  if (remote)
    remote->stop();
  for (const auto& actor : actors)
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  actors.clear();
  client = nullptr;
  storage = nullptr;
  masternode = nullptr;
  if (system)
    system->await_all_actors_done();
  routes.bind_sessions(nullptr);
  contents.reset();
  system.reset();
  network.reset();
  remote.reset();
  store.reset();
}

nlohmann::json node_runtime::parts::status() {
  nlohmann::json roles = nlohmann::json::array();
  for (const auto role : config.roles())
    roles.push_back(role);
  const auto transport_counters = remote->stats();
  const auto store_stats = store->stats();
  nlohmann::json out = {{"id", key->public_key().to_hex()},
                        {"chain", chain.to_hex()},
                        {"chain_name", genesis.chain_name},
                        {"roles", roles},
                        {"listen", fmt::format("{}:{}", config.listen.host, remote->listening_port())},
                        {"transport",
                         {{"connections_open", transport_counters.connections_open},
                          {"frames_in", transport_counters.frames_in},
                          {"frames_out", transport_counters.frames_out},
                          {"protocol_errors", transport_counters.protocol_errors},
                          {"handshake_failures", transport_counters.handshake_failures},
                          {"handshakes_open", transport_counters.handshakes_open},
                          {"refused_connections_max", transport_counters.refused_connections_max},
                          {"refused_unknown_max", transport_counters.refused_unknown_max},
                          {"refused_address_max", transport_counters.refused_address_max},
                          {"evicted_handshakes", transport_counters.evicted_handshakes},
                          {"evicted_for_known", transport_counters.evicted_for_known},
                          {"first_frame_timeouts", transport_counters.first_frame_timeouts}}},
                        {"store",
                         {{"used_bytes", store_stats.used_bytes},
                          {"map_size_bytes", store_stats.map_size_bytes},
                          {"map_size_max_bytes", store_stats.map_size_max_bytes},
                          {"room_bytes", store_stats.room_bytes},
                          {"chain_reserve_bytes", store_stats.reserved_bytes},
                          {"refused_full", store_stats.refused_full}}}};
  std::string error;
  if (const auto answer = query(key->public_key(), error)) {
    out["height"] = answer->height;
    out["balance"] = answer->balance;
  } else {
    out["height"] = nullptr;
    out["chain_error"] = error;
  }
  return out;
}

api_response node_runtime::parts::health() {
  // The chain counts as stalled after ten block intervals without a commit, and never
  // sooner than this (a round may take a few intervals when a proposer is down).
  constexpr std::chrono::seconds stall_min{5};
  const auto stall = std::max<std::chrono::milliseconds>(stall_min, 10 * config.block_interval);
  // A write refused this recently is a warning (the node still works: the upload or
  // fetch that failed was abandoned).
  constexpr std::chrono::minutes refusal_shown{10};
  std::vector<std::string> problems, warnings;
  const auto now = std::chrono::steady_clock::now();
  const auto stored = store->stats();
  if (stored.reserved_bytes > 0 && stored.room_bytes < stored.reserved_bytes)
    problems.push_back(fmt::format(
        "store full: the chain is using the {} bytes kept for it ({} left below the map size "
        "limit of {} in {}); content is refused, and the chain stops once they are gone: raise "
        "store.map_size_max",
        stored.reserved_bytes, stored.room_bytes, stored.map_size_max_bytes,
        home.data_dir().string()));
  if (stored.refused_full > 0 && now - stored.last_refusal_at < refusal_shown)
    warnings.push_back(fmt::format(
        "the store refused a write {} s ago ({} refused since the start): {}",
        std::chrono::duration_cast<std::chrono::seconds>(now - stored.last_refusal_at).count(),
        stored.refused_full, stored.last_refusal));
  nlohmann::json height = nullptr;
  std::string error;
  if (const auto answer = query(key->public_key(), error)) {
    height = answer->height;
    if (answer->height != health_height ||
        health_height_since == std::chrono::steady_clock::time_point{}) {
      health_height = answer->height;
      health_height_since = now;
    } else if (now - health_height_since > stall) {
      problems.push_back(fmt::format(
          "chain not committing: height {} unchanged for {} s", answer->height,
          std::chrono::duration_cast<std::chrono::seconds>(now - health_height_since).count()));
    }
  } else {
    problems.push_back("chain not answering: " + error);
  }
  if (healthy && !problems.empty())
    for (const auto& problem : problems)
      spdlog::warn("unhealthy: {}", problem);
  healthy = problems.empty();
  return {problems.empty() ? 200u : 503u,
          {{"healthy", problems.empty()},
           {"height", height},
           {"problems", problems},
           {"warnings", warnings}}};
}

nlohmann::json node_runtime::status() {
  return parts_->status();
}

node_runtime::node_runtime(std::unique_ptr<parts> state) : parts_(std::move(state)) {}

node_runtime::~node_runtime() {
  parts_->stop();
}

core::node_id node_runtime::id() const noexcept {
  return parts_->key->public_key();
}

std::uint16_t node_runtime::listen_port() const noexcept {
  return parts_->remote->listening_port();
}

std::optional<std::uint16_t> node_runtime::gateway_port() const noexcept {
  if (!parts_->http)
    return std::nullopt;
  return parts_->http->port();
}

result<std::unique_ptr<node_runtime>> node_runtime::start(const home_folder& home,
                                                          node_config config) {
  using out = result<std::unique_ptr<node_runtime>>;
  auto state = std::make_unique<parts>();
  state->home = home;
  state->config = std::move(config);
  if (auto error = state->start_world(); !error.empty()) {
    state->stop();
    return out::failure(error);
  }
  state->spawn_actors();
  if (auto error = state->start_network(); !error.empty()) {
    state->stop();
    return out::failure(error);
  }
  return out::success(std::unique_ptr<node_runtime>(new node_runtime(std::move(state))));
}

int run_node(const home_folder& home) {
  keep_segment_memory();
  node_config config;
  try {
    config = load_node_config(home.config_file());
  } catch (const config::config_exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (::geteuid() == 0)
    spdlog::warn("running as root: a node needs no privilege, and whoever holds its API token "
                 "has it write files as its user (below {} and the configured download "
                 "folders); run it as a user of its own",
                 home.downloads_dir().string());
  // Signals are waited for, not handled: the main thread blocks them and sigwait()s.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto started = node_runtime::start(home, config);
  if (!started) {
    spdlog::error("{}", started.error);
    return 1;
  }
  auto& node = **started.value;
  if (auto problem = write_file_atomically(home.pid_file(), fmt::format("{}\n", ::getpid()));
      !problem.empty())
    spdlog::warn("{}", problem);
  spdlog::info("node {} listening on {}:{}{}", node.id().to_hex(), config.listen.host,
               node.listen_port(),
               node.gateway_port() ? fmt::format(", gateway on http://{}:{}", config.gateway->host,
                                                 *node.gateway_port())
                                   : std::string{});
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("stopping on signal {}", signal);
  started.value->reset();
  std::error_code ignored;
  std::filesystem::remove(home.pid_file(), ignored);
  std::filesystem::remove(home.api_token_file(), ignored); // the next start makes a new one
  return 0;
}

} // namespace stakecast::node
