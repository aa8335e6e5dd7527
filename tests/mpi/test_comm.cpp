// Collectives of comm.hpp at whatever rank count the test runs with.
#include <gtest/gtest.h>

#include "dals/mpi/comm.hpp"

namespace dals {
namespace {

TEST(Comm, AllgatherRowsFillsEveryRanksRows) {
  Comm comm;
  const int p = comm.size(), width = 3;
  // rank r owns r + 1 rows
  std::vector<std::int64_t> first(p), count(p);
  std::int64_t rows = 0;
  for (int r = 0; r < p; ++r) {
    first[r] = rows;
    count[r] = r + 1;
    rows += r + 1;
  }
  std::vector<float> table(rows * width, -1.f);
  for (std::int64_t i = first[comm.rank()]; i < first[comm.rank()] + count[comm.rank()]; ++i)
    for (int c = 0; c < width; ++c) table[i * width + c] = static_cast<float>(i * 10 + c);
  comm.allgather_rows(table.data(), width, first, count);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int c = 0; c < width; ++c) EXPECT_EQ(table[i * width + c], static_cast<float>(i * 10 + c));
}

TEST(Comm, ReductionsAndBroadcast) {
  Comm comm;
  EXPECT_EQ(comm.sum<std::int64_t>(comm.rank() + 1), static_cast<std::int64_t>(comm.size()) * (comm.size() + 1) / 2);
  EXPECT_EQ(comm.max(comm.rank()), comm.size() - 1);
  EXPECT_TRUE(comm.all_true(true));
  EXPECT_EQ(comm.all_true(comm.rank() != 0), comm.size() == 0);
  EXPECT_EQ(comm.broadcast_string(comm.is_root() ? "from root" : ""), "from root");
  auto all = comm.allgather(comm.rank() * 2);
  for (int r = 0; r < comm.size(); ++r) EXPECT_EQ(all[r], r * 2);
}

TEST(Comm, OneFailingRankFailsEveryRankWithoutHanging) {
  Comm comm;
  const int failing = comm.size() - 1;
  int code = 0;
  try {
    testing::internal::CaptureStderr();
    run_collectively(
        comm,
        [&] {
          if (comm.rank() == failing) throw Error("boom.h5: broken");
        },
        7);
  } catch (const AgreedFailure& f) {
    code = f.exit_code;
  }
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 7);
  if (comm.rank() == failing)
    EXPECT_EQ(printed, "test: error: boom.h5: broken\n");
  else
    EXPECT_EQ(printed, "");
  EXPECT_NO_THROW(run_collectively(comm, [] {}));
}

TEST(Comm, ErrorHitByAllRanksIsPrintedOnce) {
  Comm comm;
  testing::internal::CaptureStderr();
  EXPECT_THROW(run_collectively(comm, [] { throw Error("same everywhere"); }), AgreedFailure);
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, comm.is_root() ? "test: error: same everywhere\n" : "");
}

}  // namespace
}  // namespace dals

namespace dals {
namespace {

TEST(Comm, TryCollectivelyReturnsTheLowestFailingRanksMessageEverywhere) {
  Comm comm;
  EXPECT_EQ(try_collectively(comm, [] {}), "");
  const int failing = comm.size() - 1;  // only the last rank fails
  const std::string message = try_collectively(comm, [&] {
    if (comm.rank() >= failing) throw Error("rank " + std::to_string(comm.rank()) + " failed");
  });
  EXPECT_EQ(message, "rank " + std::to_string(failing) + " failed");
}

}  // namespace
}  // namespace dals
