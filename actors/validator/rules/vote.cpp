#include "actors/validator/rules/vote.hpp"

#include <string_view>

#include "actors/core/record_codec.hpp"

namespace stakecast::rules {

namespace {

constexpr std::string_view vote_domain_tag = "stakecast/vote/v1";

} // namespace

core::byte_buffer signing_bytes(const vote& v) {
  auto unsigned_vote = v;
  unsigned_vote.signature = {};
  core::byte_buffer out(vote_domain_tag.begin(), vote_domain_tag.end());
  auto body = core::encode_record(unsigned_vote);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void sign(vote& v, const core::key_pair& key) {
  v.validator = key.public_key();
  v.signature = key.sign(signing_bytes(v));
}

bool verify(const vote& v, const core::verifier& signatures) {
  if (v.kind_enum() != vote_kind::prevote && v.kind_enum() != vote_kind::precommit)
    return false;
  return signatures.verify(v.validator, signing_bytes(v), v.signature);
}

bool conflicting(const vote& a, const vote& b) noexcept {
  return a.validator == b.validator && a.chain == b.chain && a.height == b.height
         && a.round == b.round && a.kind == b.kind && a.block != b.block;
}

} // namespace stakecast::rules
