#include "sim/workloads/streaming_workload.hpp"

#include <algorithm>
#include <memory>

#include <caf/send.hpp>
#include <fmt/format.h>

#include "actors/core/manifest.hpp"
#include "actors/core/placement.hpp"
#include "actors/core/sha256.hpp"
#include "actors/core/virtual_content.hpp"
#include "sim/scenario/reader.hpp"
#include "sim/simulation.hpp"

namespace stakecast::sim {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::nanoseconds session_min = 10s;

core::hash256 video_seed(std::uint64_t run_seed, std::uint32_t index) {
  std::uint64_t words[3] = {run_seed, 0x6f65646976ull /* "video" */, index};
  return core::sha256({reinterpret_cast<const std::uint8_t*>(words), sizeof(words)});
}


double ratio_of(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}


} // namespace

std::string streaming_workload::check(const scenario& config) const {
  if (params_.masternodes + 1 >= config.nodes)
    return fmt::format("{} masternodes and the publisher leave no node for viewers (the scenario has {} nodes)",
                       params_.masternodes, config.nodes);
  for (const auto& [key, name] : {std::pair{"masternodes.access", &params_.masternode_access},
                                   std::pair{"publisher.access", &params_.publisher_access}})
    if (!name->empty() && !config.network.find_access(*name))
      return fmt::format("{} '{}' is not an access class of the network", key, *name);
  if (params_.replication > params_.masternodes)
    return fmt::format("replication {} needs at least as many masternodes ({})",
                       params_.replication, params_.masternodes);
  if (!params_.playback.is_valid())
    return "playback settings are inconsistent: they need urgent <= seed <= window";
  if (params_.crowd && params_.crowd_video >= params_.videos)
    return fmt::format("flash_crowd.video {} is not a rank of the {} videos", params_.crowd_video,
                       params_.videos);
  return {};
}

void streaming_workload::setup(simulation& sim) {
  random_.emplace(core::derive_seed(sim.config().seed, "streaming"));
  popularity_.emplace(params_.videos, params_.zipf_exponent);
  build_catalog(sim);
  place_contents(sim);
  if (!params_.masternode_access.empty()) {
    auto access = *sim.config().network.find_access(params_.masternode_access);
    for (node_index node = 0; node < params_.masternodes; ++node)
      sim.network().set_access(node, access);
  }
  const auto& publisher_access =
    params_.publisher_access.empty() ? params_.masternode_access : params_.publisher_access;
  if (!publisher_access.empty())
    sim.network().set_access(publisher_node(), *sim.config().network.find_access(publisher_access));
  spawn_publisher(sim);
  for (node_index node = 0; node < params_.masternodes; ++node)
    spawn_masternode(sim, node);
  next_viewer_node_ = publisher_node() + 1;
}

void streaming_workload::build_catalog(simulation& sim) {
  auto library = std::make_shared<peer::content_library>();
  const auto content_bytes = static_cast<std::uint64_t>(
    std::chrono::duration<double>(params_.video_duration).count() * params_.bitrate_bps / 8.0);
  for (std::uint32_t rank = 0; rank < params_.videos; ++rank) {
    core::virtual_content content{video_seed(sim.config().seed, rank), content_bytes};
    auto manifest = std::make_shared<const core::manifest>(
      content.make(fmt::format("video-{}", rank), params_.bitrate_bps, params_.segment_duration_ms));
    auto id = core::id_of(*manifest);
    library->manifests.emplace(id, std::move(manifest));
    videos_.push_back(id);
  }
  library_ = std::move(library);
}

void streaming_workload::place_contents(simulation& sim) {
  std::vector<core::placement_candidate> candidates;
  for (node_index node = 0; node < params_.masternodes; ++node)
    candidates.push_back({sim.network().id_of(node), params_.masternode_stake});
  hosted_.assign(params_.masternodes, {});
  for (const auto& video : videos_) {
    auto hosts = core::place(video, candidates, params_.replication);
    for (const auto& host : hosts)
      for (node_index node = 0; node < params_.masternodes; ++node)
        if (sim.network().id_of(node) == host)
          hosted_[node].push_back(video);
    hosts_.push_back(std::move(hosts));
  }
}

void streaming_workload::spawn_masternode(simulation& sim, node_index node) {
  const auto context = sim.context_of(node);
  peer::masternode_config config;
  // Each assigned content comes from the publisher or, failing it, another replica.
  for (const auto& content : hosted_[node]) {
    peer::hosted_assignment assignment{content, {sim.network().id_of(publisher_node())}};
    const auto rank = std::find(videos_.begin(), videos_.end(), content) - videos_.begin();
    for (const auto& host : hosts_[static_cast<std::size_t>(rank)])
      if (host != context.id)
        assignment.sources.push_back(host);
    config.hosted.push_back(std::move(assignment));
  }
  config.storage = sim.kernel().system().spawn(storage::storage, context);
  sim.attach(node, caf::actor_cast<caf::actor>(config.storage));
  config.uplink_bps = sim.config().network.access_classes[sim.network().access_of(node)].uplink_bps;
  config.upload_slots = params_.masternode_upload_slots;
  auto actor = sim.kernel().system().spawn(peer::masternode, context, config);
  sim.bind(node, peer::masternode_messages, caf::actor_cast<caf::actor>(actor));
}

void streaming_workload::spawn_publisher(simulation& sim) {
  const node_index node = publisher_node();
  peer::masternode_config config;
  config.published = library_;
  config.uplink_bps = sim.config().network.access_classes[sim.network().access_of(node)].uplink_bps;
  config.upload_slots = params_.masternode_upload_slots;
  auto actor = sim.kernel().system().spawn(peer::masternode, sim.context_of(node), config);
  sim.bind(node, peer::masternode_messages, caf::actor_cast<caf::actor>(actor));
}

void streaming_workload::start(simulation& sim) {
  if (params_.arrival_rate_per_second > 0)
    schedule_next_arrival(sim);
  if (params_.crowd) {
    for (auto at : params_.crowd->arrivals(*random_))
      if (at < sim.config().duration)
        sim.kernel().at(at, [this, &sim] { arrive(sim, params_.crowd_video); });
    const auto crowd_end = params_.crowd->start + params_.crowd->window;
    if (crowd_end < sim.config().duration)
      sim.kernel().at(crowd_end, [this, &sim] {
        const auto& telemetry = sim.telemetry();
        at_crowd_end_.emplace(telemetry.counter_value("stream.bytes_from_masternodes"),
                              telemetry.counter_value("stream.bytes_from_viewers"));
      });
  }
}

void streaming_workload::schedule_next_arrival(simulation& sim) {
  auto at = sim.kernel().now() + poisson_arrivals(params_.arrival_rate_per_second).next_gap(*random_);
  if (at >= sim.config().duration)
    return;
  sim.kernel().at(at, [this, &sim] {
    arrive(sim, std::nullopt);
    schedule_next_arrival(sim);
  });
}

void streaming_workload::arrive(simulation& sim, std::optional<std::uint32_t> video_rank) {
  ++arrivals_;
  if (next_viewer_node_ >= sim.node_count()) {
    ++arrivals_without_node_;
    return;
  }
  // Sessions end before the run does, so that every session reports its figures.
  const auto left = sim.config().duration - sim.kernel().now() - 1ms;
  if (left < session_min)
    return;
  const node_index node = next_viewer_node_++;
  const auto rank = video_rank ? *video_rank : popularity_->draw(*random_);
  peer::viewer_config config;
  config.content = videos_[rank];
  config.masternodes = hosts_[rank];
  config.uplink_bps = sim.config().network.access_classes[sim.network().access_of(node)].uplink_bps;
  config.cache_bytes = params_.cache_bytes;
  config.playback = params_.playback;
  config.session_length =
    params_.session.draw(*random_, {.min = session_min, .max = std::min(left, params_.video_duration)});
  config.neighbours_max = params_.neighbours;
  config.upload_slots = params_.viewer_upload_slots;
  config.uploads = !random_->bernoulli(params_.free_rider_share);
  config.seeks = plan_seeks(*library_->manifests.at(videos_[rank]), config.session_length);
  if (rank < params_.content_series)
    config.metrics_label = fmt::format("video-{}", rank);
  auto actor = sim.kernel().system().spawn(peer::viewer, sim.context_of(node), config);
  sim.bind(node, peer::viewer_messages, caf::actor_cast<caf::actor>(actor));
}

std::vector<peer::viewer_config::planned_seek>
streaming_workload::plan_seeks(const core::manifest& manifest, virtual_time session_length) {
  std::vector<peer::viewer_config::planned_seek> planned;
  if (params_.seeking.probability_per_minute <= 0.0)
    return planned;
  virtual_time content_length{0};
  for (const auto& segment : manifest.segments)
    content_length += std::chrono::milliseconds(segment.duration_ms);
  for (const auto& seek : params_.seeking.seeks(*random_, session_length, content_length)) {
    // The segment playing at the seek's position.
    virtual_time start{0};
    std::uint32_t segment = 0;
    while (segment + 1 < manifest.segments.size() &&
           start + std::chrono::milliseconds(manifest.segments[segment].duration_ms) <= seek.position)
      start += std::chrono::milliseconds(manifest.segments[segment++].duration_ms);
    planned.push_back({seek.at, segment});
  }
  return planned;
}

void streaming_workload::restart_node(simulation& sim, node_index node) {
  // A masternode comes back with what its store kept (the disk survived) and fetches
  // the rest; the publisher with its contents; a viewer that crashed has left its
  // session for good.
  if (node < params_.masternodes)
    spawn_masternode(sim, node);
  else if (node == publisher_node())
    spawn_publisher(sim);
}

void streaming_workload::report(const simulation& sim, nlohmann::ordered_json& summary) const {
  const auto& telemetry = sim.telemetry();
  auto counter = [&](std::string_view name) { return telemetry.counter_value(name); };
  const auto from_masternodes = counter("stream.bytes_from_masternodes");
  const auto from_viewers = counter("stream.bytes_from_viewers");
  const auto received = from_masternodes + from_viewers;
  const auto played = counter("stream.played_ns");
  const auto stalled = counter("stream.stall_ns");
  const auto segments_played = counter("stream.segments_played");

  auto& qoe = summary["qoe"];
  qoe["startup_delay_s"] = quantiles_json(telemetry.find_histogram("stream.startup_delay_s"), {0.5, 0.95, 0.99});
  qoe["rebuffer_ratio"] = ratio_of(stalled, played + stalled);
  qoe["continuity_index"] =
    segments_played > 0 ? 1.0 - ratio_of(counter("stream.segments_late"), segments_played) : 0.0;
  qoe["p2p_offload_ratio"] = ratio_of(from_viewers, received);
  qoe["duplicate_bytes_ratio"] = ratio_of(counter("stream.duplicate_bytes"), received);
  qoe["masternode_egress_bytes"] = counter("stream.masternode_egress_bytes");
  qoe["share_ratio"] = quantiles_json(telemetry.find_histogram("stream.share_ratio"), {0.1, 0.5, 0.9});
  const auto* longest_stall = telemetry.find_histogram("stream.longest_stall_s");
  qoe["longest_stall_s"] = quantiles_json(longest_stall, {0.5, 0.99});
  qoe["longest_stall_s"]["max"] = longest_stall ? longest_stall->max() : 0.0;
  if (at_crowd_end_) {
    // Once the crowd is in: bytes received since its last arrival.
    qoe["after_crowd"]["p2p_offload_ratio"] =
      ratio_of(from_viewers - at_crowd_end_->second, received - at_crowd_end_->first - at_crowd_end_->second);
  }
  auto& per_content = qoe["per_content"];
  per_content = nlohmann::ordered_json::array();
  for (std::uint32_t rank = 0; rank < std::min(params_.content_series, params_.videos); ++rank) {
    const auto prefix = fmt::format("content.video-{}.", rank);
    auto value = [&](std::string_view what) { return counter(prefix + std::string(what)); };
    const auto content_from_masternodes = value("bytes_from_masternodes");
    const auto content_from_viewers = value("bytes_from_viewers");
    const auto content_received = content_from_masternodes + content_from_viewers;
    per_content.push_back({{"video", rank},
                           {"p2p_offload_ratio", ratio_of(content_from_viewers, content_received)},
                           {"rebuffer_ratio", ratio_of(value("stall_ns"), value("played_ns") + value("stall_ns"))},
                           {"bytes_received", content_received}});
  }

  auto& streaming = summary["streaming"];
  streaming["videos"] = params_.videos;
  streaming["masternodes"] = params_.masternodes;
  streaming["arrivals"] = arrivals_;
  streaming["arrivals_without_node"] = arrivals_without_node_;
  streaming["sessions_started"] = counter("stream.sessions_started");
  streaming["sessions_ended"] = counter("stream.sessions_ended");
  streaming["startup_failures"] = counter("stream.startup_failures");
  streaming["stalls"] = counter("stream.stalls");
  streaming["seeks"] = counter("stream.seeks");
  streaming["seek_wait_s"] = static_cast<double>(counter("stream.seek_wait_ns")) / 1e9;
  streaming["bad_segments"] = counter("stream.bad_segments");
  streaming["played_hours"] = static_cast<double>(played) / 3.6e12;
  streaming["publisher_egress_bytes"] = counter("stream.publisher_egress_bytes");
  streaming["masternode_ingress_bytes"] = counter("stream.masternode_ingress_bytes");
  streaming["masternode_fetch_failures"] = counter("stream.masternode_fetch_failures");
  streaming["masternode_store_failures"] = counter("stream.masternode_store_failures");
}

namespace {

std::optional<flash_crowd> read_crowd(node_reader& section, std::uint32_t& video) {
  if (!section.has("flash_crowd"))
    return std::nullopt;
  auto crowd_section = section.section("flash_crowd");
  flash_crowd crowd;
  crowd.start = crowd_section.required<virtual_time>("at", {.min = 0ns});
  crowd.window = crowd_section.required<virtual_time>("window", {.min = 1ms, .max = 24h});
  crowd.count = crowd_section.required<std::uint32_t>("count", {.min = 1, .max = flash_crowd_arrivals_max});
  video = crowd_section.optional<std::uint32_t>("video", 0);
  return crowd;
}

void read_playback(node_reader& section, scheduler::playback_config& playback) {
  auto read = [&](std::string_view key, std::int64_t& value_ns) {
    value_ns = section.optional<virtual_time>(key, virtual_time{value_ns}, {.min = 1ms, .max = 1h}).count();
  };
  read("startup_buffer", playback.startup_buffer_ns);
  read("resume_buffer", playback.resume_buffer_ns);
  read("window", playback.window_ns);
  read("urgent", playback.urgent_ns);
  read("seed", playback.seed_ns);
  read("request_timeout", playback.request_timeout_ns);
  read("viewer_request_timeout", playback.viewer_request_timeout_ns);
}

std::unique_ptr<workload> make_streaming(node_reader& section) {
  streaming_params params;
  auto catalog = section.optional_section("catalog");
  params.videos = catalog.optional<std::uint32_t>("videos", params.videos, {.min = 1, .max = 100'000});
  params.video_duration = catalog.optional<virtual_time>("duration", params.video_duration, {.min = 10s, .max = 24h});
  params.bitrate_bps = static_cast<std::uint32_t>(
    catalog.optional<bandwidth_bps>("bitrate", bandwidth_bps{static_cast<double>(params.bitrate_bps)},
                                    {.min = bandwidth_bps{100e3}, .max = bandwidth_bps{100e6}})
      .value);
  params.segment_duration_ms = static_cast<std::uint32_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      catalog.optional<virtual_time>("segment_duration", std::chrono::milliseconds(params.segment_duration_ms),
                                     {.min = 500ms, .max = 10s}))
      .count());
  params.zipf_exponent = section.optional<double>("zipf_exponent", params.zipf_exponent, {.min = 0.0, .max = 5.0});
  params.content_series = section.optional<std::uint32_t>("content_series", params.content_series, {.min = 0, .max = 100});

  auto masternodes = section.optional_section("masternodes");
  params.masternodes = masternodes.optional<std::uint32_t>("count", params.masternodes, {.min = 1, .max = 10'000});
  params.masternode_access = masternodes.optional<std::string>("access", params.masternode_access);
  params.masternode_stake = masternodes.optional<std::uint64_t>("stake", params.masternode_stake, {.min = 1});
  params.replication = masternodes.optional<std::uint32_t>(
    "replication", params.replication, {.min = 1, .max = static_cast<std::uint32_t>(peer::fetcher::sources_max - 1)});
  params.masternode_upload_slots = masternodes.optional<std::uint32_t>(
    "upload_slots", params.masternode_upload_slots, {.min = 1, .max = peer::choker_config::upload_slots_max});

  auto publisher = section.optional_section("publisher");
  params.publisher_access = publisher.optional<std::string>("access", params.publisher_access);

  auto viewers = section.optional_section("viewers");
  params.arrival_rate_per_second =
    viewers.optional<double>("arrival_rate", params.arrival_rate_per_second, {.min = 0.0, .max = 1e4});
  params.crowd = read_crowd(viewers, params.crowd_video);
  params.session = read_duration_distribution(viewers, "session", params.session);
  params.cache_bytes = viewers.optional<size_bytes>("cache", size_bytes{params.cache_bytes}, {.min = size_bytes{1 << 20}}).value;
  params.neighbours = viewers.optional<std::uint32_t>("neighbours", params.neighbours, {.min = 1, .max = 64});
  params.viewer_upload_slots = viewers.optional<std::uint32_t>(
    "upload_slots", params.viewer_upload_slots, {.min = 1, .max = peer::choker_config::upload_slots_max});
  params.free_rider_share = viewers.optional<ratio>("free_riders", ratio{params.free_rider_share}).value;
  params.seeking.probability_per_minute =
    viewers.optional<ratio>("seeks_per_minute", ratio{params.seeking.probability_per_minute}).value;

  auto playback = section.optional_section("playback");
  read_playback(playback, params.playback);
  return std::make_unique<streaming_workload>(std::move(params));
}

const workload_registration registration{"streaming", make_streaming,
                                         peer::masternode_messages | peer::viewer_messages};

} // namespace

} // namespace stakecast::sim
