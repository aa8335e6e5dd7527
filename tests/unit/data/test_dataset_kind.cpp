// What --force of the dataset writers may replace: a directory whose
// manifest.json is a dals dataset manifest (damaged or not), nothing else.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dals/data/dataset.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

TEST(DatasetOutputKind, RecognisesADatasetManifestOnly) {
  const fs::path dir = fs::temp_directory_path() / ("dals-dataset-kind-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const OutputKind kind = dataset_output_kind();
  EXPECT_EQ(kind.name, "dals dataset");
  std::ofstream(dir / "notes.txt") << "mine";
  EXPECT_EQ(kind.problem(dir.string()), "it has no manifest.json");
  std::ofstream(dir / "manifest.json") << R"({"format": "something-else"})";
  EXPECT_EQ(kind.problem(dir.string()), "its manifest.json is not a dals dataset manifest");
  std::ofstream(dir / "manifest.json") << "not json";
  EXPECT_EQ(kind.problem(dir.string()), "its manifest.json is not a dals dataset manifest");
  fs::remove(dir / "manifest.json");
  fs::create_directory(dir / "manifest.json");
  EXPECT_EQ(kind.problem(dir.string()), "its manifest.json is not a dals dataset manifest");
  fs::remove(dir / "manifest.json");
  // The format is what makes a dataset; its contents are read_manifest's to judge.
  std::ofstream(dir / "manifest.json") << R"({"format": "dals-dataset", "version": 1})";
  EXPECT_EQ(kind.problem(dir.string()), "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dals
