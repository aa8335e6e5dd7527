#include "dals/recommend/eval_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "dals/train/ranking.hpp"

namespace dals {

TopKMetrics user_top_k_metrics(const std::int32_t* list, std::int64_t list_count, int k, const std::int32_t* relevant,
                               std::int64_t relevant_count) {
  // Precision, recall and NDCG are training's own (train/ranking.hpp), so
  // that dals-eval and metrics.jsonl agree on an implicit model.
  const int ranked = static_cast<int>(std::min<std::int64_t>(k, list_count));
  const RankingSums s = user_ranking_metrics(list, ranked, k, relevant, relevant_count);
  TopKMetrics m;
  m.precision = s.precision;
  m.recall = s.recall;
  m.ndcg = s.ndcg;
  std::int64_t hits = 0;
  double sum = 0;
  for (int r = 0; r < ranked; ++r) {
    if (!std::binary_search(relevant, relevant + relevant_count, list[r])) continue;
    ++hits;
    sum += static_cast<double>(hits) / (r + 1);
  }
  m.average_precision = sum / static_cast<double>(std::min<std::int64_t>(k, relevant_count));
  return m;
}

bool user_auc(const std::int32_t* list, std::int64_t list_count, const std::int32_t* relevant,
              std::int64_t relevant_count, double& auc) {
  // Walking the list from the best: each non-relevant item is ranked below
  // every relevant item seen so far.
  std::int64_t positives = 0, negatives = 0;
  double correct = 0;  // pairs (relevant above non-relevant); exact below 2^53
  for (std::int64_t r = 0; r < list_count; ++r) {
    if (std::binary_search(relevant, relevant + relevant_count, list[r])) {
      ++positives;
    } else {
      ++negatives;
      correct += static_cast<double>(positives);
    }
  }
  if (positives == 0 || negatives == 0) return false;
  auc = correct / (static_cast<double>(positives) * static_cast<double>(negatives));
  return true;
}

}  // namespace dals
