#include "analysis/report.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace stakecast::analysis {

namespace {

namespace fs = std::filesystem;

// One plot: a title, axis labels and its series, each a data file of "x y" or
// "x mean half_width" lines.
struct series {
  std::string label;
  fs::path data;
  bool error_bars = false;
  bool lines = true;
};

struct plot {
  std::string name; // file stem of the SVG
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<series> lines;
};

struct page {
  std::string title;
  std::vector<std::string> sections; // HTML fragments, in order
  std::vector<plot> plots;
  std::size_t plots_left_out = 0;
};

std::string html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string file_safe(const std::string& name) {
  std::string out;
  for (char c : name)
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  return out;
}

// gnuplot strings in single quotes: a quote is doubled.
std::string gnuplot_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  return out + "'";
}

// gnuplot's enhanced text treats _ ^ @ & { } as markup.
std::string plain_label(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '_' || c == '^' || c == '@' || c == '&' || c == '{' || c == '}')
      out += '\\';
    out += c;
  }
  return out;
}

/// The number a value starts with ("5%" -> 5, "2.5s" -> 2.5), or nullopt.
std::optional<double> leading_number(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::string unit_of(const std::string& text) {
  char* end = nullptr;
  (void)std::strtod(text.c_str(), &end);
  std::string unit = end ? std::string(end) : std::string();
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(unit.begin());
  return unit;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string write_gnuplot_script(const page& report, const fs::path& folder) {
  std::string script = "set terminal svg size 720,420 font 'sans,11' background '#ffffff'\n"
                       "set grid\nset key outside right top\nset datafile separator ' '\n";
  for (const auto& figure : report.plots) {
    script += fmt::format("set output {}\n",
                          gnuplot_quoted((folder / "plots" / (figure.name + ".svg")).string()));
    // Room around a sweep's points, so error bars at the ends of a range show whole.
    const bool points = !figure.lines.empty() && figure.lines.front().error_bars;
    script += points ? "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n"
                     : "set offsets 0, 0, 0, 0\n";
    script += fmt::format(
        "set title {}\nset xlabel {}\nset ylabel {}\n", gnuplot_quoted(plain_label(figure.title)),
        gnuplot_quoted(plain_label(figure.x_label)), gnuplot_quoted(plain_label(figure.y_label)));
    std::vector<std::string> parts;
    for (const auto& line : figure.lines) {
      const std::string style = line.error_bars
                                    ? (line.lines ? "using 1:2:3 with yerrorlines pt 7 ps 0.6"
                                                  : "using 1:2:3 with yerrorbars pt 7 ps 0.6")
                                    : "using 1:2 with lines";
      parts.push_back(fmt::format("{} {} title {}", gnuplot_quoted(line.data.string()), style,
                                  gnuplot_quoted(plain_label(line.label))));
    }
    script += "plot " + fmt::format("{}", fmt::join(parts, ", \\\n     ")) + "\n";
  }
  return script;
}

// Runs gnuplot on `script_file`, its output in `log_file`. Returns what went wrong, or "".
std::string run_gnuplot(const std::string& gnuplot, const fs::path& script_file,
                        const fs::path& log_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string program = gnuplot;
  std::string script = script_file.string();
  char* argv[] = {program.data(), script.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    return fmt::format(
        "cannot run {}: {} (install the Debian package gnuplot-nox: scripts/install-deps)", gnuplot,
        std::strerror(spawned));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return fmt::format(
        "cannot run {}: not found (install the Debian package gnuplot-nox: scripts/install-deps)",
        gnuplot);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fmt::format("gnuplot failed on {}; see {}", script_file.string(), log_file.string());
  return {};
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<table>\n<tr>";
  for (const auto& cell : header)
    out += "<th>" + html(cell) + "</th>";
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row)
      out += "<td>" + html(cell) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

void flatten(const nlohmann::ordered_json& node, const std::string& prefix,
             std::vector<std::vector<std::string>>& rows) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items())
      flatten(value, prefix.empty() ? key : prefix + "." + key, rows);
  } else if (node.is_string()) {
    rows.push_back({prefix, node.get<std::string>()});
  } else {
    rows.push_back({prefix, node.dump()});
  }
}

// ---- a run folder ----

std::string add_run_plots(const fs::path& folder, const fs::path& report_folder,
                          const report_settings& settings, page& report) {
  std::vector<fs::path> csv_files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().extension() == ".csv")
      csv_files.push_back(entry.path());
  std::sort(csv_files.begin(), csv_files.end());
  for (const auto& file : csv_files) {
    std::string error;
    auto rows = read_csv(file, error);
    if (!error.empty())
      return error;
    if (rows.size() < 2)
      continue;
    const auto& header = rows.front();
    const std::string stem = file.stem().string();
    for (std::size_t column = 1; column < header.size(); ++column) {
      if (header[column].starts_with("content."))
        continue;
      std::set<std::string> distinct;
      for (std::size_t r = 1; r < rows.size(); ++r)
        distinct.insert(rows[r][column]);
      if (distinct.size() < 2)
        continue;
      if (report.plots.size() >= settings.plots_max) {
        ++report.plots_left_out;
        continue;
      }
      const std::string name = file_safe(stem + "." + header[column]);
      const fs::path data = report_folder / "data" / (name + ".dat");
      std::ofstream out(data);
      for (std::size_t r = 1; r < rows.size(); ++r) {
        auto x = leading_number(rows[r][0]);
        auto y = leading_number(rows[r][column]);
        if (x && y)
          out << rows[r][0] << ' ' << rows[r][column] << '\n';
      }
      report.plots.push_back(
          {name, header[column], header[0], header[column], {{header[column], data, false, true}}});
    }
  }
  return {};
}

report_result run_report(const fs::path& folder, const fs::path& report_folder,
                         const report_settings& settings, page& report) {
  const fs::path summary_file = folder / "summary.json";
  auto summary = nlohmann::ordered_json::parse(read_text(summary_file), nullptr, false);
  if (summary.is_discarded() || !summary.is_object())
    return {2, fmt::format("{}: not a JSON object", summary_file.string()), {}, 0};
  report.title = fmt::format("Run {}", folder.filename().string());
  if (auto why = add_run_plots(folder, report_folder, settings, report); !why.empty())
    return {2, why, {}, 0};
  std::vector<std::vector<std::string>> rows;
  flatten(summary, "", rows);
  report.sections.push_back("<h2>summary.json</h2>\n" + table({"figure", "value"}, rows));
  return {};
}

// ---- a sweep folder ----

struct sweep_table {
  std::vector<std::string> parameters;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows; // results.csv without its header
  std::size_t status_column = 0;
  std::size_t error_column = 0;
  std::size_t first_outcome = 0;
};

std::optional<std::size_t> column_of(const std::vector<std::string>& header,
                                     const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end())
    return std::nullopt;
  return static_cast<std::size_t>(it - header.begin());
}

std::string read_sweep(const fs::path& folder, sweep_table& sweep) {
  const fs::path description_file = folder / "sweep.json";
  auto description = nlohmann::json::parse(read_text(description_file), nullptr, false);
  if (description.is_discarded() || !description.contains("parameters") ||
      !description["parameters"].is_array())
    return fmt::format("{}: not a sweep description (no parameters list)",
                       description_file.string());
  for (const auto& parameter : description["parameters"]) {
    if (!parameter.contains("name") || !parameter["name"].is_string())
      return fmt::format("{}: a parameter has no name", description_file.string());
    sweep.parameters.push_back(parameter["name"].get<std::string>());
  }
  std::string error;
  auto rows = read_csv(folder / "results.csv", error);
  if (!error.empty())
    return error;
  if (rows.empty())
    return fmt::format("{}: empty: no run has finished yet", (folder / "results.csv").string());
  sweep.header = rows.front();
  rows.erase(rows.begin());
  sweep.rows = std::move(rows);
  auto status = column_of(sweep.header, "status");
  auto error_column = column_of(sweep.header, "error");
  if (!status || !error_column)
    return fmt::format("{}: line 1: no status or error column", (folder / "results.csv").string());
  for (const auto& parameter : sweep.parameters)
    if (!column_of(sweep.header, parameter))
      return fmt::format("{}: line 1: no column for parameter {}",
                         (folder / "results.csv").string(), parameter);
  sweep.status_column = *status;
  sweep.error_column = *error_column;
  sweep.first_outcome = *error_column + 1;
  return {};
}

// Outcomes worth plotting: numeric in every successful run, not constant, and not
// the run's own bookkeeping (run.*: wall time, events).
std::vector<std::size_t> varying_outcomes(const sweep_table& sweep) {
  std::vector<std::size_t> columns;
  for (std::size_t column = sweep.first_outcome; column < sweep.header.size(); ++column) {
    if (sweep.header[column].starts_with("run."))
      continue;
    std::set<double> values;
    bool numeric = true;
    for (const auto& row : sweep.rows) {
      if (row[sweep.status_column] != "ok")
        continue;
      auto value = leading_number(row[column]);
      numeric = numeric && value.has_value();
      if (value)
        values.insert(*value);
    }
    if (numeric && values.size() > 1)
      columns.push_back(column);
  }
  return columns;
}

void add_sweep_plots(const sweep_table& sweep, const std::vector<std::size_t>& outcomes,
                     const fs::path& report_folder, const report_settings& settings, page& report) {
  auto point_column = column_of(sweep.header, "point").value_or(1);
  for (std::size_t outcome : outcomes) {
    for (std::size_t p = 0; p < sweep.parameters.size(); ++p) {
      if (report.plots.size() >= settings.plots_max) {
        ++report.plots_left_out;
        continue;
      }
      const std::size_t parameter_column = *column_of(sweep.header, sweep.parameters[p]);
      // By point: its x, the other parameters' values, and the outcome over seeds.
      struct point_values {
        double x = 0;
        std::string others;
        std::vector<double> values;
      };
      std::map<std::string, point_values> points;
      std::string unit;
      for (const auto& row : sweep.rows) {
        if (row[sweep.status_column] != "ok")
          continue;
        auto x = leading_number(row[parameter_column]);
        auto y = leading_number(row[outcome]);
        if (!x || !y)
          continue;
        unit = unit_of(row[parameter_column]);
        auto& entry = points[row[point_column]];
        entry.x = *x;
        if (entry.others.empty())
          for (std::size_t q = 0; q < sweep.parameters.size(); ++q)
            if (q != p)
              entry.others += (entry.others.empty() ? "" : " ") + sweep.parameters[q] + "=" +
                              row[*column_of(sweep.header, sweep.parameters[q])];
        entry.values.push_back(*y);
      }
      std::map<std::string, std::vector<const point_values*>> by_series;
      for (const auto& [id, entry] : points)
        by_series[entry.others].push_back(&entry);
      const bool as_lines = by_series.size() <= settings.series_max;
      if (!as_lines) {
        std::vector<const point_values*> all;
        for (const auto& [id, entry] : points)
          all.push_back(&entry);
        by_series = {{"points", all}};
      }
      plot figure;
      figure.name = file_safe(sweep.header[outcome] + "-vs-" + sweep.parameters[p]);
      figure.title = sweep.header[outcome] + " against " + sweep.parameters[p];
      figure.x_label = sweep.parameters[p] + (unit.empty() ? "" : " (" + unit + ")");
      figure.y_label = sweep.header[outcome] + " (mean, 95% CI over seeds)";
      std::size_t index = 0;
      for (auto& [label, members] : by_series) {
        std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->x < b->x; });
        const fs::path data =
            report_folder / "data" / fmt::format("{}.{}.dat", figure.name, index++);
        std::ofstream out(data);
        for (const auto* member : members) {
          const interval ci = mean_interval(member->values);
          out << fmt::format("{} {} {}\n", member->x, ci.mean, ci.half_width);
        }
        figure.lines.push_back(
            {label.empty() ? sweep.header[outcome] : label, data, true, as_lines});
      }
      if (!figure.lines.empty())
        report.plots.push_back(std::move(figure));
    }
  }
}

std::string points_table(const sweep_table& sweep, const std::vector<std::size_t>& outcomes) {
  constexpr std::size_t headline_outcomes_max = 8;
  const std::size_t shown = std::min(outcomes.size(), headline_outcomes_max);
  std::vector<std::string> header{"point"};
  header.insert(header.end(), sweep.parameters.begin(), sweep.parameters.end());
  header.push_back("runs ok");
  header.push_back("runs failed");
  for (std::size_t i = 0; i < shown; ++i)
    header.push_back(sweep.header[outcomes[i]] + " (mean ± 95% CI)");
  const std::size_t point_column = column_of(sweep.header, "point").value_or(1);
  std::map<long, std::vector<const std::vector<std::string>*>> by_point;
  for (const auto& row : sweep.rows)
    by_point[std::strtol(row[point_column].c_str(), nullptr, 10)].push_back(&row);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<std::string>> failures;
  for (const auto& [point, members] : by_point) {
    std::vector<std::string> row{std::to_string(point)};
    for (const auto& parameter : sweep.parameters)
      row.push_back((*members.front())[*column_of(sweep.header, parameter)]);
    std::size_t ok = 0;
    for (const auto* member : members) {
      if ((*member)[sweep.status_column] == "ok")
        ++ok;
      else
        failures.push_back({(*member)[0], (*member)[sweep.error_column]});
    }
    row.push_back(std::to_string(ok));
    row.push_back(std::to_string(members.size() - ok));
    for (std::size_t i = 0; i < shown; ++i) {
      std::vector<double> values;
      for (const auto* member : members)
        if ((*member)[sweep.status_column] == "ok")
          if (auto value = leading_number((*member)[outcomes[i]]))
            values.push_back(*value);
      const interval ci = mean_interval(values);
      row.push_back(values.empty() ? "" : fmt::format("{:.4g} ± {:.2g}", ci.mean, ci.half_width));
    }
    rows.push_back(std::move(row));
  }
  std::string out = "<h2>Points</h2>\n" + table(header, rows);
  if (!failures.empty())
    out += "<h2>Failed runs</h2>\n" + table({"run", "error"}, failures);
  return out;
}

report_result sweep_report(const fs::path& folder, const fs::path& report_folder,
                           const report_settings& settings, page& report) {
  sweep_table sweep;
  if (auto why = read_sweep(folder, sweep); !why.empty())
    return {2, why, {}, 0};
  report.title = fmt::format("Sweep {}", folder.filename().string());
  const auto outcomes = varying_outcomes(sweep);
  report.sections.push_back(points_table(sweep, outcomes));
  add_sweep_plots(sweep, outcomes, report_folder, settings, report);
  return {};
}

std::string render(const page& report) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title>\n"
      "<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:2px "
      "6px;text-align:left}}img{{max-width:720px}}</style>\n"
      "</head><body>\n<h1>{0}</h1>\n",
      html(report.title));
  for (const auto& section : report.sections)
    out += section;
  out += "<h2>Plots</h2>\n";
  if (report.plots_left_out > 0)
    out += fmt::format("<p>{} more plots were left out (at most {} per report).</p>\n",
                       report.plots_left_out, report.plots.size());
  for (const auto& figure : report.plots)
    out += fmt::format(
        "<figure><img src=\"plots/{0}.svg\" alt=\"{1}\"><figcaption>{1}</figcaption></figure>\n",
        html(figure.name), html(figure.title));
  return out + "</body></html>\n";
}

} // namespace

double student_t_95(std::size_t degrees) {
  static constexpr double table_values[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                            2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                            2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                            2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (degrees >= 1 && degrees <= 30)
    return table_values[degrees - 1];
  if (degrees <= 40)
    return 2.021;
  if (degrees <= 60)
    return 2.000;
  if (degrees <= 120)
    return 1.980;
  return 1.960;
}

interval mean_interval(const std::vector<double>& values) {
  interval result;
  if (values.empty())
    return result;
  for (double value : values)
    result.mean += value;
  result.mean /= static_cast<double>(values.size());
  if (values.size() < 2)
    return result;
  double squares = 0;
  for (double value : values)
    squares += (value - result.mean) * (value - result.mean);
  const double deviation = std::sqrt(squares / static_cast<double>(values.size() - 1));
  result.half_width =
      student_t_95(values.size() - 1) * deviation / std::sqrt(static_cast<double>(values.size()));
  return result;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& file, std::string& error) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = fmt::format("{}: cannot read the file", file.string());
    return rows;
  }
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const bool torn = in.eof(); // no newline at the end: a write cut short
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.emplace_back();
      } else if (c != '\r') {
        fields.back() += c;
      }
    }
    if (!rows.empty() && fields.size() != rows.front().size()) {
      if (torn)
        break;
      error = fmt::format("{}:{}: expected {} fields, got {}", file.string(), number,
                          rows.front().size(), fields.size());
      return {};
    }
    if (!torn || rows.empty())
      rows.push_back(std::move(fields));
  }
  return rows;
}

report_result write_report(const fs::path& folder, const report_settings& settings) {
  const bool is_sweep = fs::exists(folder / "sweep.json") && fs::exists(folder / "results.csv");
  const bool is_run = fs::exists(folder / "summary.json");
  if (!is_sweep && !is_run)
    return {2,
            fmt::format("{}: neither a run folder (summary.json) nor a sweep folder (sweep.json "
                        "and results.csv)",
                        folder.string()),
            {},
            0};
  const fs::path report_folder = fs::absolute(folder / "report");
  std::error_code error;
  fs::remove_all(report_folder, error);
  fs::create_directories(report_folder / "plots", error);
  fs::create_directories(report_folder / "data", error);
  if (error)
    return {1, fmt::format("cannot create {}: {}", report_folder.string(), error.message()), {}, 0};
  page report;
  report_result result = is_sweep ? sweep_report(folder, report_folder, settings, report)
                                  : run_report(folder, report_folder, settings, report);
  if (result.exit_code != 0)
    return result;
  if (!report.plots.empty()) {
    const fs::path script = report_folder / "plots.gp";
    std::ofstream(script) << write_gnuplot_script(report, report_folder);
    if (auto why = run_gnuplot(settings.gnuplot, script, report_folder / "gnuplot.log");
        !why.empty())
      return {1, why, {}, 0};
  }
  result.index = report_folder / "index.html";
  std::ofstream out(result.index);
  out << render(report);
  if (!out)
    return {1, fmt::format("cannot write {}", result.index.string()), {}, 0};
  result.plots = report.plots.size();
  return result;
}

} // namespace stakecast::analysis
