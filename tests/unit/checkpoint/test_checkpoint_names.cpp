// Checkpoint directory names: one spelling per progress, and nothing else
// (staging and half-deleted directories) is taken for a checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "dals/checkpoint/checkpoint.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

TEST(CheckpointNames, RoundTrip) {
  EXPECT_EQ(checkpoint_name({12, false}), "iter-000012");
  EXPECT_EQ(checkpoint_name({12, true}), "iter-000012.5");
  EXPECT_EQ(checkpoint_name({1234567, false}), "iter-1234567");
  for (Progress p : {Progress{0, false}, Progress{0, true}, Progress{7, true}, Progress{1234567, false}}) {
    auto parsed = parse_checkpoint_name(checkpoint_name(p));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, p);
  }
}

TEST(CheckpointNames, RejectsEverythingElse) {
  for (const char* name : {"iter-000012.tmp", "iter-000012.5.tmp", "iter-000012.deleting", "iter-000012.old", "iter-12",
                           "iter-0000012", "iter-000012.50", "iter-00001x", "iter-", "model", ""})
    EXPECT_FALSE(parse_checkpoint_name(name).has_value()) << name;
}

TEST(CheckpointNames, ListsCheckpointsNewestFirst) {
  const fs::path root = fs::temp_directory_path() / ("dals-ckpt-names-" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* name : {"iter-000002", "iter-000010", "iter-000002.5", "iter-000011.tmp", "junk"})
    fs::create_directories(root / name);
  std::vector<std::string> names;
  for (const auto& c : list_checkpoints(root.string())) names.push_back(fs::path(c.path).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"iter-000010", "iter-000002.5", "iter-000002"}));
  EXPECT_TRUE(list_checkpoints((root / "missing").string()).empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace dals
