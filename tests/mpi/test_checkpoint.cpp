// Checkpoints at whatever rank count the test runs with (1-4): a checkpoint
// taken between the two halves of an iteration (what a preempted run
// writes) resumes bit-identically; a damaged newest checkpoint is skipped
// for the previous one on every rank alike; a restore that fails on one
// rank leaves every rank's trainer as constructed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "dals/checkpoint/checkpoint.hpp"
#include "dals/checkpoint/resume.hpp"
#include "dals/core/error.hpp"
#include "dals/generate/generate.hpp"
#include "dals/train/trainer.hpp"
#include "mpi_test_support.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

class CheckpointData : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    Comm comm;
    std::string dir =
        comm.is_root() ? (fs::temp_directory_path() / ("dals-ckpt-test-" + std::to_string(::getpid()))).string() : "";
    dir_ = comm.broadcast_string(dir);
    GenerateOptions options;
    options.users = 600;
    options.items = 300;
    options.ratings = 20000;
    options.blocks = 4;
    options.seed = 9;
    options.output = dir_ + "/data";
    generate_dataset(comm, options);
  }
  static void TearDownTestSuite() {
    Comm comm;
    comm.barrier();
    if (comm.is_root()) fs::remove_all(dir_);
  }
  static TrainConfig config(const std::string& checkpoints) {
    TrainConfig c;
    c.regularization = Regularization::weighted;  // the tests' data predates the power default
    c.lambda_units = LambdaUnits::absolute;
    c.data = dir_ + "/data";
    c.output = dir_ + "/unused-model";
    c.factors = 6;
    c.iterations = 3;
    c.threads = 1;
    c.quiet = true;
    c.checkpoint_dir = dir_ + "/" + checkpoints;
    return c;
  }
  static inline std::string dir_;
};

using mpi_test::identical;

// With CG, a half-iteration starts from the rows' current values (warm
// start), so redoing a user half would change the result: the split resume
// must continue with exactly the item half. Cholesky is checked too.
class HalfCheckpoint : public CheckpointData, public testing::WithParamInterface<Solver> {};

TEST_P(HalfCheckpoint, ResumesBetweenTheHalvesOfAnIterationBitIdentically) {
  Comm comm;
  TrainConfig plain = config(std::string("half-") + solver_name(GetParam()));
  plain.solver = GetParam();
  Trainer reference(comm, plain);
  for (int it = 0; it < 3; ++it) reference.iterate();

  {
    Trainer stopped(comm, plain);
    RunHistory history;  // state.json must hold one metrics record per finished iteration
    history.metrics.push_back(stopped.iterate().to_json());
    stopped.solve_user_half();
    ASSERT_TRUE(stopped.mid_iteration());
    Checkpointer checkpoints(comm, plain);
    EXPECT_EQ(checkpoints.write(stopped, history), plain.checkpoint_dir + "/iter-000001.5");
  }

  TrainConfig resuming = plain;
  resuming.resume = "auto";
  Trainer resumed(comm, resuming);
  RunHistory history;
  const ResumeOutcome outcome = resume_training(comm, resuming, resumed, history);
  ASSERT_TRUE(outcome.resumed);
  EXPECT_EQ(outcome.progress, (Progress{1, true}));
  EXPECT_TRUE(resumed.mid_iteration());
  resumed.iterate();  // only the item half of iteration 2
  EXPECT_EQ(resumed.iterations_done(), 2);
  resumed.iterate();
  EXPECT_TRUE(identical(reference.factors(Side::users), resumed.factors(Side::users)));
  EXPECT_TRUE(identical(reference.factors(Side::items), resumed.factors(Side::items)));
}

INSTANTIATE_TEST_SUITE_P(Solvers, HalfCheckpoint, testing::Values(Solver::cholesky, Solver::cg),
                         [](const testing::TestParamInfo<Solver>& info) {
                           return std::string(solver_name(info.param));
                         });

TEST_F(CheckpointData, ADamagedNewestCheckpointFallsBackToThePreviousOne) {
  Comm comm;
  const TrainConfig plain = config("damaged");
  Trainer reference(comm, plain);
  for (int it = 0; it < 3; ++it) reference.iterate();
  {
    Trainer writer(comm, plain);
    Checkpointer checkpoints(comm, plain);
    RunHistory history;
    history.metrics.push_back(writer.iterate().to_json());
    checkpoints.write(writer, history);
    history.metrics.push_back(writer.iterate().to_json());
    checkpoints.write(writer, history);
  }
  // The last rank's last item block goes missing: only that rank notices.
  comm.barrier();
  if (comm.is_root()) fs::remove(plain.checkpoint_dir + "/iter-000002/items/block-00003.h5");
  comm.barrier();

  TrainConfig resuming = plain;
  resuming.resume = "auto";
  Trainer resumed(comm, resuming);
  RunHistory history;
  const ResumeOutcome outcome = resume_training(comm, resuming, resumed, history);
  ASSERT_TRUE(outcome.resumed);
  EXPECT_EQ(outcome.path, plain.checkpoint_dir + "/iter-000001");
  EXPECT_EQ(history.metrics.size(), 1u);
  // Rows of the damaged checkpoint that loaded before the failure were overwritten again.
  resumed.iterate();
  resumed.iterate();
  EXPECT_TRUE(identical(reference.factors(Side::users), resumed.factors(Side::users)));
  EXPECT_TRUE(identical(reference.factors(Side::items), resumed.factors(Side::items)));
}

// Trainer::restore's failure contract, on its own: a read that throws on
// the last rank alone, after every rank overwrote its rows, fails on every
// rank with that rank's message and leaves each trainer as constructed.
TEST_F(CheckpointData, AFailedRestoreLeavesTheTrainerAsConstructed) {
  Comm comm;
  const TrainConfig plain = config("unused");
  Trainer fresh(comm, plain);
  Trainer trainer(comm, plain);
  const int last = comm.size() - 1;
  const std::string problem = trainer.restore(
      [&](const PerSide<SideLayout>& layouts, int rank, PerSide<FactorTable>& tables) {
        EXPECT_EQ(rank, comm.rank());
        for (Side side : kBothSides) {
          const std::int64_t first = layouts[side].first_rows()[rank], rows = layouts[side].row_counts()[rank];
          std::fill(tables[side].row(first), tables[side].row(first + rows), 7.f);
        }
        if (rank == last) throw Error("block-00003.h5: truncated");
      },
      2, true);
  EXPECT_EQ(problem, "block-00003.h5: truncated");
  EXPECT_EQ(trainer.iterations_done(), 0);
  EXPECT_FALSE(trainer.mid_iteration());
  EXPECT_TRUE(identical(fresh.factors(Side::users), trainer.factors(Side::users)));
  EXPECT_TRUE(identical(fresh.factors(Side::items), trainer.factors(Side::items)));
  // And it trains as a fresh one does.
  fresh.iterate();
  trainer.iterate();
  EXPECT_TRUE(identical(fresh.factors(Side::items), trainer.factors(Side::items)));
}

}  // namespace
}  // namespace dals
