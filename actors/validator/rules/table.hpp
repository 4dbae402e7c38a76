// One table of the ledger state: an ordered map (deterministic iteration) that also
//  - journals every change, so that a failed transaction or block is rolled back to
//    a mark (`journal_size` / `rollback`) instead of copying the whole state, and
//  - remembers which keys changed since the last `take_dirty`, so that the state root
//    rehashes only those entries (state.hpp).
//
// Every write goes through `find_mut`, `put`, `erase` or `clear`; `entries()` is for
// reading only. `find_mut` journals the entry before handing out the pointer, so
// callers may change it freely until the next write to this table.
//
// Not thread-safe: a table belongs to one state, which belongs to one thread.
#pragma once

#include <cassert>
#include <cstddef>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace stakecast::rules {

template <class Key, class Value>
class table {
public:
  using map_type = std::map<Key, Value>;

  const map_type& entries() const noexcept {
    return entries_;
  }
  std::size_t size() const noexcept {
    return entries_.size();
  }
  bool contains(const Key& key) const {
    return entries_.contains(key);
  }
  const Value* find(const Key& key) const {
    auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : &found->second;
  }

  /// The entry for `key` to change, or nullptr when there is none.
  Value* find_mut(const Key& key) {
    auto found = entries_.find(key);
    if (found == entries_.end())
      return nullptr;
    remember(key, found->second);
    return &found->second;
  }

  /// The entry for `key` to change, made from `Value{}` when absent.
  Value& upsert(const Key& key) {
    auto [position, inserted] = entries_.try_emplace(key);
    if (inserted) {
      journal_.emplace_back(key, std::nullopt);
      dirty_.push_back(key);
    } else {
      remember(key, position->second);
    }
    return position->second;
  }

  void put(const Key& key, Value value) {
    upsert(key) = std::move(value);
  }

  void erase(const Key& key) {
    auto found = entries_.find(key);
    if (found == entries_.end())
      return;
    remember(key, found->second);
    entries_.erase(found);
  }

  void clear() {
    while (!entries_.empty())
      erase(entries_.begin()->first);
  }

  std::size_t journal_size() const noexcept {
    return journal_.size();
  }

  /// Undoes every change journaled after `mark`, newest first.
  /// REQUIRES: mark <= journal_size().
  void rollback(std::size_t mark) {
    assert(mark <= journal_.size());
    while (journal_.size() > mark) {
      auto& [key, old] = journal_.back();
      if (old)
        entries_.insert_or_assign(key, std::move(*old));
      else
        entries_.erase(key);
      dirty_.push_back(key);
      journal_.pop_back();
    }
  }

  /// Drops the journal: the changes so far can no longer be rolled back.
  void forget_journal() noexcept {
    journal_.clear();
  }

  /// The keys written since the previous call (possibly repeated, possibly unchanged).
  std::vector<Key> take_dirty() {
    return std::exchange(dirty_, {});
  }

private:
  void remember(const Key& key, const Value& value) {
    journal_.emplace_back(key, value);
    dirty_.push_back(key);
  }

  map_type entries_;
  std::vector<std::pair<Key, std::optional<Value>>> journal_;
  std::vector<Key> dirty_;
};

} // namespace stakecast::rules
