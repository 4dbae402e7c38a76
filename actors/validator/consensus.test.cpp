// The consensus engine, one validator driven by hand with real signatures: each test
// scripts the other validators' messages and checks the actions of Algorithm 1 that
// come back - proposing, prevote and precommit rules, locking and the pol_round rule,
// linear timeouts, round skips, commits in any round, evidence, and what is dropped.
#include "actors/validator/consensus.hpp"

#include <catch2/catch.hpp>

#include "actors/validator/consensus_test_support.hpp"

using namespace stakecast;
using namespace stakecast::validator;
using namespace stakecast::validator::testing;

namespace {

constexpr auto prevote = rules::vote_kind::prevote;
constexpr auto precommit = rules::vote_kind::precommit;
constexpr std::uint64_t h = 7;
const core::hash256 nil{};

core::hash256 chain_id() {
  core::hash256 chain;
  chain.bytes[0] = 0xc4;
  return chain;
}

/// One engine (validator `me` of `n`, equal powers: the proposer of round r is r % n)
/// and the keys of the others.
struct fixture {
  memo_verifier verifier;
  std::vector<core::key_pair> keys;
  std::size_t me;
  consensus engine;
  std::int64_t now_ms = 1000;

  explicit fixture(std::size_t me_index, std::size_t n = 4)
      : keys(sorted_keys(n)), me(me_index),
        engine(consensus_config{}, chain_id(),
               std::move(*core::key_pair::from_seed(keys[me_index].seed())), verifier) {}

  std::vector<action> start(std::uint64_t height = h) {
    return engine.start_height(height, set_of(keys), now_ms);
  }
  std::vector<action> vote(std::size_t who, std::uint32_t round, rules::vote_kind kind,
                           const core::hash256& block, std::uint64_t height = h) {
    return engine.on_vote(signed_vote(keys[who], chain_id(), height, round, kind, block), ++now_ms);
  }
  std::vector<action> propose_from(std::size_t who, std::uint32_t round, const core::hash256& block,
                                   std::int64_t pol_round = proposal::no_pol_round,
                                   bool valid = true) {
    return engine.on_proposal(signed_proposal(keys[who], chain_id(), h, round, block, pol_round),
                              valid, ++now_ms);
  }
  std::vector<action> timeout(std::uint32_t round, consensus_step step) {
    return engine.on_timeout(engine.height(), round, step, ++now_ms);
  }
  /// The others but `me`, at most `count` of them.
  std::vector<std::size_t> others(std::size_t count = 99) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < keys.size() && out.size() < count; ++i)
      if (i != me)
        out.push_back(i);
    return out;
  }
  /// Ends the current round without a decision: nil prevotes and precommits from two
  /// others, then the precommit timeout, whose actions (the next round's) it returns.
  std::vector<action> fail_round() {
    const auto round = engine.round();
    if (engine.step() == consensus_step::propose)
      timeout(round, consensus_step::propose);
    for (auto who : others(2))
      vote(who, round, prevote, nil);
    for (auto who : others(2))
      vote(who, round, precommit, nil);
    auto next = timeout(round, consensus_step::precommit);
    REQUIRE(engine.round() == round + 1);
    return next;
  }
};

/// The only vote broadcast in `actions`.
rules::vote single_vote(const std::vector<action>& actions) {
  const auto votes = only<broadcast_vote>(actions);
  REQUIRE(votes.size() == 1);
  return votes[0].value;
}

} // namespace

TEST_CASE("a proposal signature covers every field and verifies") {
  const auto keys = sorted_keys(2);
  const auto p = signed_proposal(keys[0], chain_id(), 3, 2, block_named(1), 1);
  core::direct_verifier direct;
  CHECK(p.proposer == keys[0].public_key());
  CHECK(verify(p, direct));
  CHECK(is_well_formed(p));
  auto changed = p;
  changed.pol_round = 0;
  CHECK_FALSE(verify(changed, direct));
  changed = p;
  changed.block = block_named(2);
  CHECK_FALSE(verify(changed, direct));
  changed = p;
  changed.proposer = keys[1].public_key();
  CHECK_FALSE(verify(changed, direct));
  changed = p;
  changed.pol_round = 2;
  CHECK_FALSE(is_well_formed(changed));
  changed.pol_round = -2;
  CHECK_FALSE(is_well_formed(changed));
  changed = p;
  changed.block = {};
  CHECK_FALSE(is_well_formed(changed));
}

TEST_CASE("timeouts grow linearly with the round") {
  consensus_config config;
  CHECK(config.timeout_ms(consensus_step::propose, 0) == 3000);
  CHECK(config.timeout_ms(consensus_step::propose, 4) == 5000);
  CHECK(config.timeout_ms(consensus_step::prevote, 2) == 2000);
  CHECK(config.timeout_ms(consensus_step::precommit, 3) == 2500);
  CHECK(config.timeout_ms(consensus_step::precommit, UINT32_MAX) > 0);

  // The engine schedules exactly these delays, round after round.
  fixture f(3);
  auto actions = f.start();
  for (std::uint32_t round = 0; round < 3; ++round) {
    auto timeouts = only<schedule_timeout>(actions);
    REQUIRE(timeouts.size() == 1);
    CHECK(timeouts[0] == schedule_timeout{h, round, consensus_step::propose,
                                          3000 + 500 * static_cast<std::int64_t>(round)});
    CHECK(single_vote(f.timeout(round, consensus_step::propose)).is_nil());
    // Prevotes on two values: 2/3 of prevotes but none on one value.
    f.vote(0, round, prevote, nil);
    timeouts = only<schedule_timeout>(f.vote(1, round, prevote, block_named(9)));
    REQUIRE(timeouts.size() == 1);
    CHECK(timeouts[0].step == consensus_step::prevote);
    CHECK(timeouts[0].delay_ms == 1000 + 500 * static_cast<std::int64_t>(round));
    const auto precommit_vote = single_vote(f.timeout(round, consensus_step::prevote));
    CHECK(precommit_vote.kind_enum() == precommit);
    CHECK(precommit_vote.is_nil());
    f.vote(0, round, precommit, nil);
    timeouts = only<schedule_timeout>(f.vote(1, round, precommit, block_named(9)));
    REQUIRE(timeouts.size() == 1);
    CHECK(timeouts[0].step == consensus_step::precommit);
    CHECK(timeouts[0].delay_ms == 1000 + 500 * static_cast<std::int64_t>(round));
    actions = f.timeout(round, consensus_step::precommit);
    CHECK(f.engine.round() == round + 1);
  }
  // Round 3: this validator proposes.
  CHECK(only<need_block>(actions) == std::vector<need_block>{{h, 3}});
}

TEST_CASE("stale timeouts do nothing") {
  fixture f(3);
  f.start();
  CHECK(f.timeout(1, consensus_step::propose).empty());
  CHECK(f.engine.on_timeout(h + 1, 0, consensus_step::propose, ++f.now_ms).empty());
  CHECK(f.timeout(0, consensus_step::prevote).empty()); // still in propose
  CHECK(f.engine.step() == consensus_step::propose);
}

TEST_CASE("the proposer asks for a block proposes it and commits it with a quorum") {
  fixture f(0);
  const auto started = f.start();
  CHECK(only<need_block>(started) == std::vector<need_block>{{h, 0}});
  const auto block = block_named(42);
  const auto proposed = f.engine.propose(h, 0, block, ++f.now_ms);
  const auto proposals = only<broadcast_proposal>(proposed);
  REQUIRE(proposals.size() == 1);
  CHECK(proposals[0].value.block == block);
  CHECK(proposals[0].value.pol_round == proposal::no_pol_round);
  CHECK(verify(proposals[0].value, f.verifier));
  const auto own_prevote = single_vote(proposed);
  CHECK(own_prevote.block == block);
  CHECK(rules::verify(own_prevote, f.verifier));
  CHECK(f.engine.propose(h, 0, block_named(43), ++f.now_ms).empty()); // only once

  f.vote(1, 0, prevote, block);
  const auto locked = f.vote(2, 0, prevote, block);
  CHECK(single_vote(locked).kind_enum() == precommit);
  CHECK(f.engine.locked_round() == 0);
  CHECK(f.engine.locked_block() == block);

  f.vote(1, 0, precommit, block);
  const auto decided = f.vote(2, 0, precommit, block);
  const auto commits = only<commit>(decided);
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].height == h);
  CHECK(commits[0].round == 0);
  CHECK(commits[0].block == block);
  REQUIRE(commits[0].precommits.size() == 3);
  for (const auto& v : commits[0].precommits) {
    CHECK(v.block == block);
    CHECK(v.kind_enum() == precommit);
    CHECK(rules::verify(v, f.verifier));
  }
  CHECK(f.engine.is_decided());
  // Late votes of a decided height are dropped.
  CHECK(f.vote(3, 0, precommit, block).empty());
  CHECK(f.engine.dropped(drop_reason::old_height) == 1);
}

TEST_CASE("a non proposer prevotes a valid proposal and nil for an invalid one") {
  fixture valid_case(3);
  valid_case.start();
  CHECK(single_vote(valid_case.propose_from(0, 0, block_named(5))).block == block_named(5));

  fixture invalid_case(3);
  invalid_case.start();
  CHECK(single_vote(invalid_case.propose_from(0, 0, block_named(5), -1, false)).is_nil());
  // The block turns out valid later (its bytes arrived): the upgrade lets it be locked.
  invalid_case.propose_from(0, 0, block_named(5), -1, true);
  invalid_case.vote(0, 0, prevote, block_named(5));
  invalid_case.vote(1, 0, prevote, block_named(5));
  const auto locked = invalid_case.vote(2, 0, prevote, block_named(5));
  CHECK(single_vote(locked).block == block_named(5));
  CHECK(invalid_case.engine.locked_block() == block_named(5));
}

TEST_CASE("a locked validator prevotes nil for another block without a newer polka") {
  fixture f(3);
  f.start();
  const auto x = block_named(1);
  const auto y = block_named(2);
  // Round 0: X gets a polka, this validator locks on it; the round then fails.
  f.propose_from(0, 0, x);
  f.vote(0, 0, prevote, x);
  f.vote(1, 0, prevote, x);
  CHECK(f.engine.locked_round() == 0);
  CHECK(f.engine.locked_block() == x);
  f.vote(0, 0, precommit, nil);
  f.vote(1, 0, precommit, nil);
  f.timeout(0, consensus_step::precommit);
  REQUIRE(f.engine.round() == 1);

  SECTION("a fresh proposal of another block gets a nil prevote") {
    CHECK(single_vote(f.propose_from(1, 1, y)).is_nil());
    CHECK(f.engine.locked_block() == x);
  }
  SECTION("a proposal claiming a polka that does not exist gets no prevote until timeout") {
    CHECK(only<broadcast_vote>(f.propose_from(1, 1, y, 0)).empty());
    CHECK(f.engine.step() == consensus_step::propose);
    CHECK(single_vote(f.timeout(1, consensus_step::propose)).is_nil());
  }
  SECTION("the locked block proposed again gets a prevote") {
    CHECK(single_vote(f.propose_from(1, 1, x)).block == x);
  }
  SECTION("a newer polka for another block unlocks the prevote") {
    // Round 1: Y is proposed; this validator prevotes nil, two others prevote Y.
    CHECK(single_vote(f.propose_from(1, 1, y)).is_nil());
    f.vote(0, 1, prevote, y);
    f.vote(1, 1, prevote, y);
    f.timeout(1, consensus_step::prevote);
    f.vote(0, 1, precommit, nil);
    f.vote(1, 1, precommit, nil);
    f.timeout(1, consensus_step::precommit);
    REQUIRE(f.engine.round() == 2);
    // Round 2 proposes Y with pol_round 1; the polka is not complete yet.
    CHECK(only<broadcast_vote>(f.propose_from(2, 2, y, 1)).empty());
    // The third prevote for Y in round 1 arrives: a polka newer than the lock.
    const auto prevoted = f.vote(2, 1, prevote, y);
    const auto v = single_vote(prevoted);
    CHECK(v.round == 2);
    CHECK(v.block == y);
  }
}

TEST_CASE("a locked proposer proposes its valid block again with its pol_round") {
  fixture f(3);
  f.start();
  const auto x = block_named(1);
  f.propose_from(0, 0, x);
  f.vote(0, 0, prevote, x);
  f.vote(1, 0, prevote, x);
  CHECK(f.engine.valid_block() == x);
  CHECK(f.engine.valid_round() == 0);
  f.vote(0, 0, precommit, nil);
  f.vote(1, 0, precommit, nil);
  f.timeout(0, consensus_step::precommit);
  f.fail_round();
  const auto round_three = f.fail_round(); // enters round 3, this validator's
  CHECK(only<need_block>(round_three).empty());
  const auto proposals = only<broadcast_proposal>(round_three);
  REQUIRE(proposals.size() == 1);
  CHECK(proposals[0].value.block == x);
  CHECK(proposals[0].value.pol_round == 0);
  CHECK(proposals[0].value.round == 3);
  CHECK(single_vote(round_three).block == x);
}

TEST_CASE("more than a third of the power in a later round makes the engine skip to it") {
  fixture f(3);
  f.start();
  f.vote(0, 5, prevote, nil);
  CHECK(f.engine.round() == 0); // one of four is not more than a third
  const auto skipped = f.vote(1, 5, precommit, nil);
  CHECK(f.engine.round() == 5);
  CHECK(f.engine.step() == consensus_step::propose);
  const auto timeouts = only<schedule_timeout>(skipped);
  REQUIRE(timeouts.size() == 1);
  CHECK(timeouts[0].round == 5);
  CHECK(timeouts[0].delay_ms == 3000 + 5 * 500);
  // Rounds beyond the window are dropped and never skipped to.
  f.vote(0, 5 + consensus::future_rounds_max + 1, prevote, nil);
  f.vote(1, 5 + consensus::future_rounds_max + 1, prevote, nil);
  CHECK(f.engine.round() == 5);
  CHECK(f.engine.dropped(drop_reason::round_out_of_window) == 2);
}

TEST_CASE("a commit quorum of any round decides even without the proposal") {
  fixture f(3);
  f.start();
  const auto block = block_named(77);
  f.vote(0, 2, precommit, block);
  f.vote(1, 2, precommit, block);
  const auto decided = f.vote(2, 2, precommit, block);
  const auto commits = only<commit>(decided);
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].round == 2);
  CHECK(commits[0].block == block);
  CHECK(commits[0].precommits.size() == 3);
}

TEST_CASE("bad signatures non members other chains and other heights are dropped and counted") {
  fixture f(3);
  f.start();
  const auto block = block_named(3);
  auto forged = signed_vote(f.keys[0], chain_id(), h, 0, prevote, block);
  forged.block = block_named(4);
  f.engine.on_vote(forged, ++f.now_ms);
  CHECK(f.engine.dropped(drop_reason::bad_signature) == 1);

  const auto strangers = sorted_keys(1, 99);
  f.engine.on_vote(signed_vote(strangers[0], chain_id(), h, 0, prevote, block), ++f.now_ms);
  CHECK(f.engine.dropped(drop_reason::not_member) == 1);

  auto other_chain = chain_id();
  other_chain.bytes[5] = 1;
  f.engine.on_vote(signed_vote(f.keys[0], other_chain, h, 0, prevote, block), ++f.now_ms);
  CHECK(f.engine.dropped(drop_reason::wrong_chain) == 1);

  f.vote(0, 0, prevote, block, h - 1);
  CHECK(f.engine.dropped(drop_reason::old_height) == 1);
  f.vote(0, 0, prevote, block, h + 2);
  CHECK(f.engine.dropped(drop_reason::future_height) == 1);

  auto unknown_kind = signed_vote(f.keys[0], chain_id(), h, 0, prevote, block);
  unknown_kind.kind = 9;
  rules::sign(unknown_kind, f.keys[0]);
  f.engine.on_vote(unknown_kind, ++f.now_ms);
  CHECK(f.engine.dropped(drop_reason::malformed) == 1);

  // A proposal from someone other than round 0's proposer (validator 0).
  f.propose_from(1, 0, block);
  CHECK(f.engine.dropped(drop_reason::wrong_proposer) == 1);
  auto bad_proposal = signed_proposal(f.keys[0], chain_id(), h, 0, block);
  bad_proposal.signature.bytes[0] ^= 1;
  f.engine.on_proposal(bad_proposal, true, ++f.now_ms);
  CHECK(f.engine.dropped(drop_reason::bad_signature) == 2);
  f.propose_from(0, 0, {});
  CHECK(f.engine.dropped(drop_reason::malformed) == 2);

  // None of it counted or moved the engine.
  CHECK(f.engine.vote_power(0, prevote, block) == 0);
  CHECK(f.engine.step() == consensus_step::propose);
  CHECK(f.engine.round() == 0);

  // Identical repeats are ignored, and verified once.
  f.vote(0, 0, prevote, block);
  const auto checks = f.verifier.checks();
  f.vote(0, 0, prevote, block);
  CHECK(f.engine.dropped(drop_reason::duplicate) == 1);
  CHECK(f.verifier.checks() == checks);
  CHECK(f.engine.vote_power(0, prevote, block) == 1);
}

TEST_CASE("messages before the first height are dropped as not started") {
  fixture f(3);
  f.vote(0, 0, prevote, nil);
  CHECK(f.engine.dropped(drop_reason::not_started) == 1);
  CHECK_FALSE(f.engine.is_started());
}

TEST_CASE("an equivocator yields evidence once per validator round and kind") {
  fixture f(4, 5);
  f.start();
  const auto x = block_named(1);
  const auto y = block_named(2);
  CHECK(only<evidence>(f.vote(1, 0, precommit, x)).empty());
  const auto found = only<evidence>(f.vote(1, 0, precommit, y));
  REQUIRE(found.size() == 1);
  CHECK(found[0].first.block == x);
  CHECK(found[0].second.block == y);
  CHECK(rules::conflicting(found[0].first, found[0].second));
  CHECK(only<evidence>(f.vote(1, 0, precommit, nil)).empty());
  // The same validator's prevotes are another kind: evidence again, once.
  f.vote(1, 0, prevote, x);
  CHECK(only<evidence>(f.vote(1, 0, prevote, nil)).size() == 1);
  // Another round: evidence again. Another validator: its own evidence.
  f.vote(1, 1, precommit, x);
  CHECK(only<evidence>(f.vote(1, 1, precommit, y)).size() == 1);
  f.vote(2, 1, precommit, x);
  CHECK(only<evidence>(f.vote(2, 1, precommit, y)).size() == 1);
}

TEST_CASE("an equivocator counts once toward any quorum") {
  // Five validators: a quorum is four.
  fixture f(4, 5);
  f.start();
  const auto x = block_named(1);
  const auto y = block_named(2);
  // Validator 1 precommits three values: each counts for its value, once in all.
  f.vote(1, 0, precommit, x);
  f.vote(1, 0, precommit, y);
  f.vote(1, 0, precommit, nil);
  CHECK(f.engine.vote_power(0, precommit, x) == 1);
  CHECK(f.engine.vote_power(0, precommit, y) == 1);
  CHECK(f.engine.vote_power(0, precommit, nil) == 1);
  f.vote(1, 0, precommit, block_named(3)); // a fourth value is not counted
  CHECK(f.engine.vote_power(0, precommit, block_named(3)) == 0);
  CHECK(f.engine.dropped(drop_reason::equivocation) == 1);
  f.vote(1, 0, precommit, y); // a repeat
  CHECK(f.engine.vote_power(0, precommit, y) == 1);
  // Precommits from 1, 0 and 2 are three of five: counting 1 thrice would make 2/3
  // of all precommits and schedule the precommit timeout.
  f.vote(0, 0, precommit, nil);
  CHECK(only<schedule_timeout>(f.vote(2, 0, precommit, nil)).empty());
  CHECK(only<schedule_timeout>(f.vote(3, 0, precommit, y)).size() == 1);
  CHECK_FALSE(f.engine.is_decided());

  // In round 1 its second vote completes a quorum for Y, as its peers may have seen.
  f.vote(1, 1, precommit, x);
  f.vote(1, 1, precommit, y);
  f.vote(0, 1, precommit, y);
  f.vote(2, 1, precommit, y);
  const auto commits = only<commit>(f.vote(3, 1, precommit, y));
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].block == y);
  REQUIRE(commits[0].precommits.size() == 4);
  for (const auto& v : commits[0].precommits)
    CHECK(v.block == y);
}

TEST_CASE("a commit certificate decides a validator that counted differently") {
  fixture f(3);
  f.start();
  const auto x = block_named(1);
  // Validator 1 told this validator nil, but others saw its precommit for X.
  f.vote(1, 0, precommit, nil);
  f.vote(0, 0, precommit, x);
  f.vote(2, 0, precommit, x);
  CHECK_FALSE(f.engine.is_decided());
  std::vector<rules::vote> certificate;
  for (std::size_t who : {0, 1, 2})
    certificate.push_back(signed_vote(f.keys[who], chain_id(), h, 0, precommit, x));

  SECTION("a valid certificate decides and names the equivocator") {
    const auto actions = f.engine.on_commit_certificate(h, certificate, ++f.now_ms);
    const auto commits = only<commit>(actions);
    REQUIRE(commits.size() == 1);
    CHECK(commits[0].block == x);
    CHECK(commits[0].precommits.size() == 3);
    const auto found = only<evidence>(actions);
    REQUIRE(found.size() == 1);
    CHECK(found[0].first.validator == f.keys[1].public_key());
  }
  SECTION("certificates that prove no quorum are dropped") {
    auto short_one = certificate;
    short_one.pop_back();
    CHECK(f.engine.on_commit_certificate(h, short_one, ++f.now_ms).empty());
    auto repeated = certificate;
    repeated[2] = repeated[0];
    CHECK(f.engine.on_commit_certificate(h, repeated, ++f.now_ms).empty());
    auto forged = certificate;
    forged[1].signature.bytes[3] ^= 1;
    CHECK(f.engine.on_commit_certificate(h, forged, ++f.now_ms).empty());
    auto mixed = certificate;
    mixed[1] = signed_vote(f.keys[1], chain_id(), h, 1, precommit, x);
    CHECK(f.engine.on_commit_certificate(h, mixed, ++f.now_ms).empty());
    CHECK(f.engine.dropped(drop_reason::bad_certificate) == 4);
    CHECK(f.engine.on_commit_certificate(h + 1, certificate, ++f.now_ms).empty());
    CHECK(f.engine.dropped(drop_reason::future_height) == 1);
    CHECK_FALSE(f.engine.is_decided());
  }
}

TEST_CASE("a Byzantine proposer sending two proposals gets one prevote") {
  fixture f(3);
  f.start();
  const auto a = block_named(1);
  const auto b = block_named(2);
  CHECK(single_vote(f.propose_from(0, 0, a)).block == a);
  CHECK(only<broadcast_vote>(f.propose_from(0, 0, b)).empty());
  CHECK(f.engine.conflicting_proposals() == 1);
  f.propose_from(0, 0, block_named(3));
  CHECK(f.engine.dropped(drop_reason::proposal_conflict) == 1);
  // The others prevote B: the kept second proposal lets this validator see the polka.
  // Still in the prevote step, so line 36 locks on B and precommits it.
  f.vote(0, 0, prevote, b);
  f.vote(1, 0, prevote, b);
  const auto locked = f.vote(2, 0, prevote, b);
  CHECK(single_vote(locked).block == b);
  CHECK(f.engine.locked_block() == b);
  CHECK(f.engine.valid_block() == b);
}

TEST_CASE("votes for the next height are buffered and used when it starts") {
  fixture f(3);
  f.start();
  const auto next_block = block_named(8);
  for (auto who : f.others(3))
    f.vote(who, 0, precommit, next_block, h + 1);
  CHECK(f.engine.buffered_votes() == 3);
  CHECK(f.vote(0, 0, precommit, next_block, h + 1).empty()); // duplicate
  CHECK(f.engine.buffered_votes() == 3);
  const auto started = f.engine.start_height(h + 1, set_of(f.keys).next(), ++f.now_ms);
  const auto commits = only<commit>(started);
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].height == h + 1);
  CHECK(commits[0].block == next_block);
  CHECK(f.engine.buffered_votes() == 0);
}

TEST_CASE("proposals for the next height are dropped for the caller to hand in again") {
  fixture f(3);
  f.start();
  f.engine.on_proposal(signed_proposal(f.keys[0], chain_id(), h + 1, 0, block_named(1)), true,
                       ++f.now_ms);
  CHECK(f.engine.dropped(drop_reason::future_height) == 1);
}

TEST_CASE("an engine outside the validator set follows and commits without voting") {
  memo_verifier verifier;
  auto keys = sorted_keys(4);
  auto outsider = sorted_keys(1, 50);
  consensus engine(consensus_config{}, chain_id(), std::move(outsider[0]), verifier);
  CHECK(only<broadcast_vote>(engine.start_height(h, set_of(keys), 0)).empty());
  const auto block = block_named(5);
  CHECK(only<broadcast_vote>(
            engine.on_proposal(signed_proposal(keys[0], chain_id(), h, 0, block), true, 1))
            .empty());
  for (std::size_t who = 0; who < 2; ++who)
    engine.on_vote(signed_vote(keys[who], chain_id(), h, 0, precommit, block), 2);
  const auto decided = engine.on_vote(signed_vote(keys[2], chain_id(), h, 0, precommit, block), 3);
  CHECK(only<commit>(decided).size() == 1);
}

TEST_CASE("the rounds kept per height stay bounded") {
  fixture f(3);
  f.start();
  for (int round = 0; round < 40; ++round)
    f.fail_round();
  CHECK(f.engine.round() == 40);
  CHECK(f.engine.rounds_tracked() <= consensus::rounds_tracked_max);
}
