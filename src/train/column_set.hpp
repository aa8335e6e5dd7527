#pragma once
// The distinct columns of a routed chunk's ratings, each with its position
// in the chunk's received table: open addressing over a power-of-two table,
// so that planning costs two probes a rating and no structure the size of
// the other side (a bitmap over 10^9 users would be 125 MB on every rank).
// Private to src/train/.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace dals {

class ColumnSet {
 public:
  /// Room for `capacity` distinct columns at a load of at most 1/2.
  explicit ColumnSet(std::int64_t capacity) {
    std::size_t slots = 16;
    shift_ = 60;
    while (slots < static_cast<std::size_t>(capacity) * 2) slots *= 2, --shift_;
    keys_.assign(slots, kEmpty);
    values_.assign(slots, 0);
    mask_ = slots - 1;
  }
  std::int64_t size() const { return size_; }
  bool contains(std::int32_t key) const { return keys_[find(key)] == key; }
  void insert(std::int32_t key) {
    const std::size_t s = find(key);
    if (keys_[s] == kEmpty) keys_[s] = key, used_.push_back(s), ++size_;
  }
  /// The position given to `key` by number_in_order(); `key` must be present.
  std::int32_t position(std::int32_t key) const { return values_[find(key)]; }
  /// Numbers the present keys 0, 1, ... in increasing order and returns them in that order.
  std::vector<std::int32_t> number_in_order() {
    std::vector<std::int32_t> sorted;
    sorted.reserve(used_.size());
    for (std::size_t s : used_) sorted.push_back(keys_[s]);
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) values_[find(sorted[i])] = static_cast<std::int32_t>(i);
    return sorted;
  }
  /// Empties the set, in time proportional to what it held.
  void clear() {
    for (std::size_t s : used_) keys_[s] = kEmpty;
    used_.clear();
    size_ = 0;
  }

 private:
  static constexpr std::int32_t kEmpty = -1;  // dense ids are >= 0
  std::size_t find(std::int32_t key) const {
    // Fibonacci hashing (the product's top bits): consecutive ids spread over the table.
    std::size_t s = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(key)) * 0x9E3779B97F4A7C15ull) >> shift_;
    while (keys_[s] != kEmpty && keys_[s] != key) s = (s + 1) & mask_;
    return s;
  }
  std::vector<std::int32_t> keys_, values_;
  std::vector<std::size_t> used_;
  std::size_t mask_ = 0;
  int shift_ = 60;
  std::int64_t size_ = 0;
};

}  // namespace dals
