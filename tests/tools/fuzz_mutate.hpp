#pragma once
// What dals-test-fuzz-mutate's files share (fuzz_mutate.cpp: the modes and
// main; fuzz_hdf5.cpp: the HDF5-level edits): the seeded generator and its
// draws, and the "nothing to edit" outcome.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fuzz {

struct Nothing {};  // FILE has nothing this mode can edit (exit 3)

extern std::mt19937_64 rng;            // seeded once from the command line
std::uint64_t below(std::uint64_t n);  // uniform in [0, n), 0 for n = 0
template <class T>
const T& pick(const std::vector<T>& v) {
  return v[below(v.size())];
}

/// One HDF5-level edit of FILE, in place (see fuzz_mutate.cpp's header);
/// returns the "expect=...: WHAT" line. Throws Nothing when FILE has no
/// attribute or dataset to edit.
std::string hdf5_edit(const std::string& file);

}  // namespace fuzz
