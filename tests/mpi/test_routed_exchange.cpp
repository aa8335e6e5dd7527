// The routed exchange (route_plan.hpp) against the all-gather, at whatever
// rank count the test runs with (1-4): the same bits for both solvers, 1 and
// 2 threads and exchange buffers from one chunk to many; the plan's counts
// equal what the rounds move; a buffer too small for one row is refused.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <filesystem>

#include "dals/generate/generate.hpp"
#include "dals/train/trainer.hpp"
#include "mpi_test_support.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

class RoutedData : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    Comm comm;
    std::string dir =
        comm.is_root() ? (fs::temp_directory_path() / ("dals-routed-test-" + std::to_string(::getpid()))).string() : "";
    dir = comm.broadcast_string(dir);
    GenerateOptions o;
    o.users = 1500;
    o.items = 700;
    o.ratings = 60000;
    o.true_rank = 6;
    o.test_fraction = 0.1;
    o.blocks = 7;  // an uneven cut over 2-4 ranks
    o.seed = 11;
    o.output = dir + "/data";
    generate_dataset(comm, o);
    dir_ = dir;
  }
  static void TearDownTestSuite() {
    Comm comm;
    comm.barrier();
    if (comm.is_root()) fs::remove_all(dir_);
  }
  static TrainConfig config(ExchangeMode mode, Solver solver, std::int64_t buffer, int threads,
                            std::int64_t heavy_rows = -1) {
    TrainConfig c;
    c.heavy_rows = heavy_rows;                    // auto: Cholesky's heavy rows travel as parts (heavy_rows.hpp)
    c.regularization = Regularization::weighted;  // the tests' data predates the power default
    c.lambda_units = LambdaUnits::absolute;
    c.data = dir_ + "/data";
    c.output = dir_ + "/unused";
    c.factors = 9;  // a width that is no multiple of 16
    c.iterations = 3;
    c.solver = solver;
    c.exchange = mode;
    c.exchange_buffer = buffer;
    c.threads = threads;
    return c;
  }
  static inline std::string dir_;
};

using mpi_test::identical;

TEST_F(RoutedData, RoutedAndAllGatherGiveTheSameBits) {
  Comm comm;
  const std::int64_t row_bytes = 10 * 4;
  // Heavy rows (47 ratings or more: where 7 blocks' parts cost what their
  // rows do; they travel as parts, in rounds) with one chunk and a few; off, as many chunks as the widest
  // row allows (its degree). (A buffer of about one heavy row's parts would
  // take a round per heavy row: hundreds, slow on oversubscribed ranks.)
  for (Solver solver : {Solver::cholesky, Solver::cg})
    for (std::int64_t heavy_rows : {47, 0}) {
      Trainer reference(comm, config(ExchangeMode::allgather, solver, kDefaultExchangeBuffer, 1, heavy_rows));
      std::vector<double> test_rmse;
      for (int it = 0; it < 3; ++it) test_rmse.push_back(reference.iterate().test_rmse);
      ASSERT_FALSE(reference.routed(Side::users));
      Trainer probe(comm, config(ExchangeMode::routed, solver, kDefaultExchangeBuffer, 1, heavy_rows));
      const std::int64_t widest =
          std::max(probe.plan(Side::users).stats().widest_row, probe.plan(Side::items).stats().widest_row);
      const std::vector<std::int64_t> buffers =
          heavy_rows > 0 ? std::vector<std::int64_t>{kDefaultExchangeBuffer, 64 * widest * row_bytes}
                         : std::vector<std::int64_t>{2 * widest * row_bytes, widest * row_bytes};
      if (heavy_rows > 0) {
        EXPECT_GT(comm.sum(static_cast<std::int64_t>(probe.heavy(Side::items).own().size())), 0);
      }
      for (const std::int64_t buffer : buffers) {
        for (int threads : {1, 2}) {
          const TrainConfig c = config(ExchangeMode::routed, solver, buffer, threads, heavy_rows);
          Trainer routed(comm, c);
          ASSERT_TRUE(routed.routed(Side::users) && routed.routed(Side::items));
          for (int it = 0; it < 3; ++it) {
            const IterationRecord rec = routed.iterate();
            // The same predictions; their sum's order follows the threads and chunks.
            EXPECT_NEAR(rec.test_rmse, test_rmse[it], 1e-12 * test_rmse[it]) << "test RMSE, iteration " << it + 1;
          }
          omp_set_num_threads(1);
          const std::string what = std::string(solver_name(solver)) + ", heavy rows " + std::to_string(heavy_rows) +
                                   ", buffer " + std::to_string(c.exchange_buffer) + " bytes, " +
                                   std::to_string(threads) + " threads, " + std::to_string(comm.size()) + " ranks";
          EXPECT_TRUE(identical(routed.gathered_factors(Side::users), reference.factors(Side::users))) << what;
          EXPECT_TRUE(identical(routed.gathered_factors(Side::items), reference.factors(Side::items))) << what;
          // Each rank holds only its own rows of a routed side.
          EXPECT_EQ(routed.factors(Side::users).rows(), routed.layout(Side::users).of(comm.rank()).rows());
        }
      }
    }
}

TEST_F(RoutedData, ManyChunksWhenTheBufferIsSmallAndThePlanCountsWhatMoves) {
  Comm comm;
  const std::int64_t row_bytes = 10 * 4;
  // Rows only (no heavy rows' parts: cli/plan.sh counts those).
  Trainer one(comm, config(ExchangeMode::routed, Solver::cholesky, kDefaultExchangeBuffer, 1, 0));
  const std::int64_t widest =
      std::max(one.plan(Side::users).stats().widest_row, one.plan(Side::items).stats().widest_row);
  Trainer many(comm, config(ExchangeMode::routed, Solver::cholesky, widest * row_bytes, 1, 0));
  for (Side side : kBothSides) {
    const RouteStats& a = one.plan(side).stats();
    const RouteStats& b = many.plan(side).stats();
    EXPECT_LE(a.chunks, 1);
    EXPECT_LE(b.max_chunk_rows, widest);
    // Distinct rows are what they are; chunks can only add duplicates.
    EXPECT_EQ(a.distinct_rows, b.distinct_rows);
    EXPECT_GE(b.rows_received, a.rows_received);
    // Every rank's rows sent to others add up to every rank's rows received from others.
    EXPECT_EQ(comm.sum(b.rows_sent_remote), comm.sum(b.rows_remote));
    EXPECT_EQ(comm.sum(a.rows_sent), comm.sum(a.rows_received));
  }
  EXPECT_GT(many.plan(Side::items).stats().chunks, 1) << "the small buffer should split the item half's users";
  // What an iteration reports receiving is what the plans say: the rows
  // from other ranks of both halves and of the test split's items.
  const IterationRecord rec = many.iterate();
  const std::int64_t mine = (many.plan(Side::users).stats().rows_remote + many.plan(Side::items).stats().rows_remote +
                             many.test_plan().stats().rows_remote) *
                            row_bytes;
  EXPECT_EQ(rec.exchange_bytes_received, comm.max(mine));
  const std::int64_t sent =
      (many.plan(Side::users).stats().rows_sent_remote + many.plan(Side::items).stats().rows_sent_remote +
       many.test_plan().stats().rows_sent_remote) *
      row_bytes;
  EXPECT_EQ(rec.exchange_bytes_sent, comm.max(sent));
  if (comm.size() > 1) {
    EXPECT_GT(mine, 0);
  }
}

TEST_F(RoutedData, ABufferTooSmallForOneRowIsRefusedOnEveryRank) {
  Comm comm;
  try {
    Trainer t(comm, config(ExchangeMode::routed, Solver::cholesky, 40, 1));
    ADD_FAILURE() << "a buffer of one row was accepted";
  } catch (const AgreedFailure& f) {
    EXPECT_EQ(f.exit_code, 1);
  }
}

}  // namespace
}  // namespace dals
