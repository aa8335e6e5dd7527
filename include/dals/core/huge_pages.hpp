#pragma once
/// @file huge_pages.hpp
/// @brief Storage for the large tables the solves read at random: the
/// replicated factor tables and CG's half-precision copy.
///
/// Linux backs memory with 4 KiB pages unless asked otherwise (Debian's
/// default transparent-huge-page mode is "madvise"). A 61 MB table read at
/// random then misses the TLB on almost every row: the CPU's second-level
/// TLB covers 12 MiB of 4 KiB pages, but 6 GiB of 2 MiB pages. Allocations
/// of a huge page or more are therefore aligned to 2 MiB and marked
/// MADV_HUGEPAGE as soon as they are allocated (fresh mappings then fault
/// in as huge pages; memory the allocator reuses keeps the pages it has
/// until the kernel's khugepaged merges them); smaller ones are plain, so
/// small tables do not round up to 2 MiB. Where the kernel refuses (THP
/// "never", no memory to compact), the pages stay small: slower, never wrong.

#include <cstddef>
#include <cstdlib>
#include <new>

namespace dals {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

/// What allocate_for_random_reads(bytes) takes: bytes rounded up to 64, or
/// to kHugePageBytes from there (for the memory model; 0 for 0).
std::size_t bytes_for_random_reads(std::size_t bytes);

/// At least `bytes` bytes, aligned to 64 (and to kHugePageBytes when
/// `bytes` reaches it); throws std::bad_alloc. Release with std::free.
void* allocate_for_random_reads(std::size_t bytes);

/// A std allocator over allocate_for_random_reads, for std::vector.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(allocate_for_random_reads(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace dals
