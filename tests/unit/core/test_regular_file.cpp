// require_regular_file: what every reader calls before opening an input.
// A directory, a named pipe or a device where a file belongs is an error
// naming the path and what it is; a missing path passes (the open that
// follows says it is missing), and so does a regular file or a link to one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

std::string regular_file_error(const std::string& path) {
  try {
    require_regular_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class RegularFile : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("dals-regular-file-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string at(const std::string& name) const { return (root_ / name).string(); }
  fs::path root_;
};

TEST_F(RegularFile, FilesAndMissingPathsPass) {
  std::ofstream(at("manifest.json")) << "{}";
  EXPECT_EQ(regular_file_error(at("manifest.json")), "");
  fs::create_symlink(at("manifest.json"), at("link.json"));
  EXPECT_EQ(regular_file_error(at("link.json")), "");
  EXPECT_EQ(regular_file_error(at("missing.json")), "");
}

TEST_F(RegularFile, ADirectoryIsRefused) {
  fs::create_directories(at("state.json"));
  EXPECT_EQ(regular_file_error(at("state.json")), at("state.json") + ": not a regular file (a directory)");
  // read_text_file (manifest.json, state.json) goes through the same check.
  try {
    read_text_file(at("state.json"));
    FAIL() << "read_text_file read a directory";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), at("state.json") + ": not a regular file (a directory)");
  }
}

TEST_F(RegularFile, ANamedPipeAndADeviceAreRefused) {
  ASSERT_EQ(::mkfifo(at("block-00000.h5").c_str(), 0600), 0);
  EXPECT_EQ(regular_file_error(at("block-00000.h5")), at("block-00000.h5") + ": not a regular file (a named pipe)");
  EXPECT_EQ(regular_file_error("/dev/null"), "/dev/null: not a regular file (a character device)");
}

}  // namespace
}  // namespace dals
