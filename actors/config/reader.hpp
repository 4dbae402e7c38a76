// A strict, generic reader for YAML scenario files and the node's config (DESIGN.md, "Scenario
// files"). The schema pulls values out of the document through `node_reader`s; it
// never touches yaml-cpp itself.
//
// What the reader guarantees:
// - Types, units and ranges are checked: `required<std::chrono::nanoseconds>("tick")`
//   accepts "250ms" and reports "expected a duration like 250ms, got 'abc'".
// - Every error names the file, line, column (1-based) and key path, e.g.
//   "s.yaml:7:9: network.regions[2].latency: required key is missing". List indices
//   in paths are 0-based; keys that are not [A-Za-z0-9_-]+ are quoted: `latency["eu west"]`.
// - Unknown keys are errors: `document_reader::finish()` reports every key, present in
//   a map that the schema opened, that the schema never read (with "did you mean").
//   Duplicate keys (which yaml-cpp accepts silently) and non-string keys are errors.
// - Errors never throw while reading. The reader records them and returns a
//   placeholder (the default, or T{}), so one pass finds every error of the file;
//   `finish()` then throws them all at once, sorted by position. Values read are
//   therefore meaningful only once finish() has returned.
// - After a reported error, errors that merely follow from it are not reported (an
//   absent required section does not also report each of its required keys).
// - Every value returned (defaults included) is written, in canonical form (units.hpp),
//   into the resolved tree at the same path, in the order read. `resolved()` is the
//   scenario "as resolved": emitting it and reading it again gives the same values.
// - No input crashes the process: yaml-cpp exceptions become errors of the file.
//
// Readers are cheap handles onto the state of one document (shared ownership: a
// reader may outlive its document_reader). Copies of a reader are the same reader.
// Not thread-safe: a document and its readers belong to one thread.
//
// To read a new type, specialize `value_traits` (below) for it.
#pragma once

#include <cassert>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "actors/config/units.hpp"

namespace stakecast::config {

/// A file larger than this is refused before parsing. Memory is what it bounds: yaml-cpp
/// takes about 75 bytes per byte of YAML, and reading all of it about as much again
/// (measured on a 5.9 MB file of 200k small maps: 437 MB to parse, 1.19 GB peak).
constexpr std::uint64_t config_file_bytes_max = 4 * 1024 * 1024;
/// Errors beyond this many are counted, not kept.
constexpr std::size_t config_errors_max = 100;

struct config_error {
  std::string file;
  int line = 0;         ///< 1-based; 0 when the error has no position (a missing file)
  int column = 0;       ///< 1-based; 0 when line is 0
  std::string key_path; ///< "network.regions[2].latency"; empty for the whole file
  std::string message;

  /// "FILE:LINE:COL: KEY.PATH: MESSAGE"; without ":LINE:COL" when line is 0 and
  /// without "KEY.PATH: " when the path is empty.
  std::string to_string() const;
};

/// One or more errors of one file. what() is their to_string(), one per line.
class config_exception : public std::exception {
public:
  /// REQUIRES: `errors` is not empty.
  explicit config_exception(std::vector<config_error> errors);
  const std::vector<config_error>& errors() const noexcept { return errors_; }
  const char* what() const noexcept override { return what_.c_str(); }

private:
  std::vector<config_error> errors_;
  std::string what_;
};

/// Inclusive limits on a value; either side may be open:
/// `{1, 1000}`, `{.min = 1}`, `{.max = 10s}`.
template <class T>
struct bounds {
  // The initializers keep -Wmissing-field-initializers quiet about `{.min = 1}`.
  std::optional<T> min = std::nullopt;
  std::optional<T> max = std::nullopt;
};

/// How values of type T are spelled in a file. A specialization has
///   static constexpr std::string_view description;  // "a duration like 250ms"
///   static parse_result<T> parse(std::string_view);  // the text of one scalar
///   static std::string format(const T&);             // canonical: parse(format(x)) == x
/// and optionally `static bounds<T> default_bounds()`, applied when the caller gives
/// no bounds. Provided: bool, integers, double, std::string, std::chrono::nanoseconds,
/// bandwidth_bps, size_bytes, ratio (default bounds [0%, 100%]).
template <class T>
struct value_traits {};

template <class T>
concept readable = requires(std::string_view text, const T& value) {
  { value_traits<T>::description } -> std::convertible_to<std::string_view>;
  { value_traits<T>::parse(text) } -> std::same_as<parse_result<T>>;
  { value_traits<T>::format(value) } -> std::same_as<std::string>;
};

template <>
struct value_traits<bool> {
  static constexpr std::string_view description = "true or false";
  static parse_result<bool> parse(std::string_view text) { return parse_bool(text); }
  static std::string format(bool value) { return format_bool(value); }
};

template <>
struct value_traits<std::string> {
  static constexpr std::string_view description = "a string";
  static parse_result<std::string> parse(std::string_view text) {
    return parse_result<std::string>::success(std::string(text));
  }
  static std::string format(const std::string& value) { return value; }
};

template <>
struct value_traits<double> {
  static constexpr std::string_view description = "a number";
  static parse_result<double> parse(std::string_view text) { return parse_double(text); }
  static std::string format(double value) { return format_double(value); }
};

template <>
struct value_traits<std::chrono::nanoseconds> {
  static constexpr std::string_view description = "a duration like 250ms";
  static parse_result<std::chrono::nanoseconds> parse(std::string_view text) {
    return parse_duration(text);
  }
  static std::string format(std::chrono::nanoseconds value) { return format_duration(value); }
};

template <>
struct value_traits<bandwidth_bps> {
  static constexpr std::string_view description = "a bandwidth like 10Mbps";
  static parse_result<bandwidth_bps> parse(std::string_view text) { return parse_bandwidth(text); }
  static std::string format(bandwidth_bps value) { return format_bandwidth(value); }
};

template <>
struct value_traits<size_bytes> {
  static constexpr std::string_view description = "a size like 16KiB";
  static parse_result<size_bytes> parse(std::string_view text) { return parse_size(text); }
  static std::string format(size_bytes value) { return format_size(value); }
};

template <>
struct value_traits<ratio> {
  static constexpr std::string_view description = "a ratio like 5% or 0.05";
  static parse_result<ratio> parse(std::string_view text) { return parse_ratio(text); }
  static std::string format(ratio value) { return format_ratio(value); }
  static bounds<ratio> default_bounds() { return {ratio{0}, ratio{1}}; }
};

namespace detail {
template <class T>
concept character = std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
    std::same_as<T, char16_t> || std::same_as<T, char32_t>;
template <class T>
concept integer = std::integral<T> && !std::same_as<T, bool> && !character<T>;
} // namespace detail

/// Every integer type: decimal digits, checked against the type's range.
template <detail::integer T>
struct value_traits<T> {
  static constexpr std::string_view description =
      std::is_signed_v<T> ? "an integer" : "a non-negative integer";

  static parse_result<T> parse(std::string_view text) {
    if constexpr (std::is_signed_v<T>)
      return narrow(parse_int64(text));
    else
      return narrow(parse_uint64(text));
  }
  static std::string format(T value) { return std::to_string(value); }

private:
  template <class Wide>
  static parse_result<T> narrow(parse_result<Wide> wide) {
    if (!wide)
      return parse_result<T>::failure(std::move(wide.error));
    if (std::in_range<T>(*wide.value))
      return parse_result<T>::success(static_cast<T>(*wide.value));
    return parse_result<T>::failure(
        "must be between " + std::to_string(std::numeric_limits<T>::min()) + " and " +
        std::to_string(std::numeric_limits<T>::max()) + ", got " + std::to_string(*wide.value));
  }
};

/// Names and values of an enum-like setting: `{{"fast", mode::fast}, {"slow", mode::slow}}`.
template <class E>
using choices = std::initializer_list<std::pair<std::string_view, E>>;

namespace detail {
struct document_state;
struct map_state;
struct key_entry;
struct resolved_node;
} // namespace detail

struct map_entry;

/// One node of the document: a map (read keys of it), a list (`items()`) or a scalar
/// (`as<T>()`). Reading a key marks it as known; see the file comment for errors.
class node_reader {
public:
  /// The key path of this node: "" for the root, "network.regions[2]" below.
  const std::string& path() const noexcept { return path_; }

  /// Whether this map has `key` (even with an empty value). Testing a key does not
  /// read it: a key that is only tested is still reported as unknown.
  bool has(std::string_view key);

  /// The value of `key`. If it is missing, or wrong, the error is recorded and T{} is
  /// returned.
  template <readable T>
  T required(std::string_view key, bounds<T> limits = {});
  /// The value of `key`, or `default_value` when the key is absent. A key present
  /// with no value (`key:`) is an error: remove the key to get the default.
  /// REQUIRES: `default_value` is within `limits`.
  template <readable T>
  T optional(std::string_view key, std::type_identity_t<T> default_value, bounds<T> limits = {});
  /// The value of `key`, or nullopt when absent (nothing is written to the resolved
  /// tree then: use it where "absent" means something, e.g. "derive from the seed").
  template <readable T>
  std::optional<T> maybe(std::string_view key, bounds<T> limits = {});
  /// This node as a scalar value: for list items (`for (auto& x : r.list("k"))
  /// x.as<size_bytes>()`) and map entries.
  template <readable T>
  T as(bounds<T> limits = {});

  /// One of several names, mapped to a value: `required_choice<mode>("mode",
  /// {{"fast", mode::fast}, {"slow", mode::slow}})`. A name not in `options` is an
  /// error that lists them.
  template <class E>
  E required_choice(std::string_view key, choices<E> options);
  /// REQUIRES: `default_value` is one of the values of `options`.
  template <class E>
  E optional_choice(std::string_view key, choices<E> options, E default_value);
  std::string required_one_of(std::string_view key, std::initializer_list<std::string_view> names);
  /// REQUIRES: `default_name` is one of `names`.
  std::string optional_one_of(std::string_view key, std::initializer_list<std::string_view> names,
                              std::string_view default_name);

  /// The map under `key`. A missing key is an error. An empty value (`key:`) is an
  /// empty map. A value that is not a map is an error.
  node_reader section(std::string_view key);
  /// The map under `key`, or an empty map when absent, so that the defaults of its
  /// keys are still read and written to the resolved tree.
  node_reader optional_section(std::string_view key);
  /// The items of the list under `key`, with a bound on their number. A missing key
  /// is an error; an empty value is an empty list.
  std::vector<node_reader> list(std::string_view key, bounds<std::size_t> count = {});
  /// The items of the list under `key`, or none when absent.
  std::vector<node_reader> optional_list(std::string_view key, bounds<std::size_t> count = {});
  /// This node as a list (an empty value is an empty list).
  std::vector<node_reader> items(bounds<std::size_t> count = {});
  /// This node as a map whose keys the file chooses (`latency: {eu: {us: 80ms}}`), in
  /// file order. Every key counts as read.
  std::vector<map_entry> entries();

  /// Reports an error found by the schema (a cross-field rule, say) at this node.
  void error(std::string_view message) const;
  /// The same at `key` of this map (at the map itself when `key` is absent).
  void error_at(std::string_view key, std::string_view message);

private:
  friend class document_reader;

  node_reader(std::shared_ptr<detail::document_state> document, std::string path, YAML::Node node,
              detail::resolved_node* resolved, YAML::Mark mark, bool silent);

  detail::map_state& open_map();
  node_reader child_of(const detail::key_entry& entry);
  std::optional<node_reader> find(std::string_view key);
  node_reader absent_child(std::string_view key, bool silent);
  std::vector<node_reader> list_at(std::string_view key, bool required, bounds<std::size_t> count);
  std::optional<std::size_t> choose(std::string_view key,
                                    const std::vector<std::string_view>& names,
                                    std::optional<std::size_t> default_index);
  template <class E>
  static std::vector<std::string_view> names_of(choices<E> options);

  template <readable T>
  std::optional<T> read(const bounds<T>& limits);
  bool is_null() const;
  std::optional<std::string> scalar_text(std::string_view description);
  void write(const std::string& text);
  void write_child(std::string_view key, const std::string& text);
  void report(std::string message) const;
  void report_missing(std::string_view key);
  void report_no_value(std::string_view default_text);

  std::shared_ptr<detail::document_state> document_;
  std::string path_;
  YAML::Node node_;                  // the node in the file (Null for an absent optional section)
  detail::resolved_node* resolved_;  // where this node's resolved value goes (owned by document_)
  YAML::Mark mark_;                  // where errors about this node point
  bool silent_ = false;              // stands in for something already reported missing
  detail::map_state* map_ = nullptr; // open_map(), once called
};

struct map_entry {
  std::string key;
  node_reader value;
};

/// One YAML file, parsed, and the root of its readers.
class document_reader {
public:
  /// Parses `path`. Throws config_exception when the file cannot be read, is larger
  /// than config_file_bytes_max, is not valid YAML (with the line and column of the
  /// syntax error), is empty, holds several documents, or is not a map at the top.
  static document_reader load_file(const std::string& path);
  /// The same from text; `file_label` names it in errors.
  static document_reader load_string(std::string_view text, std::string file_label);

  /// Replaces the value at `key_path` ("workloads.chain.parameters.fee_burn",
  /// "network.regions[1].share": plain keys and 0-based list indices) by the scalar
  /// `value`, before anything is read, creating the maps on the way that are absent.
  /// The schema then reads the value as if the file held it, so a wrong value is
  /// reported at its key path (without a line: the file does not hold it). Throws
  /// config_exception when the path is malformed or crosses a scalar or a list
  /// index beyond its end. REQUIRES: root() has not been called.
  void set_value(std::string_view key_path, const std::string& value);
  /// The top-level map.
  node_reader root();
  /// Ends reading: reports unknown keys (once) and returns every error of the file,
  /// sorted by position. REQUIRES: no reader of this document reads after this.
  std::vector<config_error> check();
  /// check(), then throws config_exception if there is any error.
  void finish();
  /// A copy of the resolved tree: every value read, defaults included, canonical.
  YAML::Node resolved() const;
  const std::string& file() const noexcept;

private:
  explicit document_reader(std::shared_ptr<detail::document_state> state);

  std::shared_ptr<detail::document_state> state_;
};

// ---- Implementation of the templates ----

namespace detail {

template <readable T>
bounds<T> effective_bounds(const bounds<T>& limits) {
  if constexpr (requires { value_traits<T>::default_bounds(); })
    if (!limits.min && !limits.max)
      return value_traits<T>::default_bounds();
  return limits;
}

/// "must be between A and B, got C" when `value` is outside `limits`.
template <readable T>
std::optional<std::string> bounds_violation(const T& value, const bounds<T>& limits) {
  if constexpr (std::totally_ordered<T>) {
    const bool below = limits.min && value < *limits.min;
    const bool above = limits.max && *limits.max < value;
    if (!below && !above)
      return std::nullopt;
    const std::string got = ", got " + value_traits<T>::format(value);
    if (limits.min && limits.max)
      return "must be between " + value_traits<T>::format(*limits.min) + " and " +
             value_traits<T>::format(*limits.max) + got;
    if (limits.min)
      return "must be at least " + value_traits<T>::format(*limits.min) + got;
    return "must be at most " + value_traits<T>::format(*limits.max) + got;
  }
  return std::nullopt;
}

} // namespace detail

template <readable T>
std::optional<T> node_reader::read(const bounds<T>& limits) {
  const std::optional<std::string> text = scalar_text(value_traits<T>::description);
  if (!text)
    return std::nullopt;
  parse_result<T> parsed = value_traits<T>::parse(*text);
  if (!parsed) {
    report(std::move(parsed.error));
    return std::nullopt;
  }
  if (auto why = detail::bounds_violation(*parsed.value, detail::effective_bounds(limits))) {
    report(std::move(*why));
    return std::nullopt;
  }
  write(value_traits<T>::format(*parsed.value));
  return parsed.value;
}

template <readable T>
T node_reader::as(bounds<T> limits) {
  std::optional<T> value = read(limits);
  return value ? std::move(*value) : T{};
}

template <readable T>
T node_reader::required(std::string_view key, bounds<T> limits) {
  std::optional<node_reader> child = find(key);
  if (!child) {
    report_missing(key);
    return T{};
  }
  return child->as<T>(limits);
}

template <readable T>
T node_reader::optional(std::string_view key, std::type_identity_t<T> default_value,
                        bounds<T> limits) {
  assert(!detail::bounds_violation(default_value, detail::effective_bounds(limits)));
  std::optional<node_reader> child = find(key);
  if (child && !child->is_null()) {
    std::optional<T> value = child->read(limits);
    return value ? std::move(*value) : default_value;
  }
  const std::string default_text = value_traits<T>::format(default_value);
  if (child)
    child->report_no_value(default_text);
  write_child(key, default_text);
  return default_value;
}

template <readable T>
std::optional<T> node_reader::maybe(std::string_view key, bounds<T> limits) {
  std::optional<node_reader> child = find(key);
  if (!child)
    return std::nullopt;
  if (child->is_null()) {
    child->report_no_value({});
    return std::nullopt;
  }
  return child->read(limits);
}

template <class E>
std::vector<std::string_view> node_reader::names_of(choices<E> options) {
  std::vector<std::string_view> names;
  for (const auto& option : options)
    names.push_back(option.first);
  return names;
}

template <class E>
E node_reader::required_choice(std::string_view key, choices<E> options) {
  const std::optional<std::size_t> index = choose(key, names_of(options), std::nullopt);
  return index ? options.begin()[*index].second : E{};
}

template <class E>
E node_reader::optional_choice(std::string_view key, choices<E> options, E default_value) {
  std::optional<std::size_t> default_index;
  for (std::size_t i = 0; i < options.size() && !default_index; ++i)
    if (options.begin()[i].second == default_value)
      default_index = i;
  assert(default_index);
  const std::optional<std::size_t> index = choose(key, names_of(options), default_index);
  return index ? options.begin()[*index].second : default_value;
}

} // namespace stakecast::config
