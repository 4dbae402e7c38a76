// results.csv of a sweep: one row per finished run (docs/sweeps.md).
//
//   run,point,seed,<parameter names...>,status,worker,wall_s,error,<outcomes...>
//
// Rows are appended and flushed one at a time, so a killed sweep leaves every row
// but perhaps a torn last one; `read_results` drops a torn last line (no newline at
// its end, or too few fields) and truncates the file to the rows it keeps. The
// outcome columns are fixed once, by the header: the sweep file's `outcomes:` list
// or, without one, the numeric leaves of the first successful run's summary.json.
// Not thread-safe: the sweep's main thread is the only writer.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace stakecast::sim::sweep {

/// One field as CSV writes it: quoted when it holds a comma or a quote; line breaks
/// become spaces (a row is one line).
std::string csv_field(const std::string& text);
/// The fields of one CSV line; nullopt when a quote is not closed.
std::optional<std::vector<std::string>> split_csv_line(const std::string& line);

/// The numeric leaves of a summary, dotted ("qoe.startup_delay_s.p95"), in document
/// order; booleans as 0 and 1; the `counters` section is left out (it repeats the
/// sections' figures under names that vary with the catalog).
std::vector<std::pair<std::string, std::string>>
flatten_outcomes(const nlohmann::ordered_json& summary);

/// The columns before the outcomes.
std::vector<std::string> fixed_columns(const std::vector<std::string>& parameter_names);

struct results_state {
  std::vector<std::string> header;         ///< empty when the file has no header yet
  std::map<std::string, std::size_t> done; ///< run id -> row number
  bool dropped_torn_line = false;
};

/// Reads an existing results.csv (a missing or empty file is an empty state) and
/// truncates a torn last line away. Returns the state, or what is wrong (the file
/// names a different parameter set, a row in the middle is malformed).
std::variant<results_state, std::string>
read_results(const std::filesystem::path& file, const std::vector<std::string>& parameter_names);

class results_writer {
public:
  /// Opens `file` for appending. Returns what is wrong instead on failure.
  static std::variant<results_writer, std::string> open(const std::filesystem::path& file);
  results_writer(results_writer&& other) noexcept;
  results_writer(const results_writer&) = delete;
  results_writer& operator=(const results_writer&) = delete;
  results_writer& operator=(results_writer&&) = delete;
  ~results_writer();

  /// Writes one line of fields and flushes it. Returns what went wrong, or "".
  std::string write_row(const std::vector<std::string>& fields);

private:
  explicit results_writer(std::FILE* file, std::filesystem::path path)
      : file_(file), path_(std::move(path)) {}
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

} // namespace stakecast::sim::sweep
