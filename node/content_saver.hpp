// Saving a content to a file on the node's machine: what `stakecast get ID -o FILE`
// asks of its node, so that the bytes go from the node's verified segments straight to
// the file, without a second process, a second copy through a socket or a second hash.
//
// API (token only; node/runtime.cpp routes it):
// - `POST /api/content/<id>/save` with `{"path": "/absolute/path"}` opens (or creates,
//   mode 0644 under the node's umask) that regular file and starts a save: 202
//   `{"save": N}`. 400: a path that is not absolute, holds a NUL or another control
//   character, or is not a regular file; 403: a path outside `save_settings::folders`,
//   with a `..` component, through a symbolic link, a file with other hard links, or
//   one the node cannot open (the caller may stream the content through the gateway and
//   write it itself); 503: `saves_max` saves are running.
// - `GET /api/content/<id>/save/<N>`: `{"state": "running" | "done" | "failed", "bytes",
//   "size_bytes", "segments_written", "segments", "resumed_from", "error"}`. Each poll
//   keeps the save alive: one nobody asked after for `unwatched` is cancelled (its
//   client went away). 404 for an unknown save.
//
// Where a save may write: the token lets its holder have the node write files as the
// node's user (root on many servers), so a save writes only below one of the folders the
// node's owner chose. The path is walked from that folder one component at a time, each
// opened relative to the one before with O_NOFOLLOW: no symbolic link is followed, not
// even one that points back inside, so nothing swapped in during the walk leads out.
//
// A save runs on its own thread. It first keeps what the file already holds: the whole
// segments at its start that match the manifest are kept (a `get` run again after an
// interruption resumes), the rest is cut off. Then it asks the content source for each
// further segment in order (the store, or a viewing session whose viewer verified every
// segment against the manifest before handing it over) and writes it at its offset.
// A read that fails or takes longer than `read_timeout` is asked again, at most
// `read_retries` times in a row; a failed write (a full disk) fails the save, naming the
// file. Nothing is synced: like any download, a finished save is in the page cache.
//
// Thread-safety: start/status/stop may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/core/manifest.hpp"
#include "node/gateway.hpp"

namespace stakecast::node {

/// A file is written in pieces of this size: the kernel copies a 1 MiB write into
/// fresh page cache several times slower per byte than 16 KiB ones
/// (docs/benchmarks.md, "Transfer").
inline constexpr std::size_t file_write_bytes = 16 << 10;

/// "" when `path` may be asked of a save as far as its characters go, else why not: a
/// NUL byte (which the kernel would take as the path's end) or another control
/// character, named with its offset.
std::string path_characters_problem(std::string_view path);

struct save_settings {
  /// Absolute folders a save may write below (their own path may hold links: the
  /// node's owner chose it). None: every save is refused with 403.
  std::vector<std::filesystem::path> folders;
  std::size_t saves_max = 8;
  /// Finished saves kept for their status, oldest forgotten first.
  std::size_t finished_kept = 64;
  std::chrono::milliseconds unwatched{30'000};
  std::chrono::milliseconds read_timeout{90'000};
  int read_retries = 5;
  /// The pause before a failed read is asked again.
  std::chrono::milliseconds retry_pause{200};
};

class content_saver {
public:
  /// The content's manifest (it may wait for a viewing session's); null: unknown here
  /// and on the chain.
  using manifest_lookup =
      std::function<std::shared_ptr<const core::manifest>(const core::content_id&)>;

  content_saver(manifest_lookup manifests, std::shared_ptr<content_source> source,
                save_settings settings = {});
  /// Stops: cancels every running save and joins its thread.
  ~content_saver();
  content_saver(const content_saver&) = delete;
  content_saver& operator=(const content_saver&) = delete;

  /// `request_body`: the JSON of the POST.
  api_response start(const core::content_id& content, const std::string& request_body);
  api_response status(const core::content_id& content, std::uint64_t save);
  void stop();

  struct job; // defined in content_saver.cpp

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace stakecast::node
