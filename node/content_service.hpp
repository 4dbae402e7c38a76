// The node's contents: what `stakecast publish` puts on it, and what the gateway plays
// from it (`GET /content/<id>`), through the simulator's actors unchanged.
//
// Publishing (the publisher's node; the API calls carry the node's api token): the
// manifest first (`put_manifest`: decoded, validated, stored through the storage actor),
// then each segment (`put_segment`: checked against the manifest's piece layer, stored),
// then `finish_publish`, which checks that every segment is on the store and hands the
// content to the node's masternode actor as a whole, published one (`publish_atom`).
// Every call answers once its write is committed, so an acknowledged segment survives
// a kill -9. A segment the store refuses (507: full) abandons the upload: the manifest
// and segments it stored are removed, unless the node held the content before the
// upload began or it was published. The chain learns of the content from the publish transaction the CLI signs.
//
// Playing (`content_source`): a content whose manifest and segment the store holds (the
// publisher's, or a masternode's) is read from the store. Any other is played through a
// viewing session: a viewer actor (actors/peer/streaming.hpp) opened on first use, with
// the content's masternodes and publisher from the chain (a chain_query's placements),
// the node's receipts (a receipt_signer paying from the node's account, when its balance
// covers `deposit`) and a `segment_sink` that keeps the verified segments (at most
// `session_bytes_max` of them, the ones furthest behind the last read dropped first).
// A read waits for its segment; a read far from the session's position seeks it there.
// A session that ends (its playback finished, its time was up, nobody read it for
// `session_idle`, the node stops) fails its waiting reads; the next read opens a new
// one from where it asks.
//
// Routing: the session of a content receives the viewer messages about that content
// (`session_for`); everything else goes to the node's other actors. A content the chain
// placed on this masternode (`set_hosted`) gets no session: it is read from the store
// once the masternode has fetched it, and until then a read fails (the client retries).
//
// Thread-safety: every member may be called from any thread; the gateway calls
// describe/read and the API calls on its thread, the inbox calls session_for on the
// transport's.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/core/ed25519.hpp"
#include "actors/core/manifest.hpp"
#include "actors/peer/service.hpp"
#include "actors/peer/streaming.hpp"
#include "actors/storage/storage_actor.hpp"
#include "actors/validator/rules/amount.hpp"
#include "actors/world/world.hpp"
#include "node/chain_client.hpp"
#include "node/gateway.hpp"

namespace stakecast::node {

struct content_settings {
  core::hash256 chain;
  /// The genesis validators: where a session's deposit goes.
  std::vector<core::node_id> validators;
  std::shared_ptr<const core::key_pair> key;
  /// A session opens a viewing deposit of this much when the account can pay it; 0: no
  /// receipts.
  rules::amount deposit = 0;
  rules::amount fee = 0;
  std::chrono::nanoseconds receipt_interval = std::chrono::seconds(10);
  double uplink_bps = 100e6;
  /// Segments a session's viewer keeps to re-share, and those the session keeps for
  /// the gateway's reads (mostly the same ones). Bounded well below a film: memory
  /// a session lets go is reused for its next segments, while fresh memory costs a
  /// page fault per 4 KiB (docs/benchmarks.md, "Transfer").
  std::uint64_t cache_bytes = 64ull << 20;
  std::uint64_t session_bytes_max = 64ull << 20;
  /// How long `describe` waits for a new session's manifest (it holds the gateway's
  /// thread meanwhile).
  std::chrono::milliseconds manifest_wait{15'000};
  /// A session unread for this long is ended (looked at every 10 s, or twice per
  /// session_idle when that is shorter).
  std::chrono::seconds session_idle{120};
};

class content_service final : public content_source {
public:
  content_service(caf::actor_system& system, world::node_context context, content_settings settings,
                  storage::storage_actor storage, peer::masternode_actor masternode,
                  chain_client_actor client);
  ~content_service() override;

  /// The session actor playing `content`, if one runs.
  caf::actor session_for(const core::content_id& content) const;
  /// The contents the chain placed on this node (a masternode): its masternode actor
  /// fetches them into the store, so they are never played through a session (whose
  /// routes would take the fetch's answers); a session already open for one ends.
  void set_hosted(const std::vector<core::content_id>& contents);

  /// Publishing: each answers 2xx once committed, else 4xx/5xx with what is wrong.
  api_response put_manifest(const std::string& encoded);
  api_response put_segment(const core::content_id& content, std::uint32_t index,
                           const std::string& bytes);
  api_response finish_publish(const core::content_id& content);
  /// What the node knows of a content: its manifest (hex) and the segments it holds.
  api_response info(const core::content_id& content);

  /// The content's manifest: the stored one, else a viewing session's (opened for it;
  /// waits up to manifest_wait). Null: unknown here and on the chain.
  std::shared_ptr<const core::manifest> manifest_of(const core::content_id& id);

  std::optional<description> describe(const core::content_id& id) override;
  void read(const core::content_id& id, std::uint64_t offset, std::size_t max_bytes,
            std::function<void(read_result)> done) override;

  /// Ends every session (the node stops).
  void stop();

  struct session;

private:
  std::shared_ptr<session> open_session(const core::content_id& content, std::uint32_t start);
  std::shared_ptr<const core::manifest> stored_manifest(const core::content_id& content) const;
  /// Removes what an upload of `content` stored (see "Publishing"); says what it did.
  std::string abandon_upload(const core::content_id& content);

  struct state;
  std::shared_ptr<state> state_;
};

/// "video/mp4" and the like, from a title's file extension; "" when unknown.
std::string mime_type_of(std::string_view title);

} // namespace stakecast::node
