#pragma once
/// @file aligned_allocator.hpp
/// @brief A std allocator whose blocks start on a 64-byte boundary.
///
/// The kernels' gather tiles and work vectors are read with full-width
/// (AVX-512: 64-byte) loads; starting them on a cache line keeps a row from
/// straddling two lines. Plain operator new guarantees only 16 bytes.

#include <cstddef>
#include <new>
#include <vector>

namespace dals {

template <class T, std::size_t Alignment = 64>
struct AlignedAllocator {
  static_assert(Alignment >= alignof(T) && (Alignment & (Alignment - 1)) == 0, "alignment must be a power of two");
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Alignment>;
  };
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Alignment>&) {}
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{Alignment}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete (p, std::align_val_t{Alignment}); }
  template <class U>
  bool operator==(const AlignedAllocator<U, Alignment>&) const {
    return true;
  }
};

/// Floats on 64-byte boundaries: the kernels' tiles and work vectors.
using AlignedFloats = std::vector<float, AlignedAllocator<float>>;

}  // namespace dals
