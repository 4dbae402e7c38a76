#include "actors/validator/sign_state.hpp"

#include <tuple>

namespace stakecast::validator {

bool is_well_formed(const sign_state& s) noexcept {
  if (s.height == 0)
    return s.step == 0 && s.locked_round == -1;
  const bool known_step = s.step >= static_cast<std::uint8_t>(consensus_step::propose) &&
                          s.step <= static_cast<std::uint8_t>(consensus_step::precommit);
  return known_step && s.locked_round >= -1 && s.locked_round <= static_cast<std::int64_t>(s.round);
}

sign_verdict judge(const sign_state& last, std::uint64_t height, std::uint32_t round,
                   consensus_step step, const core::hash256& signed_digest) noexcept {
  if (last.height == 0)
    return sign_verdict::sign;
  const auto asked = std::make_tuple(height, round, static_cast<std::uint8_t>(step));
  const auto signed_last = std::make_tuple(last.height, last.round, last.step);
  if (asked > signed_last)
    return sign_verdict::sign;
  if (asked == signed_last && signed_digest == last.signed_digest)
    return sign_verdict::repeat;
  return sign_verdict::refuse;
}

} // namespace stakecast::validator
