// Pins down virtual content (virtual_content.hpp): leaf(i) is exactly
// SHA-256(seed || le64(i)) (checked against a hand-built input); for contents of 1, 2,
// 5, 16 and 17 blocks every block's proof verifies against the manifest root with
// verify_leaf, while a wrong leaf (another index's, another seed's, a flipped bit) or
// a proof for another index fails; make() yields a valid manifest whose segments span
// the tree's leaves; block sizes match real content of the same length. A hidden test
// times the tree of a 20-minute 3 Mbit/s video (the figure in the header).
#include "actors/core/virtual_content.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include <catch2/catch.hpp>

#include "actors/core/merkle.hpp"
#include "actors/core/sha256.hpp"

using namespace stakecast;
using namespace stakecast::core;

namespace {

virtual_content content_of(std::string_view label, std::uint64_t content_bytes) {
  return {sha256(as_bytes(label)), content_bytes};
}

} // namespace

TEST_CASE("a virtual leaf is the hash of the seed and the little-endian index",
          "[virtual_content]") {
  auto content = content_of("seed", 300 * block_bytes);
  std::array<std::uint8_t, 40> input{};
  std::copy(content.seed.bytes.begin(), content.seed.bytes.end(), input.begin());
  input[32] = 0x2a; // 298 = 0x012a
  input[33] = 0x01;
  CHECK(content.leaf(298) == sha256(input));
  CHECK(content.leaf(0) != content.leaf(1));
  CHECK(content_of("other seed", 300 * block_bytes).leaf(0) != content.leaf(0));
}

TEST_CASE("every block of a small virtual content verifies and wrong leaves fail",
          "[virtual_content]") {
  for (std::uint64_t blocks : {1, 2, 5, 16, 17}) {
    auto content = content_of("small", blocks * block_bytes - 7);
    auto other = content_of("another seed", blocks * block_bytes - 7);
    auto m = content.make("small", 64'000, 2'000);
    REQUIRE(!validate(m));
    auto tree = content.tree();
    REQUIRE(tree.leaf_count() == blocks);
    REQUIRE(tree.root() == m.merkle_root);
    INFO(blocks << " blocks");
    for (std::uint32_t index = 0; index < blocks; ++index) {
      auto proof = tree.proof(index);
      CHECK(proof.leaf_count == block_count(m.content_bytes));
      CHECK(verify_leaf(m.merkle_root, content.leaf(index), proof));
      // A poisoned block: a leaf other than leaf(index).
      auto flipped = content.leaf(index);
      flipped.bytes[0] ^= 0x01;
      CHECK_FALSE(verify_leaf(m.merkle_root, flipped, proof));
      CHECK_FALSE(verify_leaf(m.merkle_root, other.leaf(index), proof));
      if (blocks > 1) {
        auto neighbour = (index + 1) % blocks;
        CHECK_FALSE(verify_leaf(m.merkle_root, content.leaf(neighbour), proof));
        CHECK_FALSE(verify_leaf(m.merkle_root, content.leaf(index), tree.proof(neighbour)));
      }
    }
  }
}

TEST_CASE("virtual block sizes match real content of the same length", "[virtual_content]") {
  auto content = content_of("sizes", 3 * block_bytes + 10);
  CHECK(content.block_count() == 4);
  CHECK(content.block_size(0) == block_bytes);
  CHECK(content.block_size(2) == block_bytes);
  CHECK(content.block_size(3) == 10);
  auto exact = content_of("sizes", 2 * block_bytes);
  CHECK(exact.block_count() == 2);
  CHECK(exact.block_size(1) == block_bytes);
}

TEST_CASE("a virtual manifest's segments span the tree's leaves", "[virtual_content]") {
  auto content = content_of("video", 40'000'000); // 2,442 blocks
  auto m = content.make("video", 3'000'000, 2'000);
  REQUIRE(!validate(m));
  CHECK(m.title == "video");
  CHECK(m.content_bytes == content.content_bytes);
  CHECK(m.merkle_root == content.tree().root());
  auto [first, count] = blocks_of_segment(m, static_cast<std::uint32_t>(m.segments.size() - 1));
  CHECK(first + count == content.block_count());
  // The same seed and length give the same manifest, so the same content id.
  CHECK(id_of(content_of("video", 40'000'000).make("video", 3'000'000, 2'000)) == id_of(m));
}

// Hidden: a timing, not a check. Run with -d yes to print its duration (virtual_content.hpp).
TEST_CASE("virtual content tree build time for a 20-minute video",
          "[.][virtual_content_timing]") {
  auto content = content_of("20 minutes", 1'200ULL * 3'000'000 / 8);
  auto tree = content.tree();
  CHECK(tree.leaf_count() == 27'466);
}
