// A node's home folder: everything one node keeps on disk, in one place.
//
//   <home>/config.yaml    the configuration (config.hpp)
//   <home>/node.key       the node's Ed25519 seed, 64 hex digits, mode 0600: its
//                         identity (the public key is the node id) and its account
//   <home>/genesis.json   the chain this node belongs to (actors/validator/genesis.hpp)
//   <home>/data/          the LMDB store: contents, blocks, receipts
//   <home>/downloads/     where `stakecast get` may have the node write (made at start)
//   <home>/node.pid       the process id while `stakecast node` runs
//   <home>/node.log       the log of `stakecast node` when it runs in the background
//
// `init_home` makes a new home: a fresh key from OpenSSL's generator, a config with
// the roles asked for, and, unless a genesis is given, a one-node development chain in
// which this node is the only validator (and masternode, when it has that role). It
// refuses to touch a folder that already holds a config or a key.
//
// Errors are values: each function says what went wrong and names the file.
// Thread-safe: no shared state.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "actors/config/units.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/validator/genesis.hpp"
#include "node/config.hpp"

namespace stakecast::node {

template <class T>
using result = config::parse_result<T>;

struct home_folder {
  std::filesystem::path root;

  std::filesystem::path config_file() const { return root / "config.yaml"; }
  std::filesystem::path key_file() const { return root / "node.key"; }
  /// Written by a running node (mode 0600): the token its publishing API asks for.
  std::filesystem::path api_token_file() const { return root / "api.token"; }
  std::filesystem::path genesis_file() const { return root / "genesis.json"; }
  std::filesystem::path data_dir() const { return root / "data"; }
  /// A folder the node's saves may write below, apart from the node's own files.
  std::filesystem::path downloads_dir() const { return root / "downloads"; }
  std::filesystem::path pid_file() const { return root / "node.pid"; }
  std::filesystem::path log_file() const { return root / "node.log"; }
};

/// The home named by `--home`, else $STAKECAST_HOME, else ~/.stakecast.
home_folder default_home(const std::optional<std::string>& flag);

struct init_options {
  node_config config;
  /// A genesis to copy; when absent, a one-node development chain (see above).
  std::optional<std::filesystem::path> genesis;
  /// The key seed; when absent, drawn from OpenSSL's generator. (devnet and tests
  /// give one so that a network's ids are known before its homes exist.)
  std::optional<core::hash256> seed;
};

/// Makes the home. Returns the node id (hex) or what went wrong.
result<std::string> init_home(const home_folder& home, const init_options& options);

/// The key of the home. Errors: missing file, wrong permissions (readable by others),
/// not 64 hex digits.
result<core::key_pair> load_key(const home_folder& home);
/// Writes `seed` as the home's key, mode 0600. Refuses to overwrite a key.
std::string write_key(const home_folder& home, const core::hash256& seed);
/// A fresh seed from OpenSSL's generator.
result<core::hash256> fresh_seed();

/// The genesis of the home (parse_genesis's errors, prefixed with the file).
result<rules::genesis> load_genesis(const home_folder& home);

/// A development chain: `validators` bond and `masternodes` stake from their own
/// funded accounts; every account in `accounts` gets a balance to pay with.
rules::genesis development_genesis(const std::vector<core::node_id>& validators,
                                              const std::vector<peer_address>& masternodes,
                                              const std::vector<core::node_id>& accounts);

/// Writes `text` to `path` through a temporary file and a rename, so that a crash
/// leaves the old file or the new one, never half of one. `owner_only`: mode 0600.
std::string write_file_atomically(const std::filesystem::path& path, std::string_view text,
                                  bool owner_only = false);
/// The whole file, or what went wrong.
result<std::string> read_file(const std::filesystem::path& path, std::uint64_t bytes_max);

} // namespace stakecast::node
