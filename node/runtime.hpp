// A running node: the real world behind the seam (actors/world/world.hpp) and the
// actors of the node's roles on top of it. This is the composition root of
// `stakecast node`; the actors are the simulator's, unchanged.
//
// The world:
//   clock      the system clock (agreed wall time)
//   transport  TLS 1.3 between nodes (tls_transport.hpp); a message to the node itself
//              is delivered locally, so a client on a validator node asks its own
//              validator the way it would ask another
//   store      LMDB in <home>/data (lmdb_store.hpp)
//   metrics    prometheus-cpp, served at /metrics (prometheus_metrics.hpp)
//   seed       drawn from OpenSSL's generator at every start: the node's actors need
//              seeded streams, not reproducible ones
//
// Actors by role: a validator (actors/validator/validator.hpp) for `validator`; a
// chain client (chain_client.hpp) always. Inbound messages go to the one actor whose
// message set holds their type; each actor is bound before the transport starts, and
// the routes never change after, so the io thread reads them without a lock.
//
// The gateway (gateway.hpp), when configured, serves the JSON API: GET /api/status,
// GET /api/account/<id>, POST /api/tx {"tx": "<hex>"}, and /metrics.
//
// Start order: store, metrics, actor system, actors, transport, gateway. Stop order is
// the reverse, and `stop` leaves the store closed cleanly; a kill -9 instead loses
// nothing that was acknowledged (every block is committed to LMDB before it is
// announced), and the next start replays the stored blocks.
//
// Thread-safety: `start` and `stop` from one thread; `status` from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "node/config.hpp"
#include "node/home.hpp"

namespace stakecast::node {

class node_runtime {
public:
  /// Starts the node of `home` with `config`. The error names what failed (the key,
  /// the genesis, the store, a port in use).
  static result<std::unique_ptr<node_runtime>> start(const home_folder& home, node_config config);
  ~node_runtime();
  node_runtime(const node_runtime&) = delete;
  node_runtime& operator=(const node_runtime&) = delete;

  core::node_id id() const noexcept;
  std::uint16_t listen_port() const noexcept;
  /// The gateway's port, when it runs.
  std::optional<std::uint16_t> gateway_port() const noexcept;
  /// What GET /api/status answers.
  nlohmann::json status();

  struct parts; // defined in runtime.cpp

private:
  explicit node_runtime(std::unique_ptr<parts> state);
  std::unique_ptr<parts> parts_;
};

/// Runs the node of `home` until SIGINT or SIGTERM: `stakecast node`. Writes the pid
/// file while it runs. Returns the process exit code.
int run_node(const home_folder& home);

} // namespace stakecast::node
