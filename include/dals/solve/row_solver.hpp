#pragma once
/// @file row_solver.hpp
/// @brief The ALS kernel: one row's regularized least-squares solve.
///
/// With the other side fixed, a user's (u_i, b_i) minimizes
///   sum_j (A_ij - mu - c_j - [v_j, 1] . [u_i, b_i])^2 + reg * (|u_i|^2 + b_i^2),
/// reg = lambda (l2) or lambda * n_i (weighted, ALS-WR). Items are symmetric.
/// The solver gathers the n_i fixed rows' factors v_j into a contiguous
/// tile V (n_i x k, padded to 16 floats) with targets t (the rating less the
/// mean and the fixed row's bias); the regression is on Y = [V, 1] (w = k + 1
/// unknowns, or k without biases), the ones column implicit. Then either
///  - cholesky: forms Y^T Y and Y^T t in one register-blocked kernel
///    (gram_kernel.hpp), adds reg to the diagonal and solves by Cholesky in
///    double precision; a row with fewer ratings than unknowns (n_i < w)
///    solves the same problem through its n_i x n_i dual,
///    Y^T (Y Y^T + reg I)^-1 t;
///  - cg: runs a few conjugate-gradient steps on the same system, warm-started
///    from the row's current value (Takacs et al. 2011), touching each row of
///    V once per step: O(n_i w) per step instead of O(n_i w^2 + w^3).
/// Both return the row's training squared error at the new value, computed
/// on the tile while it is in cache, so the trainer needs no extra pass.

#include <cstdint>
#include <span>
#include <vector>

#include "dals/core/aligned_allocator.hpp"
#include "dals/solve/factors.hpp"
#include "dals/solve/gram_kernel.hpp"
#include "dals/solve/half_factors.hpp"
#include "dals/solve/implicit_gramian.hpp"
#include "dals/solve/solve_params.hpp"
#include "dals/solve/tile_kernels.hpp"

namespace dals {

/// Floating-point operations of one row's solve, used for GFLOP/s figures.
/// Cholesky: Gram + Y^T t + factorization + triangular solves + residual;
/// CG: the initial residual and each step's fused pass over the tile (the
/// last step's pass computes Y p only).
double row_solve_flops(const SolveParams& params, std::int64_t degree);

/// What one row's solve reports.
struct RowResult {
  int retries = 0;             ///< times the ridge was strengthened (Cholesky) or the row kept (CG)
  double squared_error = 0.0;  ///< sum over the row's ratings of (rating - prediction)^2 after the solve
};

/// Seconds one thread spent in each phase (for the benchmark's breakdown).
struct PhaseSeconds {
  double gather = 0, gram = 0, factor = 0;
};

/// Per-thread workspace: buffers sized once for the heaviest row, reused for
/// every row, so the hot loop never allocates.
class RowSolver {
 public:
  RowSolver(const SolveParams& params, std::int64_t max_degree);

  /// Solves one row from its ratings (cols[p], values[p]), p < degree, and
  /// the fixed side's table. `row` holds the row's current value (k factors,
  /// then the bias): CG starts from it; both overwrite it with the solution
  /// (bias 0 without biases). The result is always finite: a row whose
  /// system cannot be solved keeps its previous value and is counted.
  /// With `half`, a HalfFactors copy of `fixed`, CG reads the fixed rows
  /// from it (--cg-precision half); Cholesky always reads `fixed`.
  RowResult solve(const std::int32_t* cols, const float* values, std::int64_t degree, const FactorTable& fixed,
                  double mean, float* row, const HalfFactors* half = nullptr);

  /// Implicit feedback (params.implicit): solves one row from its observed
  /// entries against the fixed side and its `gramian` (w0 Y^T Y),
  /// minimizing
  ///   sum over every cell j of w_j (p_j - x . y_j)^2 + ridge |x|^2,
  /// p_j = 1 and w_j = c_j = 1 + alpha f(r_j) where observed, p_j = 0 and
  /// w_j = w0 elsewhere. Each entry comes as its scale s_j = sqrt(c_j - w0)
  /// (SolveParams::implicit_scale, converted once when the ratings are
  /// loaded): the gather scales the fixed row by s_j and sets its target to
  /// c_j / s_j = s_j + w0 / s_j, so that the explicit kernels' Y^T Y and
  /// Y^T t over that tile are sum (c_j - w0) y_j y_j^T and sum c_j y_j, the
  /// row's own terms, and the gramian adds the shared one. `constant` is
  /// SolveParams::implicit_constant of the entries. Returns the row's
  /// objective (without the ridge) in squared_error, computed from the tile
  /// without touching the unobserved cells. Cholesky is exact; CG runs
  /// cg_steps steps from the row's current value.
  /// With `half` (CG with cg_half), CG reads the fixed rows from that copy.
  RowResult solve_implicit(const std::int32_t* cols, const float* scales, std::int64_t degree, double constant,
                           const FactorTable& fixed, const ImplicitGramian& gramian, float* row,
                           const HalfFactors* half = nullptr);

  /// Heavy rows (train/heavy_rows.hpp): a row's normal equations as a sum
  /// of parts, each over a run of its ratings (those of one block of the
  /// fixed side), so that the part can be formed on whichever rank holds
  /// those fixed rows. A part is equation_floats(k) floats: the lower
  /// triangle of V^T V (column by column, entries i >= j), V^T 1, V^T t,
  /// sum t, and sum t^2 as a double in two floats' room. The kernels are
  /// solve()'s Cholesky ones, so a part depends only on its ratings and
  /// their fixed rows, whichever rank or thread forms it.
  static int equation_floats(int k) { return k * (k + 1) / 2 + 2 * k + 3; }
  /// The part of ratings (cols[p], values[p]), p < degree, into `part`
  /// (values are scales in implicit mode, `mean` then 0). degree 0: zeros.
  void partial_equations(const std::int32_t* cols, const float* values, std::int64_t degree, const FactorTable& fixed,
                         double mean, float* part, std::int64_t prefetch_rows = -1);
  /// Adds a part to `sums` (equation_floats(k) - 1 doubles: sum t^2 is one).
  static void add_equations(const float* part, int k, double* sums);
  /// Solves a row of `degree` ratings from its summed parts, as solve()'s
  /// primal Cholesky does from the Gram it forms (rounded to float as that
  /// one is); with params.implicit, as solve_implicit's Cholesky, with the
  /// row's `constant` and the shared `gramian`. Either solver: the
  /// equations are formed, so they are solved exactly.
  RowResult solve_from_equations(const double* sums, std::int64_t degree, float* row, double constant = 0,
                                 const ImplicitGramian* gramian = nullptr);
  /// A heavy row whose fixed rows are all in `fixed` (whole, by id): its
  /// parts over the fixed side's blocks, `fixed_first` being the B blocks'
  /// first ids and the row count, summed in block order and solved
  /// (solve_from_equations): the bits of the parts formed anywhere else.
  RowResult solve_in_parts(const std::int32_t* cols, const float* values, std::int64_t degree, const FactorTable& fixed,
                           double mean, std::span<const std::int64_t> fixed_first, float* row, double constant = 0,
                           const ImplicitGramian* gramian = nullptr);
  /// The degree from which rows are heavy (train/heavy_rows.hpp): `option`
  /// as given (--heavy-rows N > 0), none for 0 (`off`); auto (< 0) where
  /// `fixed_blocks` parts cost the bytes of the rows, rounded up, and at
  /// least kHeavyPartRows ratings a part on average (the trainer then
  /// raises auto's within its parts' budget: train/heavy_rows.hpp); none
  /// under CG and for k = 0; never below k + 1. INT64_MAX: none.
  static constexpr std::int64_t kHeavyPartRows = 64;
  static std::int64_t heavy_threshold(int k, Solver solver, std::int64_t option, std::int64_t fixed_blocks);

  /// Phase times accumulated since the caller last reset them (a few clock
  /// reads per row: tens of nanoseconds against microseconds of work).
  PhaseSeconds& phase_seconds() { return phases_; }

  /// CG gathering from halves keeps a row's tile in halves when as floats it
  /// would take more than this: 4 MiB. Up to there the L3 feeds CG's passes
  /// over a float tile about as fast as the L2 (one thread: 3.5 ns a 64-float
  /// row in L2, 3.7 at 5 MB, 4.4 at 15 MB, 8.8 at 51 MB), and converting
  /// halves costs about 4.4 ns at any size; with both cores' tiles and the
  /// gathers sharing the L3, a larger threshold did not pay: Netflix-shaped
  /// item half 1.20 s at 4 MiB, 1.27 at 8, 1.25 at 16 (medians of four
  /// alternating runs).
  static constexpr std::int64_t kHalfTileBytes = 4 << 20;

 private:
  // row_solver.cpp: the gather and what both solvers use.
  // Gathers tile rows [begin, end) of the row's `degree`.
  // From `half` where given.
  void gather(const std::int32_t* cols, const float* values, std::int64_t begin, std::int64_t end, std::int64_t degree,
              const FactorTable& fixed, const HalfFactors* half, double mean);
  double residual_squares(std::int64_t degree, const float* row, bool half_tile = false);
  std::uint16_t* half_tile_data();

  // solve_cholesky.cpp.
  bool uses_dual(std::int64_t degree) const;
  // The gather interleaved with the Gram kernel, chunk by chunk, into gram_
  // and sums_; returns the targets' sums. `prefetch_rows` (>= degree; -1:
  // degree): the rows of `cols` that may be fetched ahead, so that a part
  // (solve_in_parts) fetches the next part's first rows.
  TargetSums gather_and_sum_gram(const std::int32_t* cols, const float* values, std::int64_t degree,
                                 const FactorTable& fixed, double mean, std::int64_t prefetch_rows = -1);
  RowResult solve_cholesky(std::int64_t degree, float* row);
  // k = 0: the bias alone, in closed form (row_solver.cpp).
  RowResult solve_bias_only(const std::int32_t* cols, const float* values, std::int64_t degree,
                            const FactorTable& fixed, double mean, float* row) const;
  // The w x w system from gram_, sums_ and the targets' sums, with ridge retries.
  RowResult solve_primal(std::int64_t degree, float* row, const TargetSums& targets);
  // The training error of the row's new value from the normal equations
  // (gram_, sums_ and the targets' sums).
  double normal_squared_error(std::int64_t degree, const TargetSums& targets, const float* row) const;
  bool solve_dual(std::int64_t degree, float* row);

  // solve_implicit.cpp.
  // Tile rows [begin, end) of the row's `degree`, scaled, with their targets.
  void gather_implicit(const std::int32_t* cols, const float* scales, std::int64_t begin, std::int64_t end,
                       std::int64_t degree, const FactorTable& fixed);
  // From gram_ and sums_ as gather_and_sum_gram leaves them.
  RowResult solve_implicit_cholesky(std::int64_t degree, const ImplicitGramian& gramian, double ridge, float* row,
                                    const TargetSums& targets);
  // With a source, the tile is gathered by CG's first pass.
  RowResult solve_implicit_cg(std::int64_t degree, const ImplicitGramian& gramian, double ridge, float* row,
                              const GatherSource* source = nullptr, const std::int32_t* cols = nullptr,
                              const float* scales = nullptr);

  // solve_cg.cpp. With a source, the tile is gathered by CG's first pass
  // (tile_kernels.hpp).
  RowResult solve_cg(std::int64_t degree, float* row, const GatherSource* source = nullptr,
                     const std::int32_t* cols = nullptr, const float* values = nullptr);

  SolveParams params_;
  using FloatBuffer = AlignedFloats;
  FloatBuffer gathered_;           // degree x tile_stride(k), row-major, zero padding: the fixed rows' factors
  FloatBuffer target_;             // degree: rating - mean - the fixed row's bias
  FloatBuffer gram_;               // tile_stride(k)^2: V^T V, or the dual's n x n V V^T
  FloatBuffer sums_;               // V^T 1 and V^T t (tile_stride(k) each), or the dual's z
  FloatBuffer work_;               // x (stride); CG: r, p, A p (stride each), e and Y p (degree each)
  std::vector<double> system_;     // width x width, row-major, factored in place
  std::vector<double> solution_;   // width
  std::vector<float> part_;        // solve_in_parts: one part
  std::vector<double> part_sums_;  // and their sum
  PhaseSeconds phases_;
};

}  // namespace dals
