// results.csv of a sweep: one row per finished run (docs/sweeps.md).
//
//   run,point,seed,<parameter names...>,status,worker,wall_s,error,<outcomes...>
//
// Each row is one write(2) to a descriptor opened O_APPEND (and close-on-exec, so no
// run inherits it); a write that fails part-way is cut back off the file. A killed
// sweep thus leaves every row but perhaps a torn last one; `read_results` drops a
// torn last line (no newline at its end, or too few fields) and truncates the file to
// the rows it keeps. It also drops a row whose run id an earlier row already has
// (keeping the first), which only two sweeps writing one folder at once leave behind;
// the folder lock (sweep_lock.hpp) keeps that from happening. The outcome columns are fixed
// once, by the header: the sweep file's `outcomes:` list or, without one, the numeric
// leaves of the first successful run's summary.json.
// Not thread-safe: the sweep's main thread is the only writer, and the folder lock
// makes its sweep the only one.
#pragma once

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
  std::string torn_text; ///< the torn line that was dropped (its start), for the log
  std::size_t dropped_repeated_rows = 0; ///< rows of a run id seen on an earlier row
};

/// Reads an existing results.csv (a missing or empty file is an empty state),
/// truncates a torn last line away and rewrites the file without repeated rows
/// (whole: a new file renamed into place). REQUIRES: the folder lock is held.
/// Returns the state, or what is wrong (the file names a different parameter set, a
/// row in the middle is malformed).
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

  /// Appends one line of fields with one write(2). Returns what went wrong, or ""; on
  /// failure the file is cut back to where it ended before, so no torn row stays.
  std::string write_row(const std::vector<std::string>& fields);

private:
  explicit results_writer(int descriptor, std::filesystem::path path)
      : descriptor_(descriptor), path_(std::move(path)) {}
  int descriptor_ = -1;
  std::filesystem::path path_;
};

} // namespace stakecast::sim::sweep
