// The `Range` request header (RFC 9110, section 14) for one resource of known size.
//
// `resolve_range(header, size_bytes)` decides what the gateway serves:
// - `whole`: no header, a unit other than `bytes`, or a malformed header. RFC 9110
//   lets a server ignore an invalid Range, and a 200 with the whole body is what every
//   player copes with. `bytes=5-2` (last before first) is malformed, so it is ignored.
// - `partial`: the interval to send with 206 and `Content-Range: bytes a-b/size`.
//   `bytes=a-b` is clamped to the end of the resource; `bytes=a-` runs to the end;
//   `bytes=-n` is the last n bytes (the whole resource when n >= size).
// - `unsatisfiable`: no range of the header overlaps the resource (a first byte at or
//   past the end, `bytes=-0`, any range of an empty resource): 416 with
//   `Content-Range: bytes */size`.
// Several ranges (`bytes=0-1,5-6`): only the first satisfiable one is served, as a
// plain 206, never multipart/byteranges. Browsers and VLC ask for one range at a time,
// and a client that asks for several must accept a subset (RFC 9110, 14.2).
// Numbers too large for 64 bits saturate: a huge first byte is unsatisfiable, a huge
// last byte or suffix length is clamped like any other.
//
// Pure: no state, no allocation, safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace stakecast::node {

enum class range_kind : std::uint8_t { whole, partial, unsatisfiable };

/// What to serve. For `whole` the interval is [0, size); for `partial` it is
/// non-empty and inside [0, size); for `unsatisfiable` it is empty.
struct served_range {
  range_kind kind = range_kind::whole;
  std::uint64_t first_byte = 0;
  std::uint64_t length_bytes = 0;

  /// The last byte of a non-empty interval (the `b` of `Content-Range: bytes a-b/n`).
  /// REQUIRES: length_bytes > 0.
  std::uint64_t last_byte() const noexcept { return first_byte + length_bytes - 1; }
  bool operator==(const served_range&) const = default;
};

/// `header` is the field value ("" when the request has none).
served_range resolve_range(std::string_view header, std::uint64_t size_bytes) noexcept;

} // namespace stakecast::node
