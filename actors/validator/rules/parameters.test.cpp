// Parameters and amounts: the defaults pass `check`, a bad value is named in the
// error, and checked arithmetic refuses overflow instead of wrapping.
#include <catch2/catch.hpp>

#include "actors/core/error.hpp"
#include "actors/validator/rules/errors.hpp"
#include "actors/validator/rules/parameters.hpp"

using namespace stakecast;
using namespace stakecast::rules;

TEST_CASE("default parameters pass check and a bad one is named") {
  CHECK_FALSE(check(parameters{}));
  parameters p;
  p.audit_window_blocks = p.epoch_blocks;
  auto error = check(p);
  CHECK(is(error, parameter_errc::bad_parameter));
  CHECK_THAT(core::describe(error), Catch::Contains("audit_window_blocks: 720"));
  p = {};
  p.fee_burn = ppm_one + 1;
  CHECK_THAT(core::describe(check(p)), Catch::Contains("fee_burn"));
  p = {};
  p.inflation_initial = p.inflation_max + 1;
  CHECK_THAT(core::describe(check(p)), Catch::Contains("inflation_initial"));
}

TEST_CASE("checked amounts refuse overflow and ppm products floor") {
  CHECK_FALSE(checked_add(UINT64_MAX, 1));
  CHECK(checked_add(1, 2) == 3u);
  CHECK_FALSE(checked_sub(1, 2));
  CHECK_FALSE(checked_mul(UINT64_MAX / 2 + 1, 2));
  CHECK(ppm_of(999, 500'000) == 499);
  CHECK(ppm_of(UINT64_MAX, ppm_one) == UINT64_MAX);
  CHECK(ratio_ppm(1, 3) == 333'333);
  CHECK(mul_div(UINT64_MAX, UINT64_MAX, UINT64_MAX) == UINT64_MAX);
  CHECK_FALSE(mul_div(1, 1, 0));
}
