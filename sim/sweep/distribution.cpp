#include "sim/sweep/distribution.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <fmt/format.h>

#include "sim/sweep/child_process.hpp"

namespace stakecast::sim::sweep {

namespace {

using want_atom = caf::atom_constant<caf::atom("want")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using ok_atom = caf::atom_constant<caf::atom("ok")>;

using job_reply = std::tuple<std::string, std::string, std::string, std::string, std::uint64_t,
                             std::string, std::uint64_t, std::uint64_t>;

// A worker slot waits this long before asking again when the answer is "wait".
constexpr auto wait_poll = std::chrono::milliseconds(500);
constexpr auto request_timeout = std::chrono::seconds(30);
constexpr auto child_poll = std::chrono::milliseconds(20);

struct coordinator_state {
  std::shared_ptr<run_board> board;
  std::shared_ptr<const remote_jobs> jobs;
  std::map<std::string, std::size_t> index_of_id;
  mutable std::mutex mutex; // guards the two maps below (read from the main thread)
  std::map<caf::actor_addr, std::string> holder_of;
  std::map<std::string, std::size_t> runs_taken;
};

caf::behavior coordinator_actor(caf::event_based_actor* self,
                                std::shared_ptr<coordinator_state> state) {
  self->set_down_handler([state](caf::down_msg& down) {
    std::string holder;
    {
      std::lock_guard lock(state->mutex);
      auto it = state->holder_of.find(down.source);
      if (it == state->holder_of.end())
        return;
      holder = it->second;
      state->holder_of.erase(it);
    }
    const std::size_t released = state->board->release_holder(holder);
    fmt::print(stderr, "sweep: worker slot {} went away; {} run(s) back in the queue\n", holder,
               released);
  });
  return {[self, state](want_atom, const std::string& holder) -> job_reply {
            const auto& jobs = *state->jobs;
            auto run = state->board->take(holder);
            if (!run) {
              const std::string kind = state->board->remaining() > 0 ? "wait" : "done";
              return {kind, "", "", "", 0, "", 0, 0};
            }
            auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
            bool first = false;
            {
              std::lock_guard lock(state->mutex);
              first = state->holder_of.emplace(sender, holder).second;
              ++state->runs_taken[holder];
            }
            if (first)
              self->monitor(sender);
            const remote_job& job = jobs.jobs[*run];
            fmt::print(stderr, "sweep: {} sent to {}\n", job.id, holder);
            return {"run",    job.id,        jobs.scenario_name, jobs.scenario_text,
                    job.seed, job.overrides, jobs.timeout_ms,    jobs.memory_bytes_max};
          },
          [state](result_atom, const std::string& id, const std::string& holder, bool ok,
                  const std::string& error, const std::string& summary_text, double wall_seconds) {
            // The board keeps the first outcome of each of its runs; a repeat (a slot
            // whose lease ran out, a run that has its row already) is only logged.
            auto it = state->index_of_id.find(id);
            if (it == state->index_of_id.end() ||
                !state->board->finish(it->second,
                                      run_outcome{holder, ok, error, summary_text, wall_seconds}))
              fmt::print(stderr, "sweep: the result of {} from {} was dropped: the run has one\n",
                         id, holder);
            return ok_atom::value;
          }};
}

class published_coordinator final : public coordinator {
public:
  published_coordinator() : system_(configure(config_)) {}

  ~published_coordinator() override {
    if (actor_) {
      system_.middleman().unpublish(actor_, port_);
      caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
    }
  }

  std::string publish(const endpoint& where, std::shared_ptr<coordinator_state> state) {
    state_ = state;
    actor_ = system_.spawn(coordinator_actor, state);
    auto port = system_.middleman().publish(actor_, where.port, where.host.c_str(), true);
    if (!port)
      return fmt::format("cannot listen on {}:{}: {}", where.host, where.port,
                         system_.render(port.error()));
    port_ = *port;
    return {};
  }

  std::uint16_t port() const override { return port_; }

  std::map<std::string, std::size_t> holders() const override {
    std::lock_guard lock(state_->mutex);
    return state_->runs_taken;
  }

private:
  static caf::actor_system_config& configure(caf::actor_system_config& config) {
    config.load<caf::io::middleman>();
    return config;
  }

  caf::actor_system_config config_;
  caf::actor_system system_;
  caf::actor actor_;
  std::uint16_t port_ = 0;
  std::shared_ptr<coordinator_state> state_;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0)
    return "worker";
  return name;
}

// One run on this worker: the scenario written to `folder`, the run as a child.
run_outcome run_job(const worker_options& options, const std::filesystem::path& folder,
                    const std::string& holder, const job_reply& job) {
  const auto& [kind, id, name, text, seed, overrides, timeout_ms, memory_max] = job;
  run_outcome outcome;
  outcome.holder = holder;
  const auto started = std::chrono::steady_clock::now();
  const auto scenario_file = folder / (name + ".yaml");
  {
    std::ofstream out(scenario_file, std::ios::binary | std::ios::trunc);
    out << text;
  }
  const auto out = folder / "runs" / id;
  child_spec spec{sim_arguments(options.executable, scenario_file.string(), seed, out.string(),
                                split_lines(overrides)),
                  folder / (id + ".log"), memory_max};
  auto started_child = child_process::start(spec);
  if (auto* why = std::get_if<std::string>(&started_child)) {
    outcome.error = *why;
    return outcome;
  }
  auto& child = std::get<child_process>(started_child);
  const auto deadline = started + std::chrono::milliseconds(timeout_ms);
  std::optional<child_exit> exit;
  while (!(exit = child.poll())) {
    if (std::chrono::steady_clock::now() >= deadline) {
      child.kill();
      exit = child_exit{0, SIGKILL};
      outcome.error = fmt::format("timed out after {} ms", timeout_ms);
      break;
    }
    std::this_thread::sleep_for(child_poll);
  }
  outcome.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (exit->ok()) {
    outcome.summary_text = read_text(out / "summary.json");
    outcome.ok = !outcome.summary_text.empty();
    if (!outcome.ok)
      outcome.error = "the run wrote no summary.json";
  } else if (outcome.error.empty()) {
    const std::string last = last_line_of(spec.log_file);
    outcome.error = exit->describe() + (last.empty() ? "" : ": " + last);
  }
  std::error_code ignored;
  std::filesystem::remove_all(out, ignored);
  std::filesystem::remove(spec.log_file, ignored);
  return outcome;
}

// One slot of a worker: ask, run, report, until done. Returns false when the
// coordinator went away before saying done.
bool run_slot(caf::actor_system& system, const caf::actor& coordinator_handle,
              const worker_options& options, const std::filesystem::path& folder,
              const std::string& holder, std::atomic<std::size_t>& runs) {
  caf::scoped_actor self{system};
  for (;;) {
    std::optional<job_reply> job;
    bool failed = false;
    self->request(coordinator_handle, request_timeout, want_atom::value, holder)
        .receive(
            [&](std::string& kind, std::string& id, std::string& name, std::string& text,
                std::uint64_t seed, std::string& overrides, std::uint64_t timeout_ms,
                std::uint64_t memory_max) {
              job = job_reply{std::move(kind), std::move(id), std::move(name),
                              std::move(text), seed,          std::move(overrides),
                              timeout_ms,      memory_max};
            },
            [&](caf::error&) { failed = true; });
    if (failed)
      return false;
    const std::string& kind = std::get<0>(*job);
    if (kind == "done")
      return true;
    if (kind == "wait") {
      std::this_thread::sleep_for(wait_poll);
      continue;
    }
    run_outcome outcome = run_job(options, folder, holder, *job);
    ++runs;
    self->request(coordinator_handle, request_timeout, result_atom::value, std::get<1>(*job),
                  holder, outcome.ok, outcome.error, outcome.summary_text, outcome.wall_seconds)
        .receive([&](ok_atom) {}, [&](caf::error&) { failed = true; });
    if (failed)
      return false;
  }
}

} // namespace

std::variant<endpoint, std::string> parse_endpoint(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return fmt::format("'{}' is not HOST:PORT", text);
  unsigned long port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      return fmt::format("'{}': the port is not a number from 0 to 65535", text);
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port > 65535)
    return fmt::format("'{}': the port is not a number from 0 to 65535", text);
  return endpoint{text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

std::variant<std::unique_ptr<coordinator>, std::string>
coordinator::start(const endpoint& where, std::shared_ptr<run_board> board,
                   std::shared_ptr<const remote_jobs> jobs) {
  auto state = std::make_shared<coordinator_state>();
  state->board = std::move(board);
  state->jobs = std::move(jobs);
  for (std::size_t i = 0; i < state->jobs->jobs.size(); ++i)
    state->index_of_id[state->jobs->jobs[i].id] = i;
  auto published = std::make_unique<published_coordinator>();
  if (auto why = published->publish(where, state); !why.empty())
    return why;
  return std::unique_ptr<coordinator>(std::move(published));
}

std::vector<std::string> sim_arguments(const std::string& executable,
                                       const std::string& scenario_path, std::uint64_t seed,
                                       const std::string& out,
                                       const std::vector<std::string>& overrides) {
  std::vector<std::string> arguments{executable,           "sim",   scenario_path, "--seed",
                                     std::to_string(seed), "--out", out,           "--quiet"};
  for (const auto& change : overrides) {
    arguments.push_back("--set");
    arguments.push_back(change);
  }
  return arguments;
}

int run_worker(const worker_options& options) {
  caf::actor_system_config config;
  config.load<caf::io::middleman>();
  caf::actor_system system{config};
  std::optional<caf::actor> coordinator_handle;
  for (std::uint32_t attempt = 0; attempt < options.connect_attempts_max && !coordinator_handle;
       ++attempt) {
    auto handle =
        system.middleman().remote_actor(options.coordinator_at.host, options.coordinator_at.port);
    if (handle) {
      coordinator_handle = *handle;
    } else {
      if (attempt + 1 == options.connect_attempts_max) {
        fmt::print(stderr, "worker: cannot reach the sweep at {}:{}: {}\n",
                   options.coordinator_at.host, options.coordinator_at.port,
                   system.render(handle.error()));
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  std::error_code error;
  const auto folder =
      std::filesystem::temp_directory_path() / fmt::format("stakecast-worker-{}", ::getpid());
  std::filesystem::create_directories(folder / "runs", error);
  if (error) {
    fmt::print(stderr, "worker: cannot create {}: {}\n", folder.string(), error.message());
    return 1;
  }
  const std::string name = fmt::format("{}:{}", hostname(), ::getpid());
  fmt::print(stderr, "worker {}: connected to {}:{} with {} slot(s)\n", name,
             options.coordinator_at.host, options.coordinator_at.port, options.jobs);
  std::atomic<std::size_t> runs{0};
  std::atomic<bool> lost{false};
  std::vector<std::thread> slots;
  for (unsigned slot = 0; slot < options.jobs; ++slot)
    slots.emplace_back([&, slot] {
      if (!run_slot(system, *coordinator_handle, options, folder, fmt::format("{}/{}", name, slot),
                    runs))
        lost = true;
    });
  for (auto& slot : slots)
    slot.join();
  std::filesystem::remove_all(folder, error);
  fmt::print(stderr, "worker {}: {} run(s) done; {}\n", name, runs.load(),
             lost ? "the sweep went away" : "the sweep is complete");
  return lost ? 1 : 0;
}

} // namespace stakecast::sim::sweep
