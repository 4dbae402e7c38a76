#include "actors/validator/proposal.hpp"

#include <string_view>

#include "actors/core/record_codec.hpp"

namespace stakecast::validator {

namespace {

constexpr std::string_view proposal_domain_tag = "stakecast/proposal/v1";

} // namespace

core::byte_buffer signing_bytes(const proposal& p) {
  auto unsigned_proposal = p;
  unsigned_proposal.signature = {};
  core::byte_buffer out(proposal_domain_tag.begin(), proposal_domain_tag.end());
  auto body = core::encode_record(unsigned_proposal);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void sign(proposal& p, const core::key_pair& key) {
  p.proposer = key.public_key();
  p.signature = key.sign(signing_bytes(p));
}

bool verify(const proposal& p, const core::verifier& signatures) {
  return signatures.verify(p.proposer, signing_bytes(p), p.signature);
}

bool is_well_formed(const proposal& p) noexcept {
  if (p.block.is_zero())
    return false;
  return p.pol_round == proposal::no_pol_round ||
         (p.pol_round >= 0 && p.pol_round < static_cast<std::int64_t>(p.round));
}

} // namespace stakecast::validator
