#include <gtest/gtest.h>

#include <cmath>

#include "dals/core/error.hpp"
#include "dals/data/csr.hpp"

namespace dals {
namespace {

CsrBlock small_block() {
  // rows 10..12 of a 5-column matrix, given out of order
  return csr_from_triplets(10, 3, 5, {{12, 4, 1.f}, {10, 3, 2.f}, {10, 0, 3.f}, {12, 1, 4.f}});
}

void expect_error_containing(const CsrBlock& block, const std::string& needle) {
  try {
    block.validate("blk.h5");
    FAIL() << "validate() accepted a block with: " << needle;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("blk.h5: "), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(Csr, BuildsSortedRowsFromTriplets) {
  CsrBlock b = small_block();
  EXPECT_EQ(b.rows(), 3);
  EXPECT_EQ(b.nnz(), 4);
  EXPECT_EQ(b.indptr, (std::vector<std::int64_t>{0, 2, 2, 4}));
  EXPECT_EQ(b.indices, (std::vector<std::int32_t>{0, 3, 1, 4}));
  EXPECT_EQ(b.values, (std::vector<float>{3.f, 2.f, 4.f, 1.f}));
  EXPECT_EQ(b.degree(1), 0);
  EXPECT_NO_THROW(b.validate("blk.h5"));
}

TEST(Csr, TripletsRoundTrip) {
  CsrBlock b = small_block();
  CsrBlock again = csr_from_triplets(b.first_row, b.rows(), b.num_cols, csr_to_triplets(b));
  EXPECT_EQ(again.indptr, b.indptr);
  EXPECT_EQ(again.indices, b.indices);
  EXPECT_EQ(again.values, b.values);
}

TEST(Csr, DuplicatePairIsAnError) { EXPECT_THROW(csr_from_triplets(0, 2, 5, {{0, 1, 1.f}, {0, 1, 2.f}}), Error); }

TEST(Csr, ValidateRejectsEachBrokenInvariant) {
  {
    CsrBlock b = small_block();
    b.indices[1] = 5;
    expect_error_containing(b, "out of range");
  }
  {
    CsrBlock b = small_block();
    b.indices[0] = -1;
    expect_error_containing(b, "out of range");
  }
  {
    CsrBlock b = small_block();
    b.indptr = {0, 2, 1, 4};
    expect_error_containing(b, "not monotone");
  }
  {
    CsrBlock b = small_block();
    std::swap(b.indices[0], b.indices[1]);
    expect_error_containing(b, "not strictly increasing");
  }
  {
    // The same column twice in a row: two ratings of one pair, which every
    // solve would count twice.
    CsrBlock b = small_block();
    b.indices[1] = b.indices[0];
    expect_error_containing(b, "not strictly increasing");
  }
  {
    CsrBlock b = small_block();
    b.indptr.back() = 3;
    expect_error_containing(b, "indptr ends at 3");
  }
  {
    CsrBlock b = small_block();
    b.indptr.front() = 1;
    expect_error_containing(b, "does not start at 0");
  }
  {
    CsrBlock b = small_block();
    b.values[2] = std::nanf("");
    expect_error_containing(b, "non-finite");
  }
  {
    CsrBlock b = small_block();
    b.values.pop_back();
    expect_error_containing(b, "values for");
  }
}

// Row 0 claims a million ratings of a block holding one: indptr starts at
// 0 and ends at nnz, so only checking all of it before walking any row's
// indices keeps the walk inside the arrays (a heap-buffer-overflow
// otherwise).
TEST(Csr, ValidateChecksAllOfIndptrBeforeTouchingIndices) {
  CsrBlock b;
  b.first_row = 10;
  b.num_cols = 1;
  b.indptr = {0, 1 << 20, 1};
  b.indices = {0};
  b.values = {1.f};
  expect_error_containing(b, "indptr is not monotone at row 11");
}

TEST(Csr, AppendConcatenatesConsecutiveBlocks) {
  CsrBlock a = csr_from_triplets(0, 2, 5, {{0, 1, 1.f}, {1, 2, 2.f}});
  CsrBlock b = csr_from_triplets(2, 2, 5, {{2, 0, 3.f}, {3, 4, 4.f}, {3, 3, 5.f}});
  a.append(b);
  EXPECT_EQ(a.rows(), 4);
  EXPECT_EQ(a.indptr, (std::vector<std::int64_t>{0, 1, 2, 3, 5}));
  EXPECT_EQ(a.indices, (std::vector<std::int32_t>{1, 2, 0, 3, 4}));
  EXPECT_NO_THROW(a.validate("a"));
  CsrBlock gap = csr_from_triplets(7, 1, 5, {});
  EXPECT_THROW(a.append(gap), Error);
}

}  // namespace
}  // namespace dals
