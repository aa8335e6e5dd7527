// parse_state on state.json fields of the wrong type or out of range: each is
// an Error naming the file and the key, never a library message or a
// silently narrowed number.
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/run_state.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"

namespace dals {
namespace {
using nlohmann::json;

json good_state() {
  return {{"format", "dals-checkpoint"},
          {"version", 1},
          {"iteration", 1},
          {"user_half_done", false},
          {"target_iterations", 3},
          {"hyperparameters", {{"factors", 4}, {"bias", true}}},
          {"dataset",
           {{"fingerprint", "abc"},
            {"users", 10},
            {"items", 5},
            {"mean", 3.5},
            {"user_block_firsts", {0, 5}},
            {"item_block_firsts", {0, 3}}}},
          {"metrics", json::array({json::object()})},
          {"block_checksums",
           {{"users", {"0000000000000001", "0000000000000002"}}, {"items", {"0000000000000003", "0000000000000004"}}}},
          {"resumes", json::array()}};
}

// The text of `state` with its checksum, as state_json writes it.
std::string with_checksum(json state) {
  const std::string body = state.dump();
  state["checksum"] = to_hex(checksum64(body.data(), body.size()));
  return state.dump(1);
}

const std::string kPath = "ckpt/checkpoint-00001/state.json";

template <class Edit>
void expect_rejected(Edit edit, const std::string& key) {
  json state = good_state();
  edit(state);
  try {
    parse_state(with_checksum(state), kPath);
    ADD_FAILURE() << "accepted: " << state.dump();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(kPath + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(key), std::string::npos) << "no key " << key << " in: " << what;
    EXPECT_EQ(what.find("json.exception"), std::string::npos) << what;
  }
}

TEST(StateJson, GoodStateParses) {
  const SavedState s = parse_state(with_checksum(good_state()), kPath);
  EXPECT_EQ(s.progress.iterations, 1);
  EXPECT_EQ(s.factors, 4);
}

TEST(StateJson, IntegerBeyond32BitsIsNotNarrowed) {
  // 2^32 + 1 read into an int would be 1, which matches the one metrics record.
  expect_rejected([](json& s) { s["iteration"] = 4294967297LL; }, "iteration");
}

TEST(StateJson, BooleanIsNoNumber) {
  expect_rejected([](json& s) { s["iteration"] = true; }, "iteration");
  expect_rejected([](json& s) { s["hyperparameters"]["bias"] = 1; }, "hyperparameters.bias");
}

TEST(StateJson, FractionIsNoInteger) {
  expect_rejected([](json& s) { s["hyperparameters"]["factors"] = 4.5; }, "hyperparameters.factors");
  expect_rejected([](json& s) { s["dataset"]["user_block_firsts"][1] = 5.5; }, "dataset.user_block_firsts[1]");
}

TEST(StateJson, WrongTypeAndNull) {
  expect_rejected([](json& s) { s["dataset"]["users"] = nullptr; }, "dataset.users");
  expect_rejected([](json& s) { s["dataset"]["mean"] = "3.5"; }, "dataset.mean");
  expect_rejected([](json& s) { s["user_half_done"] = nullptr; }, "user_half_done");
  expect_rejected([](json& s) { s["metrics"] = json::object(); }, "metrics");
  expect_rejected([](json& s) { s["resumes"] = 7; }, "resumes");
  expect_rejected([](json& s) { s["hyperparameters"] = json::array(); }, "hyperparameters");
}

TEST(StateJson, HeavyRowsFrom) {
  // Absent (a model before the record): -1, so fold-in recomputes it.
  const SavedState old = parse_state(with_checksum(good_state()), kPath);
  EXPECT_EQ(old.heavy_users_from, -1);
  EXPECT_EQ(old.heavy_items_from, -1);
  json state = good_state();
  state["heavy_rows_from"] = {{"users", 300}, {"items", nullptr}};
  const SavedState s = parse_state(with_checksum(state), kPath);
  EXPECT_EQ(s.heavy_users_from, 300);
  EXPECT_EQ(s.heavy_items_from, std::numeric_limits<std::int64_t>::max());  // null: none
  expect_rejected([](json& j) { j["heavy_rows_from"] = 5; }, "heavy_rows_from");
  expect_rejected([](json& j) { j["heavy_rows_from"] = {{"users", "300"}, {"items", 2}}; }, "heavy_rows_from.users");
  expect_rejected([](json& j) { j["heavy_rows_from"] = {{"users", 0}, {"items", 2}}; }, "heavy_rows_from.users");
  expect_rejected([](json& j) { j["heavy_rows_from"] = {{"users", 2}, {"items", 1.5}}; }, "heavy_rows_from.items");
  expect_rejected([](json& j) { j["heavy_rows_from"] = {{"users", 2}}; }, "heavy_rows_from.items");
}

TEST(StateJson, NegativeCount) {
  expect_rejected([](json& s) { s["dataset"]["items"] = -5; }, "dataset.items");
  expect_rejected([](json& s) { s["hyperparameters"]["factors"] = -1; }, "hyperparameters.factors");
}

}  // namespace
}  // namespace dals
