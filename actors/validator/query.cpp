#include "actors/validator/query.hpp"

#include <algorithm>

namespace stakecast::validator {

wire::chain_answer answer_query(const rules::state& s, const wire::chain_query& query) {
  wire::chain_answer answer;
  answer.query_id = query.query_id;
  answer.chain = s.globals.chain;
  answer.height = s.globals.height;
  answer.nonce = rules::nonce(s, query.account);
  answer.balance = rules::balance(s, query.account);
  answer.price_per_gib = s.params.price_per_gib;
  if (const auto* masternode = s.masternodes.find(query.account))
    answer.jailed = masternode->jailed;
  auto challenges = rules::pending_challenges(s, query.account);
  std::stable_sort(challenges.begin(), challenges.end(), [](const auto& a, const auto& b) {
    return a.second.deadline_height < b.second.deadline_height;
  });
  for (const auto& [id, challenge] : challenges) {
    if (answer.challenges.size() == wire::chain_answer_challenges_max)
      break;
    answer.challenges.push_back(
        {id, challenge.content, challenge.block_index, challenge.deadline_height});
  }
  for (const auto& [content, assignment] : s.assignments.entries()) {
    if (answer.assigned.size() == wire::chain_answer_contents_max)
      break;
    const auto& on = assignment.masternodes;
    if (std::find(on.begin(), on.end(), query.account) != on.end())
      answer.assigned.push_back(content);
  }
  for (const auto& deposit : query.deposits) {
    wire::deposit_entry entry;
    entry.deposit = deposit;
    if (const auto* record = s.deposits.find(deposit)) {
      entry.found = true;
      entry.viewer = record->viewer;
      entry.remaining = record->remaining;
      if (const auto* claim = s.claims.find(rules::claim_key{deposit, query.account}))
        entry.claimed = claim->bytes;
    }
    answer.deposits.push_back(entry);
  }
  for (const auto& content : query.contents) {
    wire::content_placement placement;
    placement.content = content;
    if (const auto* record = s.contents.find(content)) {
      placement.found = true;
      placement.publisher = record->publisher;
      if (const auto* assignment = s.assignments.find(content)) {
        const auto& on = assignment->masternodes;
        placement.masternodes.assign(
            on.begin(), on.begin() + static_cast<std::ptrdiff_t>(std::min(
                                        on.size(), wire::placement_masternodes_max)));
      }
    }
    answer.placements.push_back(std::move(placement));
  }
  return answer;
}

} // namespace stakecast::validator
