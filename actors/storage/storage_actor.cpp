#include "actors/storage/storage_actor.hpp"

#include <cassert>
#include <charconv>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/core/limits.hpp"

namespace stakecast::storage {

namespace {

constexpr std::string_view content_prefix = "content/";
constexpr std::string_view manifest_suffix = "/manifest";
constexpr std::string_view segment_infix = "/segment/";
constexpr std::size_t id_hex_digits = 2 * core::hash256::size_bytes;

core::byte_buffer segment_value(const wire::payload& body) {
  core::byte_buffer value;
  if (body.is_virtual()) {
    value.push_back('v');
    for (int i = 0; i < 4; ++i)
      value.push_back(static_cast<std::uint8_t>(body.size_bytes >> (8 * i)));
    value.insert(value.end(), body.virtual_digest.bytes.begin(), body.virtual_digest.bytes.end());
  } else {
    value.push_back('m');
    const core::byte_span bytes = body.view();
    value.insert(value.end(), bytes.begin(), bytes.end());
  }
  return value;
}

/// The content and what follows its id in a key under content_prefix.
std::optional<std::pair<core::content_id, std::string_view>> split_key(std::string_view key) {
  if (!key.starts_with(content_prefix) || key.size() < content_prefix.size() + id_hex_digits)
    return std::nullopt;
  const auto id = core::hash256::from_hex(key.substr(content_prefix.size(), id_hex_digits));
  if (!id)
    return std::nullopt;
  return std::pair{*id, key.substr(content_prefix.size() + id_hex_digits)};
}

std::optional<std::uint32_t> segment_index(std::string_view rest) {
  if (!rest.starts_with(segment_infix))
    return std::nullopt;
  rest.remove_prefix(segment_infix.size());
  std::uint32_t index = 0;
  const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), index, 16);
  if (error != std::errc{} || end != rest.data() + rest.size())
    return std::nullopt;
  return index;
}

/// Empty on success, else the error that names `what` and the store's reason.
caf::error write(world::store& store, const world::store::write_batch& batch,
                 std::string_view what) {
  const std::string failure = store.write(batch);
  if (!failure.empty())
    return make_error(storage_errc::full, fmt::format("{}: {}", what, failure));
  return {};
}

} // namespace

std::vector<stored_content> load_contents(const world::store& store) {
  std::map<core::content_id, stored_content> found;
  store.for_each_prefix(content_prefix, [&](std::string_view key, core::byte_span value) {
    const auto split = split_key(key);
    if (!split)
      return true; // not ours: skipped
    if (split->second == manifest_suffix) {
      if (found.size() >= stored_contents_max && !found.contains(split->first))
        return false;
      auto& content = found[split->first];
      content.content = split->first;
      content.manifest.assign(value.begin(), value.end());
    } else if (const auto index = segment_index(split->second)) {
      const auto at = found.find(split->first);
      if (at != found.end()) // the manifest key sorts first ("m" < "s")
        at->second.segments.push_back(*index);
    }
    return true;
  });
  std::vector<stored_content> result;
  result.reserve(found.size());
  for (auto& [id, content] : found)
    result.push_back(std::move(content));
  return result;
}

std::optional<wire::payload> read_segment(const world::store& store, const core::content_id& content,
                                          std::uint32_t index) {
  const auto value = store.get(segment_key(content, index));
  if (!value || value->empty())
    return std::nullopt;
  if ((*value)[0] == 'm' && value->size() - 1 <= limits::payload_bytes_max)
    return wire::payload::materialized(core::byte_buffer(value->begin() + 1, value->end()));
  if ((*value)[0] == 'v' && value->size() == 1 + 4 + core::hash256::size_bytes) {
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
      size |= std::uint32_t{(*value)[1 + i]} << (8 * i);
    core::hash256 digest;
    std::copy(value->begin() + 5, value->end(), digest.bytes.begin());
    if (size <= limits::payload_bytes_max)
      return wire::payload::virtual_of(size, digest);
  }
  return std::nullopt; // damaged: as if not held
}

namespace {

void remember_manifest(storage_state& state, const core::content_id& content) {
  if (state.manifests.size() < stored_contents_max)
    state.manifests.insert(content);
}

bool has_manifest(storage_state& state, const core::content_id& content) {
  if (state.manifests.contains(content))
    return true;
  bool stored = false;
  state.store->for_each_prefix(manifest_key(content), [&](std::string_view, core::byte_span) {
    stored = true;
    return false;
  });
  if (stored)
    remember_manifest(state, content);
  return stored;
}

} // namespace

std::string_view to_string(storage_errc code) noexcept {
  switch (code) {
    case storage_errc::full:
      return "full";
    case storage_errc::no_manifest:
      return "no_manifest";
  }
  return "unknown";
}

caf::error make_error(storage_errc code, std::string_view detail) {
  return core::make_domain_error(caf::atom("storage"), static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

std::string manifest_key(const core::content_id& content) {
  return fmt::format("{}{}{}", content_prefix, content.to_hex(), manifest_suffix);
}

std::string segment_key(const core::content_id& content, std::uint32_t index) {
  return fmt::format("{}{}{}{:08x}", content_prefix, content.to_hex(), segment_infix, index);
}

storage_actor::behavior_type storage(storage_actor::stateful_pointer<storage_state> self,
                                     world::node_context context) {
  assert(context.storage != nullptr);
  self->state.store = context.storage;
  return {
      [self](put_manifest_atom, const core::content_id& content,
             const core::byte_buffer& encoded) -> caf::result<caf::ok_atom> {
        world::store::write_batch batch;
        batch.put(manifest_key(content), encoded);
        if (auto error = write(*self->state.store, batch,
                               fmt::format("manifest of {}", content.to_hex())))
          return error;
        remember_manifest(self->state, content);
        return caf::ok_atom::value;
      },
      [self](put_segment_atom, const core::content_id& content, std::uint32_t index,
             const wire::payload& body) -> caf::result<caf::ok_atom> {
        auto& store = *self->state.store;
        if (!has_manifest(self->state, content))
          return make_error(storage_errc::no_manifest,
                            fmt::format("segment {} of {}", index, content.to_hex()));
        world::store::write_batch batch;
        batch.put(segment_key(content, index), segment_value(body));
        if (auto error = write(store, batch, fmt::format("segment {} of {}", index, content.to_hex())))
          return error;
        return caf::ok_atom::value;
      },
      [self](load_contents_atom) { return load_contents(*self->state.store); },
      [self](drop_content_atom, const core::content_id& content) -> caf::result<std::uint32_t> {
        auto& store = *self->state.store;
        world::store::write_batch batch;
        store.for_each_prefix(fmt::format("{}{}/", content_prefix, content.to_hex()),
                              [&](std::string_view key, core::byte_span) {
                                batch.erase(std::string(key));
                                return true;
                              });
        if (auto error = write(store, batch, fmt::format("removal of {}", content.to_hex())))
          return error;
        self->state.manifests.erase(content);
        return static_cast<std::uint32_t>(batch.operations.size());
      },
  };
}

} // namespace stakecast::storage
