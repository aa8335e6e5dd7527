#include "dals/solve/row_solver.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "dals/solve/cholesky.hpp"
#include "dals/solve/gram_kernel.hpp"
#include "dals/solve/phase_timer.hpp"
#include "dals/solve/tile_kernels.hpp"
#include "dals/solve/simd_vectors.hpp"

namespace dals {
namespace {

// Copies one factor row (k floats) with inline vector moves: memcpy with a
// run-time size became a call to memmove, which cost more than the copy.
inline void copy_factors(const float* src, float* dst, int k) {
  int d = 0;
  for (; d + 16 <= k; d += 16) simd::store(dst + d, simd::load(src + d));
  for (; d < k; ++d) dst[d] = src[d];
}

// The columns n..ld of each row are scratch to cholesky_solve, which runs
// whole vectors over them: zeros keep stale values of earlier rows from
// turning into infinities or subnormals there.
void zero_padding(double* system, int n, int ld) {
  for (int r = 0; r < n; ++r) std::fill(system + static_cast<std::size_t>(r) * ld + n, system + static_cast<std::size_t>(r + 1) * ld, 0.0);
}

// CG's vector arithmetic over ks entries (a multiple of 16), in 16-float
// vectors: as scalar loops, each reduction was a chain of ks dependent adds,
// about 0.3 us a row more at k = 64 (a 40-rating row's solve takes 1.2-1.4
// us). Each sum runs in a fixed order.
float dot(const float* a, const float* b, int n) {
  simd::Vec16 acc = simd::load(a) * simd::load(b);
  for (int d = 16; d < n; d += 16) acc += simd::load(a + d) * simd::load(b + d);
  return simd::sum(acc);
}

// y += alpha x.
void add_scaled(float* y, float alpha, const float* x, int n) {
  const simd::Vec16 a = simd::splat(alpha);
  for (int d = 0; d < n; d += 16) simd::store(y + d, simd::load(y + d) + a * simd::load(x + d));
}

// sum e^2 in double: eight running sums, then a fixed tree. With y, of
// (e - alpha y)^2, e - alpha y in float as CG's update of e computes it:
// CG's last update of e folded into its sum of squares (one pass less).
double squares(const float* e, std::int64_t n, float alpha = 0.f, const float* y = nullptr) {
  typedef double Vec8d __attribute__((vector_size(64)));
  Vec8d acc{};
  std::int64_t q = 0;
  for (; q + 8 <= n; q += 8) {
    simd::Vec8 f;
    std::memcpy(&f, e + q, sizeof f);
    if (y) {
      simd::Vec8 g;
      std::memcpy(&g, y + q, sizeof g);
      f -= alpha * g;
    }
    const Vec8d v = __builtin_convertvector(f, Vec8d);
    acc += v * v;
  }
  double total = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  for (; q < n; ++q) {
    const float f = y ? e[q] - alpha * y[q] : e[q];
    total += static_cast<double>(f) * f;
  }
  return total;
}

bool all_finite(const float* x, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace

double row_solve_flops(const SolveParams& params, std::int64_t degree) {
  const double n = static_cast<double>(degree), w = params.width();
  if (params.solver == Solver::cholesky && n < w && params.lambda > 0)
    return n * (n + 1) * w     // SSYRK of Y Y^T
           + n * n * n / 3.0   // Cholesky
           + 2.0 * n * n       // triangular solves
           + 2.0 * n * w       // x = Y^T z
           + 2.0 * n * w;      // residual for the training error
  if (params.solver == Solver::cg)
    return 4.0 * n * w                                // initial residual: Y x, then Y^T e
           + (params.cg_steps - 1) * (4.0 * n * w)    // fused Y p and Y^T (Y p)
           + 2.0 * n * w                              // the last step: Y p only
           + params.cg_steps * 10.0 * w;              // vector updates
  return n * w * (w + 1)     // SSYRK, lower triangle
         + 2.0 * n * w       // SGEMV
         + w * w * w / 3.0   // Cholesky
         + 2.0 * w * w       // two triangular solves
         + 2.0 * n * w;      // residual for the training error
}

namespace {

// Floats of tile buffer a solver needs for rows of up to max_degree ratings.
std::size_t tile_floats(const SolveParams& params, std::int64_t max_degree) {
  const std::int64_t ks = tile_stride(params.k), rows = std::max<std::int64_t>(max_degree, 1);
  if (params.solver == Solver::cholesky && tile_gather_fuses(params.k)) {
    // Gathered and summed a chunk at a time (gather_and_sum_gram); whole
    // only below w rows, for the dual.
    return static_cast<std::size_t>(ks * std::max<std::int64_t>(tile_gram_chunk_rows(static_cast<int>(ks)),
                                                                 params.width()));
  }
  if (params.solver == Solver::cg && params.cg_half && tile_gather_fuses_half(params.k)) {
    // Floats up to kHalfTileBytes, halves beyond.
    const std::int64_t bytes = std::max(std::min(rows * ks * 4, RowSolver::kHalfTileBytes), rows * ks * 2);
    return static_cast<std::size_t>((bytes + 3) / 4);
  }
  return static_cast<std::size_t>(rows * ks);
}

}  // namespace

RowSolver::RowSolver(const SolveParams& params, std::int64_t max_degree)
    : params_(params),
      gathered_(tile_floats(params, max_degree), 0.f),
      target_(static_cast<std::size_t>(std::max<std::int64_t>(max_degree, 1))),
      gram_(static_cast<std::size_t>(tile_stride(params.k)) * tile_stride(params.k)),
      sums_(2 * static_cast<std::size_t>(tile_stride(params.k))),
      work_(4 * static_cast<std::size_t>(tile_stride(params.k)) +
            2 * static_cast<std::size_t>(std::max<std::int64_t>(max_degree, 1)), 0.f),
      system_(static_cast<std::size_t>(params.width()) * cholesky_leading_dimension(params.width())),
      solution_(params.width()) {}

void RowSolver::gather(const std::int32_t* cols, const float* values, std::int64_t begin, std::int64_t end,
                       std::int64_t degree, const FactorTable& fixed, const HalfFactors* half, double mean) {
  const int k = params_.k, ks = tile_stride(k);
  const bool bias = params_.bias;
  float* y = gathered_.data();
  float* t = target_.data();
  const float fmean = static_cast<float>(mean);
  if (half) {  // whole rows of halves, zero-padded to ks like the tile
    for (std::int64_t p = begin; p < end; ++p) {
      if (p + simd::kGatherDistance < degree)
        simd::prefetch_row(reinterpret_cast<const float*>(half->row(cols[p + simd::kGatherDistance])), ks * 2);
      const std::uint16_t* src = half->row(cols[p]);
      for (int d = 0; d < ks; d += 16) simd::store(y + p * ks + d, simd::load_half(src + d));
      t[p] = bias ? values[p] - fmean - half->biases()[cols[p]] : values[p] - fmean;
    }
    return;
  }
  // Each fixed row's factors are read once into a contiguous tile; its bias
  // moves to the target. The padding columns k..ks stay zero from
  // construction. The rows are scattered over the table: fetch ahead.
  const int row_bytes = (k + 1) * 4;
  for (std::int64_t p = begin; p < end; ++p) {
    if (p + simd::kGatherDistance < degree) simd::prefetch_row(fixed.row(cols[p + simd::kGatherDistance]), row_bytes);
    const float* src = fixed.row(cols[p]);
    copy_factors(src, y + p * ks, k);
    t[p] = bias ? values[p] - fmean - src[k] : values[p] - fmean;
  }
}

RowResult RowSolver::solve(const std::int32_t* cols, const float* values, std::int64_t degree,
                           const FactorTable& fixed, double mean, float* row, const HalfFactors* half) {
  RowResult result;
  if (params_.solver != Solver::cg) half = nullptr;  // the exact solve reads the float factors
  // Its tile buffer was sized for halves (tile_floats).
  if (params_.solver == Solver::cg && params_.cg_half && !half)
    throw std::logic_error("RowSolver: cg_half is set, but no HalfFactors copy was given");
  if (params_.solver == Solver::cg && (half ? tile_gather_fuses_half(params_.k) : tile_gather_fuses(params_.k))) {
    // CG's first pass is fused with the gather: no separate copy loop.
    GatherSource source{fixed.data(), fixed.stride(), nullptr, nullptr, params_.k, params_.bias,
                        static_cast<float>(mean)};
    if (half) source.half_table = half->data(), source.half_biases = half->biases();
    result = solve_cg(degree, row, &source, cols, values);
  } else if (params_.solver == Solver::cholesky && !uses_dual(degree)) {
    result = solve_primal(degree, row, gather_and_sum_gram(cols, values, degree, fixed, mean));
  } else {
    {
      PhaseTimer timer(phases_.gather);
      gather(cols, values, 0, degree, degree, fixed, half, mean);
    }
    result = params_.solver == Solver::cg ? solve_cg(degree, row) : solve_cholesky(degree, row);
  }
  if (!params_.bias) row[params_.k] = 0.0f;
  return result;
}

double RowSolver::residual_squares(std::int64_t degree, const float* row, bool half_tile) {
  const int k = params_.k, ks = tile_stride(k);
  float* x = work_.data();  // the row's factors, zero-padded to the tile stride
  std::copy(row, row + k, x);
  std::fill(x + k, x + ks, 0.f);
  const float xb = params_.bias ? row[k] : 0.f;
  if (half_tile) return tile_squared_residual(half_tile_data(), degree, ks, x, xb, target_.data());
  return tile_squared_residual(gathered_.data(), degree, ks, x, xb, target_.data());
}

std::uint16_t* RowSolver::half_tile_data() {
  // The float tile's buffer, used as halves: every access goes through
  // memcpy or intrinsics that may alias (simd_vectors.hpp).
  return reinterpret_cast<std::uint16_t*>(gathered_.data());
}

bool RowSolver::solve_dual(std::int64_t degree, float* row) {
  const int k = params_.k, ks = tile_stride(k), w = params_.width();
  const int n = static_cast<int>(degree);
  const float* y = gathered_.data();
  const double ridge = params_.ridge(degree);
  PhaseTimer timer(phases_.gram);
  // G = Y Y^T (n x n) for Y = [V, 1]: V V^T by SYRK "Trans" on the
  // column-major V^T (ks x n, lda ks), plus 1 everywhere for the ones column.
  cblas_ssyrk(CblasColMajor, CblasLower, CblasTrans, n, k, 1.0f, y, ks, 0.0f, gram_.data(), n);
  timer.switch_to(phases_.factor);
  const int ld = cholesky_leading_dimension(n);
  const double ones = params_.bias ? 1.0 : 0.0;
  for (int r = 0; r < n; ++r)
    for (int c = r; c < n; ++c) system_[r * ld + c] = gram_[r * n + c] + ones;
  zero_padding(system_.data(), n, ld);
  for (int i = 0; i < n; ++i) system_[i * ld + i] += ridge;
  for (int i = 0; i < n; ++i) solution_[i] = target_[i];
  if (cholesky_solve(system_.data(), n, ld, solution_.data())) {
    // x = Y^T z = [V^T z, sum z], z = (Y Y^T + ridge I)^-1 t.
    float* z = sums_.data();  // n <= k entries fit
    float z_sum = 0.f;
    for (int i = 0; i < n; ++i) z[i] = static_cast<float>(solution_[i]), z_sum += z[i];
    float* x = work_.data();
    cblas_sgemv(CblasColMajor, CblasNoTrans, k, n, 1.0f, y, ks, z, 1, 0.0f, x, 1);
    if (params_.bias) x[k] = z_sum;
    const bool finite = all_finite(x, w);
    if (finite) std::copy(x, x + w, row);
    return finite;
  }
  return false;  // the primal path, with its ridge retries, takes over
}

bool RowSolver::uses_dual(std::int64_t degree) const {
  // A row with fewer ratings than unknowns: (Y^T Y + ridge I)^-1 Y^T t equals
  // Y^T (Y Y^T + ridge I)^-1 t, an n x n system instead of w x w (for most
  // users of a power-law dump the Cholesky of the w x w one dominates).
  return degree < params_.width() && params_.ridge(degree) > 0;
}

TargetSums RowSolver::gather_and_sum_gram(const std::int32_t* cols, const float* values, std::int64_t degree,
                                          const FactorTable& fixed, double mean) {
  // By chunks of rows: while the Gram kernel sums one chunk (in L1), the
  // next chunk's rows are on their way into L2, so a heavy row's gather
  // (scattered reads, latency-bound) overlaps its arithmetic. Where the
  // width allows, the gather adds V^T 1 and V^T t as it goes, and each
  // chunk is gathered over the last in a buffer of one chunk (the kernel is
  // done with it): the solver's memory does not grow with the heaviest row.
  // Otherwise tile_sums needs the whole tile.
  const int ks = tile_stride(params_.k), row_bytes = (params_.k + 1) * 4;
  const bool fused = tile_gather_fuses(params_.k);
  const GatherSource source{fixed.data(), fixed.stride(), nullptr, nullptr, params_.k, params_.bias, static_cast<float>(mean)};
  float* column_sums = sums_.data();
  float* vt_t = column_sums + ks;
  TargetSums targets;
  auto gather_chunk = [&](std::int64_t begin, std::int64_t end) {
    if (fused)
      tile_gather_sums(source, cols, values, begin, end, degree, gathered_.data(), target_.data(), column_sums, vt_t,
                       targets);  // row begin at the buffer's start
    else
      gather(cols, values, begin, end, degree, fixed, nullptr, mean);
  };
  const std::int64_t chunk = tile_gram_chunk_rows(ks);
  PhaseTimer timer(phases_.gather);
  gather_chunk(0, std::min(chunk, degree));
  if (degree == 0) tile_gram_rows(gathered_.data(), 0, 0, ks, gram_.data());  // zeroes it
  for (std::int64_t q0 = 0; q0 < degree; q0 += chunk) {
    const std::int64_t q1 = std::min(degree, q0 + chunk), q2 = std::min(degree, q1 + chunk);
    // The gather fetched kGatherDistance rows past q1 already.
    const std::int64_t from = std::min(q2, q1 + simd::kGatherDistance);
    const RowPrefetch ahead{fixed.data(), fixed.stride(), cols + from, q2 - from, row_bytes};
    timer.switch_to(phases_.gram);
    tile_gram_rows(fused ? gathered_.data() : gathered_.data() + q0 * ks, q0, q1, ks, gram_.data(), ahead);
    timer.switch_to(phases_.gather);
    gather_chunk(q1, q2);
  }
  if (fused) return targets;
  timer.switch_to(phases_.gram);
  return tile_sums(gathered_.data(), degree, ks, target_.data(), column_sums, vt_t);
}

RowResult RowSolver::solve_cholesky(std::int64_t degree, float* row) {
  if (uses_dual(degree) && solve_dual(degree, row)) {
    PhaseTimer timer(phases_.factor);
    RowResult result;
    result.squared_error = residual_squares(degree, row);
    return result;
  }
  PhaseTimer timer(phases_.gram);
  const int ks = tile_stride(params_.k);
  tile_gram_rows(gathered_.data(), 0, degree, ks, gram_.data());
  const TargetSums targets = tile_sums(gathered_.data(), degree, ks, target_.data(), sums_.data(), sums_.data() + ks);
  timer.stop();
  return solve_primal(degree, row, targets);
}

RowResult RowSolver::solve_primal(std::int64_t degree, float* row, const TargetSums& targets) {
  const int k = params_.k, ks = tile_stride(k), w = params_.width();
  const int n = static_cast<int>(degree);
  PhaseTimer timer(phases_.factor);
  // Y^T Y for Y = [V, 1]: V^T V (gram_), its last row the column sums of V
  // and n; Y^T t = [V^T t, sum t] (sums_ and targets).
  const float* column_sums = sums_.data();
  const float* vt_t = column_sums + ks;
  const float t_sum = targets.sum;

  double ridge = params_.ridge(degree);
  double trace = params_.bias ? n : 0.0;
  for (int i = 0; i < k; ++i) trace += gram_[i * ks + i];
  RowResult result;
  const int ld = cholesky_leading_dimension(w);
  for (;; ++result.retries) {
    // gram[j * ks + i] holds entry (i, j) for i >= j: row j of the upper
    // triangle, what cholesky_solve reads. Widen to double for the solve.
    for (int r = 0; r < k; ++r)
      for (int c = r; c < k; ++c) system_[r * ld + c] = gram_[r * ks + c];
    if (params_.bias) {
      for (int r = 0; r < k; ++r) system_[r * ld + k] = column_sums[r];
      system_[k * ld + k] = n;
      solution_[k] = t_sum;
    }
    for (int i = 0; i < w; ++i) system_[i * ld + i] += ridge;
    zero_padding(system_.data(), w, ld);
    for (int i = 0; i < k; ++i) solution_[i] = vt_t[i];
    if (cholesky_solve(system_.data(), w, ld, solution_.data()) &&
        std::all_of(solution_.begin(), solution_.end(), [](double x) { return std::isfinite(x); }))
      break;
    if (result.retries == 8) {  // give up: keep the row's previous value rather than write NaN
      ++result.retries;
      // From the normal equations: the tile may be gone (gathered a chunk
      // at a time over one chunk's buffer).
      result.squared_error = normal_squared_error(degree, targets, row);
      return result;
    }
    // Not positive definite in floating point (e.g. lambda = 0 and fewer
    // ratings than factors): strengthen the ridge relative to the data's scale.
    ridge = std::max(ridge * 10.0, 1e-6 * (trace / w + 1.0));
  }
  for (int d = 0; d < w; ++d) row[d] = static_cast<float>(solution_[d]);
  result.squared_error = normal_squared_error(degree, targets, row);
  return result;
}

double RowSolver::normal_squared_error(std::int64_t degree, const TargetSums& targets, const float* row) const {
  // |t - Y x|^2 = t.t - 2 x.(Y^T t) + x^T (Y^T Y) x from the normal
  // equations already formed: O(w^2) instead of a pass over the n x w tile.
  // In double; the terms cancel by a factor of a few (the residual against
  // the target's spread), far from float's precision.
  const int k = params_.k, ks = tile_stride(k);
  const float* column_sums = sums_.data();
  const float* vt_t = column_sums + ks;
  const double xb = params_.bias ? row[k] : 0.0;
  double linear = xb * targets.sum, quadratic = static_cast<double>(degree) * xb * xb;
  for (int j = 0; j < k; ++j) {
    const double xj = row[j];
    const float* column = gram_.data() + static_cast<std::size_t>(j) * ks;  // entries (i, j), i >= j
    double below = 0;
#pragma omp simd reduction(+ : below)
    for (int i = j + 1; i < k; ++i) below += static_cast<double>(column[i]) * row[i];
    quadratic += xj * (column[j] * xj + 2.0 * below + 2.0 * xb * column_sums[j]);
    linear += xj * vt_t[j];
  }
  return std::max(0.0, targets.squares - 2.0 * linear + quadratic);
}

RowResult RowSolver::solve_cg(std::int64_t degree, float* row, const GatherSource* source, const std::int32_t* cols,
                              const float* values) {
  const int k = params_.k, ks = tile_stride(k);
  const bool bias = params_.bias;
  const float* y = gathered_.data();
  const float ridge = static_cast<float>(params_.ridge(degree));
  // Vectors of ks entries over the factors, zero past k (so are the tile's
  // padding columns), each with its bias coordinate as a scalar (0 and
  // left alone without biases).
  float* x = work_.data();
  float* r = x + ks;
  float* p = r + ks;
  float* ap = p + ks;
  float* e = ap + ks;      // per rating: t - Y x, updated alongside x so the error needs no extra pass
  float* yp = e + degree;  // per rating: (Y p) of the current step
  PhaseTimer timer(source ? phases_.gather : phases_.factor);
  std::copy(row, row + k, x);
  std::fill(x + k, x + ks, 0.f);
  float xb = bias ? row[k] : 0.f;
  // Gathered from halves, a tile too large to stay in cache as floats
  // stays halves: CG's passes stream half the bytes, for the same arithmetic.
  const bool half_tile = source && source->half_table && degree * ks * 4 > kHalfTileBytes;
  auto normal_product = [&](const float* p, float pb, float* yp, float* ap) {
    return half_tile ? tile_normal_product(half_tile_data(), degree, ks, p, pb, yp, ap)
                     : tile_normal_product(y, degree, ks, p, pb, yp, ap);
  };

  // r = Y^T (t - Y x) - ridge x: one pass over the tile, or the gather
  // itself (its time counted as gathering).
  float e_sum;
  if (half_tile) {
    e_sum = tile_gather_residual_gradient(*source, cols, values, degree, half_tile_data(), target_.data(), x, xb, e, r);
    timer.switch_to(phases_.factor);
  } else if (source) {
    e_sum = tile_gather_residual_gradient(*source, cols, values, degree, gathered_.data(), target_.data(), x, xb, e, r);
    timer.switch_to(phases_.factor);  // the solve's own time starts here
  } else {
    e_sum = tile_residual_gradient(y, degree, ks, x, xb, target_.data(), e, r);
  }
  float rb = bias ? e_sum - ridge * xb : 0.f;
  add_scaled(r, -ridge, x, ks);
  std::copy(r, r + ks, p);
  float rs_old = rb * rb + dot(r, r, ks);
  // Non-finite data (e.g. a factor beyond half precision's range in the
  // copy): no step is taken, and the row counts as not solved below.
  const bool finite_start = std::isfinite(rs_old);
  float pb = rb;
  std::optional<float> final_alpha;  // set where the last step ran
  for (int step = 0; step < params_.cg_steps && rs_old > 0.f; ++step) {
    // A p = Y^T (Y p) + ridge p: one pass, each tile row read once. The
    // last step needs only Y p (for p^T A p and the errors), not the next
    // gradient: its pass skips Y^T (Y p), half the pass's arithmetic.
    const bool last = step + 1 == params_.cg_steps;
    const NormalSums sums = normal_product(p, pb, yp, last ? nullptr : ap);
    const float p_ap = sums.norm + ridge * (pb * pb + dot(p, p, ks));
    if (!(p_ap > 0.f)) break;  // p = 0 or a numerical breakdown: x is as good as it gets
    const float alpha = rs_old / p_ap;
    xb += alpha * pb;
    add_scaled(x, alpha, p, ks);
    if (last) {  // e's update by this step is left to its sum of squares below
      final_alpha = alpha;
      break;
    }
    for (std::int64_t q = 0; q < degree; ++q) e[q] -= alpha * yp[q];
    const float apb = bias ? sums.sum + ridge * pb : 0.f;
    add_scaled(ap, ridge, p, ks);
    rb -= alpha * apb;
    add_scaled(r, -alpha, ap, ks);
    const float rs_new = rb * rb + dot(r, r, ks);
    const float beta = rs_new / rs_old;
    const simd::Vec16 b = simd::splat(beta);
    for (int d = 0; d < ks; d += 16) simd::store(p + d, simd::load(r + d) + b * simd::load(p + d));
    pb = rb + beta * pb;
    rs_old = rs_new;
  }
  timer.stop();
  RowResult result;
  if (!finite_start || !all_finite(x, k) || !std::isfinite(xb)) {  // keep the previous value, and count it
    result.retries = 1;
    result.squared_error = residual_squares(degree, row, half_tile);
    return result;
  }
  std::copy(x, x + k, row);
  row[k] = xb;
  result.squared_error = final_alpha ? squares(e, degree, *final_alpha, yp) : squares(e, degree);
  return result;
}

}  // namespace dals
