#include "node/commands.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actors/core/record_codec.hpp"
#include "actors/validator/rules/transaction.hpp"
#include "actors/config/units.hpp"
#include "actors/core/manifest.hpp"
#include "node/devnet.hpp"
#include "node/content_saver.hpp"
#include "node/publication.hpp"
#include "node/http_client.hpp"
#include "node/runtime.hpp"

namespace stakecast::node {

namespace {

using namespace std::chrono_literals;
constexpr auto api_timeout = 30s;
/// A segment through the gateway: the swarm may still be fetching it.
constexpr auto content_timeout = 90s;
/// How often `get` asks after a save the node runs for it.
constexpr auto save_poll = 20ms;
/// A save whose bytes have not moved for this long is given up: the node asks each
/// segment again for at most about this long.
constexpr auto save_stall_max = 600s;

/// Operating failures (1) and bad input (2), reported at the edge of each command.
struct command_error {
  int code;
  std::string message;
};

[[noreturn]] void fail(int code, std::string message) {
  throw command_error{code, std::move(message)};
}

/// `body` as a CLI11 callback: a command_error becomes its message on stderr and its
/// exit code.
template <class Body>
std::function<void()> guarded(int& exit_code, Body body) {
  return [&exit_code, body = std::move(body)] {
    try {
      body();
    } catch (const command_error& error) {
      std::fprintf(stderr, "error: %s\n", error.message.c_str());
      exit_code = error.code;
    }
  };
}

node_config load_config(const home_folder& home) {
  try {
    return load_node_config(home.config_file());
  } catch (const config::config_exception& error) {
    if (!std::filesystem::exists(home.config_file()))
      fail(2, fmt::format("no node at {}: run `stakecast init --home {}` first",
                          home.root.string(), home.root.string()));
    fail(2, error.what());
  }
}

endpoint gateway_of(const home_folder& home) {
  const auto config = load_config(home);
  if (!config.gateway)
    fail(2, fmt::format("{}: the gateway is off, and the command line talks to the node through it",
                        home.config_file().string()));
  return *config.gateway;
}

struct api_reply {
  unsigned status = 0;
  nlohmann::json body;
};

/// The running node's API token, as an Authorization field, when this user can read
/// it: the gateway keeps slots for requests that carry it, so the command line reaches
/// its node when other clients hold every other connection (gateway.hpp).
http_fields token_if_readable(const home_folder& home) {
  auto token = read_file(home.api_token_file(), 1024);
  if (!token)
    return {};
  auto text = std::move(*token.value);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return {{"Authorization", "Bearer " + text}};
}

/// `fields` with the token when they have no Authorization of their own.
http_fields with_token(const home_folder& home, http_fields fields) {
  const bool has_token = std::any_of(fields.begin(), fields.end(), [](const auto& field) {
    return field.first == "Authorization";
  });
  if (!has_token)
    for (auto& field : token_if_readable(home))
      fields.push_back(std::move(field));
  return fields;
}

/// One API call to the node of `home` at `gateway`, whatever its status; fails when the
/// node does not answer JSON. A GET whose connection the gateway closed before any
/// answer (it made room for newer ones while its table was full) is asked again a few
/// times, each wait twice the last; other requests are sent once.
api_reply call_any(const home_folder& home, const endpoint& gateway, std::string_view method,
                   std::string_view target, std::string_view body, const http_fields& fields) {
  constexpr int get_attempts_max = 5;
  constexpr std::chrono::milliseconds first_retry_wait{50};
  auto reply = http_request(gateway, method, target, body, api_timeout, with_token(home, fields));
  auto wait = first_retry_wait;
  for (int attempt = 1; !reply && method == "GET" && attempt < get_attempts_max; ++attempt) {
    std::this_thread::sleep_for(wait);
    wait *= 2;
    reply = http_request(gateway, method, target, body, api_timeout, with_token(home, fields));
  }
  if (!reply)
    fail(1, reply.error + " (is the node running? `stakecast node --home " + home.root.string() + "`)");
  auto json = nlohmann::json::parse(reply.value->body, nullptr, false);
  if (json.is_discarded())
    fail(1, fmt::format("{} {}: the node answered {} with a body that is not JSON", method, target,
                        reply.value->status));
  return {reply.value->status, std::move(json)};
}

/// What a 4xx or 5xx answer says is wrong.
std::string error_of(const nlohmann::json& body) {
  return body.value("error", body.dump());
}

/// The body of a 2xx answer; fails with what the node said otherwise.
nlohmann::json success_of(api_reply reply, std::string_view method, std::string_view target) {
  if (reply.status >= 300)
    fail(1, fmt::format("{} {}: {} {}", method, target, reply.status, error_of(reply.body)));
  return std::move(reply.body);
}

/// One API call that must succeed (2xx).
nlohmann::json call(const home_folder& home, std::string_view method, std::string_view target,
                    std::string_view body = {}, const http_fields& fields = {}) {
  return success_of(call_any(home, gateway_of(home), method, target, body, fields), method, target);
}

/// "12.5" tokens in micro-units.
rules::amount parse_tokens(const std::string& text) {
  const auto dot = text.find('.');
  const auto whole_text = text.substr(0, dot);
  auto fraction_text = dot == std::string::npos ? std::string{} : text.substr(dot + 1);
  std::uint64_t whole = 0;
  const auto [end, error] = std::from_chars(whole_text.data(), whole_text.data() + whole_text.size(), whole);
  const bool digits_only = fraction_text.find_first_not_of("0123456789") == std::string::npos;
  if (error != std::errc{} || end != whole_text.data() + whole_text.size() || !digits_only ||
      fraction_text.size() > 6 || whole > UINT64_MAX / rules::micro_per_token - 1)
    fail(2, fmt::format("amount '{}': expected tokens with at most 6 decimals, like 12.5", text));
  fraction_text.resize(6, '0');
  return whole * rules::micro_per_token + std::stoull(fraction_text);
}

std::string format_tokens(std::uint64_t micro) {
  return fmt::format("{}.{:06}", micro / rules::micro_per_token, micro % rules::micro_per_token);
}

core::node_id parse_account(const std::string& text) {
  const auto id = core::hash256::from_hex(text);
  if (!id)
    fail(2, fmt::format("account '{}': expected 64 hex digits", text));
  return *id;
}

core::key_pair key_of(const home_folder& home) {
  auto key = load_key(home);
  if (!key)
    fail(2, key.error);
  return std::move(*key.value);
}

/// Signs `body` with the home's key at the account's next nonce, submits it, and waits
/// (bounded) until the chain has taken it.
template <class Body>
void submit(const home_folder& home, const Body& body) {
  const auto key = key_of(home);
  auto genesis = load_genesis(home);
  if (!genesis)
    fail(2, genesis.error);
  const auto me = key.public_key().to_hex();
  const auto before = call(home, "GET", "/api/account/" + me);
  const auto nonce = before["nonce"].get<std::uint64_t>();
  const auto tx = rules::make_transaction(rules::chain_id(*genesis.value), key, nonce,
                                          genesis.value->params.tx_fee_min, body);
  const auto accepted = call(home, "POST", "/api/tx",
                             nlohmann::json{{"tx", core::to_hex(core::encode_record(tx))}}.dump());
  fmt::print("submitted {} (nonce {})\n", accepted["hash"].get<std::string>(), nonce);
  for (int i = 0; i < 60; ++i) {
    const auto after = call(home, "GET", "/api/account/" + me);
    if (after["nonce"].get<std::uint64_t>() > nonce) {
      fmt::print("committed by height {}; balance {}\n", after["height"].get<std::uint64_t>(),
                 format_tokens(after["balance"].get<std::uint64_t>()));
      return;
    }
    std::this_thread::sleep_for(500ms);
  }
  fail(1, "the transaction was not committed within 30 s (see the node's log)");
}

void add_init(CLI::App& app, std::optional<std::string>& home_flag, int& exit_code) {
  auto* init = app.add_subcommand("init", "Make a node's home: key, config, genesis");
  auto roles = std::make_shared<std::string>("validator,viewer");
  auto listen = std::make_shared<std::string>("127.0.0.1:7700");
  auto gateway = std::make_shared<std::string>("127.0.0.1:8080");
  auto genesis = std::make_shared<std::string>();
  auto peers = std::make_shared<std::vector<std::string>>();
  init->add_option("--roles", *roles, "Comma-separated: validator or masternode, and viewer")
      ->capture_default_str();
  init->add_option("--listen", *listen, "Address for other nodes (TLS)");
  init->add_option("--gateway", *gateway, "Address of the HTTP gateway, or off");
  init->add_option("--genesis", *genesis, "A genesis to join (default: a one-node chain)");
  init->add_option("--peer", *peers, "A node to connect to, as ID@HOST:PORT");
  init->callback(guarded(exit_code, [&, roles, listen, gateway, genesis, peers] {
    const auto home = default_home(home_flag);
    std::string text = fmt::format("roles: [{}]\nlisten: {}\ngateway: {}\npeers:\n", *roles,
                                   *listen, *gateway);
    for (const auto& peer : *peers) {
      const auto at = peer.find('@');
      if (at == std::string::npos)
        fail(2, fmt::format("--peer '{}': expected ID@HOST:PORT", peer));
      text += fmt::format("  - {{id: {}, address: {}}}\n", peer.substr(0, at), peer.substr(at + 1));
    }
    init_options options;
    try {
      options.config = parse_node_config(text, "the command line");
    } catch (const config::config_exception& error) {
      fail(2, error.what());
    }
    if (!genesis->empty())
      options.genesis = std::filesystem::path(*genesis);
    auto made = init_home(home, options);
    if (!made)
      fail(2, made.error);
    fmt::print("node {}\nhome {}\nstart it with: stakecast node --home {}\n", *made.value,
               home.root.string(), home.root.string());
  }));
}

void add_wallet(CLI::App& app, std::optional<std::string>& home_flag, int& exit_code) {
  auto* wallet = app.add_subcommand("wallet", "The node's account: address, balance, transactions");
  wallet->require_subcommand(1);
  auto home = [&] { return default_home(home_flag); };

  wallet->add_subcommand("address", "Print the account (the node id)")->callback(guarded(exit_code, [&, home] {
    fmt::print("{}\n", key_of(home()).public_key().to_hex());
  }));

  auto* balance = wallet->add_subcommand("balance", "Balance and nonce of an account");
  auto account = std::make_shared<std::string>();
  balance->add_option("account", *account, "Account (default: this node's)");
  balance->callback(guarded(exit_code, [&, home, account] {
    const auto id = account->empty() ? key_of(home()).public_key() : parse_account(*account);
    const auto answer = call(home(), "GET", "/api/account/" + id.to_hex());
    fmt::print("account {}\nbalance {} tokens\nnonce {}\nheight {}\n", id.to_hex(),
               format_tokens(answer["balance"].get<std::uint64_t>()),
               answer["nonce"].get<std::uint64_t>(), answer["height"].get<std::uint64_t>());
  }));

  struct target_amount {
    std::string target;
    std::string amount;
  };
  auto add_move = [&, home](const char* name, const char* help, auto make_body) {
    auto* command = wallet->add_subcommand(name, help);
    auto args = std::make_shared<target_amount>();
    command->add_option("target", args->target, "Account, validator or masternode")->required();
    command->add_option("amount", args->amount, "Tokens, like 12.5")->required();
    command->callback(guarded(exit_code, [&, home, args, make_body] {
      submit(home(), make_body(parse_account(args->target), parse_tokens(args->amount)));
    }));
  };
  add_move("transfer", "Send tokens to an account", [](const core::node_id& to, rules::amount value) {
    return rules::transfer_body{to, value};
  });
  add_move("delegate", "Bond tokens to a validator or masternode (to yourself: your own bond)",
           [](const core::node_id& to, rules::amount value) { return rules::delegate_body{to, value}; });
  add_move("unbond", "Start unbonding tokens from a validator or masternode",
           [](const core::node_id& to, rules::amount value) { return rules::unbond_body{to, value}; });
}

/// The running node's publishing token, as an Authorization field.
http_fields token_of(const home_folder& home) {
  auto token = read_file(home.api_token_file(), 1024);
  if (!token)
    fail(1, token.error + " (is the node running? it writes the token when it starts)");
  return token_if_readable(home);
}

/// Reads `count` bytes of `file` at `offset`.
core::byte_buffer read_at(std::ifstream& file, const std::string& path, std::uint64_t offset,
                          std::size_t count) {
  core::byte_buffer bytes(count);
  file.seekg(static_cast<std::streamoff>(offset));
  file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
  if (static_cast<std::size_t>(file.gcount()) != count)
    fail(1, fmt::format("{}: cannot read {} bytes at {} (did it change?)", path, count, offset));
  return bytes;
}

void add_publish(CLI::App& app, std::optional<std::string>& home_flag, int& exit_code) {
  auto* publish = app.add_subcommand("publish", "Publish a file (a video) from this node");
  struct arguments {
    std::string file;
    std::string title;
    std::string bitrate;
    std::string segment_duration = "2s";
    std::uint32_t replicas = 0;
  };
  auto args = std::make_shared<arguments>();
  publish->add_option("file", args->file, "The file to publish, e.g. an MP4")->required();
  publish->add_option("--title", args->title, "Title (default: the file name)");
  publish->add_option("--bitrate", args->bitrate,
                      "Its bitrate, e.g. 3Mbps (default: from an MP4's duration, else 4Mbps)");
  publish->add_option("--segment-duration", args->segment_duration, "Play time of one segment")
      ->capture_default_str();
  publish->add_option("--replicas", args->replicas, "Masternodes to hold it (default: the chain's)");
  publish->callback(guarded(exit_code, [&, args] {
    const auto home = default_home(home_flag);
    const auto duration = config::parse_duration(args->segment_duration);
    if (!duration)
      fail(2, fmt::format("--segment-duration '{}': {}", args->segment_duration, duration.error));
    std::optional<std::uint32_t> bitrate;
    if (!args->bitrate.empty()) {
      const auto parsed = config::parse_bandwidth(args->bitrate);
      if (!parsed || parsed.value->value < 1 || parsed.value->value > UINT32_MAX)
        fail(2, fmt::format("--bitrate '{}': expected a bandwidth like 3Mbps", args->bitrate));
      bitrate = static_cast<std::uint32_t>(parsed.value->value);
    }
    const std::string title =
        args->title.empty() ? std::filesystem::path(args->file).filename().string() : args->title;
    auto made = make_publication(args->file, title, bitrate,
                                 std::chrono::duration_cast<std::chrono::milliseconds>(*duration.value));
    if (!made)
      fail(2, made.error);
    const auto& manifest = made.value->manifest;
    const auto id = core::id_of(manifest);
    const auto fields = token_of(home);
    const auto encoded = core::encode_manifest(manifest);
    call(home, "POST", "/api/content",
         std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size()), fields);
    std::ifstream file(args->file, std::ios::binary);
    for (std::uint32_t i = 0; i < manifest.segments.size(); ++i) {
      const auto& segment = manifest.segments[i];
      const auto bytes = read_at(file, args->file, segment.offset_bytes, segment.size_bytes);
      call(home, "POST", fmt::format("/api/content/{}/segment/{}", id.to_hex(), i),
           std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), fields);
    }
    call(home, "POST", fmt::format("/api/content/{}/publish", id.to_hex()), "{}", fields);
    fmt::print("content {}\n{} bytes, {} segments of about {} ms at {} bit/s\n", id.to_hex(),
               manifest.content_bytes, manifest.segments.size(),
               manifest.segments.front().duration_ms, manifest.bitrate_bps);
    auto genesis = load_genesis(home);
    if (!genesis)
      fail(2, genesis.error);
    const std::uint32_t replicas =
        args->replicas == 0 ? genesis.value->params.replicas_default : args->replicas;
    submit(home, rules::publish_content_body{id, manifest.merkle_root,
                                             core::block_count(manifest.content_bytes),
                                             manifest.content_bytes, replicas});
    fmt::print("play it: stakecast play {}\n", id.to_hex());
  }));
}

/// Streams the content from the gateway in one request, checks each segment against
/// the manifest as soon as its last byte is in and writes it to `out`. A connection
/// that ends or stalls mid-body is resumed with a Range from the first segment not yet
/// written, at most `resumes_max` times in a row without a new segment.
void download_verified(const home_folder& home, const core::manifest& manifest,
                       const core::content_id& id, std::ofstream& out, const std::string& path) {
  const auto gateway = gateway_of(home);
  const auto token = token_if_readable(home);
  constexpr int resumes_max = 5;
  std::uint32_t next = 0; // the first segment not yet written
  std::string pending;    // the bytes of segment `next` so far
  std::string problem;    // why the last request stopped short
  std::string fatal;      // a segment that fails verification, a failed write
  const auto accept = [&](std::string_view bytes) -> std::string {
    while (!bytes.empty()) {
      if (next >= manifest.segments.size())
        return fmt::format("the gateway sent more than the content's {} bytes", manifest.content_bytes);
      const auto& segment = manifest.segments[next];
      const std::size_t wanted = segment.size_bytes - pending.size();
      const auto part = bytes.substr(0, wanted);
      pending.append(part);
      bytes.remove_prefix(part.size());
      if (pending.size() < segment.size_bytes)
        break;
      const core::byte_span view(reinterpret_cast<const std::uint8_t*>(pending.data()), pending.size());
      if (!core::matches_segment(manifest, next, view))
        return fmt::format("segment {}: {} bytes that fail verification against the manifest", next,
                           pending.size());
      for (std::size_t at = 0; at < pending.size() && out; at += file_write_bytes)
        out.write(pending.data() + at,
                  static_cast<std::streamsize>(std::min(file_write_bytes, pending.size() - at)));
      if (!out)
        return fmt::format("cannot write {} (disk full?)", path);
      pending.clear();
      ++next;
    }
    return {};
  };
  const auto take = [&](std::string_view bytes) -> std::string {
    fatal = accept(bytes);
    return fatal;
  };
  for (int resumes = 0; next < manifest.segments.size(); ++resumes) {
    if (resumes > resumes_max)
      fail(1, fmt::format("segment {}: {}", next, problem));
    const std::uint32_t from = next;
    pending.clear();
    const auto range = fmt::format("bytes={}-", manifest.segments[from].offset_bytes);
    auto fields = token;
    fields.emplace_back("Range", range);
    auto reply =
        http_get_streamed(gateway, "/content/" + id.to_hex(), content_timeout, fields, take);
    if (!fatal.empty())
      fail(1, fatal);
    if (!reply) {
      problem = reply.error;
    } else if (reply.value->status != 206 && reply.value->status != 200) {
      fail(1, fmt::format("segment {}: the gateway answered {}: {}", from, reply.value->status,
                          reply.value->error_body));
    } else if (next < manifest.segments.size()) {
      problem = fmt::format("the gateway ended the body after {} bytes", reply.value->body_bytes);
    }
    if (next > from)
      resumes = 0;
  }
}

/// `path` as the node should see it: its folder with every link resolved (this user's
/// view of it; the node follows none), then its name, which may be a link the node refuses.
std::string path_for_node(const std::string& path) {
  const std::filesystem::path absolute = std::filesystem::absolute(path);
  std::error_code failed;
  const auto folder = std::filesystem::weakly_canonical(absolute.parent_path(), failed);
  return failed ? absolute.string() : (folder / absolute.filename()).string();
}

/// Has the node save the content into `path` (node/content_saver.hpp: it verified every
/// segment it writes, keeps the whole segments an earlier save left there, and goes on
/// from there) and waits for it: the save's final status. Nullopt when the node may not
/// write `path` (outside its download folders, or it runs as another user): the caller
/// streams it through the gateway and writes it itself.
std::optional<nlohmann::json> saved_by_node(const home_folder& home, const core::content_id& id,
                                            const std::string& path) {
  const auto fields = token_of(home);
  const auto gateway = gateway_of(home);
  const auto target = fmt::format("/api/content/{}/save", id.to_hex());
  const auto node_path = path_for_node(path);
  const auto started =
      call_any(home, gateway, "POST", target, nlohmann::json{{"path", node_path}}.dump(), fields);
  if (started.status == 403) {
    std::fprintf(stderr, "note: %s; streaming it through the gateway instead\n",
                 error_of(started.body).c_str());
    return std::nullopt;
  }
  const auto save = success_of(started, "POST", target);
  const auto status_target = fmt::format("{}/{}", target, save["save"].get<std::uint64_t>());
  std::uint64_t bytes = 0;
  auto progressed = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(save_poll);
    const auto status =
        success_of(call_any(home, gateway, "GET", status_target, {}, fields), "GET", status_target);
    const auto state = status.value("state", std::string{});
    if (state == "done")
      return status;
    if (state != "running")
      fail(1, fmt::format("saving {}: {}", path, status.value("error", std::string("the save failed"))));
    const auto now = std::chrono::steady_clock::now();
    if (const auto at = status.value("bytes", std::uint64_t{0}); at != bytes) {
      bytes = at;
      progressed = now;
    } else if (now - progressed > save_stall_max) {
      fail(1, fmt::format("saving {}: no progress for {} s at byte {}", path,
                          std::chrono::duration_cast<std::chrono::seconds>(save_stall_max).count(), bytes));
    }
  }
}

void add_get(CLI::App& app, std::optional<std::string>& home_flag, int& exit_code) {
  auto* get = app.add_subcommand("get", "Download a content through this node, verified");
  auto id_text = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  get->add_option("id", *id_text, "The content id")->required();
  get->add_option("-o,--output", *output, "Where to write it")->required();
  get->callback(guarded(exit_code, [&, id_text, output] {
    const auto home = default_home(home_flag);
    const auto id = core::hash256::from_hex(*id_text);
    if (!id)
      fail(2, fmt::format("content '{}': expected 64 hex digits", *id_text));
    const auto started = std::chrono::steady_clock::now();
    const auto info = call(home, "GET", "/api/content/" + id->to_hex());
    auto encoded = core::from_hex(info["manifest"].get<std::string>());
    auto manifest = encoded ? core::decode_manifest(*encoded) : caf::expected<core::manifest>(caf::sec::invalid_argument);
    if (!manifest || core::validate(*manifest) || core::id_of(*manifest) != *id)
      fail(1, "the node answered a manifest that is not this content's");
    // A file is written beside its name (by the node when it can) and renamed when
    // whole; a device or a pipe (`-o /dev/null`, `-o /dev/stdout`) is streamed into in
    // place, never replaced.
    std::error_code ignored;
    const bool in_place = std::filesystem::exists(*output, ignored) &&
                          !std::filesystem::is_regular_file(*output, ignored);
    const auto temporary = in_place ? *output : std::filesystem::absolute(*output + ".part").string();
    std::optional<nlohmann::json> saved;
    // The node refuses a name with control characters; this process may write it.
    if (!in_place && path_characters_problem(temporary).empty())
      saved = saved_by_node(home, *id, temporary);
    if (!saved) {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      if (!out)
        fail(1, fmt::format("cannot write {}", temporary));
      download_verified(home, *manifest, *id, out, temporary);
      out.close();
      if (!out)
        fail(1, fmt::format("cannot write {} (disk full?)", temporary));
    }
    if (!in_place)
      std::filesystem::rename(temporary, *output);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto kept = saved ? saved->value("resumed_from", std::uint32_t{0}) : 0;
    fmt::print("{}: {} bytes, verified, in {:.2f} s ({:.1f} MB/s){}\n", *output,
               manifest->content_bytes, seconds,
               static_cast<double>(manifest->content_bytes) / 1e6 / std::max(seconds, 1e-9),
               kept > 0 ? fmt::format("; {} of {} segments were there already", kept,
                                      manifest->segments.size())
                        : std::string{});
  }));
}

void add_play(CLI::App& app, std::optional<std::string>& home_flag, int& exit_code) {
  auto* play = app.add_subcommand("play", "Print the gateway URL a browser or VLC plays a content at");
  auto id_text = std::make_shared<std::string>();
  play->add_option("id", *id_text, "The content id")->required();
  play->callback(guarded(exit_code, [&, id_text] {
    const auto home = default_home(home_flag);
    const auto id = core::hash256::from_hex(*id_text);
    if (!id)
      fail(2, fmt::format("content '{}': expected 64 hex digits", *id_text));
    const auto info = call(home, "GET", "/api/content/" + id->to_hex());
    fmt::print("{} ({} bytes)\nhttp://{}/content/{}\n", info["title"].get<std::string>(),
               info["size_bytes"].get<std::uint64_t>(), gateway_of(home).to_string(), id->to_hex());
  }));
}

void print_nodes(const std::vector<devnet_node>& nodes) {
  for (const auto& node : nodes) {
    const std::string roles = node.config.validator    ? "validator"
                              : node.config.masternode ? "masternode"
                                                       : "viewer";
    fmt::print("{}  {}  {}  listen {}  gateway {}  {}\n", node.home.root.string(),
               node.id.substr(0, 16), roles, node.config.listen.to_string(),
               node.config.gateway ? "http://" + node.config.gateway->to_string() : "off",
               node.status);
  }
}

void add_devnet(CLI::App& app, int& exit_code) {
  auto* devnet = app.add_subcommand("devnet", "A local network of real node processes");
  devnet->require_subcommand(1);
  auto options = std::make_shared<devnet_options>();
  auto dir = std::make_shared<std::string>("devnet");
  devnet->add_option("--dir", *dir, "The devnet's folder")->capture_default_str();
  auto* up = devnet->add_subcommand("up", "Make (if needed) and start the devnet");
  up->add_option("--validators", options->validators, "Validators")
      ->check(CLI::Range(1u, devnet_options::nodes_max))
      ->capture_default_str();
  up->add_option("--masternodes", options->masternodes, "Masternodes")
      ->check(CLI::Range(0u, devnet_options::nodes_max))
      ->capture_default_str();
  up->add_option("--viewers", options->viewers, "Viewer-only nodes")
      ->check(CLI::Range(0u, devnet_options::nodes_max))
      ->capture_default_str();
  up->add_option("--base-port", options->base_port,
                 "When the devnet is made: node i listens on BASE+2(i-1), its gateway on the "
                 "next port (default: free ports)");
  up->callback(guarded(exit_code, [&, options, dir] {
    options->dir = *dir;
    if (options->base_port != 0 && !devnet_nodes(*dir).empty())
      std::fprintf(stderr, "note: %s holds a devnet already: it keeps its ports, --base-port is ignored\n",
                   dir->c_str());
    options->executable = std::filesystem::read_symlink("/proc/self/exe");
    if (::geteuid() == 0)
      std::fprintf(stderr, "note: running as root, so the devnet's nodes do too (each says so in "
                           "its node.log); none needs a privilege: run it as a user of its own\n");
    auto nodes = devnet_up(*options);
    if (!nodes)
      fail(1, nodes.error);
    print_nodes(*nodes.value);
  }));
  devnet->add_subcommand("down", "Stop every node of the devnet")->callback(guarded(exit_code, [&, dir] {
    if (auto problem = devnet_down(*dir, 10s); !problem.empty())
      fail(1, problem);
  }));
  devnet->add_subcommand("status", "Each node: id, roles, addresses, height")->callback(guarded(exit_code, [&, dir] {
    const auto nodes = devnet_nodes(*dir);
    if (nodes.empty())
      fail(2, fmt::format("no devnet in {}: `stakecast devnet up --dir {}` makes one", *dir, *dir));
    print_nodes(nodes);
  }));
}

} // namespace

void add_commands(CLI::App& app, int& exit_code) {
  auto home_flag = std::make_shared<std::optional<std::string>>();
  app.add_option_function<std::string>(
         "--home", [home_flag](const std::string& value) { *home_flag = value; },
         "The node's home folder (default: $STAKECAST_HOME or ~/.stakecast)")
      ->envname("STAKECAST_HOME");
  add_init(app, *home_flag, exit_code);
  app.add_subcommand("node", "Run the node of the home until SIGINT or SIGTERM")
      ->callback([&exit_code, home_flag] { exit_code = run_node(default_home(*home_flag)); });
  app.add_subcommand("status", "The running node's status")->callback(guarded(exit_code, [home_flag] {
    const auto home = default_home(*home_flag);
    fmt::print("{}\n", call(home, "GET", "/api/status").dump(2));
  }));
  add_wallet(app, *home_flag, exit_code);
  add_publish(app, *home_flag, exit_code);
  add_get(app, *home_flag, exit_code);
  add_play(app, *home_flag, exit_code);
  add_devnet(app, exit_code);
}

} // namespace stakecast::node
