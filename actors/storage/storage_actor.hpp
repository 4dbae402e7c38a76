// The storage actor: a node's contents (manifests and segments) on its store
// (DESIGN.md, "Actors of one node"). The store is the world's (`node_context::storage`:
// in memory in the simulator, LMDB in the node); this actor owns its key layout and is
// the only one that writes content there, so a write it acknowledges is on the store.
//
// Key layout (keys sort bytewise):
//   content/<content id, hex>/manifest             the encoded manifest
//   content/<content id, hex>/segment/<index, 8 hex digits>
//                                                  a segment: 'v', u32 size, 32-byte root
//                                                  for a virtual payload (the
//                                                  simulator's), 'm' then the bytes
// A segment is stored only after its manifest, and only once it has been verified
// (the caller's duty), so whatever the store holds may be served as is.
//
// Requests: put_manifest_atom and put_segment_atom answer `ok` once the write is on
// the store, or a `storage_errc` error (`full`: the store refused the write, a full
// disk; nothing was written). load_contents_atom answers what the store holds: every
// content with a manifest and the indices of its segments, at most contents_max.
// drop_content_atom removes a content's manifest and segments in one write (an upload
// abandoned half-way) and answers how many keys it removed.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/messages.hpp"
#include "actors/world/world.hpp"

namespace stakecast::storage {

enum class storage_errc : std::uint8_t {
  /// The store refused a write (a full disk); nothing of it was written.
  full = 1,
  /// A segment for a content whose manifest is not stored.
  no_manifest,
};

std::string_view to_string(storage_errc code) noexcept;
caf::error make_error(storage_errc code, std::string_view detail);

using put_manifest_atom = caf::atom_constant<caf::atom("putmanif")>;
using put_segment_atom = caf::atom_constant<caf::atom("putseg")>;
using load_contents_atom = caf::atom_constant<caf::atom("loadcont")>;
using drop_content_atom = caf::atom_constant<caf::atom("dropcont")>;

struct stored_content {
  core::content_id content;
  core::byte_buffer manifest;          // encoded
  std::vector<std::uint32_t> segments; // the indices stored, ascending

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, stored_content& x) {
    return f(x.content, x.manifest, x.segments);
  }
};

/// Contents one load answers with: as many as a fetcher fills.
inline constexpr std::size_t stored_contents_max = 1 << 16;

using storage_actor = caf::typed_actor<
    caf::replies_to<put_manifest_atom, core::content_id, core::byte_buffer>::with<caf::ok_atom>,
    caf::replies_to<put_segment_atom, core::content_id, std::uint32_t, wire::payload>::with<
        caf::ok_atom>,
    caf::replies_to<load_contents_atom>::with<std::vector<stored_content>>,
    caf::replies_to<drop_content_atom, core::content_id>::with<std::uint32_t>>;

struct storage_state {
  world::store* store = nullptr;
  /// Contents whose manifest is known to be stored: checked once on the store, then
  /// remembered (at most stored_contents_max), so a segment write reads nothing.
  std::set<core::content_id> manifests;
  static inline const char* name = "storage";
};

/// REQUIRES: context.storage is not null and outlives the actor.
storage_actor::behavior_type storage(storage_actor::stateful_pointer<storage_state> self,
                                     world::node_context context);

/// What the store holds, as load_contents_atom answers it. For the node's start, before
/// any actor runs; reads only.
std::vector<stored_content> load_contents(const world::store& store);
/// Segment `index` of `content` as stored: a materialized payload (the real node's
/// bytes) or a virtual one (the simulator's size and root); nullopt when not stored
/// or damaged. Reads only, so a server may call it beside the storage actor.
std::optional<wire::payload> read_segment(const world::store& store, const core::content_id& content,
                                          std::uint32_t index);

/// The key of `content`'s manifest and of its segment `index` (exposed for tests).
std::string manifest_key(const core::content_id& content);
std::string segment_key(const core::content_id& content, std::uint32_t index);

} // namespace stakecast::storage
