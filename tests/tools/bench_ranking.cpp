// dals-bench-ranking [USERS ITEMS K TOPK TRAIN_PER_USER USER_BATCH ITEM_BLOCK]: a benchmark, not a
// test. Times rank_top_k over random factors (default: the MovieLens-20M
// shape, 138493 x 26744, k = 64, top-10, 130 training items per user), and
// beside it OpenBLAS's sgemm producing the same scores without selection,
// and counts how many sgemm scores differ in bits from item_score (ranking.hpp
// says why the ranking does not use sgemm). Prints one JSON line.
//
// dals-bench-ranking --sgemm M N K: the rate of one C[M x N] = A[M x K]
// B[N x K]^T sgemm on OMP_NUM_THREADS OpenBLAS threads (best of 3), as
// JSON: tools/bench-recommend.sh's yardstick.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "dals/train/ranking.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds of all threads: on a shared machine, the figure to divide by
// the thread count (wall time includes the waits for other jobs).
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// C[batch x block] = U V^T straight from the tables' rows (stride k + 1).
void sgemm_scores(const dals::FactorTable& users, const dals::FactorTable& items, std::int64_t u0, int rows,
                  std::int64_t i0, int cols, float* out) {
  const int k = users.k();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, k, 1.f, users.row(u0), k + 1, items.row(i0), k + 1,
              0.f, out, cols);
}

int sgemm_rate(std::int64_t m, std::int64_t n, int k) {
  openblas_set_num_threads(omp_get_max_threads());
  std::vector<float> a(static_cast<std::size_t>(m) * k), b(static_cast<std::size_t>(n) * k),
      c(static_cast<std::size_t>(m) * n);
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float& x : a) x = normal(gen);
  for (float& x : b) x = normal(gen);
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n), k, 1.f, a.data(), k,
                b.data(), k, 0.f, c.data(), static_cast<int>(n));
    best = std::min(best, seconds_since(t0));
  }
  std::printf("{\"m\": %lld, \"n\": %lld, \"k\": %d, \"threads\": %d, \"sgemm_s\": %.4f, \"sgemm_gflops\": %.2f}\n",
              static_cast<long long>(m), static_cast<long long>(n), k, omp_get_max_threads(), best,
              2.0 * m * n * k / best / 1e9);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--sgemm") == 0)
    return sgemm_rate(std::atoll(argv[2]), std::atoll(argv[3]), std::atoi(argv[4]));
  const std::int64_t m = argc > 1 ? std::atoll(argv[1]) : 138493;
  const std::int64_t n = argc > 2 ? std::atoll(argv[2]) : 26744;
  const int k = argc > 3 ? std::atoi(argv[3]) : 64;
  const int top = argc > 4 ? std::atoi(argv[4]) : 10;
  const int per_user = argc > 5 ? std::atoi(argv[5]) : 130;
  dals::RankingOptions options;
  if (argc > 6) options.user_batch = std::atoi(argv[6]);
  if (argc > 7) options.item_block = std::atoi(argv[7]);
  openblas_set_num_threads(1);  // one BLAS thread inside each OpenMP thread

  dals::FactorTable users(m, k), items(n, k);
  users.init_random(1, dals::Side::users, 0, m);
  items.init_random(1, dals::Side::items, 0, n);
  dals::CsrBlock train;
  train.num_cols = n;
  std::mt19937_64 gen(7);
  std::uniform_int_distribution<std::int32_t> item(0, static_cast<std::int32_t>(n - 1));
  std::vector<std::int32_t> row;
  for (std::int64_t u = 0; u < m; ++u) {
    row.clear();
    for (int j = 0; j < per_user; ++j) row.push_back(item(gen));
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    train.indices.insert(train.indices.end(), row.begin(), row.end());
    train.indptr.push_back(static_cast<std::int64_t>(train.indices.size()));
  }
  train.values.assign(train.indices.size(), 1.f);

  auto t0 = std::chrono::steady_clock::now();
  double c0 = cpu_seconds();
  const dals::TopKLists lists = dals::rank_top_k(users, items, train, 0, m, top, options);
  const double rank_s = seconds_since(t0), rank_cpu = cpu_seconds() - c0;

  // sgemm over the same batches and blocks, scores only.
  const int batch = 64, block = 1024;
  t0 = std::chrono::steady_clock::now();
  c0 = cpu_seconds();
  double checksum = 0;
#pragma omp parallel reduction(+ : checksum)
  {
    std::vector<float> c(static_cast<std::size_t>(batch) * block);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t u0 = 0; u0 < m; u0 += batch) {
      const int rows = static_cast<int>(std::min<std::int64_t>(batch, m - u0));
      for (std::int64_t i0 = 0; i0 < n; i0 += block) {
        const int cols = static_cast<int>(std::min<std::int64_t>(block, n - i0));
        sgemm_scores(users, items, u0, rows, i0, cols, c.data());
        checksum += c[0];
      }
    }
  }
  const double sgemm_s = seconds_since(t0), sgemm_cpu = cpu_seconds() - c0;

  // Bits: sgemm against the single dot, and sgemm against itself in another
  // position (the same pairs computed in a block shifted by 3 items and 1 user).
  std::vector<float> a(static_cast<std::size_t>(batch) * block), b(a.size());
  sgemm_scores(users, items, 1, batch, 3, block, a.data());
  sgemm_scores(users, items, 0, batch, 0, block, b.data());
  long differ_single = 0, differ_shifted = 0, pairs = 0;
  for (int r = 0; r + 1 < batch; ++r)
    for (int c = 0; c + 3 < block; ++c, ++pairs) {
      const float x = a[static_cast<std::size_t>(r) * block + c];
      const float s = dals::item_score(users, items, 1 + r, 3 + c, false);
      const float y = b[static_cast<std::size_t>(r + 1) * block + c + 3];
      differ_single += std::memcmp(&x, &s, sizeof x) != 0;
      differ_shifted += std::memcmp(&x, &y, sizeof x) != 0;
    }
  std::printf(
      "{\"users\": %lld, \"items\": %lld, \"k\": %d, \"top\": %d, \"threads\": %d, \"rank_top_k_s\": %.3f, "
      "\"rank_top_k_cpu_s\": %.3f, "
      "\"users_per_s\": %.0f, \"scores_per_s\": %.3g, \"sgemm_scores_only_s\": %.3f, \"sgemm_cpu_s\": %.3f, "
      "\"sgemm_pairs_checked\": %ld, "
      "\"sgemm_differs_from_single_dot\": %ld, \"sgemm_differs_when_shifted\": %ld, \"first_item\": %d, "
      "\"checksum\": %.3g}\n",
      static_cast<long long>(m), static_cast<long long>(n), k, top, omp_get_max_threads(), rank_s, rank_cpu, m / rank_s,
      static_cast<double>(m) * n / rank_s, sgemm_s, sgemm_cpu, pairs, differ_single, differ_shifted, lists.items[0],
      checksum);
  return 0;
}
