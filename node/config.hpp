// A node's configuration: `<home>/config.yaml`, read strictly by the same reader as
// scenarios (actors/config/reader.hpp), so it speaks the same units ("250ms",
// "64MiB") and a mistake is reported with file, line, column and key path. Every key
// has a default here, in one place; docs/node.md mirrors them.
//
// Example (what `stakecast init` writes, defaults spelled out):
//
//   roles: [validator, masternode, viewer]
//   listen: 127.0.0.1:7700          # other nodes connect here (TLS 1.3)
//   gateway: 127.0.0.1:8080         # HTTP: /content/<id>, /api/..., /metrics; "off" disables
//   peers:                          # nodes to connect to: their id (public key) and address
//     - {id: 3b6a...e1, address: 127.0.0.1:7701}
//   chain: {block_interval: 1s, tick: 1s}
//   store: {map_size: 64MiB, map_size_max: 64GiB, chain_reserve: 256MiB}
//   transport: {connections_max: 128, unknown_connections_max: 96, inbound_handshakes_max: 16,
//               connections_per_address_max: 8, handshake_timeout: 5s,
//               inbound_handshake_timeout: 2s, first_frame_timeout: 2s, idle_timeout: 60s}
//   gateway_limits: {connections_max: 64, connections_per_address_max: 32,
//                    header_timeout: 5s, idle_timeout: 10s}
//   downloads: {folders: []}        # besides <home>/downloads, where `get` has the node write
//   service: {deposit: 1000000, receipt_interval: 10s, claim_interval: 30s}
//   log: {level: info}
//
// Thread-safe: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/config/reader.hpp"
#include "actors/core/bytes.hpp"

namespace stakecast::node {

/// A TCP endpoint as configs spell it: "host:port" (an IPv4 address or a name, then a
/// port 1..65535; port 0 means "any free port" where the node listens).
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  bool operator==(const endpoint&) const = default;
  std::string to_string() const;
};

config::parse_result<endpoint> parse_endpoint(std::string_view text);

/// A node this one connects to.
struct peer_address {
  core::node_id id;
  endpoint address;
};

struct node_config {
  /// Peers listed in a config: enough for a devnet or a bootstrap list.
  static constexpr std::size_t peers_max = 256;
  static constexpr std::size_t download_folders_max = 16;
  /// The gateway scans its connections to choose one to close when it is full.
  static constexpr std::uint32_t gateway_connections_max_max = 4096;

  // Roles: a validator runs the chain; a masternode hosts and serves the content the
  // chain assigns to it; a viewer streams through the gateway.
  bool validator = false;
  bool masternode = false;
  bool viewer = true;

  endpoint listen{"127.0.0.1", 7700};
  /// nullopt: no gateway ("off").
  std::optional<endpoint> gateway = endpoint{"127.0.0.1", 8080};
  std::vector<peer_address> peers;

  std::chrono::milliseconds block_interval{1000};
  std::chrono::milliseconds tick{1000};

  std::uint64_t map_size_bytes = 64ull << 20;
  std::uint64_t map_size_max_bytes = 64ull << 30;
  /// The store's last bytes kept for the chain (lmdb_store.hpp, "Reserve"); unset:
  /// chain_reserve_default_bytes, at most an eighth of map_size_max.
  std::optional<std::uint64_t> chain_reserve_bytes;
  static constexpr std::uint64_t chain_reserve_default_bytes = 256ull << 20;
  std::uint64_t chain_reserve() const {
    return chain_reserve_bytes.value_or(std::min(chain_reserve_default_bytes, map_size_max_bytes / 8));
  }

  // The transport's slots and timeouts (node/tls_transport.hpp, transport_options).
  std::uint32_t connections_max = 128;
  std::uint32_t unknown_connections_max = 96;
  std::uint32_t inbound_handshakes_max = 16;
  std::uint32_t connections_per_address_max = 8;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds inbound_handshake_timeout{2000};
  std::chrono::milliseconds first_frame_timeout{2000};
  std::chrono::milliseconds idle_timeout{60000};

  // The gateway's limits (gateway.hpp, gateway_options: the defaults are its own).
  std::uint32_t gateway_connections_max = 64;
  std::uint32_t gateway_connections_per_address_max = 32;
  std::chrono::milliseconds gateway_header_timeout{5000};
  std::chrono::milliseconds gateway_idle_timeout{10000};

  /// Absolute folders, besides <home>/downloads, that a save (`stakecast get`) may have
  /// the node write below (content_saver.hpp).
  std::vector<std::filesystem::path> download_folders;

  /// Micro-units a viewer locks for each viewing session it pays for.
  std::uint64_t deposit_micro = 1'000'000;
  std::chrono::milliseconds receipt_interval{10'000};
  std::chrono::milliseconds claim_interval{30'000};
  /// What this node's uploads may use (masternode and viewer), in bits per second.
  double uplink_bps = 1e9;
  /// Segments a masternode sends at once.
  std::uint32_t upload_slots = 16;

  std::string log_level = "info";

  /// The names of the node's roles, in the order the config lists them.
  std::vector<std::string_view> roles() const;
};

/// Reads `file`. Throws config::config_exception naming every error of the file.
node_config load_node_config(const std::filesystem::path& file);
/// The same from text (`label` names it in errors).
node_config parse_node_config(std::string_view text, std::string label);

/// The YAML text of `config`, which load_node_config reads back to an equal config.
std::string to_yaml(const node_config& config);

} // namespace stakecast::node

namespace stakecast::config {

template <>
struct value_traits<node::endpoint> {
  static constexpr std::string_view description = "an address like 127.0.0.1:7700";
  static parse_result<node::endpoint> parse(std::string_view text) {
    return node::parse_endpoint(text);
  }
  static std::string format(const node::endpoint& value) { return value.to_string(); }
};

} // namespace stakecast::config
