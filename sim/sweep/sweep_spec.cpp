#include "sim/sweep/sweep_spec.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "actors/core/random.hpp"

namespace stakecast::sim::sweep {

namespace {

using config::bounds;
using config::config_error;
using config::config_exception;
using config::document_reader;
using config::node_reader;

std::string last_key(const std::string& key_path) {
  const std::size_t dot = key_path.find_last_of('.');
  std::string key = dot == std::string::npos ? key_path : key_path.substr(dot + 1);
  const std::size_t bracket = key.find('[');
  return bracket == std::string::npos ? key : key.substr(0, bracket);
}

std::optional<unit_value> read_bound(node_reader& range, std::string_view key) {
  const std::string text = range.required<std::string>(key);
  if (text.empty())
    return std::nullopt;
  auto value = split_unit_value(text);
  if (!value)
    range.error_at(
        key, fmt::format("expected a number with an optional unit like 5% or 2s, got '{}'", text));
  return value;
}

parameter_spec read_parameter(node_reader& item) {
  parameter_spec parameter;
  parameter.key_path = item.required<std::string>("key");
  parameter.name = item.maybe<std::string>("name").value_or(last_key(parameter.key_path));
  const bool has_values = item.has("values");
  const bool has_range = item.has("range");
  if (has_values == has_range) {
    item.error("give either values (a grid) or range ({min, max}, sampled)");
    return parameter;
  }
  if (has_values) {
    for (auto& value : item.list("values", {1, values_per_parameter_max}))
      parameter.values.push_back(value.as<std::string>());
    return parameter;
  }
  auto range = item.section("range");
  auto min = read_bound(range, "min");
  auto max = read_bound(range, "max");
  if (!min || !max)
    return parameter;
  if (min->unit != max->unit)
    range.error(
        fmt::format("min and max need the same unit, got '{}' and '{}'", min->unit, max->unit));
  else if (max->number < min->number)
    range.error("max is below min");
  parameter.min = min;
  parameter.max = max;
  return parameter;
}

void read_sampling(node_reader root, sweep_spec& spec, bool any_range) {
  if (!root.has("sampling")) {
    if (any_range)
      root.error_at(
          "sampling",
          "a parameter has a range: say how to sample it (sampling: {method, samples, seed})");
    return;
  }
  auto sampling = root.section("sampling");
  if (!any_range) {
    root.error_at("sampling", "no parameter has a range to sample");
    return;
  }
  spec.method = sampling.optional_choice<sampling_method>(
      "method",
      {{"latin_hypercube", sampling_method::latin_hypercube}, {"random", sampling_method::random}},
      sampling_method::latin_hypercube);
  spec.samples = sampling.required<std::uint32_t>("samples", {1, samples_max});
  spec.sampling_seed = sampling.optional<std::uint64_t>("seed", 1);
}

std::string resolve_base(const std::string& sweep_file, const std::string& base) {
  const std::filesystem::path base_path(base);
  if (base_path.is_absolute())
    return base;
  return (std::filesystem::path(sweep_file).parent_path() / base_path).lexically_normal().string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  // A separator, so that ("ab", "c") and ("a", "bc") differ.
  hash ^= 0xff;
  hash *= 0x100000001b3ULL;
  return hash;
}

} // namespace

std::optional<unit_value> split_unit_value(std::string_view text) {
  std::size_t digits = 0;
  bool dot = false;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || (text[digits] == '.' && !dot))) {
    dot = dot || text[digits] == '.';
    ++digits;
  }
  if (digits == 0 || text[0] == '.')
    return std::nullopt;
  auto number = config::parse_double(text.substr(0, digits));
  if (!number)
    return std::nullopt;
  std::string_view unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ')
    unit.remove_prefix(1);
  return unit_value{*number.value, std::string(unit), !dot};
}

std::string format_unit_value(double number, const std::string& unit, bool integer) {
  if (integer)
    return fmt::format("{:.0f}{}", std::round(number), unit);
  std::string text = fmt::format("{:.6f}", number);
  while (text.back() == '0')
    text.pop_back();
  if (text.back() == '.')
    text.pop_back();
  return text + unit;
}

sweep_spec load_sweep(const std::string& path) {
  document_reader document = document_reader::load_file(path);
  sweep_spec spec;
  spec.file = path;
  auto root = document.root();
  const std::string base = root.required<std::string>("base");
  std::set<std::string> names;
  for (auto& item : root.list("parameters", {1, parameters_max})) {
    spec.parameters.push_back(read_parameter(item));
    // Names are results.csv columns: unique, and not one of the fixed ones.
    const std::string& name = spec.parameters.back().name;
    static const std::set<std::string> reserved{"run",    "point",  "seed", "status",
                                                "worker", "wall_s", "error"};
    if (!names.insert(name).second || reserved.contains(name))
      item.error(
          fmt::format("the column name '{}' is taken: give this parameter another name", name));
  }
  const bool any_range = std::any_of(spec.parameters.begin(), spec.parameters.end(),
                                     [](const parameter_spec& p) { return p.is_range(); });
  read_sampling(root, spec, any_range);
  spec.seeds_per_point = root.optional<std::uint32_t>("seeds", 1, {1, seeds_per_point_max});
  spec.first_seed = root.optional<std::uint64_t>("first_seed", 1);
  for (auto& outcome : root.optional_list("outcomes", {0, outcomes_max}))
    spec.outcomes.push_back(outcome.as<std::string>());
  spec.run_timeout = root.optional<std::chrono::nanoseconds>(
      "run_timeout", std::chrono::minutes(30), {std::chrono::seconds(1), std::chrono::hours(48)});
  spec.run_memory_bytes_max =
      root.optional<config::size_bytes>("run_memory_max", config::size_bytes{0}).value;
  document.finish();
  spec.base_path = resolve_base(path, base);
  if (!std::filesystem::is_regular_file(spec.base_path))
    throw config_exception({config_error{
        path, 0, 0, "base", fmt::format("the base scenario {} does not exist", spec.base_path)}});
  return spec;
}

std::vector<std::vector<double>> unit_samples(sampling_method method, std::size_t count,
                                              std::size_t dimensions, std::uint64_t seed) {
  core::random_generator random(core::derive_seed(seed, "sweep.sampling"));
  std::vector<std::vector<double>> samples(count, std::vector<double>(dimensions));
  for (std::size_t dimension = 0; dimension < dimensions; ++dimension) {
    // Latin hypercube: a random permutation of the strata per dimension, then a
    // uniform position inside each stratum.
    std::vector<std::size_t> strata(count);
    std::iota(strata.begin(), strata.end(), 0);
    for (std::size_t i = count; i > 1; --i)
      std::swap(strata[i - 1], strata[random.uniform(i)]);
    for (std::size_t i = 0; i < count; ++i) {
      const double offset = random.uniform_real();
      samples[i][dimension] =
          method == sampling_method::random
              ? offset
              : (static_cast<double>(strata[i]) + offset) / static_cast<double>(count);
    }
  }
  return samples;
}

std::vector<std::vector<std::string>> expand_points(const sweep_spec& spec) {
  // The grid: an odometer over the parameters with values, the last one fastest.
  std::vector<std::vector<std::string>> grid{{}};
  for (const auto& parameter : spec.parameters) {
    if (parameter.is_range())
      continue;
    std::vector<std::vector<std::string>> next;
    for (const auto& partial : grid)
      for (const auto& value : parameter.values) {
        next.push_back(partial);
        next.back().push_back(value);
      }
    grid = std::move(next);
  }
  std::size_t ranges = 0;
  for (const auto& parameter : spec.parameters)
    ranges += parameter.is_range() ? 1 : 0;
  const std::size_t samples = ranges == 0 ? 1 : spec.samples;
  const auto drawn =
      unit_samples(spec.method, ranges == 0 ? 0 : samples, ranges, spec.sampling_seed);
  std::vector<std::vector<std::string>> points;
  for (const auto& partial : grid)
    for (std::size_t sample = 0; sample < samples; ++sample) {
      std::vector<std::string> point;
      std::size_t grid_index = 0;
      std::size_t range_index = 0;
      for (const auto& parameter : spec.parameters) {
        if (!parameter.is_range()) {
          point.push_back(partial[grid_index++]);
          continue;
        }
        const double u = drawn[sample][range_index++];
        const bool integer = parameter.min->integer && parameter.max->integer;
        point.push_back(format_unit_value(parameter.min->number +
                                              u * (parameter.max->number - parameter.min->number),
                                          parameter.min->unit, integer));
      }
      points.push_back(std::move(point));
    }
  return points;
}

sweep_plan expand_sweep(const sweep_spec& spec) {
  sweep_plan plan;
  plan.spec = spec;
  // Bound the product before building it: a grid of 16 parameters with 1000 values each
  // must not be allocated to find out it is too large.
  double count = spec.seeds_per_point;
  for (const auto& parameter : spec.parameters)
    count *= parameter.is_range() ? 1.0 : static_cast<double>(parameter.values.size());
  if (spec.samples > 0)
    count *= spec.samples;
  if (count > static_cast<double>(runs_max))
    throw config_exception(
        {config_error{spec.file, 0, 0, "parameters",
                      fmt::format("the sweep has {:.0f} runs, more than {}", count, runs_max)}});
  plan.points = expand_points(spec);
  std::uint64_t hash = fnv1a(0xcbf29ce484222325ULL, read_text(spec.base_path));
  for (const auto& outcome : spec.outcomes)
    hash = fnv1a(hash, outcome);
  const int width =
      std::max<int>(3, static_cast<int>(std::to_string(plan.points.size() - 1).size()));
  for (std::size_t point = 0; point < plan.points.size(); ++point) {
    std::vector<scenario_override> overrides;
    for (std::size_t k = 0; k < spec.parameters.size(); ++k)
      overrides.push_back({spec.parameters[k].key_path, plan.points[point][k]});
    // A value the scenario refuses is an error of the sweep, found before any run.
    (void)load_scenario(spec.base_path, spec.first_seed, overrides);
    for (std::uint32_t s = 0; s < spec.seeds_per_point; ++s) {
      sweep_run run;
      run.point = point;
      run.seed = spec.first_seed + s;
      run.id = fmt::format("p{:0{}}-s{}", point, width, run.seed);
      run.overrides = overrides;
      hash = fnv1a(hash, run.id);
      hash = fnv1a(hash, std::to_string(run.seed));
      for (const auto& change : overrides)
        hash = fnv1a(fnv1a(hash, change.key_path), change.value);
      plan.runs.push_back(std::move(run));
    }
  }
  plan.fingerprint = fmt::format("{:016x}", hash);
  return plan;
}

} // namespace stakecast::sim::sweep
