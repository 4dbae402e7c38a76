#include "node/home.hpp"

#include "actors/core/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stakecast::node {

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t key_file_bytes_max = 256;
constexpr std::uint64_t genesis_file_bytes_max = 64ull << 20;
/// Balances of a development chain, in tokens: enough to bond, stake and pay.
constexpr rules::amount development_balance_tokens = 1'000'000;


std::string system_error_text(int code) {
  return std::error_code(code, std::generic_category()).message();
}

} // namespace

home_folder default_home(const std::optional<std::string>& flag) {
  if (flag)
    return {fs::path(*flag)};
  if (const char* env = std::getenv("STAKECAST_HOME"); env != nullptr && *env != '\0')
    return {fs::path(env)};
  const char* user_home = std::getenv("HOME");
  return {fs::path(user_home != nullptr ? user_home : ".") / ".stakecast"};
}

std::string write_file_atomically(const fs::path& path, std::string_view text, bool owner_only) {
  const auto temporary = fs::path(path.string() + ".tmp");
  // Created with its final mode: an owner-only file is never readable by others.
  const int descriptor =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, owner_only ? 0600 : 0644);
  if (descriptor < 0)
    return fmt::format("cannot write {}: {}", temporary.string(), system_error_text(errno));
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(descriptor, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(descriptor);
      return fmt::format("cannot write {}: {}", temporary.string(), system_error_text(saved));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(descriptor) != 0)
    return fmt::format("cannot write {}: {}", temporary.string(), system_error_text(errno));
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error)
    return fmt::format("cannot rename {} to {}: {}", temporary.string(), path.string(),
                       error.message());
  return {};
}

result<std::string> read_file(const fs::path& path, std::uint64_t bytes_max) {
  using out = result<std::string>;
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error)
    return out::failure(fmt::format("cannot read {}: {}", path.string(), error.message()));
  if (size > bytes_max)
    return out::failure(
        fmt::format("{} is {} bytes, more than the {} allowed", path.string(), size, bytes_max));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in)
    return out::failure(fmt::format("cannot read {}", path.string()));
  return out::success(text.str());
}

result<core::hash256> fresh_seed() {
  core::hash256 seed;
  if (RAND_bytes(seed.bytes.data(), static_cast<int>(seed.bytes.size())) != 1)
    return result<core::hash256>::failure("OpenSSL's random generator failed");
  return result<core::hash256>::success(seed);
}

std::string write_key(const home_folder& home, const core::hash256& seed) {
  const auto path = home.key_file();
  if (fs::exists(path))
    return fmt::format("{} exists: a node's key is never overwritten", path.string());
  // Created with 0600 from the start: the seed is never readable by others.
  std::FILE* file = nullptr;
  const int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (descriptor >= 0)
    file = ::fdopen(descriptor, "w");
  if (file == nullptr)
    return fmt::format("cannot create {}: {}", path.string(), system_error_text(errno));
  const auto text = seed.to_hex() + "\n";
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed)
    return fmt::format("cannot write {}: {}", path.string(), system_error_text(errno));
  return {};
}

result<core::key_pair> load_key(const home_folder& home) {
  using out = result<core::key_pair>;
  const auto path = home.key_file();
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0)
    return out::failure(fmt::format("no key at {} ({}): run `stakecast init` first", path.string(),
                                    system_error_text(errno)));
  if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return out::failure(fmt::format(
        "{} is readable by others (mode {:o}): make it private with chmod 600", path.string(),
        status.st_mode & 0777));
  auto text = read_file(path, key_file_bytes_max);
  if (!text)
    return out::failure(text.error);
  auto hex = std::string_view(*text.value);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' '))
    hex.remove_suffix(1);
  const auto seed = core::hash256::from_hex(hex);
  if (!seed)
    return out::failure(fmt::format("{} must hold 64 hex digits", path.string()));
  auto key = core::key_pair::from_seed(*seed);
  if (!key)
    return out::failure(fmt::format("{}: OpenSSL refused the key", path.string()));
  return out::success(std::move(*key));
}

result<rules::genesis> load_genesis(const home_folder& home) {
  using out = result<rules::genesis>;
  auto text = read_file(home.genesis_file(), genesis_file_bytes_max);
  if (!text)
    return out::failure(text.error);
  auto parsed = rules::parse_genesis(*text.value);
  if (!parsed)
    return out::failure(
        fmt::format("{}: {}", home.genesis_file().string(), core::describe(parsed.error())));
  return out::success(std::move(*parsed));
}

rules::genesis development_genesis(const std::vector<core::node_id>& validators,
                                   const std::vector<peer_address>& masternodes,
                                   const std::vector<core::node_id>& accounts) {
  rules::genesis g;
  g.chain_name = "stakecast-dev";
  // Half-minute epochs at the default 1 s blocks: rewards and audits come round while
  // one watches (an audit is due 20 blocks after its boundary, within the epoch).
  g.params.epoch_blocks = 30;
  g.params.audit_window_blocks = 20;
  const auto funded = [&](const core::node_id& id) {
    for (const auto& account : g.accounts)
      if (account.id == id)
        return;
    g.accounts.push_back({id, development_balance_tokens * rules::micro_per_token});
  };
  for (const auto& id : validators) {
    g.validators.push_back({id, g.params.validator_self_bond_min, 100'000});
    funded(id);
  }
  for (const auto& masternode : masternodes) {
    g.masternodes.push_back({masternode.id, g.params.masternode_stake_min, 100'000,
                             masternode.address.to_string(), 64ull << 30});
    funded(masternode.id);
  }
  for (const auto& id : accounts)
    funded(id);
  return g;
}

result<std::string> init_home(const home_folder& home, const init_options& options) {
  using out = result<std::string>;
  std::error_code error;
  fs::create_directories(home.root, error);
  if (error)
    return out::failure(fmt::format("cannot create {}: {}", home.root.string(), error.message()));
  if (fs::exists(home.config_file()) || fs::exists(home.key_file()))
    return out::failure(fmt::format("{} already holds a node (config.yaml or node.key): "
                                    "choose another --home",
                                    home.root.string()));
  auto seed = options.seed ? result<core::hash256>::success(*options.seed) : fresh_seed();
  if (!seed)
    return out::failure(seed.error);
  auto key = core::key_pair::from_seed(*seed.value);
  if (!key)
    return out::failure("OpenSSL refused the new key");
  const auto id = key->public_key();

  std::string genesis_text;
  if (options.genesis) {
    auto text = read_file(*options.genesis, genesis_file_bytes_max);
    if (!text)
      return out::failure(text.error);
    if (auto parsed = rules::parse_genesis(*text.value); !parsed)
      return out::failure(
          fmt::format("{}: {}", options.genesis->string(), core::describe(parsed.error())));
    genesis_text = std::move(*text.value);
  } else {
    std::vector<core::node_id> validators;
    std::vector<peer_address> masternodes;
    if (options.config.validator)
      validators.push_back(id);
    if (options.config.masternode)
      masternodes.push_back({id, options.config.listen});
    genesis_text = rules::to_json(development_genesis(validators, masternodes, {id}));
  }
  if (auto problem = write_key(home, *seed.value); !problem.empty())
    return out::failure(problem);
  if (auto problem = write_file_atomically(home.genesis_file(), genesis_text); !problem.empty())
    return out::failure(problem);
  if (auto problem = write_file_atomically(home.config_file(), to_yaml(options.config));
      !problem.empty())
    return out::failure(problem);
  return out::success(id.to_hex());
}

} // namespace stakecast::node
