// Pins down that a validator never signs two conflicting messages, across restarts:
// `judge` orders (height, round, step) and recognises a repeat; an engine restarted
// from its journal's record goes on in the round it signed in, re-sends that vote,
// keeps its lock (re-proposing the locked block) and refuses what would conflict;
// without the record the same restart equivocates (what the record prevents); a
// journal that cannot save stops every signature; the record survives the store and a
// corrupted one is an error that says what is wrong.
#include "actors/validator/sign_state.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "actors/core/error.hpp"
#include "actors/core/record_codec.hpp"
#include "actors/core/sha256.hpp"
#include "actors/storage/memory_store.hpp"
#include "actors/validator/consensus.hpp"
#include "actors/validator/consensus_test_support.hpp"
#include "actors/validator/validator.hpp"

using namespace stakecast;
using namespace stakecast::validator;
using namespace stakecast::validator::testing;

namespace {

constexpr auto prevote = rules::vote_kind::prevote;
constexpr auto precommit = rules::vote_kind::precommit;
constexpr std::uint64_t h = 5;

core::hash256 chain_id() {
  core::hash256 chain;
  chain.bytes[0] = 0x5e;
  return chain;
}

core::hash256 digest(std::uint8_t n) {
  return core::sha256(core::byte_span(&n, 1));
}

/// A journal in memory that can be told to fail, as a full disk would.
struct memory_journal final : sign_journal {
  std::optional<sign_state> kept;
  std::size_t saves = 0;
  bool failing = false;
  bool save(const sign_state& state) override {
    if (failing)
      return false;
    kept = state;
    ++saves;
    return true;
  }
};

/// Validator 1 of 4 (equal powers: the proposer of round r is r % 4) with a journal;
/// `restart` makes a new engine from what the journal kept, as a restarted node does.
struct restartable {
  memo_verifier verifier;
  std::vector<core::key_pair> keys = sorted_keys(4, 0x51);
  memory_journal journal;
  std::optional<consensus> engine;
  std::int64_t now_ms = 1000;
  std::vector<rules::vote> sent; // every vote any incarnation broadcast

  restartable() { restart(); }

  void restart(bool with_record = true) {
    engine.emplace(consensus_config{}, chain_id(),
                   std::move(*core::key_pair::from_seed(keys[1].seed())), verifier, &journal,
                   with_record && journal.kept ? *journal.kept : sign_state{});
  }
  std::vector<action> collect(std::vector<action> out) {
    for (const auto& v : only<broadcast_vote>(out))
      sent.push_back(v.value);
    return out;
  }
  std::vector<action> start() { return collect(engine->start_height(h, set_of(keys), now_ms)); }
  std::vector<action> vote(std::size_t who, std::uint32_t round, rules::vote_kind kind,
                           const core::hash256& block) {
    return collect(
        engine->on_vote(signed_vote(keys[who], chain_id(), h, round, kind, block), ++now_ms));
  }
  std::vector<action> propose_from(std::size_t who, std::uint32_t round,
                                   const core::hash256& block) {
    return collect(engine->on_proposal(signed_proposal(keys[who], chain_id(), h, round, block),
                                       true, ++now_ms));
  }
  std::vector<action> timeout(std::uint32_t round, consensus_step step) {
    return collect(engine->on_timeout(h, round, step, ++now_ms));
  }
  /// Round 0: validator 0 proposes `block`, 0, 2 and 3 prevote it: this one prevotes,
  /// locks and precommits it.
  void precommit_in_round_zero(const core::hash256& block) {
    start();
    propose_from(0, 0, block);
    for (std::size_t who : {0, 2, 3})
      vote(who, 0, prevote, block);
    REQUIRE(engine->locked_block() == block);
    REQUIRE(engine->step() == consensus_step::precommit);
  }
  /// Pairs of votes this validator sent that the chain would slash it for.
  std::size_t conflicts() const {
    std::size_t found = 0;
    for (std::size_t i = 0; i < sent.size(); ++i)
      for (std::size_t j = i + 1; j < sent.size(); ++j)
        found += rules::conflicting(sent[i], sent[j]) ? 1 : 0;
    return found;
  }
};

} // namespace

TEST_CASE("judge orders signatures by height then round then step and knows a repeat", "[sign_state]") {
  const sign_state nothing;
  CHECK(judge(nothing, 1, 0, consensus_step::prevote, digest(1)) == sign_verdict::sign);
  sign_state last;
  last.height = 10;
  last.round = 2;
  last.step = static_cast<std::uint8_t>(consensus_step::prevote);
  last.signed_digest = digest(1);
  REQUIRE(is_well_formed(last));
  CHECK(judge(last, 10, 2, consensus_step::precommit, digest(2)) == sign_verdict::sign);
  CHECK(judge(last, 10, 3, consensus_step::propose, digest(2)) == sign_verdict::sign);
  CHECK(judge(last, 11, 0, consensus_step::propose, digest(2)) == sign_verdict::sign);
  CHECK(judge(last, 10, 2, consensus_step::prevote, digest(1)) == sign_verdict::repeat);
  CHECK(judge(last, 10, 2, consensus_step::prevote, digest(2)) == sign_verdict::refuse);
  CHECK(judge(last, 10, 2, consensus_step::propose, digest(3)) == sign_verdict::refuse);
  CHECK(judge(last, 10, 1, consensus_step::precommit, digest(3)) == sign_verdict::refuse);
  CHECK(judge(last, 9, 5, consensus_step::precommit, digest(3)) == sign_verdict::refuse);
  CHECK(judge(sign_state::refuse_all(), 123, 0, consensus_step::propose, digest(4)) ==
        sign_verdict::refuse);
  CHECK(is_well_formed(sign_state::refuse_all()));

  auto bad_step = last;
  bad_step.step = 9;
  CHECK_FALSE(is_well_formed(bad_step));
  auto lock_after_round = last;
  lock_after_round.locked_round = 3;
  CHECK_FALSE(is_well_formed(lock_after_round));
}

TEST_CASE("a restarted engine goes on in the round it signed in and keeps its lock",
          "[sign_state][consensus]") {
  restartable v;
  const auto a = block_named(1);
  const auto b = block_named(2);
  v.precommit_in_round_zero(a);
  const auto precommit_before = v.sent.back();
  REQUIRE(v.journal.kept->step_enum() == consensus_step::precommit);
  REQUIRE(v.journal.kept->locked_block == a);

  v.restart();
  const auto resumed = v.start();
  CHECK(v.engine->round() == 0);
  CHECK(v.engine->locked_round() == 0);
  CHECK(v.engine->locked_block() == a);
  // The precommit is counted and sent again, byte for byte.
  const auto again = only<broadcast_vote>(resumed);
  REQUIRE(again.size() == 1);
  CHECK(again[0].value == precommit_before);
  CHECK(v.engine->vote_power(0, precommit, a) == 1);

  // A conflicting proposal in round 0 gets no vote; round 1 is this validator's, and it
  // proposes its locked block again, justified by the round-0 polka.
  v.propose_from(0, 0, b);
  for (std::size_t who : {0, 2, 3})
    v.vote(who, 0, precommit, core::hash256{});
  const auto next_round = v.timeout(0, consensus_step::precommit);
  REQUIRE(v.engine->round() == 1);
  const auto proposals = only<broadcast_proposal>(next_round);
  REQUIRE(proposals.size() == 1);
  CHECK(proposals[0].value.block == a);
  CHECK(proposals[0].value.pol_round == 0);
  CHECK(v.conflicts() == 0);
  CHECK(v.engine->refused_signatures() == 0);
}

TEST_CASE("a restarted engine refuses what conflicts with its last signature",
          "[sign_state][consensus]") {
  restartable v;
  const auto a = block_named(1);
  const auto b = block_named(2);
  v.start();
  v.propose_from(0, 0, a);
  REQUIRE(v.sent.size() == 1); // its prevote for a
  REQUIRE(v.journal.kept->step_enum() == consensus_step::prevote);

  v.restart();
  v.start();
  CHECK(v.engine->step() == consensus_step::prevote);
  // A polka for nil in round 0: a precommit for nil is a later step, so it is signed.
  for (std::size_t who : {0, 2, 3})
    v.vote(who, 0, prevote, core::hash256{});
  CHECK(v.engine->step() == consensus_step::precommit);
  CHECK(v.sent.back().kind_enum() == precommit);
  CHECK(v.sent.back().is_nil());

  // Restarted once more and shown another round-0 proposal: it signs nothing that
  // conflicts, while the votes it did sign stand.
  v.restart();
  v.start();
  v.propose_from(0, 0, b);
  CHECK(v.conflicts() == 0);
  CHECK(v.engine->last_signed().round == 0);
  CHECK(v.engine->last_signed().step_enum() == consensus_step::precommit);
}

TEST_CASE("without the record the same restart signs a conflicting vote", "[sign_state]") {
  // The failure the record prevents: an engine that forgot what it signed prevotes
  // the next proposal it sees, and the two prevotes are slashable evidence.
  restartable v;
  v.start();
  v.propose_from(0, 0, block_named(1));
  v.restart(/*with_record=*/false);
  v.start();
  v.propose_from(0, 0, block_named(2));
  CHECK(v.conflicts() == 1);
}

TEST_CASE("an engine whose journal cannot save signs nothing", "[sign_state]") {
  restartable v;
  v.journal.failing = true;
  const auto started = v.start();
  v.propose_from(0, 0, block_named(1));
  v.timeout(0, consensus_step::propose);
  CHECK(v.sent.empty());
  CHECK(v.engine->unsaved_signatures() >= 1);
  CHECK(v.engine->last_signed() == sign_state{});
  // Not signed is as if lost: the engine still moves through the round's steps.
  CHECK(v.engine->step() == consensus_step::prevote);
  CHECK(only<schedule_timeout>(started).size() == 1);
}

TEST_CASE("the sign state survives the store and a corrupted one is an error", "[sign_state]") {
  storage::memory_store store;
  REQUIRE(*load_sign_state(store) == sign_state{});
  sign_state kept;
  kept.height = 42;
  kept.round = 3;
  kept.step = static_cast<std::uint8_t>(consensus_step::precommit);
  kept.block = block_named(9);
  kept.signed_digest = digest(7);
  kept.locked_round = 2;
  kept.locked_block = block_named(8);
  store_sign_journal journal(store);
  REQUIRE(journal.save(kept));
  CHECK(*load_sign_state(store) == kept);

  world::store::write_batch truncated;
  auto bytes = core::encode_record(kept);
  bytes.resize(bytes.size() - 1);
  truncated.put(std::string(sign_state::store_key), bytes);
  REQUIRE(store.write(truncated).empty());
  const auto broken = load_sign_state(store);
  REQUIRE_FALSE(broken);
  CHECK_THAT(core::describe(broken.error()), Catch::Contains("sign state"));

  auto impossible = kept;
  impossible.locked_round = 7; // a lock after the round signed in
  REQUIRE(journal.save(impossible));
  const auto refused = load_sign_state(store);
  REQUIRE_FALSE(refused);
  CHECK_THAT(core::describe(refused.error()), Catch::Contains("lock in round 7"));

  storage::memory_store full(1);
  store_sign_journal no_room(full);
  CHECK_FALSE(no_room.save(kept));
}
