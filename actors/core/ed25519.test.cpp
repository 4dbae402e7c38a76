// Pins Ed25519 to RFC 8032 section 7.1 (TEST 1, 2, 3: seed -> public key, message ->
// signature, verify), and pins `verify` to answering false, without crashing and
// without leaving OpenSSL errors behind, for a tampered message, signature or key, a
// non-canonical S (S + L) and a public key that is not a curve point.
#include "actors/core/ed25519.hpp"

#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>
#include <openssl/err.h>

using namespace stakecast::core;

namespace {

struct rfc8032_vector {
  const char* name;
  const char* secret_key;
  const char* public_key;
  const char* message;
  const char* signature;
};

const std::vector<rfc8032_vector> rfc8032_vectors = {
  {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
   "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
   "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e397"
   "01cf9b46bd25bf5f0595bbe24655141438e7a100b"},
  {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
   "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
   "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f361"
   "3d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
   "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
   "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f76"
   "0984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

hash256 hash_from_hex(std::string_view hex) {
  auto result = hash256::from_hex(hex);
  REQUIRE(result);
  return *result;
}

signature signature_from_hex(std::string_view hex) {
  auto result = signature::from_hex(hex);
  REQUIRE(result);
  return *result;
}

byte_buffer bytes_from_hex(std::string_view hex) {
  auto result = from_hex(hex);
  REQUIRE(result);
  return *result;
}

key_pair key_from_seed(const hash256& seed) {
  auto result = key_pair::from_seed(seed);
  REQUIRE(result);
  return std::move(*result);
}

// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr std::array<std::uint8_t, 32> group_order = {
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

// The same signature with S replaced by S + L: it satisfies the verification equation
// but is not canonical, so RFC 8032 requires rejecting it.
// REQUIRES: S + L < 2^256.
signature with_s_plus_group_order(signature original) {
  unsigned carry = 0;
  for (std::size_t i = 0; i < group_order.size(); ++i) {
    unsigned sum = original.bytes[32 + i] + group_order[i] + carry;
    original.bytes[32 + i] = static_cast<std::uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  REQUIRE(carry == 0);
  return original;
}

} // namespace

TEST_CASE("Ed25519 matches RFC 8032 section 7.1", "[core][ed25519]") {
  for (const auto& vector : rfc8032_vectors) {
    INFO(vector.name);
    key_pair keys = key_from_seed(hash_from_hex(vector.secret_key));
    byte_buffer message = bytes_from_hex(vector.message);
    signature expected = signature_from_hex(vector.signature);
    CHECK(keys.public_key() == hash_from_hex(vector.public_key));
    CHECK(keys.seed() == hash_from_hex(vector.secret_key));
    CHECK(keys.sign(message) == expected);
    CHECK(verify(keys.public_key(), message, expected));
  }
}

TEST_CASE("Ed25519 is deterministic from the seed", "[core][ed25519]") {
  hash256 seed;
  for (std::size_t i = 0; i < seed.bytes.size(); ++i)
    seed.bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  key_pair first = key_from_seed(seed);
  key_pair second = key_from_seed(seed);
  CHECK(first.public_key() == second.public_key());
  CHECK(first.sign(as_bytes("stake")) == second.sign(as_bytes("stake")));
  CHECK(verify(first.public_key(), as_bytes("stake"), second.sign(as_bytes("stake"))));
}

TEST_CASE("Ed25519 signs and verifies an empty message from a null span",
          "[core][ed25519]") {
  const auto& vector = rfc8032_vectors.front();
  key_pair keys = key_from_seed(hash_from_hex(vector.secret_key));
  CHECK(keys.sign(byte_span{}) == signature_from_hex(vector.signature));
  CHECK(verify(keys.public_key(), byte_span{}, signature_from_hex(vector.signature)));
}

TEST_CASE("Ed25519 verify rejects tampering", "[core][ed25519]") {
  const auto& vector = rfc8032_vectors[2];
  node_id public_key = hash_from_hex(vector.public_key);
  byte_buffer message = bytes_from_hex(vector.message);
  signature good = signature_from_hex(vector.signature);
  REQUIRE(verify(public_key, message, good));

  SECTION("a flipped bit in the message") {
    for (std::size_t bit = 0; bit < message.size() * 8; ++bit) {
      byte_buffer tampered = message;
      tampered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      CHECK_FALSE(verify(public_key, tampered, good));
    }
  }
  SECTION("a longer or shorter message") {
    byte_buffer longer = message;
    longer.push_back(0);
    CHECK_FALSE(verify(public_key, longer, good));
    CHECK_FALSE(verify(public_key, byte_span{message}.first(1), good));
  }
  SECTION("a flipped bit anywhere in the signature") {
    for (std::size_t bit = 0; bit < signature::size_bytes * 8; ++bit) {
      signature tampered = good;
      tampered.bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      CHECK_FALSE(verify(public_key, message, tampered));
    }
  }
  SECTION("another signer's key") {
    CHECK_FALSE(verify(hash_from_hex(rfc8032_vectors[1].public_key), message, good));
  }
  SECTION("a flipped bit in the public key") {
    node_id tampered = public_key;
    tampered.bytes[0] ^= 0x01;
    CHECK_FALSE(verify(tampered, message, good));
  }
  SECTION("a non-canonical S (S + L)") {
    CHECK_FALSE(verify(public_key, message, with_s_plus_group_order(good)));
  }
}

TEST_CASE("Ed25519 verify answers false for malformed keys and signatures",
          "[core][ed25519]") {
  const auto& vector = rfc8032_vectors[0];
  signature good = signature_from_hex(vector.signature);
  ERR_clear_error();

  node_id all_ones;
  all_ones.bytes.fill(0xff);
  CHECK_FALSE(verify(all_ones, byte_span{}, good));
  CHECK_FALSE(verify(node_id{}, byte_span{}, good));
  CHECK_FALSE(verify(hash_from_hex(vector.public_key), byte_span{}, signature{}));
  signature all_ones_signature;
  all_ones_signature.bytes.fill(0xff);
  CHECK_FALSE(verify(hash_from_hex(vector.public_key), byte_span{}, all_ones_signature));
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("Ed25519 key pairs survive a move", "[core][ed25519]") {
  const auto& vector = rfc8032_vectors[1];
  key_pair first = key_from_seed(hash_from_hex(vector.secret_key));
  key_pair second = std::move(first);
  CHECK(second.public_key() == hash_from_hex(vector.public_key));
  CHECK(second.sign(bytes_from_hex(vector.message)) == signature_from_hex(vector.signature));
}

TEST_CASE("signature hex and CAF serialization round-trip", "[core][ed25519]") {
  signature original = signature_from_hex(rfc8032_vectors[0].signature);
  CHECK(original.to_hex() == rfc8032_vectors[0].signature);
  CHECK_FALSE(signature::from_hex("00"));
  CHECK_FALSE(signature::from_hex(std::string(128, 'g')));

  std::vector<char> buffer;
  caf::binary_serializer sink{nullptr, buffer};
  REQUIRE_FALSE(sink(original));
  CHECK(buffer.size() == signature::size_bytes);
  signature decoded;
  caf::binary_deserializer source{nullptr, buffer};
  REQUIRE_FALSE(source(decoded));
  CHECK(decoded == original);
}
