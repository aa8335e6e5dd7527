// dals-test-model-diff A B: exit 0 if two model directories hold bit-identical
// factors and biases (and the same shape), else print the first difference
// and exit 1. Used by the CLI invariance tests.
#include <cstdio>
#include <cstring>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"

namespace {

bool same_table(const char* side, const dals::FactorTable& a, const dals::FactorTable& b) {
  if (a.rows() != b.rows() || a.k() != b.k()) {
    std::printf("%s: shapes differ (%lld x %d vs %lld x %d)\n", side, static_cast<long long>(a.rows()), a.k(),
                static_cast<long long>(b.rows()), b.k());
    return false;
  }
  for (std::int64_t i = 0; i < a.rows(); ++i)
    if (std::memcmp(a.row(i), b.row(i), sizeof(float) * a.stride()) != 0) {
      for (int d = 0; d < a.stride(); ++d)
        if (std::memcmp(a.row(i) + d, b.row(i) + d, sizeof(float)) != 0) {
          std::printf("%s: row %lld %s %d differs: %.9g vs %.9g\n", side, static_cast<long long>(i),
                      d == a.k() ? "bias" : "factor", d, a.row(i)[d], b.row(i)[d]);
          break;
        }
      return false;
    }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: dals-test-model-diff MODEL_A MODEL_B\n");
    return 2;
  }
  try {
    dals::Model a = dals::read_model(argv[1]), b = dals::read_model(argv[2]);
    const bool users = same_table("users", a.tables.users, b.tables.users);
    const bool items = same_table("items", a.tables.items, b.tables.items);
    // Users fold-in added (added_users.h5): the same ids, rows and items.
    const bool added = a.added.ids == b.added.ids && a.added.rated == b.added.rated &&
                       same_table("added users", a.added.table(), b.added.table());
    if (!added) std::printf("added users differ\n");
    if (users && items && added) {
      std::printf("identical: %s and %s\n", argv[1], argv[2]);
      return 0;
    }
    return 1;
  } catch (const dals::Error& e) {
    std::fprintf(stderr, "dals-test-model-diff: error: %s\n", e.what());
    return 2;
  }
}
