#pragma once
// Private: an open-addressing hash map from 64-bit keys to 32-bit values,
// for the id tables of dals-partition (millions of entries at 12 bytes
// each and one probe on average, where std::unordered_map needs ~50 bytes
// and a pointer chase). Keys are order hashes, already uniform, but keys of
// one bucket share their top bits, so the slot comes from a multiplication.

#include <cstdint>
#include <vector>

namespace dals {

class FlatMap64 {
 public:
  explicit FlatMap64(std::size_t expected = 16) { rehash(expected * 2); }

  /// The value of `key`, inserting 0 first if it is absent.
  std::uint32_t& operator[](std::uint64_t key) {
    if (key == 0) {
      if (!has_zero_) ++size_, has_zero_ = true;
      return zero_value_;
    }
    if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
    std::size_t s = slot(key);
    while (keys_[s] != 0 && keys_[s] != key) s = (s + 1) & mask_;
    if (keys_[s] == 0) {
      keys_[s] = key;
      values_[s] = 0;
      ++size_;
    }
    return values_[s];
  }

  /// Pointer to the value of `key`, nullptr if absent.
  const std::uint32_t* find(std::uint64_t key) const {
    if (key == 0) return has_zero_ ? &zero_value_ : nullptr;
    std::size_t s = slot(key);
    while (keys_[s] != 0) {
      if (keys_[s] == key) return &values_[s];
      s = (s + 1) & mask_;
    }
    return nullptr;
  }

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return keys_.size() * 12; }

  template <class F>
  void for_each(F&& f) const {
    if (has_zero_) f(std::uint64_t{0}, zero_value_);
    for (std::size_t s = 0; s < keys_.size(); ++s)
      if (keys_[s] != 0) f(keys_[s], values_[s]);
  }

  void clear() {
    std::fill(keys_.begin(), keys_.end(), 0);
    size_ = 0;
    has_zero_ = false;
  }

 private:
  std::size_t slot(std::uint64_t key) const { return (key * 0x9E3779B97F4A7C15ULL) >> shift_; }

  void rehash(std::size_t want) {
    std::size_t slots = 16;
    int bits = 4;
    while (slots < want) slots *= 2, ++bits;
    std::vector<std::uint64_t> old_keys(slots, 0);
    std::vector<std::uint32_t> old_values(slots, 0);
    old_keys.swap(keys_);
    old_values.swap(values_);
    mask_ = slots - 1;
    shift_ = 64 - bits;
    for (std::size_t s = 0; s < old_keys.size(); ++s) {
      if (old_keys[s] == 0) continue;
      std::size_t t = slot(old_keys[s]);
      while (keys_[t] != 0) t = (t + 1) & mask_;
      keys_[t] = old_keys[s];
      values_[t] = old_values[s];
    }
  }

  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> values_;
  std::size_t mask_ = 0;
  int shift_ = 60;
  std::size_t size_ = 0;
  bool has_zero_ = false;
  std::uint32_t zero_value_ = 0;
};

}  // namespace dals
