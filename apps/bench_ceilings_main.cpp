// dals-bench-ceilings: this machine's own limits for the shapes ALS uses,
// measured in the same run as the training benchmark so that ratios are
// honest on a shared, noisy machine. Prints one JSON object on rank 0:
//   sgemm / ssyrk GFLOP/s per core: Y^T Y for a tile Y of n x (k + 1),
//     n = 256 (a typical row's ratings), k = 32, 64, 128, single-threaded BLAS;
//   triad GB/s (a[i] = b[i] + s * c[i], 3 x 4 bytes per element) per core and
//     with every OpenMP thread;
//   MPI_Allgather GB/s between the ranks (when run on 2 or more).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "dals/mpi/tool_main.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Best of several timed rounds of `reps` calls: the least disturbed figure.
template <class F>
double best_seconds(int reps, F&& f) {
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r) f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / reps);
  }
  return best;
}

std::string blas_rates() {
  std::string out;
  for (int k : {32, 64, 128}) {
    const int w = k + 1, n = 256;
    std::vector<float> y(static_cast<std::size_t>(n) * w), c(static_cast<std::size_t>(w) * w);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.f;
    const int reps = std::max(50, 400000000 / (n * w * w));
    const double gemm = best_seconds(reps, [&] {
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, w, w, n, 1.f, y.data(), w, y.data(), w, 0.f, c.data(), w);
    });
    const double syrk = best_seconds(
        reps, [&] { cblas_ssyrk(CblasColMajor, CblasLower, CblasNoTrans, w, n, 1.f, y.data(), w, 0.f, c.data(), w); });
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s\"k%d\": {\"sgemm_gflops\": %.2f, \"ssyrk_gflops\": %.2f}",
                  out.empty() ? "" : ", ", k, 2.0 * n * w * w / gemm * 1e-9, 1.0 * n * w * (w + 1) / syrk * 1e-9);
    out += buf;
  }
  return "{" + out + "}";
}

double triad_gbs(int threads) {
  const std::size_t n = 1 << 25;  // 3 x 128 MiB: far beyond any cache
  std::vector<float> a(n), b(n, 1.f), c(n, 2.f);
  const float s = 0.5f;
  const double seconds = best_seconds(1, [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
  });
  return 3.0 * 4.0 * n / seconds * 1e-9;
}

// The trainer's exchange: an in-place all-gather of rows (Comm::allgather_rows).
double allgather_gbs(const dals::Comm& comm) {
  const int size = comm.size();
  const int width = 1024, rows = 1 << 12;  // 16 MiB from each rank
  const std::int64_t per_rank = std::int64_t{width} * rows;
  std::vector<float> table(static_cast<std::size_t>(per_rank) * size, 1.f);
  std::vector<std::int64_t> first(size), count(size, rows);
  for (int r = 0; r < size; ++r) first[r] = std::int64_t{r} * rows;
  comm.barrier();
  const double seconds = best_seconds(2, [&] { comm.allgather_rows(table.data(), width, first, count); });
  // Bytes each rank receives from the others per second.
  return 4.0 * per_rank * (size - 1) / seconds * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-bench-ceilings", argc, argv, [](const dals::Comm& comm) {
    const int size = comm.size();
    openblas_set_num_threads(1);
    const double allgather = size > 1 ? allgather_gbs(comm) : 0.0;
    if (comm.is_root()) {
      const std::string blas = blas_rates();
      const int threads = omp_get_max_threads();
      const double triad1 = triad_gbs(1), triad_all = triad_gbs(threads);
      std::printf(
          "{\"blas_per_core\": %s, \"triad_gbs_1_thread\": %.2f, \"triad_gbs_%d_threads\": %.2f, "
          "\"triad_threads\": %d, \"allgather_gbs\": %.2f, \"allgather_ranks\": %d}\n",
          blas.c_str(), triad1, threads, triad_all, threads, allgather, size);
    }
  });
}
