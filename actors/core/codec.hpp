// The wire codec: the one encoding of every protocol message (messages.hpp).
//
// The real node writes it into TLS frames; the simulator charges `encoded_size` to
// its network model. Both therefore agree on every byte a message costs.
//
// Body layout: 1 byte message_type, then the fields in `inspect` order:
//  - integers: little-endian, fixed width (bool: one byte, 0 or 1);
//  - byte arrays (hash256, signatures): raw bytes;
//  - std::string and byte vectors: u32 length, then the bytes;
//  - std::vector<T>: u32 count, then the elements;
//  - payload: u32 size, then the bytes (zeros for a virtual payload).
// Frame layout: u32 little-endian body length (1 ..= limits::frame_bytes_max), body.
//
// Decoding is for hostile input: every read is bounds-checked, every length or count
// is checked against its named limit and against the bytes left *before* anything is
// allocated, so decoding never allocates much more than the body it was handed and
// never crashes, whatever the bytes. Errors are `codec_errc` values in category
// "codec" whose text names the message, field, offset and what was expected.
//
// All functions are pure (no state, no I/O) and safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/core/bytes.hpp"
#include "actors/core/limits.hpp"
#include "actors/core/messages.hpp"

namespace stakecast::wire {

enum class codec_errc : std::uint8_t {
  /// The input ends before the message does.
  truncated = 1,
  /// A length or count above its named limit, or a frame length out of range.
  oversize,
  /// The first byte names no message.
  unknown_type,
  /// A field holds a value its type does not allow (a bool other than 0 or 1).
  invalid_value,
  /// Bytes remain after one whole message.
  trailing_bytes,
};

std::string_view to_string(codec_errc code) noexcept;
/// A caf::error in category "codec" with text "<code>: <detail>".
caf::error make_error(codec_errc code, std::string_view detail);

/// Exact size in bytes of `encode(x)`'s output. Allocates nothing; cost is a walk
/// over the fields (list elements included), never over payload bytes.
/// REQUIRES: `x` respects its limits (string lengths, list counts, payload sizes and
/// the payload invariant). A message its receiver would reject is a programmer error
/// and aborts here, in the simulator (which only sizes messages) as in the node.
std::size_t encoded_size(const message& x) noexcept;

/// Appends the body encoding of `x` (type byte and fields) to `out`.
/// REQUIRES: as encoded_size.
void encode(const message& x, core::byte_buffer& out);

/// Decodes exactly one message from `body` (no frame header). Errors: truncated,
/// oversize, unknown_type, invalid_value, trailing_bytes.
caf::expected<message> decode(core::byte_span body);

/// Appends a frame: u32 little-endian body length, then the body.
/// REQUIRES: encoded_size(x) <= limits::frame_bytes_max (as `encode`).
void encode_frame(const message& x, core::byte_buffer& out);

/// The body length announced by a frame header of exactly
/// limits::frame_header_bytes bytes. Errors: oversize if the length is 0 or above
/// limits::frame_bytes_max; truncated or trailing_bytes if `header` is not 4 bytes.
caf::expected<std::uint32_t> decode_frame_header(core::byte_span header);

} // namespace stakecast::wire
