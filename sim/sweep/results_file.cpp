#include "sim/sweep/results_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <variant>

#include <fmt/format.h>

namespace stakecast::sim::sweep {

namespace {

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
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto fields = split_csv_line(lines[i]);
    const bool whole = fields && fields->size() == state.header.size();
    if (!whole && i + 1 == lines.size()) {
      // A last row cut short where a newline happened to be: torn as well.
      kept -= lines[i].size() + 1;
      state.dropped_torn_line = true;
      break;
    }
    if (!whole)
      return fmt::format("{}: line {}: expected {} fields", file.string(), i + 1,
                         state.header.size());
    state.done[fields->front()] = i;
  }
  if (state.dropped_torn_line) {
    std::error_code error;
    std::filesystem::resize_file(file, kept, error);
    if (error)
      return fmt::format("{}: cannot drop the torn last line: {}", file.string(), error.message());
  }
  return state;
}

std::variant<results_writer, std::string> results_writer::open(const std::filesystem::path& file) {
  std::FILE* handle = std::fopen(file.c_str(), "ab");
  if (!handle)
    return fmt::format("cannot open {}: {}", file.string(), std::strerror(errno));
  return results_writer(handle, file);
}

results_writer::results_writer(results_writer&& other) noexcept
    : file_(other.file_), path_(std::move(other.path_)) {
  other.file_ = nullptr;
}

results_writer::~results_writer() {
  if (file_)
    std::fclose(file_);
}

std::string results_writer::write_row(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i)
    line += (i == 0 ? "" : ",") + csv_field(fields[i]);
  line += '\n';
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    return fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno));
  return {};
}

} // namespace stakecast::sim::sweep
