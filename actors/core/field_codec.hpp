// The field codec: how the fields of a record, as its CAF 0.17 `inspect` lists them,
// become bytes and back. It is the one encoding of every wire message (codec.cpp adds
// the type byte and the message table) and of every record nested in or stored beside
// them (manifests). A record needs no codec of its own: its `inspect` is its format.
//
// Integers are little-endian and fixed-width; byte arrays raw; strings, payloads and
// lists carry a u32 length; a list needs a `count_max<N>` annotation before it. The
// reader checks every length against its named limit and against the bytes left
// before it allocates, and keeps only the first error.
//
// Internal to actors/core (namespace detail): callers use codec.hpp and manifest.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/annotation.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/save_callback.hpp>

#include <fmt/format.h>

#include "actors/core/codec.hpp"
#include "actors/core/messages.hpp"

namespace stakecast::wire::detail {

constexpr std::size_t length_prefix_bytes = 4;

// Programmer errors crash, in release builds too: a message above its limits would be
// dropped by every receiver, which is worse to debug than a crash at the sender.
[[noreturn]] inline void contract_violated(std::string_view what) {
  std::fprintf(stderr, "stakecast: contract violated: %.*s\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

inline void require(bool condition, std::string_view what) {
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


} // namespace stakecast::wire::detail
