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

namespace stakecast::wire {

namespace {

constexpr std::size_t length_prefix_bytes = 4;

// Programmer errors crash, in release builds too: a message above its limits would be
// dropped by every receiver, which is worse to debug than a crash at the sender.
[[noreturn]] void contract_violated(std::string_view what) {
  std::fprintf(stderr, "stakecast::wire: contract violated: %.*s\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

void require(bool condition, std::string_view what) {
  if (!condition)
    contract_violated(what);
}

template <class T>
struct is_vector : std::false_type {};
template <class T, class Allocator>
struct is_vector<std::vector<T, Allocator>> : std::true_type {};

template <class T>
struct is_byte_array : std::false_type {};
template <std::size_t N>
struct is_byte_array<std::array<std::uint8_t, N>> : std::true_type {};

template <class T>
struct is_count_max : std::false_type {};
template <std::size_t N>
struct is_count_max<count_max_t<N>> : std::true_type {};

template <class T>
struct is_callback : std::bool_constant<caf::meta::is_load_callback<T>::value
                                        || caf::meta::is_save_callback<T>::value> {};

template <class T>
[[maybe_unused]] inline constexpr bool unsupported_field = false;

// Walks the fields that a CAF 0.17 `inspect` hands over and dispatches each one by
// kind to the Derived visitor: boolean, integer, raw (byte arrays), text, blob
// (payload), sequence (vectors) and, for nested structs, their own `inspect`.
// Annotations are skipped, except count_max<N>, which bounds the vector after it.
// Also counts the top-level fields, so that errors can name the field.
template <class Derived>
class field_walker {
public:
  using result_type = void;

  template <class... Ts>
  void operator()(Ts&&... fields) {
    ++depth_;
    walk(fields...);
    --depth_;
  }

  // One value of a type the codec knows. `CountMax` bounds a vector (0: no bound
  // given, which does not compile for a vector).
  template <std::size_t CountMax, class T>
  void value(T& x) {
    auto& self = static_cast<Derived&>(*this);
    if constexpr (is_vector<T>::value) {
      static_assert(CountMax > 0, "a std::vector field needs count_max<N> before it");
      static_assert(CountMax <= std::numeric_limits<std::uint32_t>::max());
      static_assert(!std::is_same_v<typename T::value_type, bool>, "no std::vector<bool>");
      self.template sequence<CountMax>(x);
    } else {
      static_assert(CountMax == 0, "count_max<N> must precede a std::vector field");
      if constexpr (std::is_same_v<T, bool>)
        self.boolean(x);
      else if constexpr (std::is_integral_v<T>)
        self.integer(x);
      else if constexpr (is_byte_array<T>::value)
        self.raw(x);
      else if constexpr (std::is_same_v<T, std::string>)
        self.text(x);
      else if constexpr (std::is_same_v<T, payload>)
        self.blob(x);
      else if constexpr (std::is_class_v<T>)
        inspect(self, x); // a nested struct: hash256, or a future record type
      else
        static_assert(unsupported_field<T>, "the codec has no encoding for this type");
    }
  }

protected:
  // 1-based index of the top-level field being visited; 0 before the first.
  std::size_t field_index_ = 0;

private:
  void walk() {}

  template <class T, class... Ts>
  void walk(T& x, Ts&... rest) {
    using type = std::remove_const_t<T>;
    static_assert(!is_callback<type>::value,
                  "the codec does not run inspect callbacks: encode plain fields");
    if constexpr (is_count_max<type>::value) {
      static_assert(sizeof...(Ts) > 0, "count_max<N> must precede a field");
      walk_bounded<type::value>(rest...);
    } else if constexpr (caf::meta::is_annotation<type>::value) {
      walk(rest...);
    } else {
      if (depth_ == 1)
        ++field_index_;
      value<0>(x);
      walk(rest...);
    }
  }

  template <std::size_t CountMax, class T, class... Ts>
  void walk_bounded(T& x, Ts&... rest) {
    if (depth_ == 1)
      ++field_index_;
    value<CountMax>(x);
    walk(rest...);
  }

  int depth_ = 0;
};

// Adds up encoded sizes and checks the limits the decoder enforces.
class sizer : public field_walker<sizer> {
public:
  // CAF's direction flags, for nested inspect functions that branch on them.
  [[maybe_unused]] static constexpr bool reads_state = true;
  [[maybe_unused]] static constexpr bool writes_state = false;

  std::size_t total_bytes = 0;

  void boolean(bool&) {
    total_bytes += 1;
  }

  template <class T>
  void integer(T&) {
    total_bytes += sizeof(T);
  }

  template <std::size_t N>
  void raw(std::array<std::uint8_t, N>&) {
    total_bytes += N;
  }

  void text(std::string& x) {
    require(x.size() <= limits::text_bytes_max, "string longer than text_bytes_max");
    total_bytes += length_prefix_bytes + x.size();
  }

  void blob(payload& x) {
    require(x.size_bytes <= limits::payload_bytes_max, "payload above payload_bytes_max");
    require(x.is_virtual() || x.bytes->size() == x.size_bytes,
            "payload size_bytes differs from its bytes");
    total_bytes += length_prefix_bytes + x.size_bytes;
  }

  template <std::size_t CountMax, class T>
  void sequence(std::vector<T>& xs) {
    require(xs.size() <= CountMax, "list longer than its count_max");
    total_bytes += length_prefix_bytes;
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      total_bytes += xs.size();
    } else {
      for (auto& x : xs)
        value<0>(x);
    }
  }
};

// The smallest encoding of a T (its default value: empty strings and lists, zero
// sizes), used to bound a decoded count by the bytes left before allocating.
template <class T>
std::size_t encoded_bytes_min() {
  T probe{};
  sizer counter;
  counter.value<0>(probe);
  return counter.total_bytes;
}

// Appends encodings to a buffer. The sizer has already checked the limits.
class writer : public field_walker<writer> {
public:
  [[maybe_unused]] static constexpr bool reads_state = true;
  [[maybe_unused]] static constexpr bool writes_state = false;

  explicit writer(core::byte_buffer& out) : out_(out) {}

  void boolean(bool& x) {
    out_.push_back(x ? 1 : 0);
  }

  template <class T>
  void integer(T& x) {
    put_little_endian(static_cast<std::make_unsigned_t<T>>(x));
  }

  template <std::size_t N>
  void raw(std::array<std::uint8_t, N>& x) {
    out_.insert(out_.end(), x.begin(), x.end());
  }

  void text(std::string& x) {
    put_length(x.size());
    out_.insert(out_.end(), x.begin(), x.end());
  }

  void blob(payload& x) {
    put_length(x.size_bytes);
    if (x.is_virtual())
      out_.insert(out_.end(), x.size_bytes, std::uint8_t{0});
    else
      out_.insert(out_.end(), x.bytes->begin(), x.bytes->end());
  }

  template <std::size_t CountMax, class T>
  void sequence(std::vector<T>& xs) {
    put_length(xs.size());
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      out_.insert(out_.end(), xs.begin(), xs.end());
    } else {
      for (auto& x : xs)
        value<0>(x);
    }
  }

  void put_length(std::size_t n) {
    put_little_endian(static_cast<std::uint32_t>(n));
  }

  template <class U>
  void put_little_endian(U x) {
    static_assert(std::is_unsigned_v<U>);
    for (std::size_t i = 0; i < sizeof(U); ++i)
      out_.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
  }

private:
  core::byte_buffer& out_;
};

// Reads one message's fields from hostile bytes. Every read is bounds-checked; the
// first error is kept and every later read is a no-op, so a failed decode stops
// allocating at once.
class reader : public field_walker<reader> {
public:
  [[maybe_unused]] static constexpr bool reads_state = false;
  [[maybe_unused]] static constexpr bool writes_state = true;

  // `offset` is where the fields start inside `input` (after the type byte).
  reader(core::byte_span input, std::size_t offset, std::string_view message_name)
    : input_(input), offset_(offset), message_name_(message_name) {}

  bool failed() const noexcept {
    return static_cast<bool>(error_);
  }

  caf::error take_error() {
    return std::move(error_);
  }

  std::size_t remaining() const noexcept {
    return input_.size() - offset_;
  }

  std::size_t offset() const noexcept {
    return offset_;
  }

  void boolean(bool& x) {
    std::uint8_t byte = 0;
    if (!get_little_endian(byte, "bool"))
      return;
    if (byte > 1)
      return fail(codec_errc::invalid_value,
                  fmt::format("{} field {} (bool) is {} at offset {}, not 0 or 1",
                              message_name_, field_index_, byte, offset_ - 1));
    x = byte == 1;
  }

  template <class T>
  void integer(T& x) {
    std::make_unsigned_t<T> bits = 0;
    if (get_little_endian(bits, "integer"))
      x = static_cast<T>(bits); // two's complement for signed T (C++20)
  }

  template <std::size_t N>
  void raw(std::array<std::uint8_t, N>& x) {
    if (auto bytes = take(N, "raw bytes"))
      std::copy(bytes->begin(), bytes->end(), x.begin());
  }

  void text(std::string& x) {
    auto size = get_length(limits::text_bytes_max, "string length");
    if (!size)
      return;
    if (auto bytes = take(*size, "string bytes"))
      x.assign(bytes->begin(), bytes->end());
  }

  void blob(payload& x) {
    auto size = get_length(limits::payload_bytes_max, "payload size");
    if (!size)
      return;
    if (auto bytes = take(*size, "payload bytes"))
      x = payload::materialized(core::byte_buffer(bytes->begin(), bytes->end()));
  }

  template <std::size_t CountMax, class T>
  void sequence(std::vector<T>& xs) {
    auto count = get_length(CountMax, "list count");
    if (!count)
      return;
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      if (auto bytes = take(*count, "list bytes"))
        xs.assign(bytes->begin(), bytes->end());
    } else {
      // Bound the count by the bytes left before reserving, so that a hostile count
      // within the limit cannot make us allocate more than the input justifies.
      auto element_bytes = encoded_bytes_min<T>();
      if (*count > remaining() / element_bytes)
        return fail_truncated(*count * element_bytes, "list elements");
      xs.clear();
      xs.reserve(*count);
      for (std::size_t i = 0; i < *count && !failed(); ++i) {
        T element{};
        value<0>(element);
        xs.push_back(std::move(element));
      }
    }
  }

private:
  // The next `size` bytes, or nullopt (and a truncated error) if fewer remain.
  std::optional<core::byte_span> take(std::size_t size, std::string_view what) {
    if (failed())
      return std::nullopt;
    if (size > remaining()) {
      fail_truncated(size, what);
      return std::nullopt;
    }
    auto result = input_.subspan(offset_, size);
    offset_ += size;
    return result;
  }

  template <class U>
  bool get_little_endian(U& x, std::string_view what) {
    static_assert(std::is_unsigned_v<U>);
    auto bytes = take(sizeof(U), what);
    if (!bytes)
      return false;
    U result = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
      result = static_cast<U>(result | (static_cast<U>((*bytes)[i]) << (8 * i)));
    x = result;
    return true;
  }

  // A u32 length or count, checked against its limit.
  std::optional<std::size_t> get_length(std::size_t limit, std::string_view what) {
    std::uint32_t length = 0;
    if (!get_little_endian(length, what))
      return std::nullopt;
    if (length > limit) {
      fail(codec_errc::oversize,
           fmt::format("{} field {} ({}) is {} at offset {}, above its limit {}",
                       message_name_, field_index_, what, length,
                       offset_ - length_prefix_bytes, limit));
      return std::nullopt;
    }
    return length;
  }

  void fail_truncated(std::size_t needed, std::string_view what) {
    fail(codec_errc::truncated,
         fmt::format("{} field {} ({}) needs {} bytes at offset {}, {} remain",
                     message_name_, field_index_, what, needed, offset_, remaining()));
  }

  void fail(codec_errc code, std::string_view detail) {
    if (!failed())
      error_ = make_error(code, detail);
  }

  core::byte_span input_;
  std::size_t offset_;
  std::string_view message_name_;
  caf::error error_;
};

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

payload payload::virtual_of(std::uint32_t size_bytes) {
  require(size_bytes <= limits::payload_bytes_max, "payload above payload_bytes_max");
  payload result;
  result.size_bytes = size_bytes;
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
