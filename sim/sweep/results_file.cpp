#include "sim/sweep/results_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace stakecast::sim::sweep {

namespace {

// How much of a torn line the sweep's log shows: enough to name its run.
constexpr std::size_t torn_text_chars_max = 80;

void flatten_into(const nlohmann::ordered_json& node, const std::string& prefix,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items())
      flatten_into(value, prefix.empty() ? key : prefix + "." + key, out);
  } else if (node.is_boolean()) {
    out.emplace_back(prefix, node.get<bool>() ? "1" : "0");
  } else if (node.is_number_float()) {
    out.emplace_back(prefix, fmt::format("{}", node.get<double>()));
  } else if (node.is_number()) {
    out.emplace_back(prefix, node.dump());
  }
}

// Writes `lines` but the repeated ones to a new file and renames it over `file`, so
// a kill in the middle leaves either the old file or the new one.
std::variant<results_state, std::string> rewrite_without(const std::filesystem::path& file,
                                                         const std::vector<std::string>& lines,
                                                         const std::vector<bool>& repeated,
                                                         results_state state) {
  assert(lines.size() <= repeated.size());
  const auto temporary = std::filesystem::path(file.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (!repeated[i])
        out << lines[i] << '\n';
    out.flush();
    if (!out)
      return fmt::format("{}: cannot drop the repeated rows: cannot write {}", file.string(),
                         temporary.string());
  }
  std::error_code error;
  std::filesystem::rename(temporary, file, error);
  if (error)
    return fmt::format("{}: cannot drop the repeated rows: {}", file.string(), error.message());
  return state;
}

} // namespace

std::string csv_field(const std::string& text) {
  std::string flat = text;
  for (char& c : flat)
    if (c == '\n' || c == '\r')
      c = ' ';
  if (flat.find_first_of(",\"") == std::string::npos)
    return flat;
  std::string quoted = "\"";
  for (char c : flat) {
    if (c == '"')
      quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::optional<std::vector<std::string>> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted)
    return std::nullopt;
  return fields;
}

std::vector<std::pair<std::string, std::string>>
flatten_outcomes(const nlohmann::ordered_json& summary) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : summary.items())
    if (key != "counters")
      flatten_into(value, key, out);
  return out;
}

std::vector<std::string> fixed_columns(const std::vector<std::string>& parameter_names) {
  std::vector<std::string> columns{"run", "point", "seed"};
  columns.insert(columns.end(), parameter_names.begin(), parameter_names.end());
  for (const char* column : {"status", "worker", "wall_s", "error"})
    columns.emplace_back(column);
  return columns;
}

std::variant<results_state, std::string>
read_results(const std::filesystem::path& file, const std::vector<std::string>& parameter_names) {
  results_state state;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return state;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  in.close();
  // Whole lines only: what follows the last newline is a torn write.
  std::size_t kept = text.rfind('\n');
  kept = kept == std::string::npos ? 0 : kept + 1;
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < kept) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  state.dropped_torn_line = kept < text.size();
  if (state.dropped_torn_line)
    state.torn_text = text.substr(kept, torn_text_chars_max);
  if (!lines.empty()) {
    auto header = split_csv_line(lines.front());
    const auto fixed = fixed_columns(parameter_names);
    if (!header || header->size() < fixed.size() ||
        !std::equal(fixed.begin(), fixed.end(), header->begin()))
      return fmt::format(
          "{}: line 1: the header is not this sweep's (expected it to start with {})",
          file.string(), fmt::join(fixed, ","));
    state.header = *header;
  }
  std::vector<bool> repeated(lines.size(), false);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto fields = split_csv_line(lines[i]);
    const bool whole = fields && fields->size() == state.header.size();
    if (!whole && i + 1 == lines.size()) {
      // A last row cut short where a newline happened to be: torn as well.
      kept -= lines[i].size() + 1;
      state.torn_text = lines[i].substr(0, torn_text_chars_max);
      lines.pop_back();
      state.dropped_torn_line = true;
      break;
    }
    if (!whole)
      return fmt::format("{}: line {}: expected {} fields", file.string(), i + 1,
                         state.header.size());
    const std::size_t row = i - state.dropped_repeated_rows;
    if (!state.done.emplace(fields->front(), row).second) {
      repeated[i] = true;
      ++state.dropped_repeated_rows;
    }
  }
  if (state.dropped_repeated_rows > 0)
    return rewrite_without(file, lines, repeated, std::move(state));
  if (state.dropped_torn_line) {
    std::error_code error;
    std::filesystem::resize_file(file, kept, error);
    if (error)
      return fmt::format("{}: cannot drop the torn last line: {}", file.string(), error.message());
  }
  return state;
}

std::variant<results_writer, std::string> results_writer::open(const std::filesystem::path& file) {
  const int descriptor = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (descriptor < 0)
    return fmt::format("cannot open {}: {}", file.string(), std::strerror(errno));
  return results_writer(descriptor, file);
}

results_writer::results_writer(results_writer&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, -1)), path_(std::move(other.path_)) {
}

results_writer::~results_writer() {
  if (descriptor_ >= 0)
    ::close(descriptor_);
}

std::string results_writer::write_row(const std::vector<std::string>& fields) {
  assert(descriptor_ >= 0);
  assert(!fields.empty());
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i)
    line += (i == 0 ? "" : ",") + csv_field(fields[i]);
  line += '\n';
  const off_t before = ::lseek(descriptor_, 0, SEEK_END);
  if (before < 0)
    return fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno));
  // One write for the whole row: a regular file takes it whole unless the disk fills
  // or the process is being killed; the loop covers a short write all the same.
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t wrote = ::write(descriptor_, line.data() + written, line.size() - written);
    if (wrote < 0 && errno == EINTR)
      continue;
    if (wrote <= 0) {
      const int error = wrote < 0 ? errno : ENOSPC;
      // Only this sweep appends (the folder lock), so `before` is still the row's start.
      [[maybe_unused]] const int cut = ::ftruncate(descriptor_, before);
      return fmt::format("cannot write {}: {}", path_.string(), std::strerror(error));
    }
    written += static_cast<std::size_t>(wrote);
  }
  return {};
}

} // namespace stakecast::sim::sweep
