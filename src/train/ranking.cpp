#include "dals/train/ranking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "dals/core/error.hpp"
#include "dals/solve/simd_vectors.hpp"
#include "ranking_internal.hpp"

namespace dals {
namespace ranking_detail {
namespace {

using simd::Vec16;

// u . v in factor_dot's order (evaluation.cpp): sixteen running sums, the
// fixed tree of simd::sum, then the k % 16 tail in order.
float dot_one(const float* u, const float* v, int k) {
  Vec16 acc{};
  int d = 0;
  for (; d + 16 <= k; d += 16) acc += simd::load(u + d) * simd::load(v + d);
  float dot = simd::sum(acc);
  for (; d < k; ++d) dot += u[d] * v[d];
  return dot;
}

// Four users x four items at once, each of the sixteen scores by the very
// operations of dot_one (the same running sums, sum_quad having sum()'s
// bits, the same tail): a tile changes the speed, never a score's bits.
// Sixteen accumulators and eight loaded vectors fit the 32 AVX-512 registers.
void dot_tile(const float* const u[4], const float* const v[4], int k, float out[4][4]) {
  Vec16 acc[4][4] = {};
  int d = 0;
  for (; d + 16 <= k; d += 16) {
    Vec16 a[4], b[4];
    for (int r = 0; r < 4; ++r) a[r] = simd::load(u[r] + d);
    for (int c = 0; c < 4; ++c) b[c] = simd::load(v[c] + d);
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) acc[r][c] += a[r] * b[c];
  }
  for (int r = 0; r < 4; ++r) {
    const Vec16 s = simd::sum_quad(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    for (int c = 0; c < 4; ++c) out[r][c] = s[4 * c];
  }
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      for (int t = d; t < k; ++t) out[r][c] += u[r][t] * v[c][t];
}

float finish(float dot, const FactorTable& items, std::int64_t item, bool with_item_bias) {
  const float s = with_item_bias ? items.bias(item) + dot : dot;
  // NaN ranks last: mapping it keeps better() a strict weak order.
  return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
}

// better() as a function object, so that the heap and sort inline it.
constexpr auto kBetter = [](const Candidate& a, const Candidate& b) { return better(a, b); };

// Offers a candidate to a min-heap (front: the worst kept) of at most k.
inline void offer(Candidate* heap, int& size, int k, Candidate c) {
  if (size < k) {
    heap[size++] = c;
    std::push_heap(heap, heap + size, kBetter);
  } else if (better(c, heap[0])) {
    std::pop_heap(heap, heap + size, kBetter);
    heap[size - 1] = c;
    std::push_heap(heap, heap + size, kBetter);
  }
}

}  // namespace

void check_user_range(const CsrBlock& train, std::int64_t first, std::int64_t end, int k, const char* what) {
  require(k >= 1, std::string(what) + ": K must be at least 1, not " + std::to_string(k));
  require(train.first_row <= first && first <= end && end <= train.first_row + train.rows(),
          std::string(what) + ": users [" + std::to_string(first) + ", " + std::to_string(end) +
              ") are not within the training rows [" + std::to_string(train.first_row) + ", " +
              std::to_string(train.first_row + train.rows()) + ")");
}

void check_model(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                 const RankingOptions& options) {
  require(users.k() == items.k(), "ranking: user factors have k = " + std::to_string(users.k()) +
                                      " but item factors k = " + std::to_string(items.k()));
  require(train.first_row + train.rows() <= users.rows(),
          "ranking: training rows end at user " + std::to_string(train.first_row + train.rows()) +
              " but the user table has " + std::to_string(users.rows()) + " rows");
  require(train.num_cols == items.rows(), "ranking: training entries have " + std::to_string(train.num_cols) +
                                              " items but the item table has " + std::to_string(items.rows()));
  require(items.rows() < std::numeric_limits<std::int32_t>::max(), "ranking: too many items for 32-bit ids");
  require(options.user_batch >= 1 && options.item_block >= 1, "ranking: user_batch and item_block must be >= 1");
}

ModelRanker::ModelRanker(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                         const RankingOptions& options)
    : users_(users), items_(items), train_(train), options_(options) {
  scores_.resize(static_cast<std::size_t>(options.user_batch) * options.item_block);
  cursors_.resize(options.user_batch);
}

void ModelRanker::rank(const std::int64_t* user_ids, std::int64_t n, int k, Candidate* out, std::int32_t* count) {
  heaps_.resize(static_cast<std::size_t>(options_.user_batch) * k);
  for (std::int64_t j = 0; j < n; j += options_.user_batch) {
    const int b = static_cast<int>(std::min<std::int64_t>(options_.user_batch, n - j));
    rank_batch(user_ids + j, b, k, out + j * k, count + j);
  }
}

void ModelRanker::rank_batch(const std::int64_t* user_ids, int n, int k, Candidate* out, std::int32_t* count) {
  const int f = items_.k();
  const std::int64_t num_items = items_.rows();
  const int block = options_.item_block;
  std::vector<int> sizes(n, 0);
  for (int r = 0; r < n; ++r) cursors_[r] = train_.indptr[user_ids[r] - train_.first_row];

  for (std::int64_t j0 = 0; j0 < num_items; j0 += block) {
    const int width = static_cast<int>(std::min<std::int64_t>(block, num_items - j0));
    // Scores of the batch x block, in tiles of 4 x 4; a tile's missing rows
    // and columns repeat its last real one and are not stored.
    for (int c0 = 0; c0 < width; c0 += 4) {
      const int cols = std::min(4, width - c0);
      const float* v[4];
      for (int c = 0; c < 4; ++c) v[c] = items_.row(j0 + c0 + std::min(c, cols - 1));
      for (int r0 = 0; r0 < n; r0 += 4) {
        const int rows = std::min(4, n - r0);
        const float* u[4];
        for (int r = 0; r < 4; ++r) u[r] = users_.row(user_ids[r0 + std::min(r, rows - 1)]);
        float tile[4][4];
        dot_tile(u, v, f, tile);
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < cols; ++c)
            scores_[static_cast<std::size_t>(r0 + r) * block + c0 + c] =
                finish(tile[r][c], items_, j0 + c0 + c, options_.with_item_bias);
      }
    }
    // Selection: each user's scores of the block, in item order. Items come
    // in increasing id, so a full heap takes only a score above its worst
    // (an equal one has a higher id): one compare rejects nearly all items.
    // Training items are skipped by a cursor over the user's sorted row,
    // advanced only for the few that pass.
    const std::int32_t* seen = train_.indices.data();
    for (int r = 0; r < n; ++r) {
      const std::int64_t row_end = train_.indptr[user_ids[r] - train_.first_row + 1];
      std::int64_t p = cursors_[r];
      int size = sizes[r];
      const float* s = scores_.data() + static_cast<std::size_t>(r) * block;
      Candidate* heap = heaps_.data() + static_cast<std::size_t>(r) * k;
      float worst = size == k ? heap[0].score : -std::numeric_limits<float>::infinity();
      for (int c = 0; c < width; ++c) {
        if (!(s[c] > worst) && size == k) continue;
        const std::int32_t item = static_cast<std::int32_t>(j0 + c);
        while (p < row_end && seen[p] < item) ++p;
        if (p < row_end && seen[p] == item) continue;
        offer(heap, size, k, {s[c], item});
        if (size == k) worst = heap[0].score;
      }
      cursors_[r] = p;
      sizes[r] = size;
    }
  }
  for (int r = 0; r < n; ++r) {
    Candidate* heap = heaps_.data() + static_cast<std::size_t>(r) * k;
    std::sort(heap, heap + sizes[r], kBetter);
    std::copy(heap, heap + sizes[r], out + static_cast<std::size_t>(r) * k);
    count[r] = sizes[r];
  }
}

// Shared by rank_top_k and popular_top_k: lists of [first, end) from a
// per-thread ranker, OpenMP over batches of `batch` users.
template <class MakeRanker>
TopKLists rank_range(std::int64_t first, std::int64_t end, int k, std::int64_t batch, MakeRanker make_ranker) {
  TopKLists lists;
  lists.first_row = first;
  lists.k = k;
  const std::int64_t n = end - first;
  std::vector<Candidate> all(static_cast<std::size_t>(n) * k, Candidate{0.f, -1});
  lists.count.assign(n, 0);
  const std::int64_t batches = (n + batch - 1) / batch;
#pragma omp parallel
  {
    auto ranker = make_ranker();
    std::vector<std::int64_t> ids;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::int64_t lo = b * batch, hi = std::min(n, lo + batch);
      ids.clear();
      for (std::int64_t u = lo; u < hi; ++u) ids.push_back(first + u);
      ranker.rank(ids.data(), hi - lo, k, all.data() + lo * k, lists.count.data() + lo);
    }
  }
  lists.items.resize(all.size());
  lists.scores.resize(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) lists.items[i] = all[i].item, lists.scores[i] = all[i].score;
  return lists;
}

}  // namespace ranking_detail

using ranking_detail::Candidate;

float item_score(const FactorTable& users, const FactorTable& items, std::int64_t user, std::int64_t item,
                 bool with_item_bias) {
  return ranking_detail::finish(ranking_detail::dot_one(users.row(user), items.row(item), users.k()), items, item,
                                with_item_bias);
}

TopKLists rank_top_k(const FactorTable& users, const FactorTable& items, const CsrBlock& train, std::int64_t first,
                     std::int64_t end, int k, const RankingOptions& options) {
  ranking_detail::check_user_range(train, first, end, k, "rank_top_k");
  ranking_detail::check_model(users, items, train, options);
  return ranking_detail::rank_range(first, end, k, options.user_batch,
                                    [&] { return ranking_detail::ModelRanker(users, items, train, options); });
}

TopKLists popular_top_k(const std::vector<std::int32_t>& order, const std::vector<std::int64_t>& item_degree,
                        const CsrBlock& train, std::int64_t first, std::int64_t end, int k) {
  ranking_detail::check_user_range(train, first, end, k, "popular_top_k");
  require(static_cast<std::int64_t>(order.size()) == train.num_cols && order.size() == item_degree.size(),
          "popular_top_k: the popularity order, the item degrees and the training entries disagree on the items");
  return ranking_detail::rank_range(first, end, k, 256,
                                    [&] { return ranking_detail::PopularRanker(order, item_degree, train); });
}

}  // namespace dals
