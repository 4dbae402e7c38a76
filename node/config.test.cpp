// The node's config file and home folder: a config reads back what to_yaml wrote (the
// gateway's limits and the download folders included), mistakes are named by file, line
// and key (a relative download folder among them), and a home is made once with a private key
// and a genesis that parses. Each test writes only into its own temporary folder.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>
#include <sys/stat.h>

#include "node/config.hpp"
#include "node/home.hpp"
#include "tests/support/temporary_folder.hpp"

namespace node = stakecast::node;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

using stakecast::test::temporary_folder;

std::string error_of(std::string_view text) {
  try {
    node::parse_node_config(text, "config.yaml");
  } catch (const stakecast::config::config_exception& error) {
    return error.what();
  }
  return "";
}

} // namespace

TEST_CASE("a node config reads back what to_yaml wrote", "[node][config]") {
  node::node_config config;
  config.validator = false;
  config.masternode = true;
  config.viewer = false;
  config.listen = {"127.0.0.1", 7701};
  config.gateway.reset();
  config.peers.push_back({stakecast::core::hash256::from_hex(std::string(64, 'a')).value(),
                          {"localhost", 7702}});
  config.block_interval = std::chrono::milliseconds(2500);
  config.map_size_bytes = 128ull << 20;
  config.claim_interval = std::chrono::milliseconds(45'000);
  config.unknown_connections_max = 40;
  config.inbound_handshakes_max = 12;
  config.connections_per_address_max = 3;
  config.inbound_handshake_timeout = std::chrono::milliseconds(1500);
  config.first_frame_timeout = std::chrono::milliseconds(750);
  config.chain_reserve_bytes = 32ull << 20;
  config.gateway_connections_max = 200;
  config.gateway_connections_per_address_max = 20;
  config.gateway_header_timeout = std::chrono::milliseconds(2500);
  config.gateway_idle_timeout = std::chrono::milliseconds(4000);
  config.download_folders = {"/srv/videos", "/home/me/Videos"};
  const auto read = node::parse_node_config(node::to_yaml(config), "written.yaml");
  CHECK_FALSE(read.validator);
  CHECK(read.masternode);
  CHECK_FALSE(read.viewer);
  CHECK(read.listen == config.listen);
  CHECK_FALSE(read.gateway.has_value());
  REQUIRE(read.peers.size() == 1);
  CHECK(read.peers[0].id == config.peers[0].id);
  CHECK(read.peers[0].address == config.peers[0].address);
  CHECK(read.block_interval == config.block_interval);
  CHECK(read.map_size_bytes == config.map_size_bytes);
  CHECK(read.claim_interval == config.claim_interval);
  CHECK(read.unknown_connections_max == config.unknown_connections_max);
  CHECK(read.inbound_handshakes_max == config.inbound_handshakes_max);
  CHECK(read.connections_per_address_max == config.connections_per_address_max);
  CHECK(read.inbound_handshake_timeout == config.inbound_handshake_timeout);
  CHECK(read.first_frame_timeout == config.first_frame_timeout);
  CHECK(read.chain_reserve() == 32ull << 20);
  // Unset, the reserve follows the map's limit: 256 MiB, at most an eighth of it.
  CHECK(node::node_config{}.chain_reserve() == 256ull << 20);
  CHECK(node::parse_node_config("store: {map_size: 4MiB, map_size_max: 64MiB}\n", "c.yaml")
            .chain_reserve() == 8ull << 20);
  CHECK(read.gateway_connections_max == 200);
  CHECK(read.gateway_connections_per_address_max == 20);
  CHECK(read.gateway_header_timeout == config.gateway_header_timeout);
  CHECK(read.gateway_idle_timeout == config.gateway_idle_timeout);
  CHECK(read.download_folders == config.download_folders);
  // The defaults read back too.
  const auto defaults =
      node::parse_node_config(node::to_yaml(node::node_config{}), "defaults.yaml");
  CHECK(defaults.download_folders.empty());
  CHECK(defaults.gateway_connections_max == node::node_config{}.gateway_connections_max);
}

TEST_CASE("a node config names its mistakes by line and key", "[node][config]") {
  CHECK_THAT(error_of("roles: [validator, miner]\n"), Contains("config.yaml:1:") && Contains("miner"));
  CHECK_THAT(error_of("listen: 127.0.0.1\n"), Contains("listen") && Contains("host:port"));
  CHECK_THAT(error_of("listen: 127.0.0.1:70000\n"), Contains("65535"));
  CHECK_THAT(error_of("chain: {block_interval: 5}\n"), Contains("chain.block_interval"));
  CHECK_THAT(error_of("store: {map_size: 1GiB, map_size_max: 2MiB}\n"),
             Contains("store.map_size_max"));
  CHECK_THAT(error_of("peers:\n  - {id: 12, address: 127.0.0.1:1}\n"),
             Contains("peers[0].id") && Contains("64 hex digits"));
  CHECK_THAT(error_of("gateways: off\n"), Contains("gateways") && Contains("unknown"));
  CHECK_THAT(error_of("roles: [validator, masternode]\n"), Contains("not both"));
  CHECK_THAT(error_of("transport: {connections_max: 10, unknown_connections_max: 11}\n"),
             Contains("transport.unknown_connections_max") && Contains("at most connections_max"));
  CHECK_THAT(error_of("transport: {connections_per_address_max: 0}\n"),
             Contains("transport.connections_per_address_max"));
  CHECK_THAT(error_of("store: {map_size: 4MiB, map_size_max: 64MiB, chain_reserve: 32MiB}\n"),
             Contains("store.chain_reserve") && Contains("below half of map_size_max"));
  CHECK_THAT(error_of("downloads: {folders: [videos]}\n"),
             Contains("downloads.folders[0]") && Contains("absolute"));
  CHECK_THAT(error_of("downloads: {folders: [\"/srv/a\\nb\"]}\n"), Contains("control characters"));
  CHECK_THAT(error_of("gateway_limits: {connections_max: 0}\n"),
             Contains("gateway_limits.connections_max"));
  CHECK_THAT(error_of("gateway_limits: {header_timeout: 10ms}\n"),
             Contains("gateway_limits.header_timeout"));
  CHECK(error_of("roles: [viewer]\n").empty());
}

TEST_CASE("init makes a home once with a private key and a one-node chain", "[node][config]") {
  temporary_folder folder("home");
  const node::home_folder home{folder.path};
  node::init_options options;
  options.config.validator = true;
  const auto made = node::init_home(home, options);
  REQUIRE(made);

  struct stat status {};
  REQUIRE(::stat(home.key_file().c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);
  const auto key = node::load_key(home);
  REQUIRE(key);
  CHECK(key.value->public_key().to_hex() == *made.value);

  const auto genesis = node::load_genesis(home);
  REQUIRE(genesis);
  REQUIRE(genesis.value->validators.size() == 1);
  CHECK(genesis.value->validators[0].id == key.value->public_key());
  CHECK(genesis.value->masternodes.empty());
  CHECK(node::load_node_config(home.config_file()).validator);

  const auto again = node::init_home(home, options);
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error, Contains("already holds a node"));
}

TEST_CASE("a key that others can read or that is not hex is refused", "[node][config]") {
  temporary_folder folder("key");
  const node::home_folder home{folder.path};
  CHECK_THAT(node::load_key(home).error, Contains("stakecast init"));
  fs::create_directories(folder.path);
  REQUIRE(node::write_key(home, stakecast::core::hash256{}).empty());
  CHECK(node::load_key(home));
  ::chmod(home.key_file().c_str(), 0644);
  CHECK_THAT(node::load_key(home).error, Contains("readable by others"));
  ::chmod(home.key_file().c_str(), 0600);
  std::ofstream(home.key_file(), std::ios::trunc) << "not a key\n";
  CHECK_THAT(node::load_key(home).error, Contains("64 hex digits"));
}
