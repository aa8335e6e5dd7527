#pragma once
/// @file eval_metrics.hpp
/// @brief One user's ranking metrics for dals-eval, from the user's ranked
/// list and held-out (relevant) items; binary relevance throughout.
///
/// With L the ranked list (best first, the user's candidates only), R the
/// relevant items (sorted) and hits@K = |L[0, K) ∩ R|:
///   precision@K = hits@K / K (K even where L is shorter: Spark's rule);
///   recall@K    = hits@K / |R|;
///   AP@K        = (sum over hits at rank r <= K of hits@r / r) / min(K, |R|)
///                 (MAP@K is its mean over users; Spark's meanAveragePrecisionAt);
///   NDCG@K      = sum over hits at r of 1 / log2(r + 1), over the same sum
///                 for ranks 1 .. min(K, |R|) (train/ranking.hpp's definition);
///   AUC         = over the pairs (p, q), p a relevant item of L and q an
///                 item of L not in R, the fraction with p ranked above q;
///                 undefined (the user not counted) if L holds no relevant
///                 item or nothing else. L's order is total (ties to the
///                 lower item id), so a tie is never counted as half.
/// A relevant item not in L (rated in training, or not a candidate) counts
/// in |R| but can never be a hit, and is left out of the AUC's pairs.

#include <cstdint>

namespace dals {

/// The four top-K metrics of one user at one K.
struct TopKMetrics {
  double precision = 0;
  double recall = 0;
  double average_precision = 0;
  double ndcg = 0;
};

/// One user's metrics at `k` (>= 1) from the first min(k, list_count) items
/// of `list`; `relevant` sorted ascending, relevant_count >= 1.
TopKMetrics user_top_k_metrics(const std::int32_t* list, std::int64_t list_count, int k, const std::int32_t* relevant,
                               std::int64_t relevant_count);

/// One user's AUC from the whole ranked list of its candidates. Returns
/// false (and leaves `auc`) where it is undefined.
bool user_auc(const std::int32_t* list, std::int64_t list_count, const std::int32_t* relevant,
              std::int64_t relevant_count, double& auc);

}  // namespace dals
