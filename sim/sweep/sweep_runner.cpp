#include "sim/sweep/sweep_runner.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/sweep/child_process.hpp"
#include "sim/sweep/distribution.hpp"
#include "sim/sweep/results_file.hpp"
#include "sim/sweep/run_board.hpp"
#include "sim/sweep/sweep_lock.hpp"
#include "sim/sweep/sweep_spec.hpp"

namespace stakecast::sim::sweep {

namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

constexpr auto loop_poll = std::chrono::milliseconds(20);
// After the last run, the coordinator keeps answering "done" this long, so that
// waiting worker slots hear it rather than find the sweep gone.
constexpr auto linger = std::chrono::seconds(2);
// A worker's lease on a run: the run's own timeout plus this margin.
constexpr auto lease_margin = std::chrono::seconds(60);
// How long a sweep waits for the folder's lock before it gives up. A sweep killed
// with SIGKILL lets go once its runs have died of their death signal, well within
// this; a sweep that is still running holds it for hours, so waiting longer is no use.
constexpr auto lock_wait = std::chrono::seconds(5);
constexpr auto lock_poll = std::chrono::milliseconds(20);
static_assert(lock_poll < lock_wait);

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> override_lines(const sweep_run& run) {
  std::vector<std::string> lines;
  for (const auto& change : run.overrides)
    lines.push_back(change.key_path + "=" + change.value);
  return lines;
}

nlohmann::ordered_json sweep_description(const sweep_plan& plan) {
  nlohmann::ordered_json description;
  description["sweep_file"] = plan.spec.file;
  description["base"] = plan.spec.base_path;
  description["fingerprint"] = plan.fingerprint;
  description["seeds_per_point"] = plan.spec.seeds_per_point;
  auto& parameters = description["parameters"] = nlohmann::ordered_json::array();
  for (const auto& parameter : plan.spec.parameters)
    parameters.push_back({{"name", parameter.name}, {"key", parameter.key_path}});
  description["points"] = plan.points;
  description["runs"] = plan.runs.size();
  return description;
}

// Creates DIR and locks it (sweep_lock.hpp), waiting up to lock_wait for a holder
// that is ending. Returns the lock, or why this sweep cannot have the folder.
std::variant<sweep_lock, std::string> lock_folder(const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error)
    return fmt::format("cannot create {}: {}", folder.string(), error.message());
  const auto deadline = clock::now() + lock_wait;
  for (bool told = false;; told = true) {
    auto attempt = sweep_lock::try_acquire(folder);
    if (auto* lock = std::get_if<sweep_lock>(&attempt))
      return std::move(*lock);
    if (auto* why = std::get_if<std::string>(&attempt))
      return *why;
    const std::string& holder = std::get<lock_busy>(attempt).holder;
    const std::string who =
        holder.empty() ? "another sweep" : fmt::format("another sweep ({})", holder);
    if (clock::now() >= deadline)
      return fmt::format("{} is in use by {} or by runs it started: let it finish or stop "
                         "it, then start this sweep again",
                         folder.string(), who);
    if (!told)
      fmt::print(stderr, "sweep: {} is in use by {}; waiting up to {} s for it to end\n",
                 folder.string(), who,
                 std::chrono::duration_cast<std::chrono::seconds>(lock_wait).count());
    std::this_thread::sleep_for(lock_poll);
  }
}

// Checks that DIR holds nothing or this sweep's own files, and writes sweep.json.
// REQUIRES: the folder lock is held.
std::string claim_folder(const fs::path& folder, const sweep_plan& plan, int& exit_code) {
  std::error_code error;
  fs::create_directories(folder / "runs", error);
  if (error) {
    exit_code = 1;
    return fmt::format("cannot create {}: {}", (folder / "runs").string(), error.message());
  }
  const fs::path description_file = folder / "sweep.json";
  const bool has_results = fs::exists(folder / "results.csv");
  if (fs::exists(description_file)) {
    nlohmann::json existing = nlohmann::json::parse(read_text(description_file), nullptr, false);
    const std::string fingerprint = existing.is_object() && existing.contains("fingerprint") &&
                                            existing["fingerprint"].is_string()
                                        ? existing["fingerprint"].get<std::string>()
                                        : std::string("(unreadable)");
    if (fingerprint != plan.fingerprint) {
      exit_code = 2;
      return fmt::format(
          "{} holds the results of a different sweep (fingerprint {}, this sweep {}): "
          "give another --out, or remove the folder",
          folder.string(), fingerprint, plan.fingerprint);
    }
  } else if (has_results) {
    exit_code = 2;
    return fmt::format("{} has a results.csv but no sweep.json: it is not this sweep's folder",
                       folder.string());
  }
  // Written whole or not at all (a temporary file renamed into place), so a sweep
  // killed while writing it still finds its own fingerprint when started again.
  const fs::path temporary = folder / "sweep.json.tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << sweep_description(plan).dump(2) << '\n';
    if (!out) {
      exit_code = 1;
      return fmt::format("cannot write {}", temporary.string());
    }
  }
  fs::rename(temporary, description_file, error);
  if (error) {
    exit_code = 1;
    return fmt::format("cannot write {}: {}", description_file.string(), error.message());
  }
  return {};
}

class sweep_execution {
public:
  sweep_execution(const sweep_plan& plan, fs::path folder, results_writer writer,
                  results_state state)
      : plan_(plan), folder_(std::move(folder)), writer_(std::move(writer)),
        header_(std::move(state.header)) {
    for (const auto& parameter : plan.spec.parameters)
      parameter_names_.push_back(parameter.name);
    for (const auto& [id, row] : state.done)
      has_row_.insert(id);
  }

  // Writes the row of a finished run (holding failures until the header is known).
  std::string record(std::size_t index, run_outcome outcome) {
    const sweep_run& run = plan_.runs[index];
    // The last guard of "one row per run": the board yields one outcome per run and the
    // folder lock keeps other sweeps out, so this only fires on a bug, logged not fatal.
    if (!has_row_.insert(run.id).second) {
      fmt::print(stderr, "sweep: {} has a row already; its outcome from {} is not written\n",
                 run.id, outcome.holder);
      return {};
    }
    std::vector<std::pair<std::string, std::string>> outcomes;
    if (outcome.ok)
      outcome.ok = read_summary(run, outcome, outcomes);
    ++(outcome.ok ? succeeded_ : failed_);
    fmt::print(stderr, "sweep: {} {} on {} in {:.1f}s{} [{}/{}]\n", run.id,
               outcome.ok ? "done" : "FAILED", outcome.holder, outcome.wall_seconds,
               outcome.ok ? "" : ": " + outcome.error, succeeded_ + failed_, to_run_);
    if (header_.empty()) {
      if (!outcome.ok && plan_.spec.outcomes.empty()) {
        held_.emplace_back(index, std::move(outcome));
        return {};
      }
      if (auto why = write_header(outcomes); !why.empty())
        return why;
    }
    return write_row(index, outcome, outcomes);
  }

  // At the end: a sweep whose every run failed still gets its rows.
  std::string flush_held() {
    if (held_.empty())
      return {};
    if (header_.empty())
      if (auto why = write_header({}); !why.empty())
        return why;
    return {};
  }

  void set_to_run(std::size_t count) { to_run_ = count; }
  std::size_t succeeded() const { return succeeded_; }
  std::size_t failed() const { return failed_; }

private:
  bool read_summary(const sweep_run& run, run_outcome& outcome,
                    std::vector<std::pair<std::string, std::string>>& outcomes) {
    const fs::path run_folder = folder_ / "runs" / run.id;
    if (!outcome.summary_text.empty()) {
      // A worker's run: keep its summary where a local run would have it.
      std::error_code error;
      fs::create_directories(run_folder, error);
      std::ofstream(run_folder / "summary.json", std::ios::trunc) << outcome.summary_text;
    } else {
      outcome.summary_text = read_text(run_folder / "summary.json");
    }
    auto summary = nlohmann::ordered_json::parse(outcome.summary_text, nullptr, false);
    if (summary.is_discarded() || !summary.is_object()) {
      outcome.error = "its summary.json is missing or not JSON";
      return false;
    }
    outcomes = flatten_outcomes(summary);
    return true;
  }

  std::string write_header(const std::vector<std::pair<std::string, std::string>>& first_outcomes) {
    header_ = fixed_columns(parameter_names_);
    if (!plan_.spec.outcomes.empty())
      header_.insert(header_.end(), plan_.spec.outcomes.begin(), plan_.spec.outcomes.end());
    else
      for (const auto& [name, value] : first_outcomes)
        header_.push_back(name);
    if (auto why = writer_.write_row(header_); !why.empty())
      return why;
    auto held = std::exchange(held_, {});
    for (auto& [index, outcome] : held)
      if (auto why = write_row(index, outcome, {}); !why.empty())
        return why;
    return {};
  }

  std::string write_row(std::size_t index, const run_outcome& outcome,
                        const std::vector<std::pair<std::string, std::string>>& outcomes) {
    const sweep_run& run = plan_.runs[index];
    std::vector<std::string> row{run.id, std::to_string(run.point), std::to_string(run.seed)};
    for (const auto& value : plan_.points[run.point])
      row.push_back(value);
    row.push_back(outcome.ok ? "ok" : "failed");
    row.push_back(outcome.holder);
    row.push_back(fmt::format("{:.3f}", outcome.wall_seconds));
    row.push_back(outcome.ok ? "" : outcome.error);
    std::map<std::string, std::string> by_name(outcomes.begin(), outcomes.end());
    for (std::size_t column = row.size(); column < header_.size(); ++column) {
      auto it = by_name.find(header_[column]);
      row.push_back(it == by_name.end() ? "" : it->second);
    }
    return writer_.write_row(row);
  }

  const sweep_plan& plan_;
  fs::path folder_;
  results_writer writer_;
  std::vector<std::string> header_;
  std::vector<std::string> parameter_names_;
  std::vector<std::pair<std::size_t, run_outcome>> held_;
  std::set<std::string> has_row_; ///< run ids with a row written or held for the header
  std::size_t succeeded_ = 0;
  std::size_t failed_ = 0;
  std::size_t to_run_ = 0;
};

struct local_run {
  std::size_t index;
  child_process child;
  clock::time_point started;
  fs::path log_file;
};

// Starts local runs while there are free slots and queued runs.
void start_local_runs(std::vector<local_run>& running, unsigned jobs, run_board& board,
                      const sweep_plan& plan, const fs::path& folder,
                      const std::string& executable) {
  while (running.size() < jobs) {
    auto index = board.take("local");
    if (!index)
      return;
    const sweep_run& run = plan.runs[*index];
    const fs::path log_file = folder / "logs" / (run.id + ".log");
    std::error_code ignored;
    fs::remove(log_file, ignored);
    child_spec spec{sim_arguments(executable, fs::absolute(plan.spec.base_path).string(), run.seed,
                                  (folder / "runs" / run.id).string(), override_lines(run)),
                    log_file, plan.spec.run_memory_bytes_max};
    auto started = child_process::start(spec);
    if (auto* why = std::get_if<std::string>(&started)) {
      board.finish(*index, run_outcome{"local", false, *why, {}, 0});
      continue;
    }
    running.push_back(
        {*index, std::move(std::get<child_process>(started)), clock::now(), log_file});
  }
}

// Reaps finished local runs (and kills those past the run timeout).
void reap_local_runs(std::vector<local_run>& running, run_board& board,
                     std::chrono::nanoseconds timeout) {
  for (auto it = running.begin(); it != running.end();) {
    auto exit = it->child.poll();
    std::string error;
    if (!exit && clock::now() - it->started > timeout) {
      exit = it->child.kill();
      error =
          fmt::format("timed out after {:.0f} s", std::chrono::duration<double>(timeout).count());
    }
    if (!exit) {
      ++it;
      continue;
    }
    if (error.empty() && !exit->ok()) {
      const std::string last = last_line_of(it->log_file);
      error = exit->describe() + (last.empty() ? "" : ": " + last);
    }
    const double wall = std::chrono::duration<double>(clock::now() - it->started).count();
    board.finish(it->index, run_outcome{"local", exit->ok() && error.empty(), error, {}, wall});
    it = running.erase(it);
  }
}

std::shared_ptr<const remote_jobs> jobs_for_workers(const sweep_plan& plan) {
  auto jobs = std::make_shared<remote_jobs>();
  jobs->scenario_name = fs::path(plan.spec.base_path).stem().string();
  jobs->scenario_text = read_text(plan.spec.base_path);
  jobs->timeout_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(plan.spec.run_timeout).count());
  jobs->memory_bytes_max = plan.spec.run_memory_bytes_max;
  for (const auto& run : plan.runs) {
    std::string overrides;
    for (const auto& line : override_lines(run))
      overrides += line + "\n";
    jobs->jobs.push_back({run.id, run.seed, overrides});
  }
  return jobs;
}

// Says what read_results mended in results.csv before the sweep goes on.
void report_repairs(const fs::path& file, const results_state& state) {
  if (state.dropped_torn_line)
    fmt::print(stderr,
               "sweep: {}: a torn last line was dropped (a row cut short when a sweep was "
               "killed while writing it); its run is done again: \"{}\"\n",
               file.string(), state.torn_text);
  if (state.dropped_repeated_rows > 0)
    fmt::print(stderr,
               "sweep: {}: {} repeated row(s) dropped (rows of a run that an earlier row has; "
               "the earlier row is kept)\n",
               file.string(), state.dropped_repeated_rows);
}

int fail(int code, const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  return code;
}

} // namespace

int run_sweep(const sweep_options& options) {
  std::optional<sweep_plan> plan;
  try {
    plan.emplace(expand_sweep(load_sweep(options.sweep_file)));
  } catch (const config::config_exception& failure) {
    fmt::print(stderr, "{}\n", failure.what());
    return 2;
  }
  const unsigned jobs =
      options.jobs_given ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  if (jobs == 0 && options.listen.empty())
    return fail(
        2, "--jobs 0 runs nothing here: give --listen HOST:PORT for workers, or --jobs 1 or more");
  std::optional<endpoint> listen_at;
  if (!options.listen.empty()) {
    auto parsed = parse_endpoint(options.listen);
    if (auto* why = std::get_if<std::string>(&parsed))
      return fail(2, "--listen: " + *why);
    listen_at = std::get<endpoint>(parsed);
  }
  const fs::path folder =
      options.out.empty()
          ? fs::path("runs") / ("sweep-" + fs::path(options.sweep_file).stem().string())
          : fs::path(options.out);
  // Held until this function returns, and by every run started meanwhile: no other
  // sweep reads or writes this folder while any of them lives.
  auto locked = lock_folder(folder);
  if (auto* why = std::get_if<std::string>(&locked))
    return fail(1, *why);
  const sweep_lock lock = std::get<sweep_lock>(std::move(locked));
  int exit_code = 0;
  if (auto why = claim_folder(folder, *plan, exit_code); !why.empty())
    return fail(exit_code, why);
  std::error_code error;
  fs::create_directories(folder / "logs", error);
  std::vector<std::string> parameter_names;
  for (const auto& parameter : plan->spec.parameters)
    parameter_names.push_back(parameter.name);
  auto read = read_results(folder / "results.csv", parameter_names);
  if (auto* why = std::get_if<std::string>(&read))
    return fail(2, *why);
  results_state state = std::get<results_state>(std::move(read));
  std::vector<std::size_t> to_do;
  for (std::size_t i = 0; i < plan->runs.size(); ++i)
    if (!state.done.contains(plan->runs[i].id))
      to_do.push_back(i);
  const std::size_t already = plan->runs.size() - to_do.size();
  report_repairs(folder / "results.csv", state);
  fmt::print(
      stderr, "sweep: {} points x {} seeds = {} runs; {} already in results.csv; running {}\n",
      plan->points.size(), plan->spec.seeds_per_point, plan->runs.size(), already, to_do.size());
  auto writer = results_writer::open(folder / "results.csv");
  if (auto* why = std::get_if<std::string>(&writer))
    return fail(1, *why);
  sweep_execution execution(*plan, folder, std::get<results_writer>(std::move(writer)),
                            std::move(state));
  execution.set_to_run(to_do.size());
  auto board = std::make_shared<run_board>(
      to_do, std::chrono::duration_cast<clock::duration>(plan->spec.run_timeout) + lease_margin);

  std::unique_ptr<coordinator> remote;
  if (listen_at) {
    auto started = coordinator::start(*listen_at, board, jobs_for_workers(*plan));
    if (auto* why = std::get_if<std::string>(&started))
      return fail(1, *why);
    remote = std::move(std::get<std::unique_ptr<coordinator>>(started));
    fmt::print(stderr, "sweep: coordinator listening on {}:{}\n", listen_at->host, remote->port());
  }

  std::vector<local_run> running;
  while (board->remaining() > 0 || !running.empty()) {
    start_local_runs(running, jobs, *board, *plan, folder, options.executable);
    reap_local_runs(running, *board, plan->spec.run_timeout);
    if (std::size_t expired = board->expire(clock::now()); expired > 0)
      fmt::print(stderr, "sweep: {} lease(s) expired; the runs are back in the queue\n", expired);
    for (auto& [index, outcome] : board->drain())
      if (auto why = execution.record(index, std::move(outcome)); !why.empty())
        return fail(1, why);
    std::this_thread::sleep_for(loop_poll);
  }
  for (auto& [index, outcome] : board->drain())
    if (auto why = execution.record(index, std::move(outcome)); !why.empty())
      return fail(1, why);
  if (auto why = execution.flush_held(); !why.empty())
    return fail(1, why);
  if (remote) {
    std::this_thread::sleep_for(linger);
    for (const auto& [holder, taken] : remote->holders())
      fmt::print(stderr, "sweep: worker slot {} took {} run(s)\n", holder, taken);
  }
  fmt::print(
      stderr,
      "sweep: done: {} runs ran ({} failed), {} were already in results.csv; results in {}\n",
      execution.succeeded() + execution.failed(), execution.failed(), already,
      (folder / "results.csv").string());
  return 0;
}

} // namespace stakecast::sim::sweep
