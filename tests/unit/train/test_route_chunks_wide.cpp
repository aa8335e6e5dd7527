// The routing plan's chunks of a compacted block (csr.hpp): the rows asked
// of each owner are dense ids past 2^32, counted by the owner that holds
// them, and the ratings' columns become positions in the received table.
#include <gtest/gtest.h>

#include <cstdint>

#include "dals/data/csr.hpp"
#include "dals/train/layout.hpp"
#include "dals/train/route_plan.hpp"

namespace dals {
namespace {

constexpr std::int64_t kWideBlockWideRows = std::int64_t{3} << 29;  // 1.5 * 2^30: a block's rows fit 32 bits
constexpr std::int64_t kWideRows = 4 * kWideBlockWideRows;          // 6 * 2^30 rows of the routed side

TEST(RouteChunksWide, IdsPast32BitsReachTheirOwnersAndColumnsBecomePositions) {
  // The routed side: 4 equal blocks over 2 ranks, [0, 3 * 2^30) and [3 * 2^30, 6 * 2^30).
  std::vector<BlockInfo> blocks;
  for (int b = 0; b < 4; ++b) blocks.push_back({b * kWideBlockWideRows, kWideBlockWideRows, 100, 0});
  const SideLayout layout(blocks, 2);
  ASSERT_EQ(layout.of(1).first_row, 2 * kWideBlockWideRows);
  const std::int64_t big = (std::int64_t{1} << 32) + 7;  // rank 1's; 7 through 32 bits, rank 0's
  // Three solving rows referencing 4 distinct ids; a buffer of 3 rows cuts
  // them into chunks {row 0, row 1} (3 ids) and {row 2} (2 ids).
  const CsrBlock wide = csr_from_triplets(
      0, 3, kWideRows,
      {{0, 7, 1.f}, {0, big, 2.f}, {1, 7, 3.f}, {1, kWideRows - 1, 4.f}, {2, big, 5.f}, {2, kWideBlockWideRows, 6.f}});
  ASSERT_TRUE(wide.compacted());
  CsrBlock ratings = wide;
  std::vector<std::vector<std::int64_t>> needed;
  std::int64_t distinct = 0;
  const std::vector<RouteChunk> chunks = cut_route_chunks(ratings, layout, 3, needed, distinct);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(needed[0], (std::vector<std::int64_t>{7, big, kWideRows - 1}));
  EXPECT_EQ(needed[1], (std::vector<std::int64_t>{kWideBlockWideRows, big}));
  EXPECT_EQ(chunks[0].recv_counts, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(chunks[1].recv_counts, (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(distinct, 4);
  // Every rating's column is now the position of its id in its chunk's table.
  for (std::size_t c = 0; c < chunks.size(); ++c)
    for (std::int64_t r = chunks[c].row_begin; r < chunks[c].row_end; ++r)
      for (std::int64_t p = ratings.indptr[r]; p < ratings.indptr[r + 1]; ++p)
        EXPECT_EQ(needed[c][ratings.indices[p]], wide.column(p)) << "chunk " << c << ", rating " << p;
}

}  // namespace
}  // namespace dals
