#include "node/runtime.hpp"

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
  void stop();
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
  auto opened = lmdb_store::open(home.data_dir(), store_options);
  if (!opened)
    return core::describe(opened.error());
  store = std::move(*opened);
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
  options.handshake_timeout_ms = static_cast<std::uint32_t>(config.handshake_timeout.count());
  options.idle_timeout_ms = static_cast<std::uint32_t>(config.idle_timeout.count());
  remote = std::make_unique<tls_transport>(*key, options, [this](world::inbound message) {
    routes.deliver(std::move(message));
  });
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
                          {"handshake_failures", transport_counters.handshake_failures}}},
                        {"store", {{"used_bytes", store_stats.used_bytes}, {"map_size_bytes", store_stats.map_size_bytes}}}};
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
  return 0;
}

} // namespace stakecast::node
