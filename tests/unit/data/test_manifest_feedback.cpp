// manifest.json's "feedback" key: ratings or events. Every dataset written
// before the key existed reads as ratings with its fingerprint unchanged
// (checkpoints are bound to fingerprints); an events dataset's kind is part
// of its fingerprint, so flipping it by hand is detected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset_builder.hpp"
#include "dals/data/inspect.hpp"
#include "dals/data/manifest.hpp"

namespace dals {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The fingerprint the code before the "feedback" key gave this manifest
// (computed with the library of commit f1eba3a).
constexpr const char* kFingerprintBeforeFeedback = "a58cbbc68cc4e45a";

Manifest small_manifest(Feedback feedback) {
  Manifest m;
  m.users = 2000;
  m.items = 3;
  m.blocks = 1;
  m.mean = 3.5;
  m.feedback = feedback;
  m.train.ratings = 10;
  m.train.user_blocks = {{0, 2000, 10, 0x1234}};
  m.train.item_blocks = {{0, 3, 10, 0x5678}};
  m.fingerprint = m.compute_fingerprint();
  return m;
}

class ManifestFeedback : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dals-manifest-feedback-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  json written(const Manifest& m) {
    write_manifest(dir_.string(), m);
    return json::parse(read_text_file(path()));
  }
  void put(const json& j) { std::ofstream(path()) << j.dump(1); }
  std::string path() const { return (dir_ / "manifest.json").string(); }
  // read_manifest's error, or "" if it accepts the file.
  std::string error() {
    try {
      read_manifest(dir_.string());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(ManifestFeedback, RatingsFingerprintIsTheOneBeforeTheKey) {
  EXPECT_EQ(small_manifest(Feedback::ratings).compute_fingerprint(), kFingerprintBeforeFeedback);
  EXPECT_NE(small_manifest(Feedback::events).compute_fingerprint(), kFingerprintBeforeFeedback);
}

TEST_F(ManifestFeedback, ManifestWithoutTheKeyReadsAsRatings) {
  json j = written(small_manifest(Feedback::ratings));
  EXPECT_EQ(j.at("feedback"), "ratings");
  j.erase("feedback");  // as every manifest written before the key existed
  j["fingerprint"] = kFingerprintBeforeFeedback;
  put(j);
  const Manifest m = read_manifest(dir_.string());
  EXPECT_EQ(m.feedback, Feedback::ratings);
  EXPECT_EQ(m.fingerprint, kFingerprintBeforeFeedback);
}

TEST_F(ManifestFeedback, EventsRoundTrip) {
  const json j = written(small_manifest(Feedback::events));
  EXPECT_EQ(j.at("feedback"), "events");
  EXPECT_EQ(read_manifest(dir_.string()).feedback, Feedback::events);
  EXPECT_EQ(enum_name(Feedback::events), std::string("events"));
}

TEST_F(ManifestFeedback, FlippedKindIsDetected) {
  // events -> ratings and events -> key removed, fingerprint left as it was.
  for (const bool erase : {false, true}) {
    json j = written(small_manifest(Feedback::events));
    if (erase)
      j.erase("feedback");
    else
      j["feedback"] = "ratings";
    put(j);
    const std::string what = error();
    EXPECT_NE(what.find(path() + ": fingerprint"), std::string::npos) << what;
  }
  // ratings -> events.
  json j = written(small_manifest(Feedback::ratings));
  j["feedback"] = "events";
  put(j);
  EXPECT_NE(error().find("does not match the manifest's contents"), std::string::npos) << error();
}

TEST_F(ManifestFeedback, OtherValuesAreErrorsNamingFileAndKey) {
  const json good = written(small_manifest(Feedback::ratings));
  for (const json& bad : {json("implicit"), json("Events"), json(""), json(1), json(true), json(nullptr)}) {
    json j = good;
    j["feedback"] = bad;
    put(j);
    const std::string what = error();
    EXPECT_EQ(what.rfind(path() + ": feedback ", 0), 0u) << bad.dump() << ": " << what;
  }
  json j = good;
  j["feedback"] = "clicks";
  put(j);
  EXPECT_NE(error().find("\"clicks\", expected \"ratings\" or \"events\""), std::string::npos) << error();
}

TEST_F(ManifestFeedback, BuiltDatasetsSayTheirKind) {
  const std::vector<RawRating> events = {{1, 10, 3}, {1, 11, 1}, {2, 10, 2}, {3, 12, 5}};
  BuildOptions options;
  options.blocks = 1;
  options.feedback = Feedback::events;
  EXPECT_EQ(build_dataset((dir_ / "events").string(), events, options).feedback, Feedback::events);
  EXPECT_EQ(read_manifest((dir_ / "events").string()).feedback, Feedback::events);
  options.feedback = Feedback::ratings;
  EXPECT_EQ(build_dataset((dir_ / "ratings").string(), events, options).feedback, Feedback::ratings);
  // An event needs a positive count.
  std::vector<RawRating> zero = events;
  zero[2].value = 0;
  options.feedback = Feedback::events;
  EXPECT_THROW(build_dataset((dir_ / "zero").string(), zero, options), Error);
  EXPECT_FALSE(fs::exists(dir_ / "zero"));
}

TEST_F(ManifestFeedback, InspectPrintsTheKindAndFlagsNonPositiveEvents) {
  const std::string dir = (dir_ / "data").string();
  BuildOptions options;
  options.blocks = 1;
  build_dataset(dir, {{1, 10, 3}, {1, 11, 0}, {2, 10, 2}, {3, 12, 5}}, options);
  InspectReport report = inspect_dataset(dir);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_NE(report.summary.find("\n  feedback: ratings "), std::string::npos) << report.summary;
  // The same values declared events, the fingerprint made to agree: a
  // writer that let a 0 through would be caught here.
  Manifest m = read_manifest(dir);
  m.feedback = Feedback::events;
  m.fingerprint = m.compute_fingerprint();
  write_manifest(dir, m);
  report = inspect_dataset(dir);
  EXPECT_NE(report.summary.find("\n  feedback: events "), std::string::npos) << report.summary;
  ASSERT_EQ(report.problems.size(), 2u);  // the by-user and the by-item block
  EXPECT_NE(report.problems[0].find("block-00000.h5: 1 values are not positive in an events dataset"),
            std::string::npos)
      << report.problems[0];
}

}  // namespace
}  // namespace dals
