// Pins the Merkle construction documented in merkle.hpp (prefixed leaf and inner
// hashes, zero-leaf padding to a power of two, checked against a naive reference that
// stores the padding) and pins proofs: for 1, 2, 3, 5, 16 and 17 blocks every proof
// verifies, and tampered blocks or siblings, wrong indexes or leaf counts, wrong block
// sizes and truncated or extended sibling lists are all rejected. Pins layers: for 1 to
// 70 leaves and every height from 0 to min(7, depth), each layer entry is the
// subtree_root of the leaves it covers, nodes past the layer are padding, the layer
// folds back to the root, and tampering with any one entry changes that root.
#include "actors/core/merkle.hpp"

#include <algorithm>
#include <bit>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>

#include "actors/core/sha256.hpp"

using namespace stakecast::core;

namespace {

constexpr std::size_t short_tail_bytes = 100;

// Deterministic content in which no two blocks are equal (block_bytes % 251 != 0).
byte_buffer make_content(std::size_t size) {
  byte_buffer content(size);
  for (std::size_t i = 0; i < size; ++i)
    content[i] = static_cast<std::uint8_t>((i * 131 + 7) % 251);
  return content;
}

std::vector<hash256> leaves_of(byte_span content) {
  std::vector<hash256> leaves;
  for (std::uint32_t index = 0; index < block_count(content.size()); ++index)
    leaves.push_back(leaf_hash(content_block(content, index)));
  return leaves;
}

// The construction as written in merkle.hpp: pad the leaves with zeros, then halve.
hash256 reference_root(std::vector<hash256> level) {
  while (!std::has_single_bit(level.size()))
    level.push_back(hash256{});
  while (level.size() > 1) {
    std::vector<hash256> parents;
    for (std::size_t i = 0; i < level.size(); i += 2)
      parents.push_back(inner_hash(level[i], level[i + 1]));
    level = std::move(parents);
  }
  return level.front();
}

hash256 flipped(hash256 value) {
  value.bytes[5] ^= 0x20;
  return value;
}

} // namespace

TEST_CASE("block_count cuts content into 16 KiB blocks", "[core][merkle]") {
  CHECK(block_count(0) == 1);
  CHECK(block_count(1) == 1);
  CHECK(block_count(block_bytes) == 1);
  CHECK(block_count(block_bytes + 1) == 2);
  CHECK(block_count(17 * block_bytes) == 17);
  CHECK(block_count(content_bytes_max) == leaf_count_max);
  byte_buffer content = make_content(2 * block_bytes + short_tail_bytes);
  CHECK(content_block(content, 0).size() == block_bytes);
  CHECK(content_block(content, 1).data() == content.data() + block_bytes);
  CHECK(content_block(content, 2).size() == short_tail_bytes);
  CHECK(content_block(byte_span{}, 0).empty());
}

TEST_CASE("merkle_depth is ceil(log2(leaf count))", "[core][merkle]") {
  CHECK(merkle_depth(1) == 0);
  CHECK(merkle_depth(2) == 1);
  CHECK(merkle_depth(3) == 2);
  CHECK(merkle_depth(4) == 2);
  CHECK(merkle_depth(5) == 3);
  CHECK(merkle_depth(16) == 4);
  CHECK(merkle_depth(17) == 5);
}

TEST_CASE("leaf and inner hashes carry their prefixes", "[core][merkle]") {
  byte_buffer block = make_content(300);
  byte_buffer prefixed{0x00};
  prefixed.insert(prefixed.end(), block.begin(), block.end());
  CHECK(leaf_hash(block) == sha256(prefixed));

  hash256 left = sha256(as_bytes("left"));
  hash256 right = sha256(as_bytes("right"));
  byte_buffer joined{0x01};
  joined.insert(joined.end(), left.bytes.begin(), left.bytes.end());
  joined.insert(joined.end(), right.bytes.begin(), right.bytes.end());
  CHECK(inner_hash(left, right) == sha256(joined));

  CHECK(padding_hash(0) == hash256{});
  CHECK(padding_hash(1) == inner_hash(hash256{}, hash256{}));
  CHECK(padding_hash(2) == inner_hash(padding_hash(1), padding_hash(1)));
}

TEST_CASE("merkle roots follow the documented construction", "[core][merkle]") {
  std::vector<hash256> leaves;
  for (int i = 0; i < 5; ++i)
    leaves.push_back(sha256(as_bytes(std::string(1, static_cast<char>('a' + i)))));
  const auto& l = leaves;
  hash256 zero{};

  CHECK(merkle_tree::build({l[0]}).root() == l[0]);
  CHECK(merkle_tree::build({l[0], l[1]}).root() == inner_hash(l[0], l[1]));
  CHECK(merkle_tree::build({l[0], l[1], l[2]}).root()
        == inner_hash(inner_hash(l[0], l[1]), inner_hash(l[2], zero)));
  CHECK(merkle_tree::build(leaves).root()
        == inner_hash(inner_hash(inner_hash(l[0], l[1]), inner_hash(l[2], l[3])),
                      inner_hash(inner_hash(l[4], zero), inner_hash(zero, zero))));

  for (std::size_t count = 1; count <= 40; ++count) {
    INFO("leaf count " << count);
    std::vector<hash256> many;
    for (std::size_t i = 0; i < count; ++i)
      many.push_back(sha256(as_bytes(std::to_string(i))));
    CHECK(merkle_tree::build(many).root() == reference_root(many));
  }
}

TEST_CASE("empty content is one empty block", "[core][merkle]") {
  byte_buffer only_prefix{0x00};
  CHECK(merkle_root(byte_span{}) == sha256(only_prefix));
  merkle_tree tree = merkle_tree::build({leaf_hash(byte_span{})});
  merkle_proof proof = tree.proof(0);
  CHECK(proof.siblings.empty());
  CHECK(verify_block(tree.root(), byte_span{}, proof));
}

TEST_CASE("merkle proofs verify and reject tampering", "[core][merkle]") {
  auto count = GENERATE(as<std::uint32_t>{}, 1, 2, 3, 5, 16, 17);
  auto short_last_block = GENERATE(false, true);
  INFO("blocks " << count << (short_last_block ? ", short last block" : ""));
  byte_buffer content =
    make_content(count * block_bytes - (short_last_block ? short_tail_bytes : 0));
  REQUIRE(block_count(content.size()) == count);
  merkle_tree tree = merkle_tree::build(leaves_of(content));
  hash256 root = tree.root();
  REQUIRE(root == merkle_root(content));
  REQUIRE(tree.leaf_count() == count);

  for (std::uint32_t index = 0; index < count; ++index) {
    INFO("index " << index);
    byte_span block = content_block(content, index);
    merkle_proof proof = tree.proof(index);
    REQUIRE(proof.siblings.size() == merkle_depth(count));
    CHECK(verify_block(root, block, proof));
    CHECK(verify_leaf(root, leaf_hash(block), proof));
    CHECK_FALSE(verify_block(flipped(root), block, proof));

    // Tampered block data.
    byte_buffer tampered_block(block.begin(), block.end());
    tampered_block[tampered_block.size() / 2] ^= 0x01;
    CHECK_FALSE(verify_block(root, tampered_block, proof));

    // Tampered siblings, one at a time.
    for (std::size_t level = 0; level < proof.siblings.size(); ++level) {
      merkle_proof tampered = proof;
      tampered.siblings[level] = flipped(tampered.siblings[level]);
      CHECK_FALSE(verify_block(root, block, tampered));
    }

    // Wrong indexes, including one past the end.
    for (std::uint32_t other = 0; other <= count; ++other) {
      if (other == index)
        continue;
      merkle_proof moved = proof;
      moved.index = other;
      CHECK_FALSE(verify_leaf(root, leaf_hash(block), moved));
    }

    // Truncated and extended sibling lists.
    if (!proof.siblings.empty()) {
      merkle_proof truncated = proof;
      truncated.siblings.pop_back();
      CHECK_FALSE(verify_block(root, block, truncated));
    }
    for (const hash256& extra : {hash256{}, padding_hash(merkle_depth(count)), root}) {
      merkle_proof extended = proof;
      extended.siblings.push_back(extra);
      CHECK_FALSE(verify_block(root, block, extended));
    }

    // A leaf count of another depth.
    merkle_proof deeper = proof;
    deeper.leaf_count = count * 2;
    CHECK_FALSE(verify_block(root, block, deeper));
    CHECK_FALSE(verify_leaf(root, leaf_hash(block), deeper));
  }

  // Around the last block, one more or one fewer leaf always shows.
  std::uint32_t last = count - 1;
  merkle_proof last_proof = tree.proof(last);
  for (std::uint32_t wrong_count : {count - 1, count + 1}) {
    merkle_proof wrong = last_proof;
    wrong.leaf_count = wrong_count;
    CHECK_FALSE(verify_leaf(root, leaf_hash(content_block(content, last)), wrong));
  }
}

TEST_CASE("merkle proofs reject blocks of the wrong size", "[core][merkle]") {
  byte_buffer content = make_content(3 * block_bytes - short_tail_bytes);
  merkle_tree tree = merkle_tree::build(leaves_of(content));
  byte_span last_block = content_block(content, 2);

  byte_buffer padded_last(last_block.begin(), last_block.end());
  padded_last.resize(block_bytes, 0);
  CHECK_FALSE(verify_block(tree.root(), padded_last, tree.proof(2)));

  byte_buffer oversized(block_bytes + 1, 0x5a);
  CHECK_FALSE(verify_block(tree.root(), oversized, tree.proof(2)));
  CHECK_FALSE(verify_block(tree.root(), oversized, tree.proof(0)));

  CHECK_FALSE(verify_block(tree.root(), content_block(content, 0).first(block_bytes - 1),
                           tree.proof(0)));
  CHECK_FALSE(verify_block(tree.root(), byte_span{}, tree.proof(2)));
}

TEST_CASE("merkle proofs reject malformed shapes without crashing", "[core][merkle]") {
  byte_buffer content = make_content(5 * block_bytes);
  merkle_tree tree = merkle_tree::build(leaves_of(content));
  byte_span block = content_block(content, 0);
  merkle_proof proof = tree.proof(0);

  merkle_proof no_leaves = proof;
  no_leaves.leaf_count = 0;
  CHECK_FALSE(verify_block(tree.root(), block, no_leaves));

  merkle_proof too_deep = proof;
  too_deep.leaf_count = static_cast<std::uint32_t>(leaf_count_max);
  too_deep.siblings.resize(merkle_proof_depth_max + 1);
  CHECK_FALSE(verify_block(tree.root(), block, too_deep));
  too_deep.siblings.resize(merkle_proof_depth_max);
  CHECK_FALSE(verify_block(tree.root(), block, too_deep));
}

TEST_CASE("a root does not commit to the leaf count (documented caveat)",
          "[core][merkle]") {
  // 5 and 6 leaves have the same depth, and leaf 0's path never meets leaf 5, so the
  // proof checks out either way: callers compare leaf_count with the manifest's.
  byte_buffer content = make_content(5 * block_bytes);
  merkle_tree tree = merkle_tree::build(leaves_of(content));
  merkle_proof claimed_six = tree.proof(0);
  claimed_six.leaf_count = 6;
  CHECK(verify_block(tree.root(), content_block(content, 0), claimed_six));
  // Leaf 4's sibling is padding with 5 leaves and real with 6: rejected.
  merkle_proof last_claimed_six = tree.proof(4);
  last_claimed_six.leaf_count = 6;
  CHECK_FALSE(verify_block(tree.root(), content_block(content, 4), last_claimed_six));
}

TEST_CASE("subtree_root pads its leaves to 2^height slots", "[core][merkle]") {
  hash256 a = sha256(as_bytes("a"));
  hash256 b = sha256(as_bytes("b"));
  hash256 c = sha256(as_bytes("c"));
  hash256 zero{};
  CHECK(subtree_root(std::vector{a}, 0) == a);
  CHECK(subtree_root(std::vector{a}, 1) == inner_hash(a, zero));
  CHECK(subtree_root(std::vector{a, b}, 1) == inner_hash(a, b));
  CHECK(subtree_root(std::vector{a, b, c}, 2)
        == inner_hash(inner_hash(a, b), inner_hash(c, zero)));
  CHECK(subtree_root(std::vector{a}, 3)
        == inner_hash(inner_hash(inner_hash(a, zero), padding_hash(1)), padding_hash(2)));
}

TEST_CASE("merkle layers are subtree roots and fold back to the root", "[core][merkle]") {
  for (std::uint32_t count = 1; count <= 70; ++count) {
    std::vector<hash256> leaves;
    for (std::uint32_t i = 0; i < count; ++i)
      leaves.push_back(sha256(as_bytes("leaf " + std::to_string(i))));
    merkle_tree tree = merkle_tree::build(leaves);
    REQUIRE(tree.depth() == merkle_depth(count));
    CHECK(tree.node(tree.depth(), 0) == tree.root());
    for (std::uint32_t height = 0; height <= std::min<std::uint32_t>(7, tree.depth());
         ++height) {
      INFO("leaf count " << count << " height " << height);
      std::size_t slots = std::size_t{1} << height;
      std::vector<hash256> layer = tree.layer(height);
      REQUIRE(layer.size() == (count + slots - 1) / slots);
      for (std::size_t i = 0; i < layer.size(); ++i) {
        std::size_t first = i * slots;
        std::size_t size = std::min<std::size_t>(slots, count - first);
        CHECK(layer[i] == subtree_root(std::span{leaves}.subspan(first, size), height));
        CHECK(tree.node(height, static_cast<std::uint32_t>(i)) == layer[i]);
      }
      // Nodes past the layer (up to the padded width) cover only padding.
      std::size_t width = std::size_t{1} << (tree.depth() - height);
      for (std::size_t i = layer.size(); i < width; ++i)
        CHECK(tree.node(height, static_cast<std::uint32_t>(i)) == padding_hash(height));
      CHECK(root_from_layer(layer, height, count) == tree.root());
      for (std::size_t i = 0; i < layer.size(); ++i) {
        std::vector<hash256> tampered = layer;
        tampered[i] = flipped(tampered[i]);
        CHECK(root_from_layer(tampered, height, count) != tree.root());
      }
    }
  }
}

TEST_CASE("root_from_layer reads the leaf count only as a shape (documented caveat)",
          "[core][merkle]") {
  // As with a root, a layer does not prove the leaf count: 7 and 8 leaves have the
  // same depth and a 2-node layer at height 2, so the fold is the same. The manifest
  // fixes the count through content_bytes.
  std::vector<hash256> leaves;
  for (int i = 0; i < 8; ++i)
    leaves.push_back(sha256(as_bytes("leaf " + std::to_string(i))));
  merkle_tree eight = merkle_tree::build(leaves);
  CHECK(root_from_layer(eight.layer(2), 2, 8) == eight.root());
  CHECK(root_from_layer(eight.layer(2), 2, 7) == eight.root());
}

TEST_CASE("merkle_proof round-trips through CAF serialization", "[core][merkle]") {
  merkle_tree tree = merkle_tree::build(leaves_of(make_content(17 * block_bytes)));
  merkle_proof original = tree.proof(16);
  std::vector<char> buffer;
  caf::binary_serializer sink{nullptr, buffer};
  REQUIRE_FALSE(sink(original));
  merkle_proof decoded;
  caf::binary_deserializer source{nullptr, buffer};
  REQUIRE_FALSE(source(decoded));
  CHECK(decoded == original);
}
