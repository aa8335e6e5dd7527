#pragma once
// Private to src/recommend/: the sums dals-eval makes per user block and
// adds over ranks (eval_run.cpp), and the report made from them
// (eval_report.cpp).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dals/data/manifest.hpp"
#include "dals/mpi/comm.hpp"
#include "dals/recommend/eval.hpp"
#include "dals/recommend/model_input.hpp"

namespace dals::eval_detail {

// One user block's sums as one array of doubles (counts are exact below
// 2^53), so that the blocks of every rank travel in one allgatherv and are
// added in block order.
struct SumLayout {
  int nk = 0;
  // The test ratings' errors: the ratings used, then squared and absolute
  // error of the model, the bias-only prediction and the global mean.
  static constexpr int kRatings = 0, kModelSse = 1, kModelSae = 2, kBiasSse = 3, kBiasSae = 4, kMeanSse = 5,
                       kMeanSae = 6;
  // Cold entries: test ratings of a user or item without training ratings,
  // and users with test ratings but none in training.
  static constexpr int kColdRatings = 7, kColdUsers = 8;
  static constexpr int kMethods = 9;
  // Per method (0: the model, 1: popularity): users ranked, users with an
  // AUC, its sum, then per K: precision, recall, AP and NDCG sums.
  int method(int which) const { return kMethods + which * (3 + 4 * nk); }
  int at(int which, int j) const { return method(which) + 3 + 4 * j; }
  int size() const { return method(2); }
};

// What the report names beside the sums.
struct EvalFacts {
  std::string model, data, fingerprint;
  bool implicit = false;
  bool bias = true;
  int iterations = 0;
  int factors = 0;
  std::int64_t test_ratings = 0;
  std::int64_t cold_items = 0;  // items with test entries and no training ratings
  std::int64_t candidate_items = 0;
  // What was evaluated, for the table ("the test split of DATA"), and the
  // protocol's own JSON object (key `extra_key`, omitted if empty) and lines.
  std::string source;
  std::string extra_key;
  nlohmann::json extra;
  std::vector<std::string> notes;
  bool cold_line = true;  // the table's cold-start line (not for held-out users: none is cold)
};

// Every rank's sums (one SumLayout per unit: user block or chunk, in order
// of units over ranks) added in that order on every rank: the same bits for
// any P.
std::vector<double> sum_in_order(const Comm& comm, const std::vector<double>& mine, const SumLayout& layout);

// Collective: writes --output (rank 0, atomically) and prints the table.
void publish_report(const Comm& comm, const EvalConfig& c, const EvalFacts& f, const SumLayout& layout,
                    const std::vector<double>& total, double start);

// Collective (eval_strong.cpp): the whole --strong-generalization protocol
// after run_eval's checks.
void run_strong_generalization(const Comm& comm, const EvalConfig& c, const Manifest& m, const CheckedModel& model,
                               double start);

// The JSON document of --output (format "dals-eval").
std::string eval_json(const EvalConfig& c, const EvalFacts& f, const SumLayout& layout,
                      const std::vector<double>& total);

// The table printed on standard output.
std::string eval_table(const EvalConfig& c, const EvalFacts& f, const SumLayout& layout,
                       const std::vector<double>& total);

}  // namespace dals::eval_detail
