// A real browser plays a video from the node's gateway: a devnet of real processes
// (four validators, a masternode, a viewer), a 20 s H.264 MP4 made by ffmpeg and
// published from the viewer node, then a headless Chromium opens a page holding
// `<video src="http://127.0.0.1:PORT/content/<id>" muted autoplay>` on a validator's
// gateway. The validator holds none of the content, so every byte reaches the browser
// through the validator's viewing session, from the masternode and the publisher.
// Pinned down: `currentTime` passes 3 s with no media error within 60 s; and, as the
// check that the harness can see a failure, a video of a content the chain does not
// know reports a media error and never advances (within 30 s).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "node/devnet.hpp"
#include "node/http_client.hpp"
#include "tests/support/chromium.hpp"
#include "tests/support/devnet.hpp"

namespace node = stakecast::node;
namespace test = stakecast::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// The state of the page's only video, as JSON text, or "no video" before the page has
/// one; never throws.
constexpr const char* video_state = R"js((() => {
  const v = document.querySelector('video');
  if (!v) return 'no video';
  return JSON.stringify({time: v.currentTime, ready: v.readyState, network: v.networkState,
                         paused: v.paused, error: v.error ? v.error.code : 0});
})())js";

struct video_probe {
  double time = 0;
  int error = 0;
  std::string text; // the last state seen, or what went wrong
};

/// Writes a page holding one muted autoplaying video of `url` and returns its file URL.
std::string write_page(const fs::path& file, const std::string& url) {
  std::ofstream page(file, std::ios::trunc);
  page << "<!doctype html><html><body><video src=\"" << url
       << "\" muted autoplay playsinline></video></body></html>\n";
  page.close();
  REQUIRE(page);
  return "file://" + file.string();
}

/// Opens `page` and polls its video every 250 ms until `done` holds or `timeout` passed.
template <class Done>
video_probe watch(test::headless_chromium& browser, const std::string& page,
                  std::chrono::milliseconds timeout, Done done) {
  video_probe probe;
  std::string error;
  const auto session = browser.open(page, 10s, error);
  if (session.empty()) {
    probe.text = error;
    return probe;
  }
  test::eventually(
      [&] {
        const auto value = browser.evaluate(session, video_state, 5s, error);
        if (!value) {
          probe.text = error;
          return false;
        }
        probe.text = value->is_string() ? value->get<std::string>() : value->dump();
        const auto state = nlohmann::json::parse(probe.text, nullptr, false);
        if (!state.is_object())
          return false;
        probe.time = state["time"].get<double>();
        probe.error = state["error"].get<int>();
        return done(probe);
      },
      timeout);
  return probe;
}

} // namespace

TEST_CASE("headless Chromium plays an MP4 streamed through a validator's viewing session",
          "[node][devnet][browser]") {
  const auto dir = fs::temp_directory_path() / fmt::format("stakecast-browser-{}", ::getpid());
  fs::remove_all(dir);
  test::devnet_guard guard{dir};

  const auto up = test::run_stakecast(
      fmt::format("devnet up --dir {} --validators 4 --masternodes 1 --viewers 1", dir.string()));
  INFO(up.text);
  REQUIRE(up.exit_code == 0);
  const auto nodes = node::devnet_nodes(dir);
  REQUIRE(nodes.size() == 6);
  const auto& publisher = nodes[5]; // the viewer-only node
  const auto& player = nodes[1];    // a validator: neither masternode nor publisher
  REQUIRE(player.config.validator);
  REQUIRE_FALSE(player.config.masternode);

  const auto video = dir / "clip.mp4";
  const auto made = test::make_test_video(video, 20);
  INFO(made.value_or(""));
  REQUIRE_FALSE(made);
  test::command_output published;
  const auto id = test::publish_file(video, publisher.home, published);
  INFO(published.text);
  REQUIRE(id.size() == 64);

  // The player holds none of it: the browser's bytes come through a viewing session.
  const auto info =
      node::http_request(*player.config.gateway, "GET", "/api/content/" + id, "", 30s);
  REQUIRE(info);
  INFO(info.value->body);
  REQUIRE(info.value->status == 200);
  CHECK(nlohmann::json::parse(info.value->body)["stored_segments"] == 0);

  std::string error;
  auto browser = test::headless_chromium::start(dir, error);
  INFO(error);
  REQUIRE(browser);

  const auto gateway = player.config.gateway->to_string();
  const auto page = write_page(dir / "play.html", fmt::format("http://{}/content/{}", gateway, id));
  const auto played =
      watch(*browser, page, 60s, [](const video_probe& p) { return p.error != 0 || p.time > 3.0; });
  INFO("last state of the video: " << played.text);
  INFO("chromium's log: " << browser->log_tail());
  CHECK(played.error == 0);
  CHECK(played.time > 3.0);

  // The same harness sees a video that cannot play.
  const auto unknown = std::string(64, 'e');
  const auto broken =
      write_page(dir / "broken.html", fmt::format("http://{}/content/{}", gateway, unknown));
  const auto failed =
      watch(*browser, broken, 30s, [](const video_probe& p) { return p.error != 0; });
  INFO("last state of the broken video: " << failed.text);
  CHECK(failed.error != 0);
  CHECK(failed.time == 0.0);
}
