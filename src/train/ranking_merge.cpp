// Joining top-K lists of disjoint item sets (ranking.hpp merge_top_k): the
// routed items' ranking (ranking_routed.cpp) merges each rank's list of its
// own item range into the list one ranking of every item would give.
#include <string>

#include "dals/core/error.hpp"
#include "dals/train/ranking.hpp"
#include "ranking_internal.hpp"

namespace dals {
namespace ranking_detail {

int merge_candidates(const Candidate* const* parts, const std::int32_t* counts, int n_parts, int k, Candidate* out) {
  // Few parts (P) and short lists (K): a linear scan of the heads per
  // output is simpler than a heap and as fast at these sizes.
  std::vector<std::int32_t> head(static_cast<std::size_t>(n_parts), 0);
  int n = 0;
  while (n < k) {
    int best = -1;
    for (int p = 0; p < n_parts; ++p)
      if (head[p] < counts[p] && (best < 0 || better(parts[p][head[p]], parts[best][head[best]]))) best = p;
    if (best < 0) break;
    out[n++] = parts[best][head[best]++];
  }
  return n;
}

}  // namespace ranking_detail

TopKLists merge_top_k(const std::vector<TopKLists>& parts, int k) {
  using ranking_detail::Candidate;
  require(!parts.empty(), "merge_top_k: no lists given");
  require(k >= 1, "merge_top_k: K must be at least 1, not " + std::to_string(k));
  for (const TopKLists& part : parts)
    require(part.first_row == parts[0].first_row && part.rows() == parts[0].rows() && part.k >= k,
            "merge_top_k: the lists hold different users or fewer than K = " + std::to_string(k) + " per user");
  TopKLists out;
  out.first_row = parts[0].first_row;
  out.k = k;
  const std::int64_t rows = parts[0].rows();
  const int n_parts = static_cast<int>(parts.size());
  out.items.assign(static_cast<std::size_t>(rows) * k, -1);
  out.scores.assign(static_cast<std::size_t>(rows) * k, 0.f);
  out.count.assign(rows, 0);
  std::vector<std::vector<Candidate>> lists(parts.size());
  std::vector<const Candidate*> heads(parts.size());
  std::vector<std::int32_t> counts(parts.size());
  std::vector<Candidate> merged(k);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t user = out.first_row + r;
    for (int p = 0; p < n_parts; ++p) {
      const int c = parts[p].count_of(user);
      lists[p].resize(c);
      for (int i = 0; i < c; ++i) lists[p][i] = {parts[p].scores_of(user)[i], parts[p].items_of(user)[i]};
      heads[p] = lists[p].data();
      counts[p] = c;
    }
    const int n = ranking_detail::merge_candidates(heads.data(), counts.data(), n_parts, k, merged.data());
    out.count[r] = n;
    for (int i = 0; i < n; ++i) out.items[r * k + i] = merged[i].item, out.scores[r * k + i] = merged[i].score;
  }
  return out;
}

}  // namespace dals
