#include "sim/memo_verifier.hpp"

#include "actors/core/sha256.hpp"

namespace stakecast::sim {

bool memo_verifier::verify(const core::node_id& public_key, core::byte_span message,
                           const core::signature& message_signature) const {
  core::byte_buffer preimage;
  preimage.reserve(public_key.bytes.size() + message.size() + message_signature.bytes.size());
  preimage.insert(preimage.end(), public_key.bytes.begin(), public_key.bytes.end());
  preimage.insert(preimage.end(), message.begin(), message.end());
  preimage.insert(preimage.end(), message_signature.bytes.begin(), message_signature.bytes.end());
  const auto key = core::sha256(preimage);
  if (auto found = answers_.find(key); found != answers_.end()) {
    ++hits_;
    return found->second;
  }
  ++checks_;
  const bool answer = core::verify(public_key, message, message_signature);
  if (answers_.size() >= entries_max)
    answers_.clear();
  answers_.emplace(key, answer);
  return answer;
}

} // namespace stakecast::sim
