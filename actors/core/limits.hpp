// Every bound of the protocol in one place, named with its unit last.
//
// A limit is a promise to peers and to ourselves: the codec rejects input above it
// before allocating, and code that builds messages REQUIRES staying below it. The
// relations between limits are checked here at compile time, so changing one number
// cannot silently break another. Plain constants: no state, safe from any thread.
#pragma once

#include <cstddef>

namespace stakecast::limits {

/// A frame is a u32 little-endian body length followed by that many body bytes.
inline constexpr std::size_t frame_header_bytes = 4;
/// A frame body (one encoded message) is at most 4 MiB.
inline constexpr std::size_t frame_bytes_max = 4 * 1024 * 1024;

/// Bytes a message may spend on everything but its payload: type byte, ids,
/// counters, length prefixes, short lists. The payload gets the rest of a frame.
inline constexpr std::size_t message_envelope_bytes_max = 64 * 1024;
/// The largest payload one message may carry (a block and its framing fit a frame).
inline constexpr std::size_t payload_bytes_max = frame_bytes_max - message_envelope_bytes_max;

/// Entries in one list of hashes (block ids, chunk ids) in one message.
inline constexpr std::size_t hash_list_count_max = 1024;
/// Node ids in one peer-exchange message.
inline constexpr std::size_t peer_list_count_max = 64;
/// Bytes of one free-form text field (user agent, reason strings).
inline constexpr std::size_t text_bytes_max = 256;

/// Segment ranges in one have announcement: a VOD viewer holds a few runs of
/// segments (what it watched, plus its cache).
inline constexpr std::size_t have_ranges_count_max = 32;

// A 32-byte id is the largest fixed-size list element today; a list plus its
// message's other fields must fit the envelope.
inline constexpr std::size_t list_element_bytes_max = 32;

static_assert(frame_header_bytes == 4, "the frame header is one u32");
static_assert(frame_bytes_max <= 0xffffffffu, "a frame length must fit its u32 header");
static_assert(message_envelope_bytes_max < frame_bytes_max);
static_assert(payload_bytes_max + message_envelope_bytes_max <= frame_bytes_max,
              "a maximal payload plus its message fields must fit one frame");
static_assert(payload_bytes_max >= 16 * 1024, "a payload carries at least one 16 KiB content block");
static_assert(hash_list_count_max * list_element_bytes_max <= message_envelope_bytes_max / 2,
              "a maximal hash list leaves half the envelope for other fields");
static_assert(peer_list_count_max * list_element_bytes_max <= message_envelope_bytes_max / 2,
              "a maximal peer list leaves half the envelope for other fields");
static_assert(text_bytes_max < message_envelope_bytes_max / 16);

} // namespace stakecast::limits
