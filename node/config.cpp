#include "node/config.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace stakecast::node {

namespace {

using config::bounds;
using config::node_reader;

constexpr std::string_view role_names[] = {"validator", "masternode", "viewer"};

std::chrono::milliseconds millis(std::chrono::nanoseconds value) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(value);
}

void read_roles(node_reader& root, node_config& out) {
  out.validator = out.masternode = out.viewer = false;
  if (!root.has("roles")) {
    out.viewer = true;
    return;
  }
  auto items = root.list("roles", {.max = std::size(role_names)});
  for (auto& item : items) {
    const auto name = item.as<std::string>();
    if (name == "validator")
      out.validator = true;
    else if (name == "masternode")
      out.masternode = true;
    else if (name == "viewer")
      out.viewer = true;
    else
      item.error(fmt::format("unknown role {}: the roles are validator, masternode and viewer",
                             config::in_quotes(name)));
  }
  if (out.validator && out.masternode)
    root.error_at("roles", "a node is a validator or a masternode, not both: they are distinct "
                           "accounts on the chain, and the node's key is its one account");
}

void read_peers(node_reader& root, node_config& out) {
  for (auto& item : root.optional_list("peers", {.max = node_config::peers_max})) {
    peer_address peer;
    const auto id_text = item.required<std::string>("id");
    if (const auto id = core::hash256::from_hex(id_text))
      peer.id = *id;
    else if (!id_text.empty())
      item.error_at("id", "must be a node id: 64 hex digits (the node's public key)");
    peer.address = item.required<endpoint>("address");
    if (peer.address.port == 0)
      item.error_at("address", "a peer's port must not be 0");
    out.peers.push_back(std::move(peer));
  }
}

void read_download_folders(node_reader& root, node_config& out) {
  auto downloads = root.optional_section("downloads");
  for (auto& item :
       downloads.optional_list("folders", {.max = node_config::download_folders_max})) {
    const auto text = item.as<std::string>();
    const bool visible = std::none_of(text.begin(), text.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (!visible)
      item.error("a folder's path may not hold control characters");
    else if (!std::filesystem::path(text).is_absolute())
      item.error(fmt::format("folder {} must be an absolute path", config::in_quotes(text)));
    else
      out.download_folders.emplace_back(text);
  }
}

node_config read(config::document_reader document) {
  node_config out;
  auto root = document.root();
  read_roles(root, out);
  out.listen = root.optional<endpoint>("listen", out.listen);
  const auto gateway = root.optional<std::string>("gateway", out.gateway->to_string());
  if (gateway == "off") {
    out.gateway.reset();
  } else if (auto parsed = parse_endpoint(gateway)) {
    out.gateway = *parsed.value;
  } else {
    root.error_at("gateway", parsed.error + ", or off");
  }
  read_peers(root, out);

  using namespace std::chrono_literals;
  auto chain = root.optional_section("chain");
  out.block_interval = millis(chain.optional<std::chrono::nanoseconds>(
      "block_interval", out.block_interval, {.min = 100ms, .max = 1h}));
  out.tick = millis(chain.optional<std::chrono::nanoseconds>("tick", out.tick, {.min = 100ms, .max = 1min}));

  auto store = root.optional_section("store");
  out.map_size_bytes = store
                           .optional<config::size_bytes>("map_size", {out.map_size_bytes},
                                                         {.min = config::size_bytes{1 << 20}})
                           .value;
  out.map_size_max_bytes = store
                               .optional<config::size_bytes>("map_size_max", {out.map_size_max_bytes},
                                                             {.min = config::size_bytes{1 << 20}})
                               .value;
  if (out.map_size_max_bytes < out.map_size_bytes)
    store.error_at("map_size_max", "must be at least map_size");
  if (store.has("chain_reserve")) {
    out.chain_reserve_bytes = store.optional<config::size_bytes>("chain_reserve", {0}).value;
    if (*out.chain_reserve_bytes >= out.map_size_max_bytes / 2)
      store.error_at("chain_reserve", "must be below half of map_size_max");
  }

  auto transport = root.optional_section("transport");
  out.connections_max =
      transport.optional<std::uint32_t>("connections_max", out.connections_max, {1, 65536});
  out.unknown_connections_max = transport.optional<std::uint32_t>(
      "unknown_connections_max", out.unknown_connections_max, {0, 65536});
  if (out.unknown_connections_max > out.connections_max)
    transport.error_at("unknown_connections_max", "must be at most connections_max");
  out.inbound_handshakes_max = transport.optional<std::uint32_t>(
      "inbound_handshakes_max", out.inbound_handshakes_max, {1, 65536});
  out.connections_per_address_max = transport.optional<std::uint32_t>(
      "connections_per_address_max", out.connections_per_address_max, {1, 65536});
  out.handshake_timeout = millis(transport.optional<std::chrono::nanoseconds>(
      "handshake_timeout", out.handshake_timeout, {.min = 100ms, .max = 1min}));
  out.inbound_handshake_timeout = millis(transport.optional<std::chrono::nanoseconds>(
      "inbound_handshake_timeout", out.inbound_handshake_timeout, {.min = 100ms, .max = 1min}));
  out.first_frame_timeout = millis(transport.optional<std::chrono::nanoseconds>(
      "first_frame_timeout", out.first_frame_timeout, {.min = 100ms, .max = 1min}));
  out.idle_timeout = millis(transport.optional<std::chrono::nanoseconds>(
      "idle_timeout", out.idle_timeout, {.min = 1s, .max = 24h}));

  auto limits = root.optional_section("gateway_limits");
  out.gateway_connections_max =
      limits.optional<std::uint32_t>("connections_max", out.gateway_connections_max,
                                     {1, node_config::gateway_connections_max_max});
  out.gateway_connections_per_address_max = limits.optional<std::uint32_t>(
      "connections_per_address_max", out.gateway_connections_per_address_max,
      {1, node_config::gateway_connections_max_max});
  out.gateway_header_timeout = millis(limits.optional<std::chrono::nanoseconds>(
      "header_timeout", out.gateway_header_timeout, {.min = 100ms, .max = 1min}));
  out.gateway_idle_timeout = millis(limits.optional<std::chrono::nanoseconds>(
      "idle_timeout", out.gateway_idle_timeout, {.min = 100ms, .max = 1h}));

  read_download_folders(root, out);

  auto service = root.optional_section("service");
  out.deposit_micro = service.optional<std::uint64_t>("deposit", out.deposit_micro, {.min = 1});
  out.receipt_interval = millis(service.optional<std::chrono::nanoseconds>(
      "receipt_interval", out.receipt_interval, {.min = 100ms, .max = 1h}));
  out.claim_interval = millis(service.optional<std::chrono::nanoseconds>(
      "claim_interval", out.claim_interval, {.min = 1s, .max = 24h}));
  out.uplink_bps = service
                       .optional<config::bandwidth_bps>("uplink", config::bandwidth_bps{out.uplink_bps},
                                                        {.min = config::bandwidth_bps{1e6}})
                       .value;
  out.upload_slots = service.optional<std::uint32_t>("upload_slots", out.upload_slots, {1, 64});

  auto log = root.optional_section("log");
  out.log_level = log.optional_one_of("level", {"trace", "debug", "info", "warn", "error", "off"},
                                      out.log_level);
  document.finish();
  return out;
}

} // namespace

std::vector<std::string_view> node_config::roles() const {
  std::vector<std::string_view> names;
  if (validator)
    names.push_back("validator");
  if (masternode)
    names.push_back("masternode");
  if (viewer)
    names.push_back("viewer");
  return names;
}

std::string endpoint::to_string() const {
  return fmt::format("{}:{}", host, port);
}

config::parse_result<endpoint> parse_endpoint(std::string_view text) {
  using result = config::parse_result<endpoint>;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return result::failure(fmt::format("expected host:port, got {}", config::in_quotes(text)));
  const auto host = text.substr(0, colon);
  for (const char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
      return result::failure(
          fmt::format("host {} may hold only letters, digits, '.' and '-'", config::in_quotes(host)));
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return result::failure(fmt::format("port {} must be a number from 0 to 65535",
                                       config::in_quotes(port_text)));
  return result::success({std::string(host), static_cast<std::uint16_t>(port)});
}

node_config load_node_config(const std::filesystem::path& file) {
  return read(config::document_reader::load_file(file.string()));
}

node_config parse_node_config(std::string_view text, std::string label) {
  return read(config::document_reader::load_string(text, std::move(label)));
}

std::string to_yaml(const node_config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "roles" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto role : c.roles())
    out << std::string(role);
  out << YAML::EndSeq;
  out << YAML::Key << "listen" << YAML::Value << c.listen.to_string();
  out << YAML::Key << "gateway" << YAML::Value << (c.gateway ? c.gateway->to_string() : "off");
  out << YAML::Key << "peers" << YAML::Value << YAML::BeginSeq;
  for (const auto& peer : c.peers)
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "id" << YAML::Value << peer.id.to_hex()
        << YAML::Key << "address" << YAML::Value << peer.address.to_string() << YAML::EndMap;
  out << YAML::EndSeq;
  const auto duration = [](std::chrono::milliseconds value) { return config::format_duration(value); };
  out << YAML::Key << "chain" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "block_interval" << YAML::Value << duration(c.block_interval);
  out << YAML::Key << "tick" << YAML::Value << duration(c.tick) << YAML::EndMap;
  out << YAML::Key << "store" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "map_size" << YAML::Value << config::format_size({c.map_size_bytes});
  out << YAML::Key << "map_size_max" << YAML::Value << config::format_size({c.map_size_max_bytes});
  if (c.chain_reserve_bytes)
    out << YAML::Key << "chain_reserve" << YAML::Value << config::format_size({*c.chain_reserve_bytes});
  out << YAML::EndMap;
  out << YAML::Key << "transport" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "connections_max" << YAML::Value << c.connections_max;
  out << YAML::Key << "unknown_connections_max" << YAML::Value << c.unknown_connections_max;
  out << YAML::Key << "inbound_handshakes_max" << YAML::Value << c.inbound_handshakes_max;
  out << YAML::Key << "connections_per_address_max" << YAML::Value
      << c.connections_per_address_max;
  out << YAML::Key << "handshake_timeout" << YAML::Value << duration(c.handshake_timeout);
  out << YAML::Key << "inbound_handshake_timeout" << YAML::Value
      << duration(c.inbound_handshake_timeout);
  out << YAML::Key << "first_frame_timeout" << YAML::Value << duration(c.first_frame_timeout);
  out << YAML::Key << "idle_timeout" << YAML::Value << duration(c.idle_timeout) << YAML::EndMap;
  out << YAML::Key << "gateway_limits" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "connections_max" << YAML::Value << c.gateway_connections_max;
  out << YAML::Key << "connections_per_address_max" << YAML::Value
      << c.gateway_connections_per_address_max;
  out << YAML::Key << "header_timeout" << YAML::Value << duration(c.gateway_header_timeout);
  out << YAML::Key << "idle_timeout" << YAML::Value << duration(c.gateway_idle_timeout)
      << YAML::EndMap;
  out << YAML::Key << "downloads" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "folders" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& folder : c.download_folders)
    out << folder.string();
  out << YAML::EndSeq << YAML::EndMap;
  out << YAML::Key << "service" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "deposit" << YAML::Value << c.deposit_micro;
  out << YAML::Key << "receipt_interval" << YAML::Value << duration(c.receipt_interval);
  out << YAML::Key << "claim_interval" << YAML::Value << duration(c.claim_interval);
  out << YAML::Key << "uplink" << YAML::Value
      << config::format_bandwidth(config::bandwidth_bps{c.uplink_bps});
  out << YAML::Key << "upload_slots" << YAML::Value << c.upload_slots << YAML::EndMap;
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << c.log_level << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

} // namespace stakecast::node
