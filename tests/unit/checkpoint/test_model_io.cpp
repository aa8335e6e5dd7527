// read_model reads state.json through the one parser (parse_state), so a
// model's state is checked exactly as a checkpoint's is: its checksum too.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_io.hpp"
#include "dals/checkpoint/run_state.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kK = 3;

// A state.json as state_json() writes it, for a model of 4 users and 3 items
// in one block per side after 2 iterations.
json model_state() {
  json metrics = json::array({json{{"iteration", 1}}, json{{"iteration", 2}}});
  json state = {{"format", "dals-model"},
                {"version", 1},
                {"iteration", 2},
                {"user_half_done", false},
                {"target_iterations", 2},
                {"hyperparameters", {{"factors", kK}, {"lambda", 0.1}, {"bias", true}}},
                {"dataset",
                 {{"path", "data"},
                  {"fingerprint", "00ff"},
                  {"users", 4},
                  {"items", 3},
                  {"blocks", 1},
                  {"mean", 3.5},
                  {"train_ratings", 9},
                  {"user_block_firsts", {0}},
                  {"item_block_firsts", {0}}}},
                {"metrics", metrics},
                {"resumes", json::array()}};
  return state;
}

// Seals `state` with its checksum, as state_json() does.
std::string sealed(json state) {
  const std::string body = state.dump();
  state["checksum"] = to_hex(checksum64(body.data(), body.size()));
  return state.dump(1) + "\n";
}

class ReadModel : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-read-model-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    for (const char* sub : {"users", "items"}) fs::create_directories(dir_ / sub);
    for (Side side : kBothSides) {
      FactorTable table(side == Side::users ? 4 : 3, kK);
      for (std::int64_t r = 0; r < table.rows(); ++r)
        for (int c = 0; c <= kK; ++c)
          table.row(r)[c] = static_cast<float>(10 * r + c) + (side == Side::users ? 0.5f : 0.25f);
      block_sums_[side] = {write_factor_block(factor_block_path(dir(), side, 0), table, 0, table.rows(),
                                              std::vector<std::int64_t>(table.rows(), 2))};
    }
    write_file_atomic(dir() + "/COMPLETE", "complete\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }

  // `state` recording the blocks' checksums, as a model of this version does.
  json with_blocks(json state) const {
    state["version"] = 2;
    for (Side side : kBothSides) state["block_checksums"][side_name(side)] = {to_hex(block_sums_[side][0])};
    return state;
  }

  fs::path dir_;
  BlockChecksums block_sums_;
};

TEST_F(ReadModel, ChecksTheBlocksAgainstTheChecksumsStateJsonRecords) {
  write_file_atomic(dir() + "/state.json", sealed(with_blocks(model_state())));
  EXPECT_EQ(read_model(dir()).tables[Side::users].row(3)[kK], 33.5f);

  // A block valid in itself (its arrays' checksums match) but not the one
  // state.json records, as a block copied from another checkpoint is.
  json state = with_blocks(model_state());
  state["block_checksums"]["items"][0] = to_hex(block_sums_[Side::items][0] ^ 1);
  write_file_atomic(dir() + "/state.json", sealed(state));
  try {
    read_model(dir());
    FAIL() << "read_model accepted a block whose checksum state.json does not record";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("items/block-00000.h5: block checksum mismatch"), std::string::npos)
        << e.what();
  }

  json v2 = model_state();
  v2["version"] = 2;  // says it records its blocks, does not
  write_file_atomic(dir() + "/state.json", sealed(v2));
  EXPECT_THROW(read_model(dir()), Error);
}

// A model of dals 0.1 (no checksum) may be read, but never resumed nor
// taken for a checkpoint; a checkpoint always needs its block checksums.
TEST_F(ReadModel, WhatEachUseAccepts) {
  const std::string legacy = model_state().dump(1), path = dir() + "/state.json";
  EXPECT_NO_THROW(parse_state(legacy, path, StateUse::read));
  EXPECT_THROW(parse_state(legacy, path, StateUse::resume), Error);
  EXPECT_THROW(parse_state(legacy, path, StateUse::checkpoint), Error);
  EXPECT_NO_THROW(parse_state(sealed(model_state()), path, StateUse::resume));
  EXPECT_THROW(parse_state(sealed(with_blocks(model_state())), path, StateUse::checkpoint), Error);  // a model

  json checkpoint = model_state();
  checkpoint["format"] = "dals-checkpoint";
  EXPECT_THROW(parse_state(sealed(checkpoint), path, StateUse::checkpoint), Error);  // no block checksums
  EXPECT_THROW(parse_state(sealed(checkpoint), path, StateUse::read), Error);
  EXPECT_NO_THROW(parse_state(sealed(with_blocks(checkpoint)), path, StateUse::checkpoint));
}

TEST_F(ReadModel, ReadsASealedModel) {
  write_file_atomic(dir() + "/state.json", sealed(model_state()));
  const Model model = read_model(dir());
  EXPECT_EQ(model.mean, 3.5);
  EXPECT_TRUE(model.bias);
  ASSERT_EQ(model.tables[Side::users].rows(), 4);
  ASSERT_EQ(model.tables[Side::items].rows(), 3);
  EXPECT_EQ(model.tables[Side::users].k(), kK);
  EXPECT_EQ(model.tables[Side::users].row(3)[kK], 33.5f);
  EXPECT_EQ(model.tables[Side::items].row(2)[1], 21.25f);
}

// A factor block says its k twice, in its factors_k attribute and in the
// factors' columns: both must be the model's (the fuzz test removed the
// attribute, and the block was accepted).
TEST_F(ReadModel, RejectsAFactorBlockWhoseFactorsKIsMissingOrWrong) {
  write_file_atomic(dir() + "/state.json", sealed(model_state()));
  const std::string path = factor_block_path(dir(), Side::items, 0);
  const auto set_k = [&](const std::int64_t* k) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    H5Adelete(f, "factors_k");
    if (k != nullptr) {
      const hid_t space = H5Screate(H5S_SCALAR);
      const hid_t attr = H5Acreate2(f, "factors_k", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(attr, H5T_NATIVE_INT64, k);
      H5Aclose(attr);
      H5Sclose(space);
    }
    H5Fclose(f);
  };
  const std::int64_t wrong = kK + 4;
  for (const std::int64_t* k : {static_cast<const std::int64_t*>(nullptr), &wrong}) {
    set_k(k);
    try {
      read_model(dir());
      FAIL() << "read_model accepted a factor block with " << (k ? "factors_k 7" : "no factors_k");
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("items/block-00000.h5: attribute 'factors_k'"), std::string::npos)
          << e.what();
    }
  }
}

TEST_F(ReadModel, RejectsAStateWhoseChecksumDoesNotMatch) {
  // Valid JSON, every field in place, one value changed after sealing: only
  // the checksum can tell (the mean would silently shift every prediction).
  std::string text = sealed(model_state());
  const std::string from = "\"mean\": 3.5", to = "\"mean\": 4.5";
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, from.size(), to);
  write_file_atomic(dir() + "/state.json", text);
  try {
    read_model(dir());
    FAIL() << "read_model accepted a state.json whose checksum does not match";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("state.json: checksum mismatch"), std::string::npos) << e.what();
  }
}

TEST_F(ReadModel, RejectsACheckpointStateWithoutChecksum) {
  json state = model_state();
  state["format"] = "dals-checkpoint";
  write_file_atomic(dir() + "/state.json", state.dump(1));
  EXPECT_THROW(read_model(dir()), Error);
}

TEST_F(ReadModel, RejectsSomethingElse) {
  json state = model_state();
  state["format"] = "something-else";
  write_file_atomic(dir() + "/state.json", sealed(state));
  EXPECT_THROW(read_model(dir()), Error);
}

// --force of dals-train replaces a model (state.json says so), nothing else;
// a checkpoint is rewritten in place even when resuming found it damaged.
TEST_F(ReadModel, OutputKinds) {
  const OutputKind model = model_output_kind(), checkpoint = checkpoint_output_kind();
  EXPECT_EQ(model.problem(dir()), "it has no state.json");
  EXPECT_EQ(checkpoint.problem(dir()), "");  // only a checkpoint's entries: users/, items/, COMPLETE

  write_file_atomic(dir() + "/state.json", sealed(model_state()));
  EXPECT_EQ(model.problem(dir()), "");
  EXPECT_EQ(checkpoint.problem(dir()), "");
  write_file_atomic(dir() + "/metrics.jsonl", "{}\n");
  EXPECT_EQ(checkpoint.problem(dir()),
            "its state.json is of a dals-model, and it holds metrics.jsonl, which no checkpoint has");

  json state = model_state();
  state["format"] = "dals-checkpoint";
  write_file_atomic(dir() + "/state.json", sealed(state));
  EXPECT_EQ(model.problem(dir()), "its state.json is of a dals-checkpoint");
  EXPECT_EQ(checkpoint.problem(dir()), "");

  write_file_atomic(dir() + "/state.json", "{\"format\": \"dals-mod");  // damaged
  EXPECT_EQ(model.problem(dir()), "its state.json is not a dals state file");
  EXPECT_EQ(checkpoint.problem(dir()),
            "its state.json is not a dals state file, and it holds metrics.jsonl, which no "
            "checkpoint has");
  fs::remove(dir() + "/metrics.jsonl");
  EXPECT_EQ(checkpoint.problem(dir()), "");  // a damaged checkpoint of ours
}

}  // namespace
}  // namespace dals

namespace dals {
namespace {

// Factors and biases are checked as they are read: a NaN, an infinity or an
// absurd magnitude (with valid checksums: only the values can tell) is an
// Error naming the file and the row, never a model that predicts NaN.
TEST_F(ReadModel, RejectsNonFiniteOrAbsurdFactors) {
  write_file_atomic(dir() + "/state.json", sealed(model_state()));
  struct Case {
    std::int64_t row;
    int col;  // kK: the bias
    float value;
    const char* want;
  };
  for (const Case& c : {Case{2, 1, std::nanf(""), "non-finite"}, Case{3, kK, INFINITY, "non-finite"},
                        Case{1, 0, 3e38f, "magnitude"}, Case{0, kK, -2e15f, "magnitude"}}) {
    FactorTable table(4, kK);
    table.row(c.row)[c.col] = c.value;
    const std::string path = factor_block_path(dir(), Side::users, 0);
    write_factor_block(path, table, 0, table.rows(), std::vector<std::int64_t>(table.rows(), 1));
    try {
      read_model(dir());
      ADD_FAILURE() << "read_model accepted " << c.value << " in row " << c.row;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
      EXPECT_NE(what.find("row " + std::to_string(c.row)), std::string::npos) << what;
      EXPECT_NE(what.find(c.want), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace dals
