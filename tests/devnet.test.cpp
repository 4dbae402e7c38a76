// A devnet of real node processes on loopback, driven through the `stakecast` command
// line as a user would: `devnet up` starts four validators, a masternode and a viewer
// over TLS, the
// chain commits blocks, `wallet transfer` moves tokens that show up in the receiver's
// balance, a validator killed with SIGKILL and started again catches up with the
// others from its LMDB store and block sync, and `devnet down` leaves no process.
// Content: an MP4 made by ffmpeg at test time is published from the viewer node, the
// masternode the chain places it on fetches it, another node streams it through its
// gateway with a Range request and `stakecast get` downloads it byte-identical (streamed
// into a folder of the test's, written by the node into its downloads folder); the
// viewer's receipts are claimed and the epoch's rewards pay the masternode for them
// (and it is not jailed: it answered its audits from its store); a masternode killed with
// SIGKILL keeps every segment it stored. Validators killed and started again one at a
// time while the chain is stalled sign nothing that conflicts with what they signed
// before (no evidence is ever submitted against them). Attacks the devnet rides out:
// strangers holding silent TLS connections to the validators (a restarted one still
// catches up), a store filled by an upload (the chain commits on, the upload is removed
// and /healthz names the refusal). `devnet up --base-port` takes the ports given and
// names a taken one; `devnet down` leaves no pid file or api token behind.
// Hostile clients: while 70 sockets dribble request headers into a validator's gateway
// (a slowloris, from 127.0.0.1 like every local client), the chain goes on committing
// and the node answers its API, to the command line and to a client without the token.
// Started as root, `devnet up` and each node's log say so.
// Bounds: every wait polls with a deadline of at most 90 s.
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "node/devnet.hpp"
#include "node/http_client.hpp"
#include "tests/support/devnet.hpp"
#include "tests/support/raw_tls_client.hpp"

namespace node = stakecast::node;
namespace test = stakecast::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using test::devnet_guard;
using test::eventually;
using test::height_of;

test::command_output run(const std::string& arguments) {
  return test::run_stakecast(arguments);
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// GET `target` on the node's gateway as JSON; null when it does not answer 200.
nlohmann::json api_get(const node::devnet_node& n, const std::string& target) {
  auto reply = node::http_request(*n.config.gateway, "GET", target, "", 20s);
  if (!reply || reply.value->status != 200)
    return nullptr;
  return nlohmann::json::parse(reply.value->body, nullptr, false);
}

/// Whether the node's store holds every segment of `content`.
bool holds_whole(const node::devnet_node& n, const std::string& content) {
  const auto info = api_get(n, "/api/content/" + content);
  return info.is_object() && info["stored_segments"] == info["segments"];
}

std::uint64_t balance_of(const node::devnet_node& n) {
  const auto account = api_get(n, "/api/account/" + n.id);
  return account.is_object() ? account["balance"].get<std::uint64_t>() : 0;
}

/// A counter of the node's /metrics; -1 when absent.
double counter_of(const node::devnet_node& n, const std::string& name) {
  auto reply = node::http_request(*n.config.gateway, "GET", "/metrics", "", 5s);
  if (!reply || reply.value->status != 200)
    return -1;
  const auto& text = reply.value->body;
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

/// A port free on loopback, with the next one free too, below the range the OS draws
/// outgoing ports from (so no connection takes it before the node binds it).
std::uint16_t free_port_pair() {
  boost::asio::io_context io;
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  for (std::uint16_t port = 20'000 + static_cast<std::uint16_t>(::getpid() % 5'000 * 2);
       port < 32'000; port += 2) {
    boost::system::error_code error;
    boost::asio::ip::tcp::acceptor first(io), second(io);
    if (!first.open(boost::asio::ip::tcp::v4(), error) &&
        !first.bind({loopback, port}, error) && !second.open(boost::asio::ip::tcp::v4(), error) &&
        !second.bind({loopback, static_cast<std::uint16_t>(port + 1)}, error))
      return port;
  }
  FAIL("no two free ports on 127.0.0.1 between 20000 and 32000");
  return 0;
}

/// Holds `count` connections to `gateway`, each sending the start of a request header
/// and then a header line every 200 ms, never the end; a connection the gateway closes
/// is opened again at once. Runs on a thread of its own until destroyed, or for
/// `duration_max` whatever happens.
class slowloris {
public:
  slowloris(const node::endpoint& gateway, std::size_t count, std::chrono::seconds duration_max) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(gateway.port);
    REQUIRE(::inet_pton(AF_INET, gateway.host.c_str(), &address.sin_addr) == 1);
    thread_ =
        std::thread([this, address, count, duration_max] { run(address, count, duration_max); });
  }
  ~slowloris() {
    stop_ = true;
    thread_.join();
  }
  slowloris(const slowloris&) = delete;
  slowloris& operator=(const slowloris&) = delete;

  /// Connections opened so far, the ones opened again included.
  std::size_t opened() const { return opened_; }

private:
  static int open_one(const sockaddr_in& address) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return -1;
    const timeval bound{1, 0}; // a blocking connect and send wait at most this long
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    constexpr std::string_view start = "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::send(fd, start.data(), start.size(), MSG_NOSIGNAL) < 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // No Catch2 macro here: they may be used from the test's thread only.
  void run(const sockaddr_in& address, std::size_t count, std::chrono::seconds duration_max) {
    std::vector<pollfd> sockets(count, pollfd{-1, POLLIN | POLLRDHUP, 0});
    const auto deadline = std::chrono::steady_clock::now() + duration_max;
    auto next_line = std::chrono::steady_clock::now();
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      for (auto& socket : sockets)
        if (socket.fd < 0 && (socket.fd = open_one(address)) >= 0)
          ++opened_;
      ::poll(sockets.data(), sockets.size(), 20);
      const bool line_due = std::chrono::steady_clock::now() >= next_line;
      if (line_due)
        next_line += std::chrono::milliseconds(200);
      for (auto& socket : sockets) {
        // Closed by the gateway (or answered, which ends in a close as well).
        bool gone = socket.fd >= 0 && socket.revents != 0;
        if (!gone && socket.fd >= 0 && line_due)
          gone = ::send(socket.fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL | MSG_DONTWAIT) < 0;
        if (gone) {
          ::close(socket.fd);
          socket.fd = -1;
        }
        socket.revents = 0;
      }
    }
    for (const auto& socket : sockets)
      if (socket.fd >= 0)
        ::close(socket.fd);
  }

  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0};
  std::thread thread_;
};

/// Starts a devnet of four validators in `dir` and waits until it has committed two
/// blocks.
std::vector<node::devnet_node> four_validators(const fs::path& dir) {
  const auto up = run(fmt::format("devnet up --dir {} --validators 4 --masternodes 0 --viewers 0",
                                  dir.string()));
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  auto nodes = node::devnet_nodes(dir);
  REQUIRE(nodes.size() == 4);
  REQUIRE(eventually([&] { return height_of(nodes[0]) >= 2; }, 60s));
  return nodes;
}

} // namespace

TEST_CASE("a devnet of real processes commits blocks and moves tokens and survives kill -9",
          "[node][devnet]") {
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-devnet-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};

  const auto up = run(fmt::format("devnet up --dir {} --validators 4 --masternodes 1 --viewers 1", dir.string()));
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  auto nodes = node::devnet_nodes(dir);
  REQUIRE(nodes.size() == 6);
  for (const auto& n : nodes)
    REQUIRE(n.pid != 0);

  // Blocks commit on every node.
  REQUIRE(eventually([&] { return height_of(nodes[5]) >= 3; }, 60s));
  const bool as_root = ::geteuid() == 0;
  CHECK((up.text.find("running as root") != std::string::npos) == as_root);
  CHECK((read_all(nodes[0].home.log_file()).find("running as root") != std::string::npos) ==
        as_root);

  // A slowloris against a validator's gateway: the chain goes on committing and the
  // gateway answers, to a client without the token (height_of) and to the command line.
  {
    const auto height_before = height_of(nodes[0]);
    REQUIRE(height_before >= 0);
    slowloris attack(*nodes[0].config.gateway, 70, 60s);
    REQUIRE(eventually([&] { return attack.opened() >= 70; }, 10s));
    // Within 20 s: less than the 30 s a socket used to hold its slot for.
    CHECK(eventually([&] { return height_of(nodes[0]) >= height_before + 3; }, 20s));
    const auto status = run(fmt::format("status --home {}", nodes[0].home.root.string()));
    INFO(status.text);
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.text, Catch::Contains("\"height\""));
  }

  // A transfer from a validator to the viewer, through the CLI and the node's API.
  const auto viewer = nodes[5];
  const auto before = run(fmt::format("wallet balance --home {}", viewer.home.root.string()));
  REQUIRE(before.exit_code == 0);
  const auto sent = run(fmt::format("wallet transfer {} 12.5 --home {}", viewer.id,
                                    nodes[0].home.root.string()));
  INFO(sent.text);
  REQUIRE(sent.exit_code == 0);
  CHECK_THAT(sent.text, Catch::Contains("committed by height"));
  const auto after = run(fmt::format("wallet balance --home {}", viewer.home.root.string()));
  REQUIRE(after.exit_code == 0);
  CHECK_THAT(after.text, Catch::Contains("balance 1000012.500000 tokens"));

  // kill -9 a validator; the other three keep committing; it comes back and catches up.
  const auto victim = nodes[1];
  REQUIRE(::kill(victim.pid, SIGKILL) == 0);
  const auto height_at_kill = height_of(nodes[0]);
  REQUIRE(eventually([&] { return height_of(nodes[0]) >= height_at_kill + 3; }, 60s));
  REQUIRE(node::start_node_process(STAKECAST_BINARY, victim.home));
  REQUIRE(eventually(
      [&] {
        const auto target = height_of(nodes[0]);
        const auto caught = height_of(victim);
        return target > 0 && caught >= target - 1;
      },
      60s));

  // Bad input through the CLI: clear errors, no crash.
  const auto bad_amount = run(fmt::format("wallet transfer {} 1.2345678 --home {}", viewer.id,
                                          nodes[0].home.root.string()));
  CHECK(bad_amount.exit_code == 2);
  CHECK_THAT(bad_amount.text, Catch::Contains("at most 6 decimals"));
  const auto no_home = run(fmt::format("status --home {}", (dir / "nowhere").string()));
  CHECK(no_home.exit_code == 2);
  CHECK_THAT(no_home.text, Catch::Contains("stakecast init"));

  const auto down = run(fmt::format("devnet down --dir {}", dir.string()));
  INFO(down.text);
  CHECK(down.exit_code == 0);
  for (const auto& n : node::devnet_nodes(dir)) {
    CHECK(n.pid == 0);
    CHECK_FALSE(fs::exists(n.home.api_token_file()));
  }
}

TEST_CASE("devnet up takes the ports it is told and names one that is taken", "[node][devnet]") {
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-devnet-ports-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};

  // A port held by this test: the devnet must refuse it, by number, and make nothing.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor held(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto taken = held.local_endpoint().port();
  const auto refused = run(fmt::format("devnet up --dir {} --validators 1 --masternodes 0 "
                                       "--viewers 0 --base-port {}",
                                       dir.string(), taken));
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.text, Catch::Contains(fmt::format("port {} on 127.0.0.1", taken)));
  CHECK(node::devnet_nodes(dir).empty());

  const auto too_high = run(fmt::format("devnet up --dir {} --validators 4 --base-port 65530",
                                        dir.string()));
  CHECK(too_high.exit_code == 1);
  CHECK_THAT(too_high.text, Catch::Contains("must lie in 1024-65535"));

  // Free ports below the ephemeral range (which outgoing connections draw from): the
  // one node listens on the base port and serves its gateway on the next one.
  held.close();
  const auto base = free_port_pair();
  const auto up = run(fmt::format("devnet up --dir {} --validators 1 --masternodes 0 --viewers 0 "
                                  "--base-port {}",
                                  dir.string(), base));
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  const auto nodes = node::devnet_nodes(dir);
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].config.listen.port == base);
  REQUIRE(nodes[0].config.gateway);
  CHECK(nodes[0].config.gateway->port == base + 1);
  CHECK(fs::exists(nodes[0].home.api_token_file()));

  // A node killed with SIGKILL leaves its pid file and api token; down removes both.
  REQUIRE(::kill(nodes[0].pid, SIGKILL) == 0);
  REQUIRE(eventually([&] { return node::devnet_nodes(dir)[0].pid == 0; }, 10s));
  CHECK(fs::exists(nodes[0].home.api_token_file()));
  const auto down = run(fmt::format("devnet down --dir {}", dir.string()));
  CHECK(down.exit_code == 0);
  CHECK_FALSE(fs::exists(nodes[0].home.api_token_file()));
  CHECK_FALSE(fs::exists(nodes[0].home.pid_file()));
}

TEST_CASE("a one-node chain whose store fills with content goes on committing and says why",
          "[node][devnet]") {
  // The node's store is capped at 24 MiB, 3 MiB of it kept for the chain. A 32 MiB
  // upload is refused part-way (507), and what it stored is removed again; the chain
  // commits on, and /healthz names the refusal. Without the reserve the refused
  // segment left the chain no room and it froze.
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-devnet-full-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};
  const auto args =
      fmt::format("devnet up --dir {} --validators 1 --masternodes 0 --viewers 0", dir.string());
  REQUIRE(run(args).exit_code == 0);
  REQUIRE(run(fmt::format("devnet down --dir {}", dir.string())).exit_code == 0);
  const node::home_folder home{dir / "node-1"};
  auto config = node::load_node_config(home.config_file());
  config.map_size_bytes = 4ull << 20;
  config.map_size_max_bytes = 24ull << 20;
  REQUIRE(node::write_file_atomically(home.config_file(), node::to_yaml(config)).empty());
  const auto up = run(args);
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  const auto n = node::devnet_nodes(dir).at(0);

  const auto file = dir / "big.bin";
  {
    std::ofstream out(file, std::ios::binary);
    std::uint64_t word = 0x9e3779b97f4a7c15ull;
    for (std::size_t i = 0; i < (32u << 20) / sizeof word; ++i) {
      word ^= word << 13, word ^= word >> 7, word ^= word << 17; // incompressible
      out.write(reinterpret_cast<const char*>(&word), sizeof word);
    }
  }
  test::command_output published;
  CHECK(test::publish_file(file, home, published).empty());
  INFO(published.text);
  CHECK(published.exit_code != 0);
  CHECK_THAT(published.text, Catch::Contains("store full for content"));
  CHECK_THAT(published.text, Catch::Contains("the upload was abandoned"));
  // Removed again: LMDB reuses the freed pages once the chain commits on.
  CHECK(eventually(
      [&] {
        const auto status = api_get(n, "/api/status");
        return status.is_object() && status["store"]["room_bytes"].get<std::uint64_t>() > (16ull << 20);
      },
      30s));

  const auto height = height_of(n);
  REQUIRE(height > 0);
  CHECK(eventually([&] { return height_of(n) >= height + 3; }, 30s));
  auto reply = node::http_request(*n.config.gateway, "GET", "/healthz", "", 10s);
  REQUIRE(reply);
  INFO(reply.value->body);
  CHECK(reply.value->status == 200);
  const auto health = nlohmann::json::parse(reply.value->body, nullptr, false);
  REQUIRE(health.is_object());
  CHECK(health["healthy"] == true);
  REQUIRE(health["warnings"].size() == 1);
  CHECK_THAT(health["warnings"][0].get<std::string>(), Catch::Contains("store full for content"));
}

TEST_CASE("strangers holding silent TLS connections do not keep a restarted validator behind",
          "[node][devnet]") {
  // Any Ed25519 key makes a valid certificate: 128 callers with throwaway keys, from
  // 16 loopback addresses, finish their handshake with each of three validators and
  // then say nothing, while the fourth restarts. It must reach the others' height
  // within 20 s. Without slots kept for known peers the strangers held every slot for
  // the 60 s idle timeout and the restarted validator could not reach anyone.
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-devnet-crowd-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};
  auto nodes = four_validators(dir);
  REQUIRE(::kill(nodes[3].pid, SIGKILL) == 0);
  REQUIRE(eventually([&] { return node::running_pid(nodes[3].home) == 0; }, 10s));

  constexpr std::size_t addresses = 16, per_address = 8;
  std::vector<std::unique_ptr<test::raw_client>> strangers;
  std::size_t admitted = 0;
  for (std::size_t v = 0; v < 3; ++v)
    for (std::size_t a = 0; a < addresses; ++a)
      for (std::size_t i = 0; i < per_address; ++i) {
        stakecast::core::hash256 seed;
        seed.bytes.fill(0x5a);
        const auto n = strangers.size();
        seed.bytes[0] = static_cast<std::uint8_t>(n);
        seed.bytes[1] = static_cast<std::uint8_t>(n >> 8);
        auto keys = stakecast::core::key_pair::from_seed(seed);
        REQUIRE(keys);
        auto stranger = std::make_unique<test::raw_client>(*keys);
        const auto source = fmt::format("127.0.0.{}", 2 + a);
        if (!stranger->connect(nodes[v].config.listen.port, source.c_str()) && !stranger->handshake())
          ++admitted;
        strangers.push_back(std::move(stranger));
      }
  CHECK(admitted > 0);

  const auto height_at_start = height_of(nodes[0]);
  REQUIRE(node::start_node_process(STAKECAST_BINARY, nodes[3].home));
  CHECK(eventually(
      [&] {
        const auto target = height_of(nodes[0]);
        return target > height_at_start && height_of(nodes[3]) >= target - 1;
      },
      20s));
  const auto status = api_get(nodes[0], "/api/status");
  REQUIRE(status.is_object());
  const auto& transport = status["transport"];
  INFO(transport.dump());
  CHECK(transport["first_frame_timeouts"].get<std::uint64_t>() +
            transport["refused_unknown_max"].get<std::uint64_t>() +
            transport["refused_address_max"].get<std::uint64_t>() >
        0);
}

TEST_CASE("validators restarted one at a time on a stalled chain sign nothing conflicting",
          "[node][devnet]") {
  // Four validators; two are killed, so the chain stalls at a height with two alive.
  // Each validator is then killed and started again while another one that saw its
  // votes is alive, rotating the pair alive so that the stalled height's proposer is
  // restarted whichever it is (it proposes a new block each time it starts). Without a
  // sign state a restarted validator prevotes again, differently, and a peer submits
  // evidence. Bounds: the chain resumes by 3 heights within 90 s once all are up; the
  // evidence counters of every node, read before each kill and at the end, sum to 0.
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-devnet-sign-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};
  auto nodes = four_validators(dir);

  double evidence = 0;
  const auto read_evidence = [&](const node::devnet_node& n) {
    const auto submitted = counter_of(n, "stakecast_chain_evidence_submitted_total");
    REQUIRE(submitted >= 0);
    evidence += submitted;
  };
  const auto stop = [&](std::size_t i) {
    read_evidence(nodes[i]);
    REQUIRE(::kill(nodes[i].pid, SIGKILL) == 0);
    REQUIRE(eventually([&] { return node::running_pid(nodes[i].home) == 0; }, 10s));
  };
  const auto start = [&](std::size_t i) {
    auto started = node::start_node_process(STAKECAST_BINARY, nodes[i].home);
    REQUIRE(started);
    nodes[i].pid = *started.value;
    REQUIRE(eventually([&] { return height_of(nodes[i]) >= 0; }, 30s));
    std::this_thread::sleep_for(2s); // it proposes or votes, and its peer hears it
  };
  const auto restart = [&](std::size_t i) {
    stop(i);
    start(i);
  };

  stop(2);
  stop(3);
  const auto stalled = height_of(nodes[0]);
  restart(0);
  restart(1);
  stop(0); // alive: 1
  start(2);
  restart(2);
  stop(1); // alive: 2
  start(3);
  restart(3);
  CHECK(height_of(nodes[2]) <= stalled + 1); // two of four never commit
  start(0);
  start(1);
  REQUIRE(eventually([&] { return height_of(nodes[0]) >= stalled + 3; }, 90s));
  std::this_thread::sleep_for(3s); // evidence seen late would be submitted by now
  for (const auto& n : nodes)
    read_evidence(n);
  CHECK(evidence == 0);
}

TEST_CASE("a published MP4 streams byte-identical through another node and pays its masternode",
          "[node][devnet][content]") {
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-content-{}", ::getpid());
  fs::remove_all(dir);
  devnet_guard guard{dir};
  fs::create_directories(dir);

  // A real H.264 MP4 of 12 s at about 2 Mbit/s: about 3 MB, a few segments of many
  // blocks each.
  const auto video = dir / "test.mp4";
  const auto failed = test::make_test_video(video, 12, "2M");
  INFO(failed.value_or(""));
  REQUIRE_FALSE(failed);
  const auto source = read_all(video);
  REQUIRE(source.size() > 1'000'000);

  const auto up = run(fmt::format("devnet up --dir {} --validators 4 --masternodes 1 --viewers 1", dir.string()));
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  auto nodes = node::devnet_nodes(dir);
  REQUIRE(nodes.size() == 6);
  const auto& validator = nodes[0];
  const auto& masternode = nodes[4];
  const auto& publisher = nodes[5];
  REQUIRE(eventually([&] { return height_of(publisher) >= 2; }, 60s));

  test::command_output published;
  const auto content = test::publish_file(video, publisher.home, published);
  INFO(published.text);
  REQUIRE_FALSE(content.empty());

  // The chain places it on the masternode, which fetches it from the publisher.
  REQUIRE(eventually([&] { return holds_whole(masternode, content); }, 60s));
  const auto masternode_before = balance_of(masternode);

  // A validator's gateway streams it through a viewing session: a Range request...
  auto range = node::http_request(*validator.config.gateway, "GET", "/content/" + content, "", 60s,
                                  {{"Range", "bytes=100-20099"}});
  REQUIRE(range);
  CHECK(range.value->status == 206);
  CHECK(range.value->body == source.substr(100, 20000));
  // ... and `stakecast get`, verified against the manifest, is byte-identical: outside
  // the node's download folders it is streamed through the gateway and written by `get`
  // itself...
  const auto copy = dir / "copy.mp4";
  const auto got = run(fmt::format("get {} -o {} --home {}", content, copy.string(), validator.home.root.string()));
  INFO(got.text);
  REQUIRE(got.exit_code == 0);
  CHECK_THAT(got.text, Catch::Contains("outside the folders") && Catch::Contains("streaming it"));
  CHECK(read_all(copy) == source);
  // ... and written by the node into its downloads folder. Again over a file cut short
  // with a wrong last byte (an interrupted `get`): the whole segments before it are
  // kept, the rest is fetched again.
  const auto again = validator.home.downloads_dir() / "again.mp4";
  {
    auto partial = source.substr(0, source.size() * 3 / 5);
    partial.back() = static_cast<char>(partial.back() ^ 0x55);
    std::ofstream(again.string() + ".part", std::ios::binary) << partial;
  }
  const auto resumed = run(fmt::format("get {} -o {} --home {}", content, again.string(), validator.home.root.string()));
  INFO(resumed.text);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.text, Catch::Contains("segments were there already"));
  CHECK(read_all(again) == source);
  // Into a device: streamed through the gateway and verified by `get` itself.
  const auto streamed = run(fmt::format("get {} -o /dev/null --home {}", content, validator.home.root.string()));
  CHECK(streamed.exit_code == 0);
  CHECK_THAT(streamed.text, Catch::Contains("verified"));
  const auto played = run(fmt::format("play {} --home {}", content, validator.home.root.string()));
  CHECK(played.exit_code == 0);
  CHECK_THAT(played.text, Catch::Contains("/content/" + content));

  // The validator's receipts for the masternode's bytes are claimed, and at the next
  // epoch boundary (30 blocks on a devnet) the masternode pool rewards that service.
  CHECK(eventually([&] { return counter_of(masternode, "stakecast_service_receipts_claimed_total") > 0; }, 60s));
  CHECK(eventually([&] { return balance_of(masternode) > masternode_before; }, 60s));
  // From the boundary after the one that settled its placement, the chain audits it:
  // blocks read from the store with their proofs pass, so it is not jailed.
  CHECK(eventually([&] { return counter_of(masternode, "stakecast_service_audits_answered_total") > 0; }, 90s));
  CHECK(counter_of(masternode, "stakecast_service_audits_unheld_total") <= 0);
  // Past the audit window (20 blocks): a wrong answer would have jailed it by now.
  const auto answered_at = height_of(validator);
  CHECK(eventually([&] { return height_of(validator) > answered_at + 20; }, 60s));
  const auto account = api_get(masternode, "/api/account/" + masternode.id);
  REQUIRE(account.is_object());
  CHECK(account["jailed"] == false);

  // kill -9 the masternode: started again, it still holds every segment it stored.
  REQUIRE(::kill(masternode.pid, SIGKILL) == 0);
  REQUIRE(node::start_node_process(STAKECAST_BINARY, masternode.home));
  CHECK(eventually([&] { return holds_whole(masternode, content); }, 60s));

  // Bad input: clear errors, exit code 2.
  const auto missing = run(fmt::format("publish {} --home {}", (dir / "nothing.mp4").string(),
                                       publisher.home.root.string()));
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.text, Catch::Contains("nothing.mp4"));
  const auto bad_id = run(fmt::format("get 12ab -o {} --home {}", (dir / "x").string(),
                                      validator.home.root.string()));
  CHECK(bad_id.exit_code == 2);
  CHECK_THAT(bad_id.text, Catch::Contains("64 hex digits"));
}
