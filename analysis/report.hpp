// `stakecast report DIR`: tables and plots of simulation outputs, read from files only
// (summary.json, *.csv, sweep.json, results.csv); nothing here knows the simulator's
// code, so the report reads any run or sweep folder, old ones included.
//
// For a run folder (it has summary.json): one time-series plot per column of each
// CSV whose values change (per-content columns `content.*` left out), and a table of
// every leaf of summary.json. For a sweep folder (sweep.json + results.csv): each
// outcome that varies against each parameter, mean over seeds and 95% confidence
// interval (Student t), one line per combination of the other parameters (up to
// `series_max`), and the table of points. Everything goes to DIR/report/: index.html,
// SVG plots drawn by gnuplot (run as a child process on a generated script), and the
// data files the plots were drawn from. The HTML loads nothing from elsewhere.
//
// Not thread-safe (one report at a time per folder).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace stakecast::analysis {

struct report_settings {
  std::size_t plots_max = 200;     ///< plots beyond this are left out (and the page says so)
  std::size_t series_max = 6;      ///< lines per sweep plot; more combinations plot as points
  std::string gnuplot = "gnuplot"; ///< looked up in PATH
};

struct report_result {
  int exit_code = 0; ///< 0 written; 1 operating failure (gnuplot missing); 2 bad input
  std::string error; ///< what went wrong, naming the file
  std::filesystem::path index;
  std::size_t plots = 0;
};

report_result write_report(const std::filesystem::path& folder,
                           const report_settings& settings = {});

/// The two-sided 95% quantile of Student's t with `degrees` degrees of freedom
/// (1.96 in the limit). REQUIRES: degrees >= 1.
double student_t_95(std::size_t degrees);

/// Mean and half-width of the 95% confidence interval of `values` (0 for one value).
struct interval {
  double mean = 0;
  double half_width = 0;
};
interval mean_interval(const std::vector<double>& values);

/// Reads a CSV file whose fields hold no line breaks (ours). Returns rows, or sets
/// `error` naming the file and line.
std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& file,
                                               std::string& error);

} // namespace stakecast::analysis
