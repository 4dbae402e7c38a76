// Pins the HTTP gateway's behaviour (gateway.hpp) end to end over loopback: a gateway
// on 127.0.0.1:0 serves 3 MiB of pseudo-random bytes from an in-memory content source
// (reads complete at once) and from a threaded one (reads complete later, from another
// thread), and a small Beast client whose every wait is bounded checks: whole and
// ranged bodies byte for byte, 416, HEAD, 404/400/405, /metrics fed by
// prometheus_metrics, /api routed to its handler, keep-alive, oversize and non-HTTP
// requests, a read error or a read too slow mid-body, a client that leaves mid-stream, a
// 1 GiB resource read chunk by chunk, and reads that complete after the gateway is gone
// (the last is sharpest under AddressSanitizer). Against clients that hold connections
// (from 127.0.0.1, like every local client, and from 127.0.0.2-3 for the per-address
// limit): more idle sockets than the table leave an honest request and one with the API
// token answered (within wait_max), busy connections leave the token slots, one address
// gets at most its share, and a silent, idle or dribbled header is cut off after its
// (small) timeout.
#include "node/gateway.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include "actors/core/random.hpp"
#include "node/prometheus_metrics.hpp"

using namespace stakecast;
using namespace stakecast::node;
using namespace std::chrono_literals;

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr auto wait_max = 5s;
constexpr std::size_t sample_bytes_size = 3 * 1024 * 1024;

const core::byte_buffer& sample_bytes() {
  static const core::byte_buffer bytes = [] {
    core::random_generator random(core::derive_seed(7, "gateway.test"));
    core::byte_buffer result(sample_bytes_size);
    for (auto& byte : result)
      byte = static_cast<std::uint8_t>(random.next());
    return result;
  }();
  return bytes;
}

std::string as_string(const core::byte_buffer& bytes, std::size_t first, std::size_t length) {
  return {reinterpret_cast<const char*>(bytes.data()) + first, length};
}

core::content_id id_of(std::uint8_t tag) {
  core::content_id id;
  id.bytes.fill(tag);
  return id;
}

std::string content_path(const core::content_id& id) {
  return "/content/" + id.to_hex();
}

/// Content held in memory; `read` completes at once, on the calling thread. Reads at or
/// past `fail_from_byte` fail, and a read is cut short before it.
class memory_source final : public content_source {
public:
  void put(const core::content_id& id, core::byte_buffer bytes, std::string mime_type) {
    std::lock_guard lock(mutex_);
    contents_[id] = {std::move(bytes), std::move(mime_type)};
  }
  void fail_from_byte(std::uint64_t offset) { fail_from_byte_ = offset; }

  std::optional<description> describe(const core::content_id& id) override {
    std::lock_guard lock(mutex_);
    const auto found = contents_.find(id);
    if (found == contents_.end())
      return std::nullopt;
    return description{found->second.bytes.size(), found->second.mime_type};
  }

  void read(const core::content_id& id, std::uint64_t offset, std::size_t max_bytes,
            std::function<void(read_result)> done) override {
    core::byte_buffer slice;
    {
      std::lock_guard lock(mutex_);
      const auto& bytes = contents_.at(id).bytes;
      const std::uint64_t end =
          std::min<std::uint64_t>({offset + max_bytes, bytes.size(), fail_from_byte_.load()});
      if (offset < end)
        slice.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                     bytes.begin() + static_cast<std::ptrdiff_t>(end));
    }
    if (slice.empty())
      done(std::string("the disk is on fire"));
    else
      done(shared_bytes::of(std::move(slice)));
  }

private:
  struct entry {
    core::byte_buffer bytes;
    std::string mime_type;
  };
  std::mutex mutex_;
  std::map<core::content_id, entry> contents_;
  std::atomic<std::uint64_t> fail_from_byte_ = ~std::uint64_t{0};
};

/// Reads complete on a worker thread after `delay`, like a swarm still fetching.
/// While held, reads stay pending. The destructor completes every pending read (the
/// gateway may be gone by then) and joins the worker.
class threaded_source final : public content_source {
public:
  threaded_source(std::shared_ptr<content_source> inner, std::chrono::milliseconds delay)
      : inner_(std::move(inner)), delay_(delay), worker_([this] { work(); }) {}
  ~threaded_source() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }

  void hold(bool held) {
    {
      std::lock_guard lock(mutex_);
      held_ = held;
    }
    changed_.notify_all();
  }
  /// Waits (at most wait_max) until at least `count` reads are pending.
  bool wait_pending(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, wait_max, [&] { return jobs_.size() >= count; });
  }

  std::optional<description> describe(const core::content_id& id) override {
    return inner_->describe(id);
  }
  void read(const core::content_id& id, std::uint64_t offset, std::size_t max_bytes,
            std::function<void(read_result)> done) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back({id, offset, max_bytes, std::move(done)});
    }
    changed_.notify_all();
  }

private:
  struct job {
    core::content_id id;
    std::uint64_t offset;
    std::size_t max_bytes;
    std::function<void(read_result)> done;
  };

  void work() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stopping_ || (!held_ && !jobs_.empty()); });
      if (stopping_)
        break;
      job next = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      std::this_thread::sleep_for(delay_);
      inner_->read(next.id, next.offset, next.max_bytes, std::move(next.done));
      lock.lock();
    }
    for (auto& pending : jobs_) // late completions: whoever asked may be gone
      inner_->read(pending.id, pending.offset, pending.max_bytes, std::move(pending.done));
  }

  std::shared_ptr<content_source> inner_;
  const std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<job> jobs_;
  bool held_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

/// A 1 GiB resource whose bytes are a function of their offset, never held whole.
class huge_source final : public content_source {
public:
  static constexpr std::uint64_t size_bytes = std::uint64_t{1} << 30;
  static std::uint8_t byte_at(std::uint64_t offset) {
    return static_cast<std::uint8_t>((offset * 131) % 251);
  }

  std::optional<description> describe(const core::content_id&) override {
    return description{size_bytes, "video/mp4"};
  }
  void read(const core::content_id&, std::uint64_t offset, std::size_t max_bytes,
            std::function<void(read_result)> done) override {
    asked_bytes_max = std::max<std::size_t>(asked_bytes_max, max_bytes);
    bytes_read += max_bytes;
    core::byte_buffer slice(max_bytes);
    for (std::size_t i = 0; i < max_bytes; ++i)
      slice[i] = byte_at(offset + i);
    done(shared_bytes::of(std::move(slice)));
  }

  std::atomic<std::size_t> asked_bytes_max = 0;
  std::atomic<std::uint64_t> bytes_read = 0;
};

using response = http::response<http::string_body>;

http::request<http::string_body> make_request(http::verb method, const std::string& target,
                                              const std::string& range = "",
                                              const std::string& body = "") {
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!range.empty())
    request.set(http::field::range, range);
  if (!body.empty() || method == http::verb::post) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  return request;
}

/// A blocking HTTP client whose every wait is bounded: each operation runs the
/// client's own io_context until it completes or wait_max passes, and then fails with
/// timed_out.
class test_client {
public:
  /// `from`: the loopback address the client connects from (the gateway counts
  /// connections per address).
  explicit test_client(std::uint16_t port, const char* from = "127.0.0.1") {
    const tcp::endpoint server{net::ip::make_address("127.0.0.1"), port};
    socket_.open(tcp::v4(), connect_error);
    if (!connect_error)
      socket_.bind({net::ip::make_address(from), 0}, connect_error);
    if (!connect_error)
      connect_error = run([&](auto done) { socket_.async_connect(server, done); });
  }

  error_code send(const http::request<http::string_body>& request) {
    return run([&](auto done) {
      http::async_write(socket_, request, [done](error_code error, std::size_t) { done(error); });
    });
  }

  /// Reads one response; HEAD responses have no body however long they say it is.
  std::pair<error_code, response> receive(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    const error_code error = run([&](auto done) {
      http::async_read(socket_, buffer_, parser,
                       [done](error_code failure, std::size_t) { done(failure); });
    });
    return {error, parser.release()};
  }

  /// One request, one response; the response is empty when either failed.
  response exchange(const http::request<http::string_body>& request) {
    error_code error = send(request);
    INFO("send: " << error.message());
    REQUIRE(!error);
    auto [receive_error, answer] = receive(request.method() == http::verb::head);
    INFO("receive: " << receive_error.message());
    REQUIRE(!receive_error);
    return answer;
  }

  error_code send_raw(const std::string& bytes) {
    return run([&](auto done) {
      net::async_write(socket_, net::buffer(bytes),
                       [done](error_code error, std::size_t) { done(error); });
    });
  }

  /// Reads exactly `count` raw bytes (header and body, unparsed).
  error_code read_raw(std::size_t count) {
    std::string bytes(count, '\0');
    return run([&](auto done) {
      net::async_read(socket_, net::buffer(bytes),
                      [done](error_code error, std::size_t) { done(error); });
    });
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

  error_code connect_error;

private:
  template <class Start> error_code run(Start start) {
    std::optional<error_code> result;
    start([&result](error_code error) { result = error; });
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + wait_max;
    while (!result && io_.run_one_until(deadline) > 0) {
    }
    if (!result) {
      close(); // the pending operation completes as aborted
      io_.restart();
      io_.poll();
      return net::error::timed_out;
    }
    return *result;
  }

  net::io_context io_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
};

std::unique_ptr<gateway> start_gateway(gateway_services services, gateway_options options = {}) {
  std::string error;
  auto started = gateway::start(std::move(options), std::move(services), error);
  INFO(error);
  REQUIRE(started != nullptr);
  REQUIRE(started->port() != 0);
  return started;
}

std::shared_ptr<memory_source> sample_source() {
  auto source = std::make_shared<memory_source>();
  source->put(id_of(1), sample_bytes(), "video/mp4");
  source->put(id_of(2), {}, "video/mp4");
  return source;
}

void check_range(test_client& client, const std::string& range, std::size_t first,
                 std::size_t length) {
  INFO(range);
  const auto answer = client.exchange(make_request(http::verb::get, content_path(id_of(1)), range));
  CHECK(answer.result() == http::status::partial_content);
  CHECK(answer[http::field::content_range] == "bytes " + std::to_string(first) + "-" +
                                                  std::to_string(first + length - 1) + "/" +
                                                  std::to_string(sample_bytes_size));
  CHECK(answer[http::field::content_length] == std::to_string(length));
  CHECK(answer.body() == as_string(sample_bytes(), first, length));
}

} // namespace

TEST_CASE("a whole GET returns the content byte for byte", "[gateway]") {
  for (const bool threaded : {false, true}) {
    INFO("threaded source: " << threaded);
    std::shared_ptr<content_source> source = sample_source();
    if (threaded)
      source = std::make_shared<threaded_source>(source, 1ms);
    gateway_options options;
    options.chunk_bytes = 200 * 1000; // not a divisor of the size: a short last chunk
    auto server = start_gateway({source, nullptr, nullptr}, options);
    test_client client(server->port());
    REQUIRE(!client.connect_error);
    const auto answer = client.exchange(make_request(http::verb::get, content_path(id_of(1))));
    CHECK(answer.result() == http::status::ok);
    CHECK(answer[http::field::accept_ranges] == "bytes");
    CHECK(answer[http::field::content_type] == "video/mp4");
    CHECK(answer[http::field::content_length] == std::to_string(sample_bytes_size));
    CHECK(answer[http::field::access_control_allow_origin] == "*");
    CHECK(answer.body() == as_string(sample_bytes(), 0, sample_bytes_size));
  }
}

TEST_CASE("range requests return 206 with the bytes asked for", "[gateway]") {
  for (const bool threaded : {false, true}) {
    INFO("threaded source: " << threaded);
    std::shared_ptr<content_source> source = sample_source();
    if (threaded)
      source = std::make_shared<threaded_source>(source, 1ms);
    auto server = start_gateway({source, nullptr, nullptr});
    test_client client(server->port());
    REQUIRE(!client.connect_error);
    check_range(client, "bytes=1000-", 1000, sample_bytes_size - 1000);
    check_range(client, "bytes=-500", sample_bytes_size - 500, 500);
    check_range(client, "bytes=100-199", 100, 100);
    check_range(client, "bytes=0-0", 0, 1);
  }
}

TEST_CASE("a range past the end is answered 416 with the size", "[gateway]") {
  auto server = start_gateway({sample_source(), nullptr, nullptr});
  test_client client(server->port());
  const auto answer =
      client.exchange(make_request(http::verb::get, content_path(id_of(1)), "bytes=99999999-"));
  CHECK(answer.result() == http::status::range_not_satisfiable);
  CHECK(answer[http::field::content_range] == "bytes */" + std::to_string(sample_bytes_size));
  // Empty content: every range is unsatisfiable, and a plain GET is an empty 200.
  CHECK(
      client.exchange(make_request(http::verb::get, content_path(id_of(2)), "bytes=0-")).result() ==
      http::status::range_not_satisfiable);
  const auto empty = client.exchange(make_request(http::verb::get, content_path(id_of(2))));
  CHECK(empty.result() == http::status::ok);
  CHECK(empty[http::field::content_length] == "0");
}

TEST_CASE("HEAD gives the headers of a GET without the body", "[gateway]") {
  auto server = start_gateway({sample_source(), nullptr, nullptr});
  test_client client(server->port());
  const auto whole = client.exchange(make_request(http::verb::head, content_path(id_of(1))));
  CHECK(whole.result() == http::status::ok);
  CHECK(whole[http::field::content_length] == std::to_string(sample_bytes_size));
  CHECK(whole.body().empty());
  const auto part =
      client.exchange(make_request(http::verb::head, content_path(id_of(1)), "bytes=10-19"));
  CHECK(part.result() == http::status::partial_content);
  CHECK(part[http::field::content_length] == "10");
  // No body was sent: the next response on the connection parses cleanly.
  const auto after =
      client.exchange(make_request(http::verb::get, content_path(id_of(1)), "bytes=0-3"));
  CHECK(after.body() == as_string(sample_bytes(), 0, 4));
}

TEST_CASE("unknown content is 404 and a malformed id 400", "[gateway]") {
  auto server = start_gateway({sample_source(), nullptr, nullptr});
  test_client client(server->port());
  CHECK(client.exchange(make_request(http::verb::get, content_path(id_of(9)))).result() ==
        http::status::not_found);
  const std::vector<std::string> malformed = {"/content/xyz", "/content/" + std::string(63, 'a'),
                                              "/content/" + std::string(65, 'a'), "/content/",
                                              "/content/" + std::string(62, 'a') + "zz"};
  for (const std::string& bad : malformed) {
    INFO(bad);
    const auto answer = client.exchange(make_request(http::verb::get, bad));
    CHECK(answer.result() == http::status::bad_request);
    CHECK(answer.body().find("64 hex digits") != std::string::npos);
  }
  CHECK(client.exchange(make_request(http::verb::get, "/nowhere")).result() ==
        http::status::not_found);
  const auto wrong = client.exchange(make_request(http::verb::post, content_path(id_of(1))));
  CHECK(wrong.result() == http::status::method_not_allowed);
  CHECK(wrong[http::field::allow] == "GET, HEAD");
  CHECK(client.exchange(make_request(http::verb::delete_, "/metrics"))[http::field::allow] ==
        "GET");
}

TEST_CASE("metrics counted through prometheus_metrics are served at /metrics", "[gateway]") {
  prometheus_metrics metrics;
  const auto egress = metrics.counter("stream.masternode_egress_bytes");
  metrics.add(egress, 1234);
  metrics.record(metrics.histogram("chain.block_time_s"), 0.5);
  metrics.event(metrics.event_kind("chain.commit"), core::node_id{}, 1, 2);
  auto server = start_gateway({nullptr, metrics.registry(), nullptr});
  test_client client(server->port());
  const auto answer = client.exchange(make_request(http::verb::get, "/metrics"));
  CHECK(answer.result() == http::status::ok);
  CHECK(answer[http::field::content_type] == "text/plain; version=0.0.4");
  CHECK(answer.body().find("stakecast_stream_masternode_egress_bytes_total 1234") !=
        std::string::npos);
  CHECK(answer.body().find("stakecast_events_chain_commit_total 1") != std::string::npos);
  CHECK(answer.body().find("stakecast_chain_block_time_s_count 1") != std::string::npos);
  // Without content or api, their routes are 404.
  CHECK(client.exchange(make_request(http::verb::get, content_path(id_of(1)))).result() ==
        http::status::not_found);
  CHECK(client.exchange(make_request(http::verb::get, "/api/status")).result() ==
        http::status::not_found);
}

TEST_CASE("api requests reach the handler and its answer is JSON", "[gateway]") {
  std::mutex seen_mutex;
  std::vector<api_request> seen;
  api_handler handler = [&](const api_request& request) -> api_response {
    std::lock_guard lock(seen_mutex);
    seen.push_back(request);
    if (request.target == "/api/fail")
      throw std::runtime_error("the wallet is locked");
    if (request.target == "/api/odd")
      return {1000, {{"odd", true}}};
    return {request.method == "POST" ? 201u : 200u, {{"height", 42}, {"echo", request.body}}};
  };
  auto server = start_gateway({nullptr, nullptr, handler});
  test_client client(server->port());

  const auto status = client.exchange(make_request(http::verb::get, "/api/status?verbose=1"));
  CHECK(status.result() == http::status::ok);
  CHECK(status[http::field::content_type] == "application/json");
  CHECK(nlohmann::json::parse(status.body())["height"] == 42);

  const auto posted =
      client.exchange(make_request(http::verb::post, "/api/wallet", "", R"({"to":"x"})"));
  CHECK(posted.result() == http::status::created);
  CHECK(nlohmann::json::parse(posted.body())["echo"] == R"({"to":"x"})");

  const auto failed = client.exchange(make_request(http::verb::get, "/api/fail"));
  CHECK(failed.result() == http::status::internal_server_error);
  CHECK(nlohmann::json::parse(failed.body())["error"].get<std::string>().find("wallet is locked") !=
        std::string::npos);
  CHECK(client.exchange(make_request(http::verb::get, "/api/odd")).result() ==
        http::status::internal_server_error);
  const auto wrong = client.exchange(make_request(http::verb::put, "/api/status"));
  CHECK(wrong.result() == http::status::method_not_allowed);
  CHECK(wrong[http::field::allow] == "GET, POST");

  std::lock_guard lock(seen_mutex);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].target == "/api/status?verbose=1");
  CHECK(seen[1].method == "POST");
  CHECK(seen[1].body == R"({"to":"x"})");
}

TEST_CASE("two requests share one keep-alive connection", "[gateway]") {
  auto server = start_gateway({sample_source(), nullptr, nullptr});
  test_client client(server->port());
  const auto first = client.exchange(make_request(http::verb::get, content_path(id_of(1))));
  CHECK(first.keep_alive());
  CHECK(first.body().size() == sample_bytes_size);
  const auto second =
      client.exchange(make_request(http::verb::get, content_path(id_of(1)), "bytes=5-9"));
  CHECK(second.body() == as_string(sample_bytes(), 5, 5));
  // Connection: close is honoured: the server ends the connection after the answer.
  auto closing = make_request(http::verb::get, content_path(id_of(1)), "bytes=0-0");
  closing.keep_alive(false);
  CHECK(client.exchange(closing).body().size() == 1);
  CHECK(client.receive().first == http::error::end_of_stream);
}

TEST_CASE("a new connection takes the place of the one waiting longest for a request",
          "[gateway]") {
  gateway_options options;
  options.connections_max = 2;
  auto server = start_gateway({sample_source(), nullptr, nullptr}, options);
  const auto small = make_request(http::verb::get, content_path(id_of(1)), "bytes=0-9");
  test_client first(server->port());
  test_client second(server->port());
  // A completed exchange means the gateway has accepted and counted the connection;
  // both now wait for their next request, the first for longer.
  CHECK(first.exchange(small).body().size() == 10);
  CHECK(second.exchange(small).body().size() == 10);

  test_client third(server->port());
  CHECK(third.exchange(small).body().size() == 10);
  const auto closed = first.receive().first;
  INFO(closed.message());
  CHECK(closed != error_code{});
  CHECK(closed != net::error::timed_out);
  CHECK(second.exchange(small).body().size() == 10);
}

TEST_CASE("a connection beyond connections_max is closed when every other one is answering",
          "[gateway]") {
  auto source = std::make_shared<threaded_source>(sample_source(), 0ms);
  source->hold(true);
  gateway_options options;
  options.connections_max = 2;
  auto server = start_gateway({source, nullptr, nullptr}, options);
  const auto small = make_request(http::verb::get, content_path(id_of(1)), "bytes=0-9");
  test_client first(server->port());
  test_client second(server->port());
  REQUIRE(!first.send(small));
  REQUIRE(!second.send(small));
  REQUIRE(source->wait_pending(2)); // both are answering, their reads held

  test_client third(server->port()); // the kernel accepts; the gateway closes at once
  error_code refused = third.send(small);
  if (!refused)
    refused = third.receive().first;
  INFO(refused.message());
  CHECK(refused != error_code{});
  CHECK(refused != net::error::timed_out);

  source->hold(false);
  CHECK(first.receive().second.body() == as_string(sample_bytes(), 0, 10));
  CHECK(second.receive().second.body() == as_string(sample_bytes(), 0, 10));
}

TEST_CASE("a client that leaves mid-stream leaves the gateway serving", "[gateway]") {
  for (const bool threaded : {false, true}) {
    INFO("threaded source: " << threaded);
    std::shared_ptr<content_source> source = sample_source();
    if (threaded)
      source = std::make_shared<threaded_source>(source, 2ms);
    gateway_options options;
    options.chunk_bytes = 64 * 1024;
    auto server = start_gateway({source, nullptr, nullptr}, options);
    {
      test_client leaving(server->port());
      REQUIRE(!leaving.send(make_request(http::verb::get, content_path(id_of(1)))));
      CHECK(!leaving.read_raw(100 * 1024));
      leaving.close();
    }
    test_client next(server->port());
    const auto answer = next.exchange(make_request(http::verb::get, content_path(id_of(1))));
    CHECK(answer.body() == as_string(sample_bytes(), 0, sample_bytes_size));
  }
}

TEST_CASE("a read error mid-body cuts the body short and closes", "[gateway]") {
  auto source = sample_source();
  source->fail_from_byte(1024 * 1024);
  gateway_options options;
  options.chunk_bytes = 100 * 1000;
  auto server = start_gateway({source, nullptr, nullptr}, options);
  test_client client(server->port());
  REQUIRE(!client.send(make_request(http::verb::get, content_path(id_of(1)))));
  const auto [error, answer] = client.receive();
  CHECK(error == http::error::partial_message);
  test_client next(server->port());
  CHECK(next.exchange(make_request(http::verb::get, content_path(id_of(1)), "bytes=0-99")).body() ==
        as_string(sample_bytes(), 0, 100));
}

TEST_CASE("a 1 GiB resource is read chunk by chunk as the client takes it", "[gateway]") {
  auto source = std::make_shared<huge_source>();
  gateway_options options;
  options.chunk_bytes = 128 * 1024;
  auto server = start_gateway({source, nullptr, nullptr}, options);
  {
    test_client client(server->port());
    const auto answer =
        client.exchange(make_request(http::verb::get, content_path(id_of(3)), "bytes=1073741000-"));
    CHECK(answer[http::field::content_range] == "bytes 1073741000-1073741823/1073741824");
    REQUIRE(answer.body().size() == 824);
    CHECK(static_cast<std::uint8_t>(answer.body()[0]) == huge_source::byte_at(1073741000));
    CHECK(static_cast<std::uint8_t>(answer.body()[823]) == huge_source::byte_at(1073741823));

    REQUIRE(!client.send(make_request(http::verb::get, content_path(id_of(3)))));
    CHECK(!client.read_raw(4 * 1024 * 1024));
    client.close();
  }
  test_client next(server->port()); // served after the other connection was dropped
  CHECK(
      next.exchange(make_request(http::verb::get, content_path(id_of(3)), "bytes=0-0")).result() ==
      http::status::partial_content);
  CHECK(source->asked_bytes_max <= options.chunk_bytes);
  // The reader stopped at 4 MiB: the gateway read ahead by at most the socket buffers.
  CHECK(source->bytes_read < 256ull * 1024 * 1024);
}

TEST_CASE("oversize headers and bodies are refused", "[gateway]") {
  gateway_options options;
  options.request_header_bytes_max = 1024;
  options.body_bytes_max = 100;
  auto server =
      start_gateway({nullptr, nullptr, [](const api_request&) { return api_response{}; }}, options);
  {
    test_client client(server->port());
    auto request = make_request(http::verb::get, "/api/status");
    request.set("X-Padding", std::string(2000, 'p'));
    REQUIRE(!client.send(request));
    const auto [error, answer] = client.receive();
    CHECK(!error);
    CHECK(answer.result() == http::status::request_header_fields_too_large);
    CHECK(!answer.keep_alive());
  }
  {
    test_client client(server->port());
    auto request = make_request(http::verb::post, "/api/status");
    request.content_length(1000 * 1000); // announced, never sent
    REQUIRE(!client.send(request));
    const auto [error, answer] = client.receive();
    CHECK(!error);
    CHECK(answer.result() == http::status::payload_too_large);
  }
  test_client client(server->port());
  CHECK(client.exchange(make_request(http::verb::post, "/api/status", "", std::string(100, ' ')))
            .result() == http::status::ok);
}

TEST_CASE("a read that completes after the gateway is gone is dropped", "[gateway]") {
  auto source = std::make_shared<threaded_source>(sample_source(), 0ms);
  source->hold(true);
  auto server = start_gateway({source, nullptr, nullptr});
  test_client client(server->port());
  REQUIRE(!client.send(make_request(http::verb::get, content_path(id_of(1)))));
  REQUIRE(source->wait_pending(1));
  server.reset(); // the read is still pending
  source->hold(false);
  // The worker now completes the read against a destroyed gateway; the client sees
  // the connection closed without a response.
  CHECK(client.receive().first != error_code{});
}

TEST_CASE("a request that is not HTTP is answered 400 and closed", "[gateway]") {
  auto server = start_gateway({sample_source(), nullptr, nullptr});
  test_client client(server->port());
  REQUIRE(!client.send_raw("HELLO THERE\r\n\r\n"));
  const auto [error, answer] = client.receive();
  CHECK(!error);
  CHECK(answer.result() == http::status::bad_request);
  CHECK(!answer.keep_alive());
  CHECK(client.receive().first == http::error::end_of_stream);
}

TEST_CASE("a content read slower than content_timeout_ms closes the connection", "[gateway]") {
  auto source = std::make_shared<threaded_source>(sample_source(), 0ms);
  source->hold(true);
  gateway_options options;
  options.content_timeout_ms = 50;
  auto server = start_gateway({source, nullptr, nullptr}, options);
  test_client client(server->port());
  REQUIRE(!client.send(make_request(http::verb::get, content_path(id_of(1)))));
  // The header is out; the body never comes and the gateway gives up on it.
  CHECK(client.receive().first == http::error::partial_message);
  source->hold(false); // the late completion finds its connection gone
  test_client next(server->port());
  CHECK(next.exchange(make_request(http::verb::get, content_path(id_of(1)), "bytes=0-9")).body() ==
        as_string(sample_bytes(), 0, 10));
}

namespace {

constexpr const char* test_token = "0123456789abcdef";

http::request<http::string_body> api_status(bool with_token) {
  auto request = make_request(http::verb::get, "/api/status");
  if (with_token)
    request.set(http::field::authorization, std::string("Bearer ") + test_token);
  return request;
}

api_handler status_handler() {
  return [](const api_request& request) {
    return api_response{200, {{"authorized", !request.authorization.empty()}}};
  };
}

/// Opens `count` connections that send nothing, or the start of a header when
/// `started`, and keeps them open.
std::vector<std::unique_ptr<test_client>> idle_clients(std::uint16_t port, std::size_t count,
                                                       bool started = false,
                                                       const char* from = "127.0.0.1") {
  std::vector<std::unique_ptr<test_client>> clients;
  for (std::size_t i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<test_client>(port, from));
    REQUIRE(!clients.back()->connect_error);
    if (started)
      REQUIRE(!clients.back()->send_raw("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  return clients;
}

} // namespace

TEST_CASE("idle sockets beyond the limit shut out neither a client nor the command line",
          "[gateway]") {
  gateway_options options;
  options.connections_max = 8;
  options.api_token = test_token;
  // Long enough that only making room, not a timeout, can let the last clients in.
  options.header_timeout_ms = 60'000;
  options.idle_timeout_ms = 60'000;
  auto server = start_gateway({sample_source(), nullptr, status_handler()}, options);
  // Three tables' worth from 127.0.0.1, the address every local client shares: silent
  // ones and ones that stopped half-way through their header. The gateway accepts in
  // order, so all of them are in before the clients below.
  auto silent = idle_clients(server->port(), 12);
  auto dribbling = idle_clients(server->port(), 12, true);

  test_client honest(server->port());
  REQUIRE(!honest.connect_error);
  CHECK(
      honest.exchange(make_request(http::verb::get, content_path(id_of(1)), "bytes=0-9")).body() ==
      as_string(sample_bytes(), 0, 10));
  test_client command_line(server->port());
  REQUIRE(!command_line.connect_error);
  const auto answer = command_line.exchange(api_status(true));
  CHECK(answer.result() == http::status::ok);
  CHECK(nlohmann::json::parse(answer.body())["authorized"] == true);
  // The oldest of the idle ones made the room.
  const auto closed = silent.front()->receive().first;
  CHECK(closed != error_code{});
  CHECK(closed != net::error::timed_out);
}

TEST_CASE("when every connection is answering the token slots still serve the command line",
          "[gateway]") {
  auto source = std::make_shared<threaded_source>(sample_source(), 0ms);
  source->hold(true);
  gateway_options options;
  options.connections_max = 3;
  options.token_connections_max = 2;
  options.api_token = test_token;
  options.header_timeout_ms = 60'000;
  auto server = start_gateway({source, nullptr, status_handler()}, options);
  std::vector<std::unique_ptr<test_client>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<test_client>(server->port()));
    REQUIRE(!busy.back()->send(make_request(http::verb::get, content_path(id_of(1)))));
  }
  REQUIRE(source->wait_pending(3)); // every regular connection is answering

  // A token slot serves only the token...
  test_client stranger(server->port());
  const auto refused = stranger.exchange(api_status(false));
  CHECK(refused.result() == http::status::service_unavailable);
  CHECK(refused.body().find("API token") != std::string::npos);
  CHECK(!refused.keep_alive());
  test_client command_line(server->port());
  CHECK(command_line.exchange(api_status(true)).result() == http::status::ok);
  // ... and sockets that send nothing cannot hold the token slots either.
  auto silent = idle_clients(server->port(), 4);
  test_client again(server->port());
  CHECK(again.exchange(api_status(true)).result() == http::status::ok);
  source->hold(false);
}

TEST_CASE("one address holds at most connections_per_address_max of the table", "[gateway]") {
  auto source = std::make_shared<threaded_source>(sample_source(), 0ms);
  source->hold(true);
  gateway_options options;
  options.connections_max = 8;
  options.connections_per_address_max = 2;
  options.api_token = test_token;
  options.header_timeout_ms = 60'000;
  auto server = start_gateway({source, nullptr, status_handler()}, options);
  // 127.0.0.2 fills its share with answering connections, then opens more idle ones,
  // which take each other's place, never another address's.
  std::vector<std::unique_ptr<test_client>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(std::make_unique<test_client>(server->port(), "127.0.0.2"));
    REQUIRE(!busy.back()->connect_error);
    REQUIRE(!busy.back()->send(make_request(http::verb::get, content_path(id_of(1)))));
  }
  REQUIRE(source->wait_pending(2));
  test_client over(server->port(), "127.0.0.2");
  REQUIRE(!over.connect_error);
  CHECK(over.exchange(api_status(false)).result() == http::status::service_unavailable);
  // Another address is served as if 127.0.0.2 were not there.
  auto others = idle_clients(server->port(), 5, false, "127.0.0.3");
  test_client local(server->port());
  CHECK(local.exchange(api_status(false)).result() == http::status::ok);
  source->hold(false);
}

TEST_CASE("a header dribbled slower than header_timeout_ms is cut off", "[gateway]") {
  gateway_options options;
  options.header_timeout_ms = 300;
  auto server = start_gateway({sample_source(), nullptr, status_handler()}, options);
  const auto began = std::chrono::steady_clock::now();
  test_client slow(server->port());
  REQUIRE(!slow.connect_error);
  REQUIRE(!slow.send_raw("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  // A header line every 50 ms, for 5 s at most (well within request_header_bytes_max):
  // each byte in time for a per-read timeout, the whole far too slow.
  error_code cut;
  for (int line = 0; line < 100 && !cut; ++line) {
    std::this_thread::sleep_for(50ms);
    cut = slow.send_raw("X-Slow-" + std::to_string(line) + ": 1\r\n");
  }
  INFO(cut.message());
  CHECK(cut != error_code{});
  CHECK(std::chrono::steady_clock::now() - began >= 300ms);
  // Nothing was answered: the connection just ended.
  CHECK(slow.receive().first != error_code{});
}

TEST_CASE("a silent connection goes after header_timeout_ms and an idle one after idle_timeout_ms",
          "[gateway]") {
  gateway_options options;
  options.header_timeout_ms = 200;
  options.idle_timeout_ms = 300;
  auto server = start_gateway({sample_source(), nullptr, status_handler()}, options);
  test_client silent(server->port());
  REQUIRE(!silent.connect_error);
  const auto never = silent.receive().first; // bounded by wait_max, far above 200 ms
  INFO(never.message());
  CHECK(never == http::error::end_of_stream);
  test_client kept(server->port());
  CHECK(kept.exchange(api_status(false)).result() == http::status::ok);
  const auto idle = kept.receive().first;
  INFO(idle.message());
  CHECK(idle == http::error::end_of_stream);
}
