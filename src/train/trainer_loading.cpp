#include "trainer_loading.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dals/core/memory.hpp"
#include "dals/data/dataset.hpp"

namespace dals::loading {

namespace {
// A replicated side is gathered by its dense ids, held in 32 bits.
constexpr std::int64_t kMaxReplicatedRows = std::numeric_limits<std::int32_t>::max();
}  // namespace

Manifest read_checked_manifest(const Comm& comm, const TrainConfig& config) {
  Manifest manifest;
  run_collectively(comm, [&] {
    manifest = read_manifest(config.data);
    if (comm.size() > manifest.blocks)
      throw Error(config.data + ": " + std::to_string(comm.size()) + " ranks but the dataset has only " +
                  std::to_string(manifest.blocks) + (manifest.blocks == 1 ? " block" : " blocks") +
                  " per side (P must be <= B; re-partition with more blocks)");
  });
  return manifest;
}

CsrBlock read_owned(const TrainConfig& config, const Manifest& m, Split split, Side side, const OwnedRange& own,
                    bool compact) {
  const SplitInfo& info = split == Split::train ? m.train : m.test;
  const auto& blocks = info.blocks(side);
  const std::int64_t num_cols = m.rows(other(side));
  // The manifest knows the sizes: growing the arrays block by block would
  // copy them and hold old and new at once (peak RSS, not just time). Its
  // counts are reserved only once the block files are seen to back them.
  std::int64_t rows = 0, nnz = 0;
  bool wide = num_cols > std::numeric_limits<std::int32_t>::max();
  for (int b = own.first_block; b < own.end_block; ++b) {
    const std::string path = ratings_path(config.data, split, side, b);
    check_ratings_block_size(path, blocks[b]);
    rows += blocks[b].rows, nnz += blocks[b].nnz;
    if (compact && !wide) wide = ratings_block_is_wide(path);
  }
  if (compact && wide) {
    // Ids of 64 bits: the rank's ratings with them, then its distinct ids
    // once (compact_columns): while loading, 16 bytes a rating more (the
    // ids as read and their sorted copy) than the ratings held after.
    WideCsrBlock all;
    all.first_row = own.first_row;
    all.num_cols = num_cols;
    all.indptr.reserve(static_cast<std::size_t>(rows) + 1);
    all.indices.reserve(static_cast<std::size_t>(nnz));
    all.values.reserve(static_cast<std::size_t>(nnz));
    for (int b = own.first_block; b < own.end_block; ++b)
      all.append(read_wide_ratings_block(ratings_path(config.data, split, side, b), blocks[b], num_cols));
    return compact_columns(std::move(all));
  }
  CsrBlock all;
  all.first_row = own.first_row;
  all.num_cols = num_cols;
  all.reserve(rows, nnz);
  for (int b = own.first_block; b < own.end_block; ++b)
    all.append(read_ratings_block(ratings_path(config.data, split, side, b), blocks[b], num_cols));
  return all;
}

// Error naming manifest.json unless its mean is that of the training ratings
// the ranks loaded. Every rating lies in exactly one rank's by-user rows, so
// the by-user sums over the ranks count each once.
void check_mean(const Comm& comm, const TrainConfig& config, const Manifest& m, const CsrBlock& by_user) {
  double sums[3] = {0, 0, static_cast<double>(by_user.nnz())};  // sum, sum of magnitudes, count
  for (const float v : by_user.values) sums[0] += v, sums[1] += std::fabs(v);
  comm.allreduce_inplace(std::span<double>(sums, 3), MPI_SUM);
  run_collectively(comm, [&] {
    if (!comm.is_root() || sums[2] == 0) return;
    const double mean = sums[0] / sums[2];
    // Summing n floats in double, in any order (the writer's, the ranks'),
    // is off by at most n * 2^-53 of the sum of magnitudes: 1.1e-7 of the
    // mean magnitude at 10^9 ratings. 1e-6 of it leaves rounding well below
    // the bound up to 9 * 10^9 ratings and still catches an edit in the
    // sixth significant digit; the magnitude, not the mean, scales it, as
    // ratings of both signs can average to about zero.
    const double tolerance = 1e-6 * std::max(sums[1] / sums[2], 1e-30);
    if (!std::isfinite(m.mean) || std::fabs(mean - m.mean) > tolerance)
      throw Error(config.data + "/manifest.json: mean " + std::to_string(m.mean) +
                  " differs from the training ratings' mean " + std::to_string(mean) +
                  ": the manifest does not describe these ratings");
  });
}

// Implicit mode: every observed entry's confidence must exceed the
// unobserved weight, so its value must be positive (and finite).
void check_positive(const Comm& comm, const TrainConfig& config, const CsrBlock& by_user) {
  double worst = 1.0;
  for (const float v : by_user.values)
    if (!(v > 0.f) || !std::isfinite(v)) worst = std::min(worst, std::isfinite(v) ? static_cast<double>(v) : -1e300);
  worst = comm.allreduce(worst, MPI_MIN);
  run_collectively(comm, [&] {
    if (worst <= 0.0)
      throw Error(config.data + ": implicit feedback needs positive values, but a training value is " +
                  (worst == -1e300 ? std::string("not finite") : std::to_string(worst)) +
                  " (drop such entries with dals-partition --min-rating, or train explicitly)");
  });
}

// Which sides are routed: --exchange, and for auto a side whose table
// exceeds kReplicateShare of the memory per rank (the node's memory over
// its ranks, as rank 0 sees them: the same answer on every rank).
PerSide<bool> choose_routed(const Comm& comm, const TrainConfig& config, const Manifest& m) {
  if (config.exchange != ExchangeMode::automatic) return routed_sides(config, m, 0);
  const Comm node = comm.split_shared();
  std::int64_t memory = static_cast<std::int64_t>(physical_memory_bytes()) / std::max(1, node.size());
  comm.broadcast(std::span<std::int64_t>(&memory, 1));
  return routed_sides(config, m, memory);
}

PerSide<bool> routed_sides(const TrainConfig& config, const Manifest& m, std::int64_t memory_per_rank) {
  if (config.exchange == ExchangeMode::allgather)
    for (Side side : kBothSides)
      if (m.rows(side) > kMaxReplicatedRows)
        throw Error("--exchange allgather: " + config.data + " has " + std::to_string(m.rows(side)) + " " +
                    side_name(side) +
                    ", 2^31 or more, and a replicated side's ids are 32 bits: route it "
                    "(--exchange routed or auto)");
  if (config.exchange == ExchangeMode::allgather) return {false, false};
  if (config.exchange == ExchangeMode::routed) return {true, true};
  const auto budget = static_cast<std::int64_t>(kReplicateShare * static_cast<double>(memory_per_rank));
  PerSide<bool> routed;
  for (Side side : kBothSides)
    routed[side] = m.rows(side) * (config.factors + 1) * 4 > budget || m.rows(side) > kMaxReplicatedRows;
  return routed;
}

// The order the threads take a half's rows in (dynamically, a few at a
// time). Rows heavy enough to leave a thread finishing alone go first,
// longest first; the rest in storage order, so that consecutive rows'
// offsets, ratings and factors are read as streams. (All rows by degree
// started each row somewhere else in those arrays: a TLB and cache miss or
// more per row, 5% of a Netflix-shaped CG run's samples, now 0.7%.) Any order gives
// the same bits: each row's solve depends on the fixed side only.
// Rows [begin, end) of r: the whole side, or one routed chunk.
std::vector<std::int64_t> solve_order(const CsrBlock& r, std::int64_t begin, std::int64_t end, int threads) {
  // A row is heavy above 1/256 of a thread's share of the ratings: the rows
  // left in storage order then end a thread's work at most a few such rows
  // (a few percent of it) after the others'.
  const std::int64_t nnz = end > begin ? r.indptr[end] - r.indptr[begin] : 0;
  const std::int64_t heavy = std::max<std::int64_t>(1, nnz / (256 * std::max(1, threads)));
  std::vector<std::int64_t> order, rest;
  for (std::int64_t i = begin; i < end; ++i) (r.degree(i) > heavy ? order : rest).push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return r.degree(a) > r.degree(b); });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

double rating_spread(const Comm& comm, const Manifest& m, const OwnedRange& own, const CsrBlock& by_user) {
  // Each block's sum is its owner's alone; added to the zeros of the other
  // ranks it stays exact, so every rank gets the same sums in block order.
  std::vector<double> per_block(static_cast<std::size_t>(m.blocks) + 1, 0.0);
  for (int b = own.first_block; b < own.end_block; ++b) {
    const auto& block = m.train.user_blocks[b];
    const std::int64_t r0 = block.first - by_user.first_row, r1 = r0 + block.rows;
    double sum = 0;
    for (std::int64_t p = by_user.indptr[r0]; p < by_user.indptr[r1]; ++p) {
      const double d = static_cast<double>(by_user.values[p]) - m.mean;
      sum += d * d;
    }
    per_block[b] = sum;
  }
  per_block[m.blocks] = static_cast<double>(by_user.nnz());  // counts add exactly
  comm.allreduce_inplace(std::span<double>(per_block), MPI_SUM);
  double total = 0;
  for (int b = 0; b < m.blocks; ++b) total += per_block[b];
  const double n = per_block[m.blocks];
  const double spread = n > 0 ? std::sqrt(total / n) : 0.0;
  return spread > 0 && std::isfinite(spread) ? spread : 1.0;
}

}  // namespace dals::loading
