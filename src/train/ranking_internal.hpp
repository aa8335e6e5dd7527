#pragma once
// Private to src/train/: the per-thread rankers behind ranking.hpp, shared by
// ranking.cpp (the model's scores) and ranking_metrics.cpp (the metrics and
// the popularity baseline).

#include <cstdint>
#include <vector>

#include "dals/train/ranking.hpp"

namespace dals::ranking_detail {

struct Candidate {
  float score;
  std::int32_t item;
};

// The documented order: higher score first, then lower item id. Scores are
// never NaN here (mapped to -inf before), so this is a strict weak order.
inline bool better(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// Joins `parts` lists (each best first, parts[i] holding counts[i]
// candidates, the parts' items disjoint) into the best k of them all, best
// first, in `out`; returns their number. A k-way merge by better().
int merge_candidates(const Candidate* const* parts, const std::int32_t* counts, int n_parts, int k, Candidate* out);

// One thread's ranking of the model: buffers sized by the options only.
class ModelRanker {
 public:
  ModelRanker(const FactorTable& users, const FactorTable& items, const CsrBlock& train, const RankingOptions& options);
  // Top-k of users[0..n) (global ids within `train`): out[j * k ..] gets the
  // j-th user's list, best first, count[j] its length.
  void rank(const std::int64_t* user_ids, std::int64_t n, int k, Candidate* out, std::int32_t* count);

 private:
  void rank_batch(const std::int64_t* user_ids, int n, int k, Candidate* out, std::int32_t* count);
  // Scores of the n users x items [j0, j0 + width) into scores_.
  void score_block(const std::int64_t* user_ids, int n, std::int64_t j0, int width);

  const FactorTable& users_;
  const FactorTable& items_;
  const CsrBlock& train_;
  RankingOptions options_;
  int stride_ = 0;                     // item_block rounded up to 32
  std::vector<float> scores_;          // user_batch x stride_
  std::vector<float> panels_;          // the block's items, 16 at a time, transposed: stride_ x k
  std::vector<float> biases_;          // the block's item biases
  std::vector<Candidate> heaps_;       // user_batch x k
  std::vector<std::int64_t> cursors_;  // per user: next training entry not yet passed
};

// One thread's ranking of the popularity baseline.
class PopularRanker {
 public:
  PopularRanker(const std::vector<std::int32_t>& order, const std::vector<std::int64_t>& item_degree,
                const CsrBlock& train)
      : order_(order), degree_(item_degree), train_(train) {}
  void rank(const std::int64_t* user_ids, std::int64_t n, int k, Candidate* out, std::int32_t* count) const;

 private:
  const std::vector<std::int32_t>& order_;
  const std::vector<std::int64_t>& degree_;
  const CsrBlock& train_;
};

// Throws Error unless [first, end) lies within `train`'s rows and k >= 1.
void check_user_range(const CsrBlock& train, std::int64_t first, std::int64_t end, int k, const char* what);
// Throws Error unless the tables agree with each other and with `train`;
// the item table holds every item if `whole_items`, else a range of them.
void check_model(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                 const RankingOptions& options, bool whole_items);

}  // namespace dals::ranking_detail
