#include "node/devnet.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "node/http_client.hpp"

namespace stakecast::node {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto poll_interval = 200ms;
constexpr std::size_t pid_file_bytes_max = 32;

/// The lowest port the OS hands out for outgoing connections (ip_local_port_range).
std::uint16_t ephemeral_ports_start() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0;
  if (range >> low && low > 2048 && low <= 65535)
    return static_cast<std::uint16_t>(low);
  return 32768;
}

/// A port free on loopback now that no other devnet port took (`taken`), below the
/// ephemeral range: the nodes' outgoing connections take their local ports from that
/// range, and one of them once took a node's listening port before that node started.
result<std::uint16_t> free_port(std::set<std::uint16_t>& taken) {
  const std::uint16_t end = ephemeral_ports_start();
  const std::uint16_t begin = static_cast<std::uint16_t>(std::max(1024, end - 16384));
  std::random_device entropy;
  std::uniform_int_distribution<unsigned> pick(begin, end - 1u);
  boost::asio::io_context io;
  for (int attempt = 0; attempt < 256; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(entropy));
    if (taken.contains(port))
      continue;
    boost::system::error_code error;
    boost::asio::ip::tcp::acceptor acceptor(io);
    const boost::asio::ip::tcp::endpoint where{boost::asio::ip::make_address("127.0.0.1"), port};
    if (acceptor.open(where.protocol(), error) || acceptor.bind(where, error))
      continue;
    taken.insert(port);
    return result<std::uint16_t>::success(port);
  }
  return result<std::uint16_t>::failure(
      fmt::format("no free port on 127.0.0.1 between {} and {} after 256 tries", begin, end - 1));
}

/// Port `offset` of a devnet made from `base`: free on loopback now, or what is wrong.
result<std::uint16_t> fixed_port(std::uint16_t base, std::uint32_t offset) {
  const auto port = static_cast<std::uint16_t>(base + offset);
  boost::asio::io_context io;
  boost::system::error_code error;
  boost::asio::ip::tcp::acceptor acceptor(io);
  const boost::asio::ip::tcp::endpoint where{boost::asio::ip::make_address("127.0.0.1"), port};
  if (acceptor.open(where.protocol(), error) || acceptor.bind(where, error))
    return result<std::uint16_t>::failure(
        fmt::format("port {} on 127.0.0.1 (base port {} + {}) is not free: {}", port, base, offset,
                    error.message()));
  return result<std::uint16_t>::success(port);
}

fs::path home_of(const fs::path& dir, std::uint32_t index) {
  return dir / fmt::format("node-{}", index);
}

/// Whether process `pid` runs `stakecast node` for `home` (not some process that
/// reused a stale pid).
bool runs_home(int pid, const home_folder& home) {
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(" node ") != std::string::npos &&
         cmdline.find(home.root.string()) != std::string::npos;
}

bool alive(int pid) {
  // Reap it if it is our own child that has ended, so it does not linger as a zombie.
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid)
    return false;
  // Another process's child that has ended is a zombie until its parent reaps it: it
  // still answers kill(pid, 0), but it no longer runs.
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto state = stat.rfind(") ");
  return state != std::string::npos && state + 2 < stat.size() && stat[state + 2] != 'Z';
}

std::string node_status(const devnet_node& node) {
  if (node.pid == 0)
    return "stopped";
  if (!node.config.gateway)
    return "running";
  auto reply = http_request(*node.config.gateway, "GET", "/api/status", "", 2s);
  if (!reply)
    return "running, not answering: " + reply.error;
  const auto status = nlohmann::json::parse(reply.value->body, nullptr, false);
  if (reply.value->status != 200 || !status.is_object() || !status.contains("height") ||
      !status["height"].is_number())
    return "running, chain not answering yet";
  return fmt::format("running at height {}", status["height"].get<std::uint64_t>());
}

std::string make_devnet(const devnet_options& options) {
  const auto count = options.validators + options.masternodes + options.viewers;
  std::vector<core::hash256> seeds;
  std::vector<node_config> configs(count);
  std::vector<core::node_id> ids;
  std::set<std::uint16_t> ports;
  for (std::uint32_t i = 0; i < count; ++i) {
    auto seed = fresh_seed();
    if (!seed)
      return seed.error;
    auto key = core::key_pair::from_seed(*seed.value);
    if (!key)
      return "OpenSSL refused a new key";
    seeds.push_back(*seed.value);
    ids.push_back(key->public_key());
    auto listen = options.base_port ? fixed_port(options.base_port, 2 * i) : free_port(ports);
    auto gateway = options.base_port ? fixed_port(options.base_port, 2 * i + 1) : free_port(ports);
    if (!listen || !gateway)
      return listen ? gateway.error : listen.error;
    auto& config = configs[i];
    config.validator = i < options.validators;
    config.masternode = !config.validator && i < options.validators + options.masternodes;
    config.viewer = true;
    config.listen = {"127.0.0.1", *listen.value};
    config.gateway = endpoint{"127.0.0.1", *gateway.value};
    config.block_interval = options.block_interval;
    // A devnet shows the paid service within seconds: receipts and claims come often.
    config.receipt_interval = std::chrono::seconds(2);
    config.claim_interval = std::chrono::seconds(5);
  }
  std::vector<core::node_id> validators(ids.begin(), ids.begin() + options.validators);
  std::vector<peer_address> masternodes;
  for (std::uint32_t i = options.validators; i < options.validators + options.masternodes; ++i)
    masternodes.push_back({ids[i], configs[i].listen});
  const auto genesis_path = options.dir / "genesis.json";
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error)
    return fmt::format("cannot create {}: {}", options.dir.string(), error.message());
  if (auto problem = write_file_atomically(
          genesis_path, rules::to_json(development_genesis(validators, masternodes, ids)));
      !problem.empty())
    return problem;
  for (std::uint32_t i = 0; i < count; ++i) {
    for (std::uint32_t j = 0; j < count; ++j)
      if (j != i)
        configs[i].peers.push_back({ids[j], configs[j].listen});
    init_options init;
    init.config = configs[i];
    init.genesis = genesis_path;
    init.seed = seeds[i];
    if (auto made = init_home({home_of(options.dir, i + 1)}, init); !made)
      return made.error;
  }
  return {};
}

} // namespace

int running_pid(const home_folder& home) {
  auto text = read_file(home.pid_file(), pid_file_bytes_max);
  if (!text)
    return 0;
  int pid = 0;
  try {
    pid = std::stoi(*text.value);
  } catch (const std::exception&) {
    return 0;
  }
  return pid > 0 && alive(pid) && runs_home(pid, home) ? pid : 0;
}

std::vector<devnet_node> devnet_nodes(const fs::path& dir) {
  std::vector<devnet_node> nodes;
  for (std::uint32_t index = 1; index <= devnet_options::nodes_max; ++index) {
    const home_folder home{home_of(dir, index)};
    if (!fs::exists(home.config_file()))
      break;
    devnet_node node{home, {}, {}, 0, {}};
    try {
      node.config = load_node_config(home.config_file());
    } catch (const config::config_exception& error) {
      node.status = error.what();
      nodes.push_back(std::move(node));
      continue;
    }
    if (auto key = load_key(home))
      node.id = key.value->public_key().to_hex();
    node.pid = running_pid(home);
    node.status = node_status(node);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

result<int> start_node_process(const fs::path& executable, const home_folder& home) {
  using out = result<int>;
  const auto log = home.log_file().string();
  const auto program = executable.string();
  const auto home_text = home.root.string();
  const int log_descriptor = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log_descriptor < 0)
    return out::failure(fmt::format("cannot open {}: {}", log, std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_descriptor);
    return out::failure(fmt::format("cannot start a node: fork failed: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    // The child: its own session (a terminal's Ctrl-C does not reach it), the log as
    // its output, nothing inherited on stdin.
    ::setsid();
    const int null_descriptor = ::open("/dev/null", O_RDONLY);
    ::dup2(null_descriptor, STDIN_FILENO);
    ::dup2(log_descriptor, STDOUT_FILENO);
    ::dup2(log_descriptor, STDERR_FILENO);
    const char* argv[] = {program.c_str(), "node", "--home", home_text.c_str(), nullptr};
    ::execv(program.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(log_descriptor);
  return out::success(pid);
}

namespace {

/// A node stopped by SIGKILL leaves these; nothing may use them once it is gone (the
/// token would let whoever reads it call the next process's API before it makes its own).
void remove_leftovers(const home_folder& home) {
  std::error_code ignored;
  fs::remove(home.pid_file(), ignored);
  fs::remove(home.api_token_file(), ignored);
}

} // namespace

std::string stop_node_process(const home_folder& home, std::chrono::milliseconds timeout) {
  const int pid = running_pid(home);
  if (pid == 0) {
    remove_leftovers(home);
    return {};
  }
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (alive(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(poll_interval / 4);
  if (alive(pid)) {
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 50 && alive(pid); ++i)
      std::this_thread::sleep_for(poll_interval / 4);
    if (alive(pid))
      return fmt::format("node {} (pid {}) did not stop", home.root.string(), pid);
  }
  remove_leftovers(home);
  return {};
}

result<std::vector<devnet_node>> devnet_up(const devnet_options& options) {
  using out = result<std::vector<devnet_node>>;
  const auto count = options.validators + options.masternodes + options.viewers;
  if (options.validators == 0 || count > devnet_options::nodes_max)
    return out::failure(fmt::format("a devnet has 1 to {} nodes and at least one validator",
                                    devnet_options::nodes_max));
  if (options.base_port != 0 &&
      (options.base_port < 1024 || options.base_port + 2 * count - 1 > 65535))
    return out::failure(fmt::format(
        "base port {}: the {} nodes need ports {} to {}, which must lie "
        "in 1024-65535",
        options.base_port, count, options.base_port, options.base_port + 2 * count - 1));
  if (devnet_nodes(options.dir).empty())
    if (auto problem = make_devnet(options); !problem.empty())
      return out::failure(problem);
  auto nodes = devnet_nodes(options.dir);
  for (auto& node : nodes) {
    if (node.pid != 0)
      continue;
    auto started = start_node_process(options.executable, node.home);
    if (!started)
      return out::failure(started.error);
  }
  const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (true) {
    nodes = devnet_nodes(options.dir);
    const bool ready = std::all_of(nodes.begin(), nodes.end(), [](const devnet_node& node) {
      return node.status.starts_with("running at height");
    });
    if (ready)
      return out::success(std::move(nodes));
    if (std::chrono::steady_clock::now() >= deadline)
      break;
    std::this_thread::sleep_for(poll_interval);
  }
  std::string problems;
  for (const auto& node : nodes)
    if (!node.status.starts_with("running at height"))
      problems += fmt::format("\n  {}: {} (log: {})", node.home.root.string(), node.status,
                              node.home.log_file().string());
  return out::failure(fmt::format("the devnet did not come up within {} s:{}",
                                  options.start_timeout.count() / 1000, problems));
}

std::string devnet_down(const fs::path& dir, std::chrono::milliseconds timeout) {
  std::string problems;
  for (const auto& node : devnet_nodes(dir))
    if (auto problem = stop_node_process(node.home, timeout); !problem.empty())
      problems += problem + "\n";
  return problems;
}

} // namespace stakecast::node
