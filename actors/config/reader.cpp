#include "actors/config/reader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace stakecast::config {
namespace detail {

struct key_entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  bool consumed = false;
};

struct map_state {
  bool broken = false;         // not a map: reported once, reads of it are quiet
  std::vector<key_entry> keys; // in file order, duplicates left out
  std::map<std::string, std::size_t, std::less<>> position; // of each key in `keys`
  std::vector<std::string> asked; // every key the schema asked for, in first-ask order
};

// The resolved value of one node, built up as the schema reads. Not a YAML::Node:
// yaml-cpp looks map keys up linearly, which makes building a map of N keys O(N^2).
// Children are never destroyed before the document, so readers may point at them.
struct resolved_node {
  enum class kind { unset, scalar, map, sequence };

  kind type = kind::unset;
  std::string scalar;
  std::vector<std::pair<std::string, std::unique_ptr<resolved_node>>> entries; // read order
  std::map<std::string, std::size_t, std::less<>> position;                    // in entries
  std::vector<std::unique_ptr<resolved_node>> items;

  void set_scalar(std::string text) {
    type = kind::scalar;
    scalar = std::move(text);
  }
  void make_map() { type = kind::map; }
  // REQUIRES: not called for one node with different sizes (a list has one length).
  void make_sequence(std::size_t size) {
    type = kind::sequence;
    while (items.size() < size)
      items.push_back(std::make_unique<resolved_node>());
  }
  resolved_node& child(std::string_view key);
  YAML::Node to_yaml() const;
};

struct document_state {
  std::string file;
  YAML::Node root;
  resolved_node resolved;
  std::map<std::string, map_state, std::less<>> maps; // by key path
  std::vector<config_error> errors;
  std::size_t errors_dropped = 0;
  bool checked = false;

  void report(const YAML::Mark& mark, std::string key_path, std::string message);
};

} // namespace detail

namespace {

// Keys longer than this are cut in key paths; suggestions are not looked for.
constexpr std::size_t key_chars_shown_max = 60;
// An unknown-key message lists at most this many of the expected keys.
constexpr std::size_t known_keys_listed_max = 12;
constexpr std::size_t read_chunk_bytes = 64 * 1024;

config_error make_error(std::string file, const YAML::Mark& mark, std::string key_path,
                          std::string message) {
  config_error error{std::move(file), 0, 0, std::move(key_path), std::move(message)};
  if (!mark.is_null()) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  return error;
}

config_exception single_error(const std::string& file, const YAML::Mark& mark,
                                std::string message) {
  return config_exception({make_error(file, mark, {}, std::move(message))});
}

bool is_plain_key(std::string_view key) {
  const auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  };
  return !key.empty() && std::all_of(key.begin(), key.end(), plain);
}

// A key as written in a path: ["eu west"], escaped like a JSON string, cut if long.
std::string bracketed_key(std::string_view key) {
  std::string shown = "[\"";
  for (char c : key.substr(0, key_chars_shown_max)) {
    if (c == '"' || c == '\\')
      shown += '\\';
    if (static_cast<unsigned char>(c) < 0x20)
      shown += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    else
      shown += c;
  }
  if (key.size() > key_chars_shown_max)
    shown += "...";
  return shown + "\"]";
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (!is_plain_key(key))
    return std::string(parent) + bracketed_key(key);
  if (parent.empty())
    return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string item_path(std::string_view parent, std::size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return in_quotes(node.Scalar());
    default:
      return "nothing";
  }
}

// Optimal string alignment distance: insertions, deletions, substitutions, and swaps
// of neighbours ("latnecy") each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// The candidate closest to `word`, if it is close enough to be a likely typo.
template <class Strings>
std::optional<std::string_view> closest(std::string_view word, const Strings& candidates) {
  if (word.size() > key_chars_shown_max)
    return std::nullopt;
  std::optional<std::string_view> best;
  std::size_t best_distance = key_chars_shown_max;
  for (std::string_view candidate : candidates) {
    const std::size_t limit = std::max<std::size_t>(1, candidate.size() / 3);
    const std::size_t distance = edit_distance(word, candidate);
    // A word replaced whole ("3" for "x") is no typo.
    const bool typo = distance < std::min(word.size(), candidate.size());
    if (typo && distance <= limit && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// "'a', 'b' or 'c'", at most `listed_max` names then ", ...".
template <class Strings>
std::string join_names(const Strings& names, std::string_view last_separator,
                       std::size_t listed_max) {
  std::string joined;
  const std::size_t listed = std::min(names.size(), listed_max);
  for (std::size_t i = 0; i < listed; ++i) {
    if (i > 0)
      joined += (i + 1 == names.size()) ? last_separator : std::string_view(", ");
    joined += in_quotes(names[i]);
  }
  if (listed < names.size())
    joined += ", ...";
  return joined;
}

std::string suggestion(std::optional<std::string_view> candidate) {
  return candidate ? fmt::format(" (did you mean {}?)", in_quotes(*candidate)) : std::string();
}

std::string unknown_key_message(std::string_view key, const std::vector<std::string>& asked) {
  const std::string message = "unknown key " + in_quotes(key);
  if (key == "<<")
    return message + " (YAML merge keys are not supported; repeat the keys)";
  // The schema knows the key (it tested it with has()) but did not read it.
  if (std::find(asked.begin(), asked.end(), key) != asked.end())
    return fmt::format("key {} is not used with these settings", in_quotes(key));
  if (std::optional<std::string_view> candidate = closest(key, asked))
    return message + suggestion(candidate);
  if (asked.empty())
    return message + " (no keys are expected here)";
  return message + "; expected " + join_names(asked, " or ", known_keys_listed_max);
}

std::string count_violation_message(std::size_t size, const bounds<std::size_t>& count) {
  const auto items = [](std::size_t n) { return fmt::format("{} item{}", n, n == 1 ? "" : "s"); };
  if (count.min && count.max)
    return fmt::format("must have between {} and {} items, got {}", *count.min, *count.max, size);
  if (count.min)
    return fmt::format("must have at least {}, got {}", items(*count.min), size);
  return fmt::format("must have at most {}, got {}", items(count.max.value_or(0)), size);
}

bool count_within(std::size_t size, const bounds<std::size_t>& count) {
  return (!count.min || size >= *count.min) && (!count.max || size <= *count.max);
}

detail::key_entry* find_entry(detail::map_state& state, std::string_view key) {
  const auto found = state.position.find(key);
  return found == state.position.end() ? nullptr : &state.keys[found->second];
}

void remember(std::vector<std::string>& asked, std::string_view key) {
  if (std::find(asked.begin(), asked.end(), key) == asked.end())
    asked.emplace_back(key);
}

// Errors about a value point at the value; an empty value has no useful position of
// its own (yaml-cpp puts it at the next token), so those point at the key.
YAML::Mark value_mark(const detail::key_entry& entry) {
  return entry.value.IsNull() ? entry.key_node.Mark() : entry.value.Mark();
}

void index_key(detail::document_state& document, const std::string& path, detail::map_state& state,
               const YAML::Node& key_node, const YAML::Node& value) {
  if (!key_node.IsScalar()) {
    document.report(key_node.Mark(), path,
                    "map keys must be plain strings, got " + describe(key_node));
    return;
  }
  const std::string& key = key_node.Scalar();
  if (const detail::key_entry* first = find_entry(state, key)) {
    document.report(key_node.Mark(), child_path(path, key),
                    fmt::format("duplicate key {} (first at line {})", in_quotes(key),
                                first->key_node.Mark().line + 1));
    return;
  }
  state.position.emplace(key, state.keys.size());
  state.keys.push_back({key, key_node, value});
}

void report_unknown_keys(detail::document_state& document) {
  for (const auto& [path, state] : document.maps)
    for (const detail::key_entry& entry : state.keys)
      if (!entry.consumed)
        document.report(entry.key_node.Mark(), child_path(path, entry.key),
                        unknown_key_message(entry.key, state.asked));
}

void sort_by_position(std::vector<config_error>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
}

std::string too_large_message() {
  return fmt::format("the file is larger than {}",
                     format_size(size_bytes{config_file_bytes_max}));
}

std::string read_file(const std::string& path) {
  std::error_code code;
  const std::filesystem::file_status status = std::filesystem::status(path, code);
  if (code || !std::filesystem::exists(status))
    throw single_error(path, YAML::Mark::null_mark(), "cannot read the file: it does not exist");
  if (std::filesystem::is_directory(status))
    throw single_error(path, YAML::Mark::null_mark(), "cannot read the file: it is a directory");
  // A FIFO with no writer would block the open forever, and a device may never end.
  if (!std::filesystem::is_regular_file(status))
    throw single_error(path, YAML::Mark::null_mark(),
                       "cannot read the file: it is not a regular file (a FIFO, socket or device)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw single_error(path, YAML::Mark::null_mark(),
                       fmt::format("cannot open the file: {}", std::strerror(errno)));
  std::string text;
  std::array<char, read_chunk_bytes> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > config_file_bytes_max)
      throw single_error(path, YAML::Mark::null_mark(), too_large_message());
  }
  if (in.bad())
    throw single_error(path, YAML::Mark::null_mark(), "cannot read the file");
  return text;
}

// Records where documents start, and nothing else.
class document_starts : public YAML::EventHandler {
public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Refuses a text that is not exactly one YAML document. Not YAML::LoadAll: in
// yaml-cpp 0.7 it loops forever, allocating, on inputs as small as "," (yaml-cpp
// issue #1040, fixed upstream by PR #1319); here at most two documents are parsed.
void check_one_document(std::string_view text, const std::string& file) {
  std::istringstream stream{std::string(text)};
  YAML::Parser parser(stream);
  document_starts starts;
  for (int document = 0; document < 2 && parser.HandleNextDocument(starts); ++document) {
  }
  if (starts.marks.size() < 2)
    return;
  const YAML::Mark& second = starts.marks[1];
  // A second document that starts where the first did is the parser stuck on a token
  // that it can neither read nor reject.
  if (second.pos == starts.marks[0].pos)
    throw single_error(file, second, "invalid YAML: unexpected character");
  throw single_error(file, second, "the file holds more than one YAML document");
}

// The one document of `text`, a map.
YAML::Node parse_root(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    check_one_document(text, file);
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    throw single_error(file, error.mark, "invalid YAML: " + error.msg);
  }
  if (root.IsNull())
    throw single_error(file, YAML::Mark::null_mark(), "the file is empty");
  if (!root.IsMap())
    throw single_error(file, root.Mark(),
                       "expected a map of keys at the top level, got " + describe(root));
  return root;
}

} // namespace

detail::resolved_node& detail::resolved_node::child(std::string_view key) {
  make_map();
  const auto found = position.find(key);
  if (found != position.end())
    return *entries[found->second].second;
  position.emplace(key, entries.size());
  entries.emplace_back(std::string(key), std::make_unique<resolved_node>());
  return *entries.back().second;
}

// Unset children (read as nothing: a key with an error) are left out; empty lists and
// maps are written `[]` and `{}` on the line of their key.
YAML::Node detail::resolved_node::to_yaml() const {
  YAML::Node node;
  if (type == kind::scalar)
    return YAML::Node(scalar);
  if (type == kind::map) {
    node = YAML::Node(YAML::NodeType::Map);
    for (const auto& [key, value] : entries)
      if (value->type != kind::unset)
        node.force_insert(key, value->to_yaml());
  } else if (type == kind::sequence) {
    node = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& item : items)
      node.push_back(item->to_yaml());
  }
  if (node.size() == 0)
    node.SetStyle(YAML::EmitterStyle::Flow);
  return node;
}

void detail::document_state::report(const YAML::Mark& mark, std::string key_path,
                                    std::string message) {
  if (errors.size() >= config_errors_max) {
    ++errors_dropped;
    return;
  }
  errors.push_back(make_error(file, mark, std::move(key_path), std::move(message)));
}

// ---- config_error, config_exception ----

std::string config_error::to_string() const {
  std::string text = file;
  if (line > 0)
    text += fmt::format(":{}:{}", line, column);
  text += ": ";
  if (!key_path.empty())
    text += key_path + ": ";
  return text + message;
}

config_exception::config_exception(std::vector<config_error> errors)
    : errors_(std::move(errors)) {
  assert(!errors_.empty());
  for (const config_error& error : errors_) {
    if (!what_.empty())
      what_ += '\n';
    what_ += error.to_string();
  }
}

// ---- node_reader: maps ----

node_reader::node_reader(std::shared_ptr<detail::document_state> document, std::string path,
                         YAML::Node node, detail::resolved_node* resolved, YAML::Mark mark,
                         bool silent)
    : document_(std::move(document)), path_(std::move(path)), node_(std::move(node)),
      resolved_(resolved), mark_(mark), silent_(silent) {}

detail::map_state& node_reader::open_map() {
  if (map_ != nullptr)
    return *map_;
  const auto [position, inserted] = document_->maps.try_emplace(path_);
  map_ = &position->second;
  if (inserted && !node_.IsNull() && !node_.IsMap()) {
    map_->broken = true;
    report("expected a map, got " + describe(node_));
  } else if (inserted && node_.IsMap()) {
    for (auto entry = node_.begin(); entry != node_.end(); ++entry)
      index_key(*document_, path_, *map_, entry->first, entry->second);
  }
  resolved_->make_map();
  return *map_;
}

node_reader node_reader::child_of(const detail::key_entry& entry) {
  return node_reader(document_, child_path(path_, entry.key), entry.value,
                     &resolved_->child(entry.key), value_mark(entry), silent_);
}

std::optional<node_reader> node_reader::find(std::string_view key) {
  detail::map_state& state = open_map();
  remember(state.asked, key);
  detail::key_entry* entry = find_entry(state, key);
  if (entry == nullptr)
    return std::nullopt;
  entry->consumed = true;
  return child_of(*entry);
}

node_reader node_reader::absent_child(std::string_view key, bool silent) {
  const bool quiet = silent || silent_ || open_map().broken;
  return node_reader(document_, child_path(path_, key), YAML::Node(), &resolved_->child(key), mark_,
                     quiet);
}

bool node_reader::has(std::string_view key) {
  detail::map_state& state = open_map();
  remember(state.asked, key);
  return find_entry(state, key) != nullptr;
}

node_reader node_reader::section(std::string_view key) {
  std::optional<node_reader> child = find(key);
  if (!child) {
    report_missing(key);
    child = absent_child(key, true);
  }
  child->open_map();
  return *child;
}

node_reader node_reader::optional_section(std::string_view key) {
  std::optional<node_reader> child = find(key);
  if (!child)
    child = absent_child(key, false);
  child->open_map();
  return *child;
}

std::vector<map_entry> node_reader::entries() {
  detail::map_state& state = open_map();
  std::vector<map_entry> result;
  result.reserve(state.keys.size());
  for (detail::key_entry& entry : state.keys) {
    entry.consumed = true;
    result.push_back(map_entry{entry.key, child_of(entry)});
  }
  return result;
}

// ---- node_reader: lists ----

std::vector<node_reader> node_reader::list_at(std::string_view key, bool required,
                                              bounds<std::size_t> count) {
  std::optional<node_reader> child = find(key);
  if (child)
    return child->items(count);
  if (required)
    report_missing(key);
  // An absent list is resolved as an empty one, quietly: its count was not given.
  return absent_child(key, true).items({});
}

std::vector<node_reader> node_reader::list(std::string_view key, bounds<std::size_t> count) {
  return list_at(key, true, count);
}

std::vector<node_reader> node_reader::optional_list(std::string_view key,
                                                    bounds<std::size_t> count) {
  return list_at(key, false, count);
}

std::vector<node_reader> node_reader::items(bounds<std::size_t> count) {
  if (!node_.IsNull() && !node_.IsSequence()) {
    report("expected a list, got " + describe(node_));
    return {};
  }
  const std::vector<YAML::Node> nodes(node_.begin(), node_.end());
  if (!count_within(nodes.size(), count))
    report(count_violation_message(nodes.size(), count));
  resolved_->make_sequence(nodes.size());
  std::vector<node_reader> result;
  result.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const YAML::Mark mark = nodes[i].IsNull() ? mark_ : nodes[i].Mark();
    result.push_back(node_reader(document_, item_path(path_, i), nodes[i],
                                 resolved_->items[i].get(), mark, silent_));
  }
  return result;
}

// ---- node_reader: choices ----

std::optional<std::size_t> node_reader::choose(std::string_view key,
                                               const std::vector<std::string_view>& names,
                                               std::optional<std::size_t> default_index) {
  std::optional<node_reader> child = find(key);
  if (!child && !default_index) {
    report_missing(key);
    return std::nullopt;
  }
  const std::string listed = join_names(names, " or ", names.size());
  if (child && child->is_null() && !default_index) {
    child->report("needs a value: one of " + listed);
    return std::nullopt;
  }
  if (!child || child->is_null()) {
    if (child)
      child->report_no_value(names[*default_index]);
    write_child(key, std::string(names[*default_index]));
    return default_index;
  }
  const std::optional<std::string> text = child->scalar_text("one of " + listed);
  if (!text)
    return default_index;
  const auto found = std::find(names.begin(), names.end(), *text);
  if (found == names.end()) {
    child->report(fmt::format("must be one of {}, got {}{}", listed, in_quotes(*text),
                              suggestion(closest(*text, names))));
    return default_index;
  }
  child->write(*text);
  return static_cast<std::size_t>(found - names.begin());
}

std::string node_reader::required_one_of(std::string_view key,
                                         std::initializer_list<std::string_view> names) {
  const std::optional<std::size_t> index = choose(key, names, std::nullopt);
  return index ? std::string(names.begin()[*index]) : std::string();
}

std::string node_reader::optional_one_of(std::string_view key,
                                         std::initializer_list<std::string_view> names,
                                         std::string_view default_name) {
  const auto found = std::find(names.begin(), names.end(), default_name);
  assert(found != names.end());
  const auto default_index = static_cast<std::size_t>(found - names.begin());
  const std::optional<std::size_t> index = choose(key, names, default_index);
  return std::string(names.begin()[index.value_or(default_index)]);
}

// ---- node_reader: scalars, resolved output, errors ----

bool node_reader::is_null() const { return node_.IsNull(); }

std::optional<std::string> node_reader::scalar_text(std::string_view description) {
  if (node_.IsScalar())
    return node_.Scalar();
  report(fmt::format("expected {}, got {}", description, describe(node_)));
  return std::nullopt;
}

void node_reader::write(const std::string& text) { resolved_->set_scalar(text); }

void node_reader::write_child(std::string_view key, const std::string& text) {
  open_map();
  resolved_->child(key).set_scalar(text);
}

void node_reader::report(std::string message) const {
  if (!silent_)
    document_->report(mark_, path_, std::move(message));
}

void node_reader::report_missing(std::string_view key) {
  if (silent_ || open_map().broken)
    return;
  document_->report(mark_, child_path(path_, key), "required key is missing");
}

void node_reader::report_no_value(std::string_view default_text) {
  if (default_text.empty())
    report("has no value; give one or remove the key");
  else
    report(fmt::format("has no value; remove the key to use the default ({})", default_text));
}

void node_reader::error(std::string_view message) const { report(std::string(message)); }

void node_reader::error_at(std::string_view key, std::string_view message) {
  detail::key_entry* entry = find_entry(open_map(), key);
  if (silent_)
    return;
  document_->report(entry ? value_mark(*entry) : mark_, child_path(path_, key),
                    std::string(message));
}

// ---- document_reader ----

document_reader::document_reader(std::shared_ptr<detail::document_state> state)
    : state_(std::move(state)) {}

document_reader document_reader::load_file(const std::string& path) {
  return load_string(read_file(path), path);
}

document_reader document_reader::load_string(std::string_view text, std::string file_label) {
  if (text.size() > config_file_bytes_max)
    throw single_error(file_label, YAML::Mark::null_mark(), too_large_message());
  auto state = std::make_shared<detail::document_state>();
  state->root = parse_root(text, file_label);
  state->file = std::move(file_label);
  return document_reader(std::move(state));
}

namespace {

// One step of a key path: a key of a map or an index of a list.
struct path_step {
  std::string key;
  std::optional<std::size_t> index;
};

std::optional<std::vector<path_step>> split_key_path(std::string_view path) {
  std::vector<path_step> steps;
  std::size_t at = 0;
  while (at < path.size()) {
    if (path[at] == '[') {
      const std::size_t close = path.find(']', at);
      if (close == std::string_view::npos || close == at + 1)
        return std::nullopt;
      std::size_t index = 0;
      for (char c : path.substr(at + 1, close - at - 1)) {
        if (c < '0' || c > '9' || index > 1'000'000)
          return std::nullopt;
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      steps.push_back({{}, index});
      at = close + 1;
      if (at < path.size() && path[at] == '.')
        ++at;
      continue;
    }
    const std::size_t end = path.find_first_of(".[", at);
    const std::string_view key = path.substr(at, end - at);
    if (!is_plain_key(key))
      return std::nullopt;
    steps.push_back({std::string(key), std::nullopt});
    at = end == std::string_view::npos ? path.size() : end;
    if (at < path.size() && path[at] == '.') {
      ++at;
      if (at == path.size())
        return std::nullopt;
    }
  }
  if (steps.empty())
    return std::nullopt;
  return steps;
}

// Sets the value at steps[at...] below `node` (a handle: yaml-cpp nodes share their
// data, so the document sees the change). Returns what is wrong, or an empty string.
std::string set_below(YAML::Node node, const std::vector<path_step>& steps, std::size_t at,
                      const std::string& value) {
  const path_step& step = steps[at];
  const bool last = at + 1 == steps.size();
  if (step.index) {
    if (!node.IsSequence())
      return "is not a list";
    if (*step.index >= node.size())
      return fmt::format("the list has {} items", node.size());
    if (last) {
      node[*step.index] = value;
      return {};
    }
    return set_below(node[*step.index], steps, at + 1, value);
  }
  if (node.IsDefined() && !node.IsMap() && !node.IsNull())
    return "is not a map";
  if (last) {
    node[step.key] = value;
    return {};
  }
  return set_below(node[step.key], steps, at + 1, value);
}

} // namespace

void document_reader::set_value(std::string_view key_path, const std::string& value) {
  const auto steps = split_key_path(key_path);
  if (!steps)
    throw config_exception({make_error(state_->file, YAML::Mark::null_mark(), std::string(key_path),
                                       "is not a key path like workloads.chain.parameters.fee_burn")});
  const std::string why = set_below(state_->root, *steps, 0, value);
  if (!why.empty())
    throw config_exception({make_error(state_->file, YAML::Mark::null_mark(), std::string(key_path),
                                       "cannot be set: a step of the path " + why)});
}

node_reader document_reader::root() {
  node_reader reader(state_, "", state_->root, &state_->resolved, state_->root.Mark(), false);
  reader.open_map();
  return reader;
}

std::vector<config_error> document_reader::check() {
  detail::document_state& state = *state_;
  if (!state.checked) {
    state.checked = true;
    report_unknown_keys(state);
    sort_by_position(state.errors);
    if (state.errors_dropped > 0)
      state.errors.push_back(
          make_error(state.file, YAML::Mark::null_mark(), {},
                     fmt::format("{} more errors not shown", state.errors_dropped)));
  }
  return state.errors;
}

void document_reader::finish() {
  std::vector<config_error> errors = check();
  if (!errors.empty())
    throw config_exception(std::move(errors));
}

YAML::Node document_reader::resolved() const { return state_->resolved.to_yaml(); }

const std::string& document_reader::file() const noexcept { return state_->file; }

} // namespace stakecast::config
