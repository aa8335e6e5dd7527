#include "dals/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdlib>

namespace dals {

void* allocate_for_random_reads(std::size_t bytes) {
  const std::size_t alignment = bytes >= kHugePageBytes ? kHugePageBytes : 64;
  // aligned_alloc wants a multiple of the alignment.
  const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // Advice only: an error (THP compiled out or disabled) leaves 4 KiB pages.
  if (alignment == kHugePageBytes) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace dals
