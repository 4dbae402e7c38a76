#include "actors/core/codec.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/annotation.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/save_callback.hpp>

#include <fmt/format.h>

#include "actors/core/error.hpp"
#include "actors/core/field_codec.hpp"

namespace stakecast::wire {

namespace {

using namespace detail;

template <class T>
std::size_t encoded_size_of(const T& x) {
  sizer counter;
  counter.total_bytes = 1; // the type byte
  // The sizer only reads; inspect() takes a mutable reference by CAF's convention.
  inspect(counter, const_cast<T&>(x));
  return counter.total_bytes;
}

// Room for `bytes` more, growing geometrically so that appending many messages to
// one buffer stays linear.
void reserve_more(core::byte_buffer& out, std::size_t bytes) {
  if (out.capacity() - out.size() < bytes)
    out.reserve(std::max(out.size() + bytes, 2 * out.capacity()));
}

// REQUIRES: `body_bytes == encoded_size(x)` (which checked the limits).
void encode_body(const message& x, std::size_t body_bytes, core::byte_buffer& out) {
  auto start = out.size();
  std::visit(
    [&out](const auto& m) {
      using type = std::decay_t<decltype(m)>;
      out.push_back(static_cast<std::uint8_t>(type::type));
      writer sink{out};
      inspect(sink, const_cast<type&>(m)); // the writer only reads
    },
    x);
  require(out.size() - start == body_bytes, "encoded_size disagrees with encode");
}

template <class T>
caf::expected<message> decode_as(core::byte_span body) {
  reader source{body, 1, T::name};
  T x{};
  inspect(source, x);
  if (source.failed())
    return source.take_error();
  if (source.remaining() > 0)
    return make_error(codec_errc::trailing_bytes,
                      fmt::format("{} ends at offset {}, {} more bytes follow", T::name,
                                  source.offset(), source.remaining()));
  return message{std::move(x)};
}

using decode_function = caf::expected<message> (*)(core::byte_span);

// Indexed by the type byte; null for bytes that name no message.
template <std::size_t... I>
constexpr std::array<decode_function, 256> make_decode_table(std::index_sequence<I...>) {
  std::array<decode_function, 256> table{};
  ((table[static_cast<std::uint8_t>(std::variant_alternative_t<I, message>::type)] =
      &decode_as<std::variant_alternative_t<I, message>>),
   ...);
  return table;
}

constexpr auto decode_table = make_decode_table(detail::message_indices{});

} // namespace

payload payload::materialized(core::byte_buffer content) {
  require(content.size() <= limits::payload_bytes_max, "payload above payload_bytes_max");
  payload result;
  result.size_bytes = static_cast<std::uint32_t>(content.size());
  result.bytes = std::make_shared<const core::byte_buffer>(std::move(content));
  return result;
}

payload payload::virtual_of(std::uint32_t size_bytes, const core::hash256& digest) {
  require(size_bytes <= limits::payload_bytes_max, "payload above payload_bytes_max");
  payload result;
  result.size_bytes = size_bytes;
  result.virtual_digest = digest;
  return result;
}

std::string_view to_string(codec_errc code) noexcept {
  switch (code) {
    case codec_errc::truncated:
      return "truncated";
    case codec_errc::oversize:
      return "oversize";
    case codec_errc::unknown_type:
      return "unknown_type";
    case codec_errc::invalid_value:
      return "invalid_value";
    case codec_errc::trailing_bytes:
      return "trailing_bytes";
  }
  return "unknown";
}

caf::error make_error(codec_errc code, std::string_view detail) {
  return core::make_domain_error(caf::atom("codec"), static_cast<std::uint8_t>(code),
                                 to_string(code), detail);
}

std::size_t encoded_size(const message& x) noexcept {
  return std::visit([](const auto& m) { return encoded_size_of(m); }, x);
}

void encode(const message& x, core::byte_buffer& out) {
  auto body_bytes = encoded_size(x);
  reserve_more(out, body_bytes);
  encode_body(x, body_bytes, out);
}

caf::expected<message> decode(core::byte_span body) {
  if (body.empty())
    return make_error(codec_errc::truncated, "empty body: no message type byte");
  auto decode_fields = decode_table[body[0]];
  if (decode_fields == nullptr)
    return make_error(codec_errc::unknown_type,
                      fmt::format("type byte {} names no message", body[0]));
  return decode_fields(body);
}

void encode_frame(const message& x, core::byte_buffer& out) {
  auto body_bytes = encoded_size(x);
  require(body_bytes <= limits::frame_bytes_max, "message above frame_bytes_max");
  reserve_more(out, limits::frame_header_bytes + body_bytes);
  writer header{out};
  header.put_length(body_bytes);
  encode_body(x, body_bytes, out);
}

caf::expected<std::uint32_t> decode_frame_header(core::byte_span header) {
  if (header.size() < limits::frame_header_bytes)
    return make_error(codec_errc::truncated,
                      fmt::format("frame header has {} bytes, needs {}", header.size(),
                                  limits::frame_header_bytes));
  if (header.size() > limits::frame_header_bytes)
    return make_error(codec_errc::trailing_bytes,
                      fmt::format("frame header has {} bytes, expected {}", header.size(),
                                  limits::frame_header_bytes));
  std::uint32_t length = 0;
  for (std::size_t i = 0; i < limits::frame_header_bytes; ++i)
    length |= static_cast<std::uint32_t>(header[i]) << (8 * i);
  if (length == 0 || length > limits::frame_bytes_max)
    return make_error(codec_errc::oversize,
                      fmt::format("frame length {} is outside 1..={}", length,
                                  limits::frame_bytes_max));
  return length;
}

} // namespace stakecast::wire
