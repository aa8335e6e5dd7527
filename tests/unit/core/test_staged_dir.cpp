// StagedDir: the one staging-and-publish protocol of every output directory.
// The path is normalised (the staging directory is always a sibling), one
// --force rule, the parent checked at startup, DEST.tmp removed on failure.
#include "dals/core/staged_dir.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../error_of.hpp"
#include "dals/core/error.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;

// A kind for the tests: a directory holding a file named "OURS".
OutputKind test_kind() {
  return {"test output",
          [](const std::string& dir) -> std::string { return fs::exists(dir + "/OURS") ? "" : "it has no OURS file"; }};
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using unit_test::error_of;

class StagedDirTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("dals-staged-dir-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }
  std::string at(const std::string& name) const { return (root_ / name).string(); }
  // Entries of the test's root directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path root_;
};

TEST(NormalizeOutputPath, TrailingSlashesDotsAndDotDots) {
  EXPECT_EQ(normalize_output_path("model"), "model");
  EXPECT_EQ(normalize_output_path("model/"), "model");
  EXPECT_EQ(normalize_output_path("model///"), "model");
  EXPECT_EQ(normalize_output_path("./model"), "model");
  EXPECT_EQ(normalize_output_path("model/."), "model");
  EXPECT_EQ(normalize_output_path("a/./b/"), "a/b");
  EXPECT_EQ(normalize_output_path("a/../model"), "model");
  EXPECT_EQ(normalize_output_path("a/b/../../c/model/"), "c/model");
  EXPECT_EQ(normalize_output_path("../model"), "../model");
  EXPECT_EQ(normalize_output_path("//x//y/"), "/x/y");
}

TEST(NormalizeOutputPath, RejectsWhatNamesNoNewDirectory) {
  for (const char* path : {"", "/", "//", ".", "./", "..", "../", "a/..", "a/b/../..", "../.."})
    EXPECT_NE(error_of([&] { normalize_output_path(path); }).find("cannot be an output directory"), std::string::npos)
        << '"' << path << '"';
}

TEST_F(StagedDirTest, TrailingSlashStagesInASiblingAndPublishes) {
  StagedDir out(at("model") + "/", false, test_kind());
  EXPECT_EQ(out.dest(), at("model"));
  EXPECT_EQ(out.staging(), at("model.tmp"));
  out.create();
  EXPECT_TRUE(fs::is_directory(at("model.tmp")));
  EXPECT_FALSE(fs::exists(at("model")));  // nothing at DEST until published
  write(out.staging() + "/OURS", "new");
  out.publish();
  EXPECT_TRUE(out.published());
  EXPECT_EQ(read(at("model/OURS")), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"model"});  // no model.tmp, no model/.tmp, no model.old
}

TEST_F(StagedDirTest, DotAndDotDotComponentsAreResolved) {
  fs::create_directories(root_ / "sub");
  StagedDir out(at("sub/../x/./../model/."), false, test_kind());
  EXPECT_EQ(out.dest(), at("model"));
  EXPECT_EQ(out.staging(), at("model.tmp"));
  out.create();
  out.publish();
  EXPECT_TRUE(fs::is_directory(at("model")));
  EXPECT_EQ(entries(), (std::vector<std::string>{"model", "sub"}));
}

TEST_F(StagedDirTest, ABadPathIsReportedByCheckNotByTheConstructor) {
  StagedDir out("model/..", false, test_kind());  // ".", the working directory: no new directory
  EXPECT_EQ(error_of([&] { out.check(); }),
            "model/..: cannot be an output directory (it must name a directory to create or to replace)");
  EXPECT_THROW(out.create(), Error);
  // Lexically, an absolute DIR/model/.. is DIR, an existing directory like any other.
  StagedDir parent(at("model") + "/..", false, test_kind());
  EXPECT_EQ(parent.dest(), root_.string());
  EXPECT_EQ(error_of([&] { parent.check(); }), root_.string() + ": already exists (pass --force to replace it)");
}

TEST_F(StagedDirTest, AnExistingOutputIsRefusedWithoutForce) {
  fs::create_directories(at("model"));
  write(at("model/OURS"), "old");
  StagedDir out(at("model"), false, test_kind());
  EXPECT_EQ(error_of([&] { out.check(); }), at("model") + ": already exists (pass --force to replace it)");
  EXPECT_THROW(out.create(), Error);
  EXPECT_FALSE(fs::exists(at("model.tmp")));
  EXPECT_EQ(read(at("model/OURS")), "old");
}

TEST_F(StagedDirTest, ForceRefusesADirectoryOfAnotherKind) {
  fs::create_directories(at("home"));
  write(at("home/thesis.tex"), "years of work");
  StagedDir out(at("home"), true, test_kind());
  const std::string message = error_of([&] { out.create(); });
  EXPECT_EQ(message, at("home") +
                         ": exists and is not a test output (it has no OURS file); refusing to replace it "
                         "with --force");
  EXPECT_EQ(read(at("home/thesis.tex")), "years of work");
  EXPECT_EQ(entries(), std::vector<std::string>{"home"});  // no home.tmp either
}

TEST_F(StagedDirTest, ForceRefusesAFile) {
  write(at("model"), "a file");
  StagedDir out(at("model"), true, test_kind());
  EXPECT_NE(error_of([&] { out.check(); }).find("exists and is a file, not a test output"), std::string::npos);
  EXPECT_EQ(read(at("model")), "a file");
}

TEST_F(StagedDirTest, ForceReplacesTheRightKind) {
  fs::create_directories(at("model"));
  write(at("model/OURS"), "old");
  write(at("model/extra"), "old only");
  StagedDir out(at("model"), true, test_kind());
  out.create();
  EXPECT_EQ(read(at("model/OURS")), "old");  // the old one stays until publish()
  write(out.staging() + "/OURS", "new");
  out.publish();
  EXPECT_EQ(read(at("model/OURS")), "new");
  EXPECT_FALSE(fs::exists(at("model/extra")));
  EXPECT_EQ(entries(), std::vector<std::string>{"model"});
}

TEST_F(StagedDirTest, ForceReplacesAnEmptyDirectory) {
  fs::create_directories(at("model"));  // nothing to lose, e.g. left by an old failed run
  StagedDir out(at("model"), true, test_kind());
  out.create();
  write(out.staging() + "/OURS", "new");
  out.publish();
  EXPECT_EQ(read(at("model/OURS")), "new");
}

TEST_F(StagedDirTest, PublishChecksAgain) {
  StagedDir out(at("model"), false, test_kind());
  out.create();
  fs::create_directories(at("model"));  // appeared while the tool worked
  write(at("model/mine"), "someone else's");
  EXPECT_NE(error_of([&] { out.publish(); }).find("already exists"), std::string::npos);
  EXPECT_FALSE(out.published());
  EXPECT_EQ(read(at("model/mine")), "someone else's");
}

TEST_F(StagedDirTest, RemovedOnDestructionUnlessPublished) {
  {
    StagedDir out(at("model"), false, test_kind());
    out.create();
    write(out.staging() + "/half", "half-written");
  }
  EXPECT_TRUE(entries().empty());
  {
    StagedDir out(at("model"), false, test_kind());
    out.create();
    out.publish();
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"model"});
}

TEST_F(StagedDirTest, RemovedWhenTheWorkFails) {
  auto tool = [&] {
    StagedDir out(at("model"), false, test_kind());
    out.create();
    write(out.staging() + "/half", "half-written");
    throw Error("disk full");
  };
  EXPECT_THROW(tool(), Error);
  EXPECT_TRUE(entries().empty());
  StagedDir out(at("model"), false, test_kind());
  out.create();
  out.discard();
  EXPECT_TRUE(entries().empty());
}

TEST_F(StagedDirTest, OnlyTheCreatorRemoves) {
  // In an MPI tool every rank names the output; only rank 0 creates it.
  StagedDir rank0(at("model"), false, test_kind());
  rank0.create();
  {
    StagedDir other(at("model"), false, test_kind());
    EXPECT_EQ(other.staging(), rank0.staging());
  }
  EXPECT_TRUE(fs::is_directory(at("model.tmp")));
}

TEST_F(StagedDirTest, AStaleStagingDirectoryIsReplaced) {
  fs::create_directories(at("model.tmp/users"));
  write(at("model.tmp/users/block-00000.h5"), "from a killed run");
  StagedDir out(at("model"), false, test_kind());
  out.create();
  EXPECT_TRUE(fs::is_directory(at("model.tmp")));
  EXPECT_TRUE(fs::is_empty(at("model.tmp")));
}

TEST_F(StagedDirTest, MissingParentsAreCreated) {
  StagedDir out(at("runs/7/model"), false, test_kind());
  out.check();
  EXPECT_FALSE(fs::exists(at("runs")));  // check() touches nothing
  out.create();
  EXPECT_TRUE(fs::is_directory(at("runs/7/model.tmp")));
  out.publish();
  EXPECT_TRUE(fs::is_directory(at("runs/7/model")));
}

TEST_F(StagedDirTest, AParentThatIsAFileIsFoundAtStartup) {
  write(at("file"), "");
  StagedDir out(at("file/sub/model"), false, test_kind());
  EXPECT_EQ(error_of([&] { out.check(); }),
            at("file/sub/model") + ": cannot create: " + at("file") + " is not a directory");
}

TEST_F(StagedDirTest, ASymbolicLinkIsRefused) {
  fs::create_directory_symlink(at("nowhere"), at("dangling"));
  StagedDir dangling(at("dangling"), true, test_kind());
  EXPECT_NE(
      error_of([&] { dangling.check(); }).find("is a symbolic link (to " + at("nowhere") + ", which does not exist)"),
      std::string::npos);
  fs::create_directories(at("real"));
  write(at("real/OURS"), "");
  fs::create_directory_symlink(at("real"), at("link"));
  StagedDir link(at("link"), true, test_kind());
  EXPECT_NE(error_of([&] { link.check(); }).find("is a symbolic link"), std::string::npos);
  EXPECT_TRUE(fs::exists(at("real/OURS")));
}

TEST_F(StagedDirTest, AReadOnlyParentIsFoundAtStartup) {
  const fs::path parent = root_ / "ro";
  fs::create_directories(parent);
  bool mounted = false;
  if (::geteuid() == 0) {
    // Root ignores permission bits: only a read-only file system stops it.
    mounted = ::mount("tmpfs", parent.c_str(), "tmpfs", MS_RDONLY, "size=64k") == 0;
    if (!mounted) GTEST_SKIP() << "running as root and cannot mount a read-only tmpfs";
  } else {
    fs::permissions(parent, fs::perms::owner_read | fs::perms::owner_exec);
  }
  const std::string why = mounted ? "Read-only file system" : "Permission denied";
  StagedDir out((parent / "model").string(), false, test_kind());
  EXPECT_EQ(error_of([&] { out.check(); }),
            (parent / "model").string() + ": cannot create " + (parent / "model.tmp").string() + ": " + why);
  EXPECT_THROW(out.create(), Error);
  StagedDir deeper((parent / "a/b/model").string(), false, test_kind());  // the nearest existing parent counts
  EXPECT_EQ(error_of([&] { deeper.check(); }),
            (parent / "a/b/model").string() + ": cannot create " + (parent / "a/b/model.tmp").string() + ": " + why);
  if (mounted) ::umount(parent.c_str());
}

}  // namespace
}  // namespace dals
