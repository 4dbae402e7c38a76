// The consensus engine in a simulated network of N engines with real signatures:
// messages delivered in a random order with random delays from one seed, timeouts as
// events, crashes, partitions that hold messages until they heal, and Byzantine
// validators that sign two different proposals and votes for two halves of their
// peers. Pins down agreement (no two honest validators commit different blocks at a
// height, over many seeds), termination when at most f fail, no commit without a 2/3
// side, evidence against every equivocator and only against them, and replay from the
// seed. Each run is bounded in simulated time and events and fails loudly past them.
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_set>

#include <catch2/catch.hpp>

#include "actors/core/random.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/validator/consensus.hpp"
#include "actors/validator/consensus_test_support.hpp"

using namespace stakecast;
using namespace stakecast::validator;
using namespace stakecast::validator::testing;

namespace {

/// The precommits with which `from` decided `height`, gossiped to laggards (in a real
/// node, the next block's last_commit does this).
struct certificate {
  std::size_t from = 0;
  std::uint64_t height = 0;
  std::vector<rules::vote> precommits;
};

using message = std::variant<proposal, rules::vote, certificate>;

struct network_config {
  std::size_t validators = 4;
  std::vector<std::uint64_t> powers; // empty: all 1
  std::set<std::size_t> byzantine;   // equivocate on every proposal and vote
  std::set<std::size_t> crashed;     // never start
  std::uint64_t seed = 1;
  std::int64_t delay_min_ms = 5;
  std::int64_t delay_max_ms = 200;
  consensus_config engine;
};

/// Short timeouts against delays up to 300 ms: many rounds fail, so locks, polkas from
/// earlier rounds and round skips all happen.
consensus_config stressed_timeouts() {
  consensus_config config;
  config.timeout_propose_ms = 150;
  config.timeout_propose_delta_ms = 50;
  config.timeout_prevote_ms = 60;
  config.timeout_prevote_delta_ms = 40;
  config.timeout_precommit_ms = 60;
  config.timeout_precommit_delta_ms = 40;
  return config;
}

network_config calm(std::uint64_t seed, std::size_t validators = 4) {
  network_config config;
  config.seed = seed;
  config.validators = validators;
  return config;
}

/// Delays up to 300 ms against stressed_timeouts().
network_config stressed(std::uint64_t seed, std::size_t validators = 4) {
  auto config = calm(seed, validators);
  config.delay_max_ms = 300;
  config.engine = stressed_timeouts();
  return config;
}

network_config with_byzantine(network_config config, std::set<std::size_t> byzantine) {
  config.byzantine = std::move(byzantine);
  return config;
}

network_config with_crashed(network_config config, std::set<std::size_t> crashed) {
  config.crashed = std::move(crashed);
  return config;
}

core::hash256 chain_id() {
  core::hash256 chain;
  chain.bytes[0] = 0x5c;
  return chain;
}

std::string digest(const message& m) {
  const auto bytes = std::visit(
      [](const auto& x) {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, certificate>) {
          core::byte_buffer out;
          for (const auto& v : x.precommits) {
            const auto encoded = core::encode_record(v);
            out.insert(out.end(), encoded.begin(), encoded.end());
          }
          return out;
        } else {
          return core::encode_record(x);
        }
      },
      m);
  return std::string(bytes.begin(), bytes.end()) + std::to_string(m.index());
}

std::uint64_t height_of(const message& m) {
  return std::visit([](const auto& x) { return x.height; }, m);
}

class network {
public:
  /// Bounds that make a run fail loudly instead of spinning.
  static constexpr std::size_t events_max = 2'000'000;

  explicit network(network_config config)
      : config_(std::move(config)), keys_(sorted_keys(config_.validators)),
        generator_(core::derive_seed(config_.seed, "consensus_network")) {
    genesis_.emplace(set_of(keys_, config_.powers));
    nodes_.resize(config_.validators);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto key = std::move(*core::key_pair::from_seed(keys_[i].seed()));
      nodes_[i].engine.emplace(config_.engine, chain_id(), std::move(key), verifier_);
      nodes_[i].crashed = config_.crashed.contains(i);
      nodes_[i].byzantine = config_.byzantine.contains(i);
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i].crashed)
        start(i, 1);
  }

  /// Splits the validators into groups (group_of[i]); messages across groups wait.
  void partition(std::vector<int> group_of) { group_of_ = std::move(group_of); }

  /// Ends the partition: every held message leaves now, with a fresh delay.
  void heal() {
    group_of_.clear();
    for (auto& held : std::exchange(held_, {}))
      post(held.to, now_ms_ + delay(), std::move(held.body));
  }

  /// Runs until every honest live validator decided `height`, or until `until_ms`.
  /// Returns false when the time bound came first.
  bool run(std::uint64_t height, std::int64_t until_ms) {
    while (!queue_.empty() && !all_decided(height)) {
      REQUIRE(++events_ < events_max);
      auto next = queue_.top();
      if (next.at_ms > until_ms)
        break;
      queue_.pop();
      now_ms_ = next.at_ms;
      dispatch(next);
    }
    return all_decided(height);
  }

  /// Runs every event up to `until_ms`.
  void run_until(std::int64_t until_ms) {
    while (!queue_.empty() && queue_.top().at_ms <= until_ms) {
      REQUIRE(++events_ < events_max);
      auto next = queue_.top();
      queue_.pop();
      now_ms_ = next.at_ms;
      dispatch(next);
    }
    now_ms_ = std::max(now_ms_, until_ms);
  }

  bool is_honest(std::size_t i) const { return !nodes_[i].byzantine && !nodes_[i].crashed; }

  /// Heights at which two honest validators committed different blocks.
  std::size_t disagreements() const {
    std::size_t count = 0;
    std::map<std::uint64_t, core::hash256> first;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!is_honest(i))
        continue;
      for (const auto& [height, block] : nodes_[i].decisions) {
        auto [it, inserted] = first.emplace(height, block);
        if (!inserted && it->second != block)
          ++count;
      }
    }
    return count;
  }

  /// Decisions of honest validators, in total.
  std::size_t honest_decisions() const {
    std::size_t count = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (is_honest(i))
        count += nodes_[i].decisions.size();
    return count;
  }

  /// Validators named by evidence an honest validator emitted.
  std::set<core::node_id> accused() const {
    std::set<core::node_id> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (is_honest(i))
        for (const auto& e : nodes_[i].evidence_found) {
          REQUIRE(rules::conflicting(e.first, e.second));
          REQUIRE(rules::verify(e.first, verifier_));
          REQUIRE(rules::verify(e.second, verifier_));
          out.insert(e.first.validator);
        }
    return out;
  }

  /// Every honest validator's decisions as (height, round, block), for replay checks.
  std::vector<std::tuple<std::size_t, std::uint64_t, std::uint32_t, core::hash256>> trace() const {
    std::vector<std::tuple<std::size_t, std::uint64_t, std::uint32_t, core::hash256>> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      for (const auto& [height, block] : nodes_[i].decisions)
        out.emplace_back(i, height, nodes_[i].decision_rounds.at(height), block);
    return out;
  }

  /// Honest decisions taken in a round above 0.
  std::size_t late_round_decisions() const {
    std::size_t count = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (is_honest(i))
        for (const auto& [height, round] : nodes_[i].decision_rounds)
          count += round > 0 ? 1 : 0;
    return count;
  }

  core::node_id id(std::size_t i) const { return keys_[i].public_key(); }
  const consensus& engine(std::size_t i) const { return *nodes_[i].engine; }
  std::int64_t now_ms() const { return now_ms_; }
  std::size_t verifications() const { return verifier_.checks(); }
  /// Where every engine stands, for failure messages.
  std::string describe() const {
    std::string out;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto& e = *nodes_[i].engine;
      out += "node " + std::to_string(i) + ": height " + std::to_string(e.height()) + " round " +
             std::to_string(e.round()) + " step " + std::to_string(int(e.step())) + " locked " +
             std::to_string(e.locked_round()) + " valid " + std::to_string(e.valid_round()) + "\n";
    }
    return out + "events pending " + std::to_string(queue_.size()) + " at " +
           std::to_string(now_ms_) + " ms";
  }

private:
  struct node {
    std::optional<consensus> engine;
    bool crashed = false;
    bool byzantine = false;
    std::map<std::uint64_t, core::hash256> decisions;
    std::map<std::uint64_t, std::uint32_t> decision_rounds;
    std::vector<evidence> evidence_found;
  };
  struct event {
    std::int64_t at_ms = 0;
    std::uint64_t sequence = 0;
    std::size_t to = 0;
    std::variant<message, schedule_timeout> body;
    bool operator>(const event& other) const {
      return std::tie(at_ms, sequence) > std::tie(other.at_ms, other.sequence);
    }
  };
  struct held_message {
    std::size_t to = 0;
    message body;
  };

  std::int64_t delay() {
    const auto span = static_cast<std::uint64_t>(config_.delay_max_ms - config_.delay_min_ms + 1);
    return config_.delay_min_ms + static_cast<std::int64_t>(generator_.uniform(span));
  }

  void post(std::size_t to, std::int64_t at_ms, std::variant<message, schedule_timeout> body) {
    queue_.push(event{at_ms, next_sequence_++, to, std::move(body)});
  }

  const validator_set& set_at(std::uint64_t height) {
    while (sets_.size() < height)
      sets_.push_back(sets_.empty() ? *genesis_ : sets_.back().next());
    return sets_[height - 1];
  }

  /// Logs `m` (every message sent at a height, for validators that reach it later) and
  /// sends it: first to `first_hop`, then, one relay later, to everyone else.
  void send(std::size_t from, const message& m, const std::set<std::size_t>& first_hop) {
    if (seen_.insert(digest(m)).second)
      log_[height_of(m)].push_back(m);
    for (std::size_t to = 0; to < nodes_.size(); ++to) {
      if (to == from)
        continue;
      const auto extra = first_hop.contains(to) ? 0 : delay();
      post(to, now_ms_ + delay() + extra, m);
    }
  }

  void start(std::size_t i, std::uint64_t height) {
    execute(i, nodes_[i].engine->start_height(height, set_at(height), now_ms_));
    // Catch-up gossip: what was said at this height while the validator was behind.
    for (const auto& m : log_[height])
      post(i, now_ms_ + delay(), m);
  }

  void dispatch(const event& e) {
    auto& target = nodes_[e.to];
    if (target.crashed)
      return;
    if (const auto* timeout = std::get_if<schedule_timeout>(&e.body)) {
      execute(e.to,
              target.engine->on_timeout(timeout->height, timeout->round, timeout->step, now_ms_));
      return;
    }
    const auto& m = std::get<message>(e.body);
    if (!group_of_.empty() && group_of_[e.to] != group_of_[sender(m)]) {
      held_.push_back({e.to, m});
      return;
    }
    if (const auto* p = std::get_if<proposal>(&m))
      execute(e.to, target.engine->on_proposal(*p, true, now_ms_));
    else if (const auto* c = std::get_if<certificate>(&m))
      execute(e.to, target.engine->on_commit_certificate(c->height, c->precommits, now_ms_));
    else
      execute(e.to, target.engine->on_vote(std::get<rules::vote>(m), now_ms_));
  }

  std::size_t sender(const message& m) const {
    if (const auto* c = std::get_if<certificate>(&m))
      return c->from;
    const auto* p = std::get_if<proposal>(&m);
    const auto signer = p != nullptr ? p->proposer : std::get<rules::vote>(m).validator;
    return *genesis_->index_of(signer);
  }

  void execute(std::size_t i, std::vector<action> actions) {
    for (auto& a : actions)
      std::visit([&](auto& x) { handle(i, x); }, a);
  }

  void handle(std::size_t i, const broadcast_proposal& b) {
    if (nodes_[i].byzantine)
      return equivocate(i, b.value);
    send(i, b.value, everyone());
  }
  void handle(std::size_t i, const broadcast_vote& b) {
    if (nodes_[i].byzantine)
      return equivocate(i, b.value);
    send(i, b.value, everyone());
  }
  void handle(std::size_t i, const schedule_timeout& t) { post(i, now_ms_ + t.delay_ms, t); }
  void handle(std::size_t i, const need_block& n) {
    execute(i, nodes_[i].engine->propose(n.height, n.round, block_for(n.height, n.round, i, 0),
                                         now_ms_));
  }
  void handle(std::size_t i, const commit& c) {
    REQUIRE(set_at(c.height).is_quorum(commit_power(c)));
    nodes_[i].decisions.emplace(c.height, c.block);
    nodes_[i].decision_rounds.emplace(c.height, c.round);
    send(i, certificate{i, c.height, c.precommits}, everyone());
    start(i, c.height + 1);
  }
  void handle(std::size_t i, const evidence& e) { nodes_[i].evidence_found.push_back(e); }

  std::uint64_t commit_power(const commit& c) {
    std::uint64_t power = 0;
    std::set<core::node_id> signers;
    for (const auto& v : c.precommits) {
      REQUIRE(v.block == c.block);
      REQUIRE(v.height == c.height);
      REQUIRE(rules::verify(v, verifier_));
      REQUIRE(signers.insert(v.validator).second);
      power += set_at(c.height).at(*set_at(c.height).index_of(v.validator)).power;
    }
    return power;
  }

  /// A distinct block per proposer, height, round and twin.
  static core::hash256 block_for(std::uint64_t height, std::uint32_t round, std::size_t proposer,
                                 std::uint64_t twin) {
    return block_named((height << 24) | (static_cast<std::uint64_t>(round) << 12) |
                       (proposer << 4) | twin);
  }

  std::set<std::size_t> everyone() const {
    std::set<std::size_t> all;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      all.insert(i);
    return all;
  }

  /// A random half of the other validators hears `original` first, the rest `twin`.
  std::pair<std::set<std::size_t>, std::set<std::size_t>> split(std::size_t from) {
    std::pair<std::set<std::size_t>, std::set<std::size_t>> halves;
    for (std::size_t to = 0; to < nodes_.size(); ++to)
      if (to != from)
        (generator_.bernoulli(0.5) ? halves.first : halves.second).insert(to);
    return halves;
  }

  void equivocate(std::size_t i, const proposal& original) {
    auto twin = original;
    twin.block = block_for(original.height, original.round, i, 1);
    twin.pol_round = proposal::no_pol_round;
    sign(twin, keys_[i]);
    const auto [first, second] = split(i);
    send(i, original, first);
    send(i, twin, second);
  }

  void equivocate(std::size_t i, const rules::vote& original) {
    auto twin = original;
    // Against its own block its twin block; otherwise nil against a block and a
    // block of the round against nil.
    if (original.block == block_for(original.height, original.round, i, 0))
      twin.block = block_for(original.height, original.round, i, 1);
    else if (!original.is_nil())
      twin.block = {};
    else
      twin.block = block_for(original.height, original.round,
                             set_at(original.height).proposer_index(original.round), 0);
    rules::sign(twin, keys_[i]);
    const auto [first, second] = split(i);
    send(i, original, first);
    send(i, twin, second);
  }

  bool all_decided(std::uint64_t height) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (is_honest(i) && !nodes_[i].decisions.contains(height))
        return false;
    return true;
  }

  network_config config_;
  std::vector<core::key_pair> keys_;
  memo_verifier verifier_;
  core::random_generator generator_;
  std::optional<validator_set> genesis_;
  std::vector<validator_set> sets_; // sets_[h - 1] is height h's
  std::vector<node> nodes_;
  std::priority_queue<event, std::vector<event>, std::greater<>> queue_;
  std::uint64_t next_sequence_ = 0;
  std::int64_t now_ms_ = 0;
  std::size_t events_ = 0;
  std::unordered_set<std::string> seen_;
  std::map<std::uint64_t, std::vector<message>> log_;
  std::vector<int> group_of_; // empty: no partition
  std::vector<held_message> held_;
};

} // namespace

TEST_CASE("four honest validators commit the same block at every height") {
  // Seeds 1-5, 30 heights each; bound: 30 heights within 10 simulated minutes.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    network net(calm(seed));
    INFO("seed " << seed);
    REQUIRE(net.run(30, 600'000));
    CHECK(net.disagreements() == 0);
    CHECK(net.accused().empty());
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(net.engine(i).dropped(drop_reason::bad_signature) == 0);
  }
}

TEST_CASE("weighted honest validators commit the same blocks under stressed timeouts") {
  // Powers 5 3 2 2 1: the largest alone is no quorum. Short timeouts fail many rounds.
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    auto config = stressed(seed, 5);
    config.powers = {5, 3, 2, 2, 1};
    network net(config);
    INFO("seed " << seed);
    REQUIRE(net.run(20, 600'000));
    CHECK(net.disagreements() == 0);
    CHECK(net.accused().empty());
  }
}

TEST_CASE("one equivocating validator of four cannot split the honest ones") {
  // Seeds 1-20, 15 heights each, stressed timeouts so rounds fail and locks matter.
  std::size_t late_rounds = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    network net(with_byzantine(stressed(seed), {1}));
    INFO("seed " << seed);
    const bool finished = net.run(15, 600'000);
    INFO(net.describe());
    CHECK(finished); // three honest of four are a quorum: liveness too
    CHECK(net.disagreements() == 0);
    CHECK(net.accused() == std::set<core::node_id>{net.id(1)});
    late_rounds += net.late_round_decisions();
  }
  CHECK(late_rounds > 0); // the runs did go through failed rounds
}

TEST_CASE("two equivocating validators of seven cannot split the honest ones") {
  std::size_t late_rounds = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    network net(with_byzantine(stressed(seed, 7), {0, 4}));
    INFO("seed " << seed);
    CHECK(net.run(10, 600'000));
    CHECK(net.disagreements() == 0);
    CHECK(net.accused() == std::set<core::node_id>{net.id(0), net.id(4)});
    late_rounds += net.late_round_decisions();
  }
  CHECK(late_rounds > 0);
}

TEST_CASE("equivocators beyond f are still named by evidence and only they are") {
  // With 2 of 4 equivocating safety is not promised, so only evidence is checked.
  network net(with_byzantine(stressed(3), {0, 1}));
  net.run_until(60'000);
  const auto accused = net.accused();
  CHECK(accused.contains(net.id(0)));
  CHECK(accused.contains(net.id(1)));
  CHECK(accused.size() == 2);
}

TEST_CASE("the honest validators commit with up to f crashed") {
  SECTION("one of four crashed, the first proposer") {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      network net(with_crashed(calm(seed), {0}));
      INFO("seed " << seed);
      REQUIRE(net.run(12, 600'000));
      CHECK(net.disagreements() == 0);
    }
  }
  SECTION("two of seven crashed") {
    network net(with_crashed(calm(9, 7), {2, 5}));
    REQUIRE(net.run(12, 600'000));
    CHECK(net.disagreements() == 0);
  }
  SECTION("two of four crashed is more than f: no commit") {
    network net(with_crashed(calm(4), {0, 1}));
    net.run_until(120'000);
    CHECK(net.honest_decisions() == 0);
  }
}

TEST_CASE("a partition without a two thirds side commits nothing until it heals") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    network net(calm(seed));
    INFO("seed " << seed);
    net.partition({0, 0, 1, 1});
    net.run_until(120'000);
    CHECK(net.honest_decisions() == 0);
    net.heal();
    REQUIRE(net.run(10, 600'000));
    CHECK(net.disagreements() == 0);
  }
}

TEST_CASE("a partition in the middle of a run stops commits and they resume after healing") {
  network net(calm(11, 7));
  REQUIRE(net.run(5, 600'000));
  // 4 | 3: five is a quorum of seven, neither side has it.
  net.partition({0, 0, 0, 0, 1, 1, 1});
  net.run_until(net.now_ms() + 5'000); // heights already under way may finish
  const auto before = net.honest_decisions();
  net.run_until(net.now_ms() + 120'000);
  CHECK(net.honest_decisions() == before);
  net.heal();
  REQUIRE(net.run(15, net.now_ms() + 600'000));
  CHECK(net.disagreements() == 0);
}

TEST_CASE("a run replays exactly from its seed") {
  auto run = [](std::uint64_t seed) {
    network net(with_byzantine(stressed(seed), {2}));
    REQUIRE(net.run(8, 600'000));
    return std::make_pair(net.trace(), net.now_ms());
  };
  CHECK(run(42) == run(42));
  CHECK(run(42) != run(43));
}
