// Pins http_get_streamed (http_client.hpp), the client `stakecast get` downloads with:
// a real gateway on 127.0.0.1:0 serves 3 MiB of pseudo-random bytes from memory, and
// the client must hand a ranged body to its sink in pieces no larger than
// http_stream_chunk_bytes, byte for byte; report a body cut short (the source fails
// at 2 MiB) as an error naming how many bytes arrived, exactly those the sink saw;
// stop when the sink refuses; and give a 404 its error body without calling the sink.
// Every wait is bounded by a 5 s timeout.
#include "node/http_client.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "actors/core/random.hpp"
#include "node/gateway.hpp"

using namespace stakecast;
using namespace stakecast::node;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t sample_size = 3 * 1024 * 1024;

std::string sample() {
  core::random_generator random(core::derive_seed(11, "http_client.test"));
  std::string bytes(sample_size, '\0');
  for (auto& byte : bytes)
    byte = static_cast<char>(random.next());
  return bytes;
}

/// One content in memory; reads at or past `fail_from` fail.
class one_content final : public content_source {
public:
  explicit one_content(std::string bytes) : bytes_(std::move(bytes)) {}
  std::atomic<std::uint64_t> fail_from{~std::uint64_t{0}};

  std::optional<description> describe(const core::content_id& id) override {
    if (id != content_id())
      return std::nullopt;
    return description{bytes_.size(), "application/octet-stream"};
  }
  void read(const core::content_id&, std::uint64_t offset, std::size_t max_bytes,
            std::function<void(read_result)> done) override {
    const std::uint64_t end =
        std::min<std::uint64_t>({offset + max_bytes, bytes_.size(), fail_from.load()});
    if (offset >= end)
      return done(std::string("the source failed"));
    done(shared_bytes::of(core::byte_buffer(bytes_.begin() + static_cast<std::ptrdiff_t>(offset),
                                            bytes_.begin() + static_cast<std::ptrdiff_t>(end))));
  }

  static core::content_id content_id() {
    core::content_id id;
    id.bytes.fill(0x42);
    return id;
  }

private:
  std::string bytes_;
};

struct served {
  std::shared_ptr<one_content> source;
  std::unique_ptr<gateway> server;
  endpoint where;
};

served serve(const std::string& bytes) {
  served out;
  out.source = std::make_shared<one_content>(bytes);
  gateway_options options;
  options.content_timeout_ms = 2'000;
  gateway_services services;
  services.content = out.source;
  std::string error;
  out.server = gateway::start(options, services, error);
  INFO(error);
  REQUIRE(out.server);
  out.where = endpoint{"127.0.0.1", out.server->port()};
  return out;
}

const std::string target = "/content/" + one_content::content_id().to_hex();

} // namespace

TEST_CASE("http_get_streamed hands a ranged body to its sink piece by piece and byte for byte",
          "[node][http_client]") {
  const auto bytes = sample();
  auto s = serve(bytes);
  std::string received;
  std::size_t largest = 0;
  const auto reply = http_get_streamed(s.where, target, 5s, {{"Range", "bytes=1000-"}},
                                       [&](std::string_view piece) {
                                         largest = std::max(largest, piece.size());
                                         received.append(piece);
                                         return std::string{};
                                       });
  INFO(reply.error);
  REQUIRE(reply);
  CHECK(reply.value->status == 206);
  CHECK(reply.value->body_bytes == bytes.size() - 1000);
  CHECK(largest <= http_stream_chunk_bytes);
  CHECK(received == bytes.substr(1000));
}

TEST_CASE("http_get_streamed reports a body cut short with the bytes its sink saw",
          "[node][http_client]") {
  const auto bytes = sample();
  auto s = serve(bytes);
  s.source->fail_from = 2 * 1024 * 1024;
  std::string received;
  const auto reply = http_get_streamed(s.where, target, 5s, {}, [&](std::string_view piece) {
    received.append(piece);
    return std::string{};
  });
  REQUIRE_FALSE(reply);
  CHECK(received.size() == 2 * 1024 * 1024);
  CHECK(received == bytes.substr(0, received.size()));
  CHECK_THAT(reply.error, Catch::Contains(fmt::format("after {} body bytes", received.size())));
}

TEST_CASE("http_get_streamed stops when its sink refuses and keeps a 404 body from the sink",
          "[node][http_client]") {
  auto s = serve(sample());
  std::size_t calls = 0;
  const auto refused = http_get_streamed(s.where, target, 5s, {}, [&](std::string_view) {
    ++calls;
    return std::string("segment 0 fails verification");
  });
  REQUIRE_FALSE(refused);
  CHECK(refused.error == "segment 0 fails verification");
  CHECK(calls == 1);

  calls = 0;
  const auto missing =
      http_get_streamed(s.where, "/content/" + std::string(64, 'a'), 5s, {}, [&](std::string_view) {
        ++calls;
        return std::string{};
      });
  REQUIRE(missing);
  CHECK(missing.value->status == 404);
  CHECK_THAT(missing.value->error_body, Catch::Contains("error"));
  CHECK(calls == 0);
}
