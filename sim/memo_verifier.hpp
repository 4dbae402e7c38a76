// The simulator's signature verifier: remembers the answer for every (public key,
// message, signature) triple it checked, so that 21 virtual validators verifying the
// same vote cost one Ed25519 verification, not 21 (core/verifier.hpp says why this is
// sound: the answer is a pure function of the triple).
//
// The table is keyed by SHA-256(key || message || signature) (32 bytes instead of the
// message itself) and holds at most `entries_max` answers. When it is full it is
// cleared: the next checks are real again. That keeps memory bounded, costs nothing
// per hit, and is deterministic (the answers do not depend on what was forgotten).
//
// Blocks: the simulator's content is virtual (core/virtual_content.hpp), so a
// masternode shows a block in an audit answer by its 40-byte stand-in (the content's
// seed, then le64(block index)). `verify_block` accepts a stand-in whose index is
// proof.index when verify_leaf(root, SHA-256(stand-in), proof) holds, since
// SHA-256(stand-in) is the block's leaf in a virtual content's tree; any other block
// is checked as real bytes with core::verify_block. Nothing is remembered: audits are
// a few per masternode and epoch.
//
// One per simulation, shared by all virtual nodes. Not thread-safe: the simulator
// runs on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "actors/core/verifier.hpp"

namespace stakecast::sim {

class memo_verifier final : public core::verifier {
public:
  /// 1 Mi answers: about 64 MiB of table at worst; a 21-validator chain uses a few
  /// thousand per virtual minute.
  static constexpr std::size_t entries_max = 1u << 20;

  bool verify(const core::node_id& public_key, core::byte_span message,
              const core::signature& message_signature) const override;

  /// A virtual block's stand-in verifies against its leaf in the virtual tree, any
  /// other block as core::verify_block.
  bool verify_block(const core::hash256& root, core::byte_span block,
                    const core::merkle_proof& proof) const override;

  /// Real Ed25519 verifications done.
  std::uint64_t checks() const noexcept { return checks_; }
  /// Answers served from the table.
  std::uint64_t hits() const noexcept { return hits_; }
  std::size_t size() const noexcept { return answers_.size(); }

private:
  mutable std::unordered_map<core::hash256, bool, core::hash256_hasher> answers_;
  mutable std::uint64_t checks_ = 0;
  mutable std::uint64_t hits_ = 0;
};

} // namespace stakecast::sim
