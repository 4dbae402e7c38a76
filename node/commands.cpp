#include "node/commands.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actors/core/record_codec.hpp"
#include "actors/validator/rules/transaction.hpp"
#include "node/devnet.hpp"
#include "node/http_client.hpp"
#include "node/runtime.hpp"

namespace stakecast::node {

namespace {

using namespace std::chrono_literals;
constexpr auto api_timeout = 10s;

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

nlohmann::json call(const home_folder& home, std::string_view method, std::string_view target,
                    std::string_view body = {}) {
  auto reply = http_request(gateway_of(home), method, target, body, api_timeout);
  if (!reply)
    fail(1, reply.error + " (is the node running? `stakecast node --home " + home.root.string() + "`)");
  auto json = nlohmann::json::parse(reply.value->body, nullptr, false);
  if (json.is_discarded())
    fail(1, fmt::format("{} {}: the node answered {} with a body that is not JSON", method, target,
                        reply.value->status));
  if (reply.value->status >= 300)
    fail(1, fmt::format("{} {}: {} {}", method, target, reply.value->status,
                        json.value("error", json.dump())));
  return json;
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
  up->callback(guarded(exit_code, [&, options, dir] {
    options->dir = *dir;
    options->executable = std::filesystem::read_symlink("/proc/self/exe");
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
  add_devnet(app, exit_code);
}

} // namespace stakecast::node
