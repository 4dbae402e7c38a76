// Helpers shared by tests: a fixed Ed25519 key pair from one byte, so that each test
// names its nodes' keys and reruns give the same ids.
#pragma once

#include <cstdint>
#include <utility>

#include <catch2/catch.hpp>

#include "actors/core/ed25519.hpp"

namespace stakecast::test {

/// The key pair whose 32-byte seed is `fill` repeated.
inline core::key_pair key_of(std::uint8_t fill) {
  core::hash256 seed;
  seed.bytes.fill(fill);
  auto keys = core::key_pair::from_seed(seed);
  REQUIRE(keys);
  return std::move(*keys);
}

} // namespace stakecast::test
