// The model's blocks record each row's training ratings (training_ratings):
// written by the one block writer, covered by the block checksum, checked
// on reading; a block written before them reads as "no counts".
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

constexpr int kCountsK = 2;

class TrainedRows : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-trained-rows-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (std::int64_t r = 0; r < table_.rows(); ++r)
      for (int c = 0; c <= kCountsK; ++c) table_.row(r)[c] = static_cast<float>(r + c) * 0.5f;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path() const { return (dir_ / "block-00000.h5").string(); }

  // A block as write_factor_block lays it out, with `counts` as given (any
  // length, any values: the arrays' own checksums are valid).
  void write_hostile(const std::vector<std::int64_t>& counts) const {
    std::vector<float> factors, biases;
    for (std::int64_t r = 0; r < table_.rows(); ++r) {
      factors.insert(factors.end(), table_.row(r), table_.row(r) + kCountsK);
      biases.push_back(table_.row(r)[kCountsK]);
    }
    H5File f = H5File::create(path());
    f.set_attribute("first_row", std::int64_t{0});
    f.set_attribute("factors_k", static_cast<std::int64_t>(kCountsK));
    f.write("factors", std::span<const float>(factors), kCountsK);
    f.write("biases", std::span<const float>(biases));
    if (!counts.empty()) f.write(kTrainingRatings, std::span<const std::int64_t>(counts));
    f.close();
  }

  void expect_refused(const std::vector<std::int64_t>& counts, const std::string& want) const {
    write_hostile(counts);
    FactorTable back(table_.rows(), kCountsK);
    std::optional<std::vector<std::int64_t>> read;
    try {
      read_factor_block(path(), 0, table_.rows(), back, &read);
      ADD_FAILURE() << "accepted training_ratings of " << counts.size() << " entries";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path() + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(want), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }

  fs::path dir_;
  FactorTable table_{4, kCountsK};
};

TEST_F(TrainedRows, CountsRoundTripAndAreCoveredByTheBlockChecksum) {
  const std::vector<std::int64_t> counts{3, 0, 7, 1};
  const std::uint64_t written = write_factor_block(path(), table_, 0, 4, counts);
  FactorTable back(4, kCountsK);
  std::optional<std::vector<std::int64_t>> read;
  EXPECT_EQ(read_factor_block(path(), 0, 4, back, &read), written);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, counts);
  for (std::int64_t r = 0; r < 4; ++r)
    for (int c = 0; c <= kCountsK; ++c) EXPECT_EQ(back.row(r)[c], table_.row(r)[c]);

  // Other counts, the same factors: another block checksum, so state.json's
  // record catches a block whose counts were changed or stripped.
  EXPECT_NE(write_factor_block(path(), table_, 0, 4, {3, 0, 7, 2}), written);
  write_hostile({});
  EXPECT_NE(read_factor_block(path(), 0, 4, back, &read), written);
  EXPECT_FALSE(read.has_value());  // a block written before the counts existed
}

TEST_F(TrainedRows, HostileCountsAreRefusedNamingTheFile) {
  expect_refused({3, -1, 7, 1}, "row 1: training_ratings is -1");
  expect_refused({3, 0, 7}, "training_ratings");                                 // too short
  expect_refused({3, 0, 7, 1, 5}, "training_ratings");                           // too long
  expect_refused({0, 0, std::numeric_limits<std::int64_t>::max(), 0}, "row 2");  // beyond any count
}

TEST_F(TrainedRows, TheWriterRefusesCountsOfAnotherLength) {
  EXPECT_THROW(write_factor_block(path(), table_, 0, 4, {1, 2, 3}), Error);
}

}  // namespace
}  // namespace dals
