// Records outside the message table (transactions, votes, blocks, state entries)
// encoded with the wire's field codec: the fields in `inspect` order, laid out as the
// wire lays out message fields (codec.hpp). A record's `inspect` is its format, and
// its encoding is canonical, so hashing and signing the encoding is well defined.
//
// `encode_record` REQUIRES that the record respects its `count_max` bounds (a record
// above them is a programmer error and aborts). `decode_record` is for hostile bytes:
// every length is checked before allocation; errors are `codec_errc` values whose
// text names `record_name`, the field and the offset.
//
// Pure functions, safe from any thread.
#pragma once

#include <string_view>

#include <fmt/format.h>

#include "actors/core/field_codec.hpp"

namespace stakecast::core {

/// The canonical encoding of `x`.
template <class Record>
byte_buffer encode_record(const Record& x) {
  // Both walkers only read; inspect() takes a mutable reference by CAF's convention.
  auto& record = const_cast<Record&>(x);
  wire::detail::sizer counter; // checks the limits the reader will enforce
  inspect(counter, record);
  byte_buffer out;
  out.reserve(counter.total_bytes);
  wire::detail::writer sink{out};
  inspect(sink, record);
  return out;
}

/// Exactly one `Record` from `bytes`. Errors: truncated, oversize, invalid_value,
/// trailing_bytes.
template <class Record>
caf::expected<Record> decode_record(byte_span bytes, std::string_view record_name) {
  wire::detail::reader source{bytes, 0, record_name};
  Record result;
  inspect(source, result);
  if (source.failed())
    return source.take_error();
  if (source.remaining() > 0)
    return wire::make_error(wire::codec_errc::trailing_bytes,
                            fmt::format("{} ends at offset {}, {} more bytes follow",
                                        record_name, source.offset(), source.remaining()));
  return result;
}

} // namespace stakecast::core
