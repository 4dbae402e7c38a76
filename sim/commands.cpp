#include "sim/commands.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "sim/bench.hpp"
#include "sim/progress.hpp"
#include "sim/run_output.hpp"
#include "actors/config/reader.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/simulation.hpp"
#include "sim/sweep/distribution.hpp"
#include "sim/sweep/sweep_runner.hpp"

namespace stakecast::sim {

namespace {

struct sim_options {
  std::string scenario_path;
  std::optional<std::uint64_t> seed;
  std::string out;
  bool quiet = false;
  std::vector<std::string> sets; ///< "key.path=value"
};

/// "a.b=5%" as an override; nullopt when there is no '=' or no key.
std::optional<scenario_override> parse_set(const std::string& text) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0)
    return std::nullopt;
  return scenario_override{text.substr(0, equals), text.substr(equals + 1)};
}

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
  std::vector<scenario_override> overrides;
  for (const auto& text : options.sets) {
    auto change = parse_set(text);
    if (!change) {
      fmt::print(stderr, "error: --set {}: expected KEY.PATH=VALUE\n", text);
      return 2;
    }
    overrides.push_back(*change);
  }
  std::optional<scenario> config;
  try {
    config.emplace(load_scenario(options.scenario_path, options.seed, overrides));
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
  sim->add_option("--set", options->sets, "KEY.PATH=VALUE: replace a value of the scenario (repeatable)");
  sim->callback([options, &exit_code] { exit_code = run_sim(*options); });

  auto sweep_settings = std::make_shared<sweep::sweep_options>();
  auto* sweep_command = app.add_subcommand("sweep", "Run a sweep of simulations over scenario parameters");
  sweep_command->add_option("sweep", sweep_settings->sweep_file, "Sweep YAML file")->required();
  sweep_command->add_option("--out", sweep_settings->out, "Sweep folder (default runs/sweep-<name>)");
  auto* jobs = sweep_command->add_option("--jobs,-j", sweep_settings->jobs,
                                         "Runs at a time on this machine (default: the number of cores)");
  sweep_command->add_option("--listen", sweep_settings->listen,
                            "HOST:PORT: publish the sweep for `stakecast worker` processes (port 0: any)");
  sweep_command->callback([sweep_settings, jobs, &exit_code] {
    sweep_settings->jobs_given = jobs->count() > 0;
    exit_code = sweep::run_sweep(*sweep_settings);
  });

  auto worker_settings = std::make_shared<sweep::worker_options>();
  auto connect = std::make_shared<std::string>();
  auto* worker = app.add_subcommand("worker", "Take runs of a sweep published with --listen");
  worker->add_option("--connect", *connect, "HOST:PORT of the sweep")->required();
  worker->add_option("--jobs,-j", worker_settings->jobs, "Runs at a time (default: the number of cores)");
  worker_settings->jobs = std::max(1u, std::thread::hardware_concurrency());
  worker->callback([worker_settings, connect, &exit_code] {
    auto where = sweep::parse_endpoint(*connect);
    if (auto* why = std::get_if<std::string>(&where)) {
      fmt::print(stderr, "error: --connect: {}\n", *why);
      exit_code = 2;
      return;
    }
    if (worker_settings->jobs == 0) {
      fmt::print(stderr, "error: --jobs must be at least 1\n");
      exit_code = 2;
      return;
    }
    worker_settings->coordinator_at = std::get<sweep::endpoint>(where);
    exit_code = sweep::run_worker(*worker_settings);
  });

  add_bench_commands(app, exit_code);
}

} // namespace stakecast::sim
