// dals-eval's report: the JSON of --output and the printed table, both
// from the summed blocks (eval_internal.hpp).
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "eval_internal.hpp"

namespace dals::eval_detail {

namespace {

using nlohmann::json;

constexpr const char* kMethodNames[2] = {"model", "popularity"};

// sum / count, or NaN where nothing was counted (null in the JSON).
double mean_of(double sum, double count) { return count > 0 ? sum / count : std::nan(""); }
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

struct RatingFigures {
  double rmse, mae;
};

RatingFigures rating_figures(const std::vector<double>& t, int which) {
  const double n = t[SumLayout::kRatings];
  return {std::sqrt(mean_of(t[SumLayout::kModelSse + 2 * which], n)), mean_of(t[SumLayout::kModelSae + 2 * which], n)};
}

std::string cell(double v, const char* format = "%10.6f") {
  char text[32];
  if (!std::isfinite(v)) return std::string(10 - 1, ' ') + "-";
  std::snprintf(text, sizeof text, format, v);
  return text;
}

const char* cold_rule(const EvalConfig& c) {
  return c.cold_start == "drop" ? "dropped" : "predicted by mu plus the known bias (mean)";
}

}  // namespace

std::string eval_json(const EvalConfig& c, const EvalFacts& f, const SumLayout& sl, const std::vector<double>& t) {
  json j = {
      {"format", "dals-eval"},
      {"version", 1},
      {"model", f.model},
      {"dataset", f.data},
      {"dataset_fingerprint", f.fingerprint},
      {"feedback", f.implicit ? "implicit" : "explicit"},
      {"iterations", f.iterations},
      {"factors", f.factors},
      {"test_ratings", f.test_ratings},
      {"cold_start",
       {{"strategy", c.cold_start},
        {"ratings", static_cast<std::int64_t>(t[SumLayout::kColdRatings])},
        {"users", static_cast<std::int64_t>(t[SumLayout::kColdUsers])},
        {"items", f.cold_items}}},
  };
  if (!f.extra_key.empty()) j[f.extra_key] = f.extra;
  if (f.implicit) {
    j["rating"] = nullptr;
  } else {
    json rating = {{"ratings", static_cast<std::int64_t>(t[SumLayout::kRatings])}};
    const char* names[3] = {"model", "bias_only", "global_mean"};
    for (int m = 0; m < 3; ++m) {
      const RatingFigures r = rating_figures(t, m);
      rating[names[m]] = {{"rmse", number(r.rmse)}, {"mae", number(r.mae)}};
    }
    if (!f.bias) rating["bias_only"] = nullptr;  // a --no-bias model: it would be the mean again
    j["rating"] = rating;
  }
  json ranking = {{"k", c.ks},
                  {"users", static_cast<std::int64_t>(t[sl.method(0)])},
                  {"candidate_items", f.candidate_items},
                  {"min_item_ratings", c.min_item_ratings},
                  {"relevant", "every test entry of the user"}};
  for (int w = 0; w < 2; ++w) {
    const double* s = t.data() + sl.method(w);
    json at = json::array();
    for (int k = 0; k < sl.nk; ++k) {
      const double* a = t.data() + sl.at(w, k);
      at.push_back({{"k", c.ks[k]},
                    {"precision", number(mean_of(a[0], s[0]))},
                    {"recall", number(mean_of(a[1], s[0]))},
                    {"map", number(mean_of(a[2], s[0]))},
                    {"ndcg", number(mean_of(a[3], s[0]))}});
    }
    json method = {{"at", at}};
    if (c.no_auc) {
      method["auc"] = nullptr;
      method["auc_users"] = nullptr;
    } else {
      method["auc"] = number(mean_of(s[2], s[1]));
      method["auc_users"] = static_cast<std::int64_t>(s[1]);
    }
    ranking[kMethodNames[w]] = method;
  }
  j["ranking"] = ranking;
  return j.dump(2) + "\n";
}

std::string eval_table(const EvalConfig& c, const EvalFacts& f, const SumLayout& sl, const std::vector<double>& t) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%s (%s, k = %d, %d iterations) on %s: %lld entries\n", f.model.c_str(),
                f.implicit ? "implicit" : "explicit", f.factors, f.iterations, f.source.c_str(),
                static_cast<long long>(f.test_ratings));
  out += line;
  for (const std::string& note : f.notes) out += note;
  if (f.cold_line) {
    std::snprintf(line, sizeof line,
                  "cold start: %lld entries of %lld users and %lld items without training ratings, %s\n",
                  static_cast<long long>(t[SumLayout::kColdRatings]), static_cast<long long>(t[SumLayout::kColdUsers]),
                  static_cast<long long>(f.cold_items), cold_rule(c));
    out += line;
  }
  if (!f.implicit) {
    const std::string title =
        "rating prediction, " + std::to_string(static_cast<long long>(t[SumLayout::kRatings])) + " ratings";
    std::snprintf(line, sizeof line, "\n%-36s%10s%10s\n", title.c_str(), "RMSE", "MAE");
    out += line;
    const char* names[3] = {"model", "bias only (mu + b_i + c_j)", "global mean (mu)"};
    for (int m = 0; m < 3; ++m) {
      if (m == 1 && !f.bias) continue;
      const RatingFigures r = rating_figures(t, m);
      std::snprintf(line, sizeof line, "  %-34s%s%s\n", names[m], cell(r.rmse).c_str(), cell(r.mae).c_str());
      out += line;
    }
  }
  std::snprintf(line, sizeof line, "\nranking, %lld users, %lld candidate items less each user's own\n",
                static_cast<long long>(t[sl.method(0)]), static_cast<long long>(f.candidate_items));
  out += line;
  std::string header = "  ";
  header += std::string(12, ' ');
  for (int k = 0; k < sl.nk; ++k)
    for (const char* name : {"P", "R", "MAP", "NDCG"}) {
      std::snprintf(line, sizeof line, "%10s", (std::string(name) + "@" + std::to_string(c.ks[k])).c_str());
      header += line;
    }
  if (!c.no_auc) header += "       AUC";
  out += header + "\n";
  for (int w = 0; w < 2; ++w) {
    const double* s = t.data() + sl.method(w);
    std::snprintf(line, sizeof line, "  %-12s", kMethodNames[w]);
    std::string row = line;
    for (int k = 0; k < sl.nk; ++k) {
      const double* a = t.data() + sl.at(w, k);
      for (int q = 0; q < 4; ++q) row += cell(mean_of(a[q], s[0]));
    }
    if (!c.no_auc) row += cell(mean_of(s[2], s[1]));
    out += row + "\n";
  }
  return out;
}

}  // namespace dals::eval_detail
