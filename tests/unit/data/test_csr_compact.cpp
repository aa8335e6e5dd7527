// Compacted blocks (csr.hpp): ratings whose column ids need 64 bits, held
// as 32-bit positions in a sorted list of the ids they reference.
#include <gtest/gtest.h>

#include <cstdint>

#include "dals/core/error.hpp"
#include "dals/data/csr.hpp"

namespace dals {
namespace {

constexpr std::int64_t kWideCols = std::int64_t{6} << 30;  // 6 * 2^30 columns: ids past 2^32

WideCsrBlock wide_block() {
  // rows 7..9; row 8 is empty. 2^32 + 5 would read as 5 through 32 bits.
  WideCsrBlock w;
  w.first_row = 7;
  w.num_cols = kWideCols;
  w.indptr = {0, 3, 3, 5};
  w.indices = {5, (std::int64_t{1} << 32) + 5, kWideCols - 1, 5, std::int64_t{3} << 30};
  w.values = {1.f, 2.f, 3.f, 4.f, 5.f};
  return w;
}

TEST(CsrCompact, PositionsKeepTheIdsOrderAndColumnGivesTheIds) {
  const WideCsrBlock w = wide_block();
  const CsrBlock b = compact_columns(w);
  ASSERT_TRUE(b.compacted());
  EXPECT_EQ(b.column_ids,
            (std::vector<std::int64_t>{5, std::int64_t{3} << 30, (std::int64_t{1} << 32) + 5, kWideCols - 1}));
  EXPECT_EQ(b.indices, (std::vector<std::int32_t>{0, 2, 3, 0, 1}));
  for (std::int64_t p = 0; p < b.nnz(); ++p) EXPECT_EQ(b.column(p), w.indices[p]) << p;
  EXPECT_NO_THROW(b.validate("blk.h5"));
  // Below 2^32 + 5 lie positions 0 and 1: the ids below it.
  EXPECT_EQ(b.column_bound((std::int64_t{1} << 32) + 5), 2);
  EXPECT_EQ(b.column_bound(0), 0);
  EXPECT_EQ(b.column_bound(kWideCols), 4);
  const WideCsrBlock back = widen_columns(b);
  EXPECT_EQ(back.indices, w.indices);
  EXPECT_EQ(back.indptr, w.indptr);
  EXPECT_EQ(back.values, w.values);
}

TEST(CsrCompact, ExpandingIdsPast32BitsIsAnErrorNamingTheFile) {
  try {
    (void)expand_columns(compact_columns(wide_block()), "blk.h5");
    FAIL() << "expanded ids of 2^32 and more into 32 bits";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.h5: the other side has 6442450944 rows"), std::string::npos) << e.what();
  }
  // Narrow enough: the dense ids again, the same ratings.
  WideCsrBlock w;
  w.num_cols = 100;
  w.indptr = {0, 2, 3};
  w.indices = {3, 90, 41};
  w.values = {1.f, 2.f, 3.f};
  const CsrBlock b = expand_columns(compact_columns(w), "blk.h5");
  EXPECT_FALSE(b.compacted());
  EXPECT_EQ(b.indices, (std::vector<std::int32_t>{3, 90, 41}));
  EXPECT_NO_THROW(b.validate("blk.h5"));
}

TEST(CsrCompact, ValidateCatchesBadIdListsAndPositions) {
  CsrBlock b = compact_columns(wide_block());
  CsrBlock unsorted = b;
  std::swap(unsorted.column_ids[1], unsorted.column_ids[2]);
  EXPECT_THROW(unsorted.validate("blk.h5"), Error);
  CsrBlock out_of_range = b;
  out_of_range.column_ids.back() = kWideCols;
  EXPECT_THROW(out_of_range.validate("blk.h5"), Error);
  CsrBlock bad_position = b;
  bad_position.indices[2] = 4;  // past the 4 ids (and still increasing in its row)
  EXPECT_THROW(bad_position.validate("blk.h5"), Error);
  // Not compacted, 2^31 columns or more cannot be held.
  CsrBlock plain;
  plain.num_cols = kWideCols;
  EXPECT_THROW(plain.validate("blk.h5"), Error);
  EXPECT_THROW(b.append(b), Error);
}

TEST(CsrCompact, WideValidateCatchesWhatCsrValidateDoes) {
  WideCsrBlock w = wide_block();
  EXPECT_NO_THROW(w.validate("blk.h5"));
  WideCsrBlock range = w;
  range.indices[1] = kWideCols;
  EXPECT_THROW(range.validate("blk.h5"), Error);
  WideCsrBlock order = w;
  std::swap(order.indices[0], order.indices[1]);
  EXPECT_THROW(order.validate("blk.h5"), Error);
  WideCsrBlock negative = w;
  negative.indices[0] = -1;
  EXPECT_THROW(negative.validate("blk.h5"), Error);
}

TEST(CsrCompact, TripletsPast32BitsBuildACompactedBlock) {
  const CsrBlock b =
      csr_from_triplets(0, 2, kWideCols, {{1, kWideCols - 2, 1.f}, {0, (std::int64_t{1} << 32) + 1, 2.f}, {1, 9, 3.f}});
  ASSERT_TRUE(b.compacted());
  EXPECT_EQ(b.column_ids, (std::vector<std::int64_t>{9, (std::int64_t{1} << 32) + 1, kWideCols - 2}));
  const std::vector<Triplet> t = csr_to_triplets(b);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].col, (std::int64_t{1} << 32) + 1);
  EXPECT_EQ(t[1].col, 9);
  EXPECT_EQ(t[2].col, kWideCols - 2);
  // A block of no ratings is compacted too (its list a placeholder no position uses).
  const CsrBlock empty = csr_from_triplets(0, 3, kWideCols, {});
  EXPECT_TRUE(empty.compacted());
  EXPECT_NO_THROW(empty.validate("blk.h5"));
}

}  // namespace
}  // namespace dals
