// Pins SHA-256 to the FIPS 180-2 / NIST examples ("abc", "", the 448-bit message, one
// million 'a'), and pins the incremental hasher to the one-shot digest for every way
// of splitting an input, including reuse of a hasher after `finish`.
#include "actors/core/sha256.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace stakecast::core;

namespace {

std::string hex_of(byte_span data) {
  return sha256(data).to_hex();
}

} // namespace

TEST_CASE("sha256 matches the NIST examples", "[core][sha256]") {
  CHECK(hex_of(as_bytes("abc"))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex_of(as_bytes(""))
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_of(byte_span{}) == hex_of(as_bytes("")));
  CHECK(hex_of(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million_a(1'000'000, 'a');
  CHECK(hex_of(as_bytes(million_a))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_hasher over pieces equals the one-shot digest", "[core][sha256]") {
  std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  auto bytes = as_bytes(text);
  hash256 expected = sha256(bytes);
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    sha256_hasher hasher;
    hasher.update(bytes.first(split));
    hasher.update(bytes.subspan(split));
    CHECK(hasher.finish() == expected);
  }
}

TEST_CASE("sha256_hasher of one million 'a' fed in 1000-byte pieces", "[core][sha256]") {
  std::string thousand_a(1000, 'a');
  sha256_hasher hasher;
  for (int piece = 0; piece < 1000; ++piece)
    hasher.update(as_bytes(thousand_a));
  CHECK(hasher.finish().to_hex()
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_hasher starts over after finish", "[core][sha256]") {
  sha256_hasher hasher;
  CHECK(hasher.finish() == sha256(byte_span{}));
  hasher.update(as_bytes("ab"));
  hasher.update(as_bytes("c"));
  CHECK(hasher.finish() == sha256(as_bytes("abc")));
  hasher.update(as_bytes("abc"));
  CHECK(hasher.finish() == sha256(as_bytes("abc")));
}

TEST_CASE("sha256_hasher works after a move", "[core][sha256]") {
  sha256_hasher first;
  first.update(as_bytes("a"));
  sha256_hasher second = std::move(first);
  second.update(as_bytes("bc"));
  CHECK(second.finish() == sha256(as_bytes("abc")));
}
