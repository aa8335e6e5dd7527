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

// a * b + c rounded once (IEEE fused multiply-add), lane by lane: the same
// bits from the AVX-512 instruction or from std::fma (a portable build),
// whatever the compiler's contraction settings.
inline Vec16 fma16(Vec16 a, Vec16 b, Vec16 c) {
#if defined(__AVX512F__)
  return (Vec16)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#else
  for (int i = 0; i < 16; ++i) c[i] = std::fma(a[i], b[i], c[i]);
  return c;
#endif
}

// The score's definition: one fused multiply-add per factor, d = 0 .. k-1 in
// order, from 0. Every kernel below computes exactly this chain per pair.
float dot_one(const float* u, const float* v, int k) {
  float s = 0.f;
  for (int d = 0; d < k; ++d) s = std::fma(u[d], v[d], s);
  return s;
}

// Sixteen items side by side: panel[d * 16 + c] = factor d of item c (zero
// past the block's end), so one vector holds factor d of all sixteen.
void transpose_panel(const FactorTable& items, std::int64_t first, int count, int k, float* panel) {
  for (int c = 0; c < 16; ++c) {
    const float* v = c < count ? items.row(first + c) : nullptr;
    for (int d = 0; d < k; ++d) panel[d * 16 + c] = v ? v[d] : 0.f;
  }
}

// Eight users x two panels (32 items): per factor, two panel loads and eight
// broadcasts feed sixteen FMAs into sixteen accumulators (of the 32 AVX-512
// registers), each lane being one pair's dot_one chain; no horizontal sums.
void dot_panels(const float* const u[8], const float* panel0, const float* panel1, int k, Vec16 out[8][2]) {
  Vec16 acc[8][2] = {};
  for (int d = 0; d < k; ++d) {
    const Vec16 a = simd::load(panel0 + d * 16), b = simd::load(panel1 + d * 16);
    for (int r = 0; r < 8; ++r) {
      const Vec16 x = simd::splat(u[r][d]);
      acc[r][0] = fma16(x, a, acc[r][0]);
      acc[r][1] = fma16(x, b, acc[r][1]);
    }
  }
  for (int r = 0; r < 8; ++r) out[r][0] = acc[r][0], out[r][1] = acc[r][1];
}

float finish(float dot, const FactorTable& items, std::int64_t item, bool with_item_bias) {
  const float s = with_item_bias ? items.bias(item) + dot : dot;
  // NaN ranks last: mapping it keeps better() a strict weak order.
  return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
}

// Whether any of sixteen scores is above `w`.
inline bool any_above(Vec16 x, float w) {
#if defined(__AVX512F__)
  return _mm512_cmp_ps_mask((__m512)x, _mm512_set1_ps(w), _CMP_GT_OQ) != 0;
#else
  bool any = false;
  for (int i = 0; i < 16; ++i) any |= x[i] > w;
  return any;
#endif
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
                 const RankingOptions& options, bool whole_items) {
  require(users.k() == items.k(), "ranking: user factors have k = " + std::to_string(users.k()) +
                                      " but item factors k = " + std::to_string(items.k()));
  // The users' table may hold only some rows (a routed side): by dense id.
  require(users.first_row() <= train.first_row && train.first_row + train.rows() <= users.end_row(),
          "ranking: training rows [" + std::to_string(train.first_row) + ", " +
              std::to_string(train.first_row + train.rows()) + ") are not within the user table's rows [" +
              std::to_string(users.first_row()) + ", " + std::to_string(users.end_row()) + ")");
  if (whole_items)
    require(items.first_row() == 0 && train.num_cols == items.rows(),
            "ranking: training entries have " + std::to_string(train.num_cols) + " items but the item table has " +
                std::to_string(items.rows()));
  // Or a range of the items (a routed side's rows): those are the candidates, by dense id.
  require(items.first_row() >= 0 && items.end_row() <= train.num_cols,
          "ranking: the item table's rows [" + std::to_string(items.first_row()) + ", " +
              std::to_string(items.end_row()) + ") are not within the training entries' " +
              std::to_string(train.num_cols) + " items");
  require(train.num_cols < std::numeric_limits<std::int32_t>::max(), "ranking: too many items for 32-bit ids");
  require(options.user_batch >= 1 && options.item_block >= 1, "ranking: user_batch and item_block must be >= 1");
}

ModelRanker::ModelRanker(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                         const RankingOptions& options)
    : users_(users), items_(items), train_(train), options_(options) {
  // A block's row of scores holds whole pairs of panels (32 items).
  stride_ = (options.item_block + 31) / 32 * 32;
  scores_.resize(static_cast<std::size_t>(options.user_batch) * stride_);
  panels_.resize(static_cast<std::size_t>(stride_) * items.k());
  biases_.resize(stride_);
  cursors_.resize(options.user_batch);
}

void ModelRanker::rank(const std::int64_t* user_ids, std::int64_t n, int k, Candidate* out, std::int32_t* count) {
  heaps_.resize(static_cast<std::size_t>(options_.user_batch) * k);
  for (std::int64_t j = 0; j < n; j += options_.user_batch) {
    const int b = static_cast<int>(std::min<std::int64_t>(options_.user_batch, n - j));
    rank_batch(user_ids + j, b, k, out + j * k, count + j);
  }
}

void ModelRanker::score_block(const std::int64_t* user_ids, int n, std::int64_t j0, int width) {
  const int f = items_.k();
  const int panels = (width + 31) / 32 * 2;
  for (int p = 0; p < panels; ++p)
    transpose_panel(items_, j0 + 16 * p, std::clamp(width - 16 * p, 0, 16), f, panels_.data() + p * 16 * f);
  if (options_.with_item_bias)
    for (int c = 0; c < panels * 16; ++c) biases_[c] = c < width ? items_.bias(j0 + c) : 0.f;
  const Vec16 lowest = simd::splat(-std::numeric_limits<float>::infinity());
  for (int p = 0; p < panels; p += 2) {
    for (int r0 = 0; r0 < n; r0 += 8) {
      // A group's missing users repeat its last real one and are not stored.
      const int rows = std::min(8, n - r0);
      const float* u[8];
      for (int r = 0; r < 8; ++r) u[r] = users_.row(user_ids[r0 + std::min(r, rows - 1)]);
      Vec16 out[8][2];
      dot_panels(u, panels_.data() + p * 16 * f, panels_.data() + (p + 1) * 16 * f, f, out);
      for (int r = 0; r < rows; ++r)
        for (int h = 0; h < 2; ++h) {
          Vec16 x = out[r][h];
          if (options_.with_item_bias) x = simd::load(biases_.data() + (p + h) * 16) + x;  // b_item + u . v
          x = x == x ? x : lowest;  // NaN ranks last: better() stays a strict weak order
          simd::store(scores_.data() + static_cast<std::size_t>(r0 + r) * stride_ + (p + h) * 16, x);
        }
    }
  }
}

void ModelRanker::rank_batch(const std::int64_t* user_ids, int n, int k, Candidate* out, std::int32_t* count) {
  // The table's own items [first, end): all of them where it is
  // replicated, one rank's range where it is routed (ranking_routed.cpp).
  const std::int64_t first_item = items_.first_row(), end_item = items_.end_row();
  const int block = options_.item_block;
  std::vector<int> sizes(n, 0);
  for (int r = 0; r < n; ++r) cursors_[r] = train_.indptr[user_ids[r] - train_.first_row];

  for (std::int64_t j0 = first_item; j0 < end_item; j0 += block) {
    const int width = static_cast<int>(std::min<std::int64_t>(block, end_item - j0));
    score_block(user_ids, n, j0, width);
    // Selection: each user's scores of the block, in item order. Items come
    // in increasing id, so a full heap takes only a score above its worst
    // (an equal one has a higher id): sixteen at a time, one compare rejects
    // nearly all items. Training items are skipped by a cursor over the
    // user's sorted row, advanced only for the few that pass.
    const std::int32_t* seen = train_.indices.data();
    const std::vector<std::uint8_t>* candidates = options_.candidates;
    for (int r = 0; r < n; ++r) {
      const std::int64_t row_end = train_.indptr[user_ids[r] - train_.first_row + 1];
      std::int64_t p = cursors_[r];
      int size = sizes[r];
      const float* s = scores_.data() + static_cast<std::size_t>(r) * stride_;
      Candidate* heap = heaps_.data() + static_cast<std::size_t>(r) * k;
      float worst = size == k ? heap[0].score : -std::numeric_limits<float>::infinity();
      for (int c = 0; c < width; ++c) {
        if (size == k && c % 16 == 0 && c + 16 <= width && !any_above(simd::load(s + c), worst)) {
          c += 15;
          continue;
        }
        if (!(s[c] > worst) && size == k) continue;
        const std::int32_t item = static_cast<std::int32_t>(j0 + c);
        while (p < row_end && seen[p] < item) ++p;
        if (p < row_end && seen[p] == item) continue;
        if (candidates != nullptr && !(*candidates)[item]) continue;
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
  ranking_detail::check_model(users, items, train, options, true);
  return ranking_detail::rank_range(first, end, k, options.user_batch,
                                    [&] { return ranking_detail::ModelRanker(users, items, train, options); });
}

TopKLists rank_top_k_of_range(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                              std::int64_t first, std::int64_t end, int k, const RankingOptions& options) {
  ranking_detail::check_user_range(train, first, end, k, "rank_top_k_of_range");
  ranking_detail::check_model(users, items, train, options, false);
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
