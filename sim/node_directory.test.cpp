// Pins down the node directory: every inserted id is found with its index across
// growth, and ids never inserted (including ones that collide in the first 8 bytes)
// are not found.
#include <catch2/catch.hpp>

#include "actors/core/sha256.hpp"
#include "sim/node_directory.hpp"

using namespace stakecast;

TEST_CASE("the node directory finds every inserted id and nothing else") {
  sim::node_directory directory;
  std::vector<core::node_id> ids;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    std::uint64_t word = i;
    ids.push_back(core::sha256({reinterpret_cast<const std::uint8_t*>(&word), sizeof(word)}));
    directory.insert(ids.back(), i);
  }
  CHECK(directory.size() == 5000);
  for (std::uint32_t i = 0; i < ids.size(); ++i)
    REQUIRE(directory.find(ids[i]) == i);
  // Same first 8 bytes as a known id, different elsewhere: a probe collision.
  auto twin = ids[17];
  twin.bytes[31] ^= 1;
  CHECK_FALSE(directory.find(twin));
  directory.insert(twin, 9999);
  CHECK(directory.find(twin) == 9999u);
  CHECK(directory.find(ids[17]) == 17u);
  CHECK_FALSE(directory.find(core::sha256(core::as_bytes("stranger"))));
}
