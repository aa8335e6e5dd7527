#include "dals/core/huge_pages.hpp"

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

#include <cstdint>
#include <cstdlib>

namespace dals {

std::size_t bytes_for_random_reads(std::size_t bytes) {
  const std::size_t alignment = bytes >= kHugePageBytes ? kHugePageBytes : 64;
  if (bytes > SIZE_MAX - alignment) throw std::bad_alloc();
  return (bytes + alignment - 1) / alignment * alignment;
}

void* allocate_for_random_reads(std::size_t bytes) {
  // aligned_alloc wants a multiple of the alignment, and no zero size.
  const std::size_t rounded = bytes == 0 ? 64 : bytes_for_random_reads(bytes);
  const bool huge = rounded >= kHugePageBytes;
  void* p = std::aligned_alloc(huge ? kHugePageBytes : 64, rounded);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // Advice only: an error (THP compiled out or disabled) leaves 4 KiB pages.
  if (huge) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace dals
