// Signature verification as a service that the world may speed up.
//
// Ed25519 verification costs about 50 µs. A chain of 21 validators verifies every
// vote and every commit signature on every validator, which in one simulated process
// is the same (key, message, signature) triple checked 21 times. The answer is a pure
// function of the triple, so a world may remember it: the simulator hands actors a
// memoizing verifier shared by all its virtual nodes, the real node the direct one.
// Code that verifies signatures takes a `const verifier&` and cannot tell them apart.
//
// Blocks shown as proof of storage (the chain's audit answers) are verified through
// the same seam: a real block verifies with core::verify_block everywhere, and the
// simulator, whose content has no bytes (virtual_content.hpp), also accepts a
// virtual block's stand-in. The default `verify_block` is core::verify_block, which
// is what the real node uses.
//
// Concurrency: `direct_verifier` is stateless and safe from any thread. A memoizing
// verifier documents its own rules (the simulator's runs on one thread).
#pragma once

#include "actors/core/bytes.hpp"
#include "actors/core/ed25519.hpp"
#include "actors/core/merkle.hpp"

namespace stakecast::core {

class verifier {
public:
  virtual ~verifier() = default;

  /// As core::verify: true only for a valid signature of `message` by `public_key`.
  virtual bool verify(const node_id& public_key, byte_span message,
                      const signature& message_signature) const = 0;

  /// As core::verify_block: true only when `block` is block `proof.index` of the
  /// content whose Merkle root is `root`.
  virtual bool verify_block(const hash256& root, byte_span block, const merkle_proof& proof) const {
    return core::verify_block(root, block, proof);
  }
};

/// Verifies every call with core::verify and core::verify_block.
class direct_verifier final : public verifier {
public:
  bool verify(const node_id& public_key, byte_span message,
              const signature& message_signature) const override {
    return core::verify(public_key, message, message_signature);
  }
};

} // namespace stakecast::core
