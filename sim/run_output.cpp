#include "sim/run_output.hpp"

#include <unistd.h>

#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace stakecast::sim {

namespace {

namespace fs = std::filesystem;

std::string write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.flush();
  if (!out)
    return fmt::format("cannot write {}", path.string());
  return {};
}

std::string write_all(const fs::path& folder, const scenario& config, const run_result& result) {
  YAML::Emitter resolved;
  resolved << config.resolved;
  const std::pair<const char*, std::string> files[] = {
    {"summary.json", result.summary.dump(2) + "\n"},
    {"timeseries.csv", result.time_series_csv},
    {"scenario.resolved.yaml", std::string(resolved.c_str()) + "\n"},
    {"trace_hash", result.trace_hash + "\n"},
  };
  for (const auto& [name, content] : files)
    if (auto failure = write_file(folder / name, content); !failure.empty())
      return failure;
  return {};
}

} // namespace

fs::path default_run_folder(const scenario& config) {
  return fs::path("runs") / fmt::format("{}-{}", config.name, config.seed);
}

std::string write_run_folder(const fs::path& folder, const scenario& config,
                             const run_result& result) {
  std::error_code error;
  const fs::path target = folder.lexically_normal();
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(parent, error);
  if (error)
    return fmt::format("cannot create {}: {}", parent.string(), error.message());
  const fs::path partial =
    parent / fmt::format(".{}.partial-{}", target.filename().string(), ::getpid());
  fs::remove_all(partial, error);
  fs::create_directory(partial, error);
  if (error)
    return fmt::format("cannot create {}: {}", partial.string(), error.message());
  auto failure = write_all(partial, config, result);
  if (failure.empty()) {
    fs::remove_all(target, error);
    fs::rename(partial, target, error);
    if (error)
      failure = fmt::format("cannot move the run folder into {}: {}", target.string(), error.message());
  }
  if (!failure.empty())
    fs::remove_all(partial, error);
  return failure;
}

} // namespace stakecast::sim
