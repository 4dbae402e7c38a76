#include "sim/commands.hpp"

#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "sim/bench.hpp"
#include "sim/progress.hpp"
#include "sim/run_output.hpp"
#include "actors/config/reader.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

namespace {

struct sim_options {
  std::string scenario_path;
  std::optional<std::uint64_t> seed;
  std::string out;
  bool quiet = false;
};

std::string format_value(const nlohmann::ordered_json& value) {
  if (value.is_number_float())
    return fmt::format("{:.3g}", value.get<double>());
  return value.dump();
}

/// One line per figure: "  key: value", or "  key: a=x b=y" for a nested object.
void print_section(const nlohmann::ordered_json& section) {
  for (const auto& [key, value] : section.items()) {
    std::string line = fmt::format("  {}:", key);
    if (value.is_object()) {
      for (const auto& [inner_key, inner_value] : value.items())
        line += fmt::format(" {}={}", inner_key, format_value(inner_value));
    } else {
      line += " " + format_value(value);
    }
    fmt::print("{}\n", line);
  }
}

void print_outcome(const scenario& config, const run_result& result, const std::string& folder) {
  const auto& run = result.summary["run"];
  fmt::print("{}: {} nodes, {:.0f} virtual s in {:.2f} wall s ({} events, {:.2f}M events/s)\n",
             config.name, run["nodes"].get<std::uint64_t>(), run["virtual_seconds"].get<double>(),
             run["wall_seconds"].get<double>(), run["events"].get<std::uint64_t>(),
             run["events_per_wall_second"].get<double>() / 1e6);
  fmt::print("trace hash {}  peak memory {:.1f} MiB\n", result.trace_hash,
             static_cast<double>(run["peak_rss_bytes"].get<std::int64_t>()) / (1024.0 * 1024.0));
  // The workloads' sections: everything but the run's own.
  for (const auto& [key, section] : result.summary.items()) {
    if (key == "run" || key == "network" || key == "counters")
      continue;
    fmt::print("{}:\n", key);
    print_section(section);
  }
  fmt::print("run folder: {}\n", folder);
}

int run_sim(const sim_options& options) {
  std::optional<scenario> config;
  try {
    config.emplace(load_scenario(options.scenario_path, options.seed));
  } catch (const config_exception& failure) {
    fmt::print(stderr, "{}\n", failure.what());
    return 2;
  }
  const std::string folder =
    options.out.empty() ? default_run_folder(*config).string() : options.out;
  simulation run(*config);
  progress_line progress(!options.quiet, config->duration);
  auto result = run.run([&](virtual_time now) { progress.update(now, run.kernel().stats().events()); });
  progress.finish();
  if (!result.failure.empty()) {
    fmt::print(stderr, "simulation stopped: {}\n", result.failure);
    return 1;
  }
  if (auto failure = write_run_folder(folder, *config, result); !failure.empty()) {
    fmt::print(stderr, "error: {}\n", failure);
    return 1;
  }
  if (!options.quiet)
    print_outcome(*config, result, folder);
  return 0;
}

} // namespace

void add_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<sim_options>();
  auto* sim = app.add_subcommand("sim", "Run a scenario in the deterministic simulator");
  sim->add_option("scenario", options->scenario_path, "Scenario YAML file")->required();
  sim->add_option("--seed", options->seed, "Root seed (replaces the scenario's seed)");
  sim->add_option("--out", options->out, "Run folder (default runs/<scenario>-<seed>)");
  sim->add_flag("--quiet,-q", options->quiet, "No progress line and no outcome");
  sim->callback([options, &exit_code] { exit_code = run_sim(*options); });

  add_bench_commands(app, exit_code);
}

} // namespace stakecast::sim
