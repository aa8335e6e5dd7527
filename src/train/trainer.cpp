#include "dals/train/trainer.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "dals/core/huge_pages.hpp"
#include "dals/core/memory.hpp"
#include "dals/data/dataset.hpp"
#include "dals/train/evaluation.hpp"
#include "dals/train/ranking_reduce.hpp"
#include "dals/train/validation_split.hpp"
#include "ranking_routed.hpp"
#include "trainer_loading.hpp"
#include "trainer_local.hpp"

namespace dals {

namespace {

using loading::check_mean;
using loading::check_positive;
using loading::choose_routed;
using loading::read_checked_manifest;
using loading::read_owned;
using loading::solve_order;

// Bytes of the next row's columns (and as many of its values) fetched ahead:
// the first 256 ratings, by when the stream prefetcher has caught on.
constexpr std::int64_t kRatingPrefetchBytes = 1024;

// A row's cost relative to one of its ratings, for balancing ranks (layout.hpp).
double row_weight(const TrainConfig& config) {
  return config.solver == Solver::cholesky ? (config.factors + 1) / 3.0 : 1.0;
}

}  // namespace

Trainer::Trainer(const Comm& comm, const TrainConfig& config)
    : comm_(comm),
      config_(config),
      manifest_(read_checked_manifest(comm, config)),
      layouts_{SideLayout(manifest_.train.blocks(Side::users), comm.size(), row_weight(config)),
               SideLayout(manifest_.train.blocks(Side::items), comm.size(), row_weight(config))},
      local_{std::make_unique<Local>(), std::make_unique<Local>()} {
  params_.k = config.factors;
  params_.lambda = config.lambda;
  params_.regularization = config.regularization;
  params_.exponent = config.lambda_exponent;
  params_.bias_lambda = config.bias_lambda;
  params_.bias = !config.no_bias;
  params_.solver = config.solver;
  params_.cg_steps = config.cg_steps;
  params_.cg_half = config.solver == Solver::cg && config.cg_precision == Precision::half && config.factors > 0;
  params_.implicit = config.implicit;
  params_.confidence = config.confidence;
  params_.alpha = config.alpha;
  params_.epsilon = config.epsilon;
  params_.unobserved_weight = config.unobserved_weight;
  if (config.implicit) params_.bias = false;

  // Which sides are routed, first: a routed side's ids may be 64 bits on
  // disk, and the other side's blocks are then read compacted.
  run_collectively(comm_, [&] { routed_ = choose_routed(comm_, config_, manifest_); });
  run_collectively(comm_, [&] {
    for (Side side : kBothSides)
      local_[side]->ratings =
          read_owned(config_, manifest_, Split::train, side, layout(side).of(comm_.rank()), routed_[other(side)]);
    if (manifest_.has_test)
      test_by_user_ =
          read_owned(config_, manifest_, Split::test, Side::users, layout(Side::users).of(comm_.rank()), routed_.items);
  });
  check_mean(comm_, config_, manifest_, local_[Side::users]->ratings);
  // --lambda-units spread: the factors' lambda in units of the ratings'
  // spread (config.hpp), measured on every training rating; the biases'
  // lambda as given.
  if (!params_.implicit && config_.lambda_units == LambdaUnits::spread) {
    rating_spread_ =
        loading::rating_spread(comm_, manifest_, layout(Side::users).of(comm_.rank()), local_[Side::users]->ratings);
    params_.lambda = config_.lambda * rating_spread_;
    params_.bias_lambda = config_.bias_lambda >= 0 ? config_.bias_lambda : config_.lambda;
  }
  // The validation split leaves the solves now, from both copies of each
  // rating alike (the manifest's mean, checked above, keeps them: mu is the
  // dataset's). Its users' rows, like the test split's, stay on their owner.
  if (config_.validation_fraction > 0) {
    validation_by_user_ = split_off_validation(local_[Side::users]->ratings, Side::users, config_.validation_seed,
                                               config_.validation_fraction);
    split_off_validation(local_[Side::items]->ratings, Side::items, config_.validation_seed,
                         config_.validation_fraction);
    validation_ratings_ = comm_.sum(validation_by_user_.nnz());
  }
  if (params_.implicit) {
    check_positive(comm_, config_, local_[Side::users]->ratings);
    // What the implicit solve reads per entry, once for the whole run (a
    // square root and a division per entry and half-iteration otherwise).
    for (Side side : kBothSides) {
      Local& local = *local_[side];
      CsrBlock& r = local.ratings;
      for (float& v : r.values) v = params_.implicit_scale(v);
      local.implicit_constants.resize(r.rows());
      for (std::int64_t i = 0; i < r.rows(); ++i)
        local.implicit_constants[i] = params_.implicit_constant(r.values.data() + r.indptr[i], r.degree(i));
    }
  }

  run_collectively(comm_, [&] {
    if (params_.implicit && config_.validation_fraction > 0)
      throw Error("--validation-fraction: implicit mode has no validation metric yet; use the test split");
  });

  // The own rows' training ratings, as the solves see them (validation
  // entries already split off): what the model records per row.
  for (Side side : kBothSides) {
    const CsrBlock& r = local_[side]->ratings;
    training_ratings_[side].resize(r.rows());
    for (std::int64_t i = 0; i < r.rows(); ++i) training_ratings_[side][i] = r.degree(i);
  }

  // Which rows have training ratings: cold rows predict from biases only.
  // The own users by local row; the items whole where they are replicated
  // (a routed side's test rows come with their owner's answer instead).
  {
    const CsrBlock& by_user = local_[Side::users]->ratings;
    known_.users.resize(by_user.rows());
    for (std::int64_t r = 0; r < by_user.rows(); ++r) known_.users[r] = by_user.degree(r) > 0;
    if (!routed_.items) {
      const CsrBlock& by_item = local_[Side::items]->ratings;
      known_.items.assign(manifest_.items, 0);
      for (std::int64_t r = 0; r < by_item.rows(); ++r) known_.items[by_item.first_row + r] = by_item.degree(r) > 0;
      comm_.allgather_rows(known_.items.data(), 1, layout(Side::items).first_rows(), layout(Side::items).row_counts());
    }
  }

  // Heavy rows: by their degree after the validation split, before the
  // routing plans rewrite the columns the parts' index reads. The
  // thresholds' collectives first, where every rank enters them.
  PerSide<std::int64_t> heavy_from;
  for (Side side : kBothSides)
    heavy_from[side] = resolve_heavy_threshold(comm_, config_, local_[side]->ratings, manifest_.rows(other(side)),
                                               static_cast<std::int64_t>(manifest_.train.blocks(other(side)).size()));
  run_collectively(comm_, [&] {
    for (Side side : kBothSides) {
      const Side fixed = other(side);
      std::vector<std::int64_t> fixed_first;
      for (const BlockInfo& b : manifest_.train.blocks(fixed)) fixed_first.push_back(b.first);
      fixed_first.push_back(manifest_.rows(fixed));
      heavy_[side] =
          HeavyRows::build(comm_, local_[side]->ratings, heavy_from[side], routed_[fixed], local_[fixed]->ratings,
                           fixed_first, layout(fixed), params_.k, config_.exchange_buffer);
    }
  });

  // Routing plans: built once, from the rating blocks alone.
  const std::int64_t row_bytes = static_cast<std::int64_t>(params_.k + 1) * 4;
  const std::int64_t buffer_rows = std::max<std::int64_t>(1, config_.exchange_buffer / row_bytes);
  auto own_degrees = [&](Side side) {
    const CsrBlock& r = local_[side]->ratings;
    std::vector<std::int64_t> d(r.rows());
    for (std::int64_t i = 0; i < r.rows(); ++i) d[i] = r.degree(i);
    return d;
  };
  // Routed items' ranking excludes training items by dense id (before the plans rewrite them).
  if (routed_.items && loading::ranks_every_item(config_, manifest_))
    run_collectively(comm_, [&] {  // ranked by 32-bit item ids: Error for 2^31 items or more
      const std::string where = config_.data + ": ranking every item per test user";
      ranking_train_ = expand_columns(training_items_of_test_users(local_[Side::users]->ratings, test_by_user_), where);
      test_by_user_ = expand_columns(std::move(test_by_user_), where);  // no plan rewrites it: ranked by id
    });
  run_collectively(comm_, [&] {
    for (Side side : kBothSides)
      if (routed_[other(side)])
        plan_[side] = RoutePlan::build(comm_, local_[side]->ratings, layout(other(side)), buffer_rows, {}, false,
                                       "--exchange-buffer", row_bytes, heavy_[side].threshold());
    if (routed_.items && manifest_.has_test && !params_.implicit)  // implicit: ranking_routed.hpp instead
      test_plan_ = RoutePlan::build(comm_, test_by_user_, layout(Side::items), buffer_rows, own_degrees(Side::items),
                                    true, "--exchange-buffer", row_bytes);
    if (routed_.items && validation_ratings_ > 0)
      validation_plan_ = RoutePlan::build(comm_, validation_by_user_, layout(Side::items), buffer_rows,
                                          own_degrees(Side::items), true, "--exchange-buffer", row_bytes);
  });
  // The plans have rewritten compacted blocks' columns into chunk
  // positions: their dense ids are not read again.
  for (CsrBlock* r :
       {&local_[Side::users]->ratings, &local_[Side::items]->ratings, &test_by_user_, &validation_by_user_})
    std::vector<std::int64_t>().swap(r->column_ids);
  std::int64_t buffer = 0;
  for (const RoutePlan* plan : {&plan_.users, &plan_.items, &test_plan_, &validation_plan_})
    buffer = std::max(buffer, plan->stats().max_chunk_rows);
  if (buffer > 0) received_ = FactorTable(buffer, params_.k);

  // BLAS runs inside our OpenMP threads: it must not spawn threads of its own.
  openblas_set_num_threads(1);
  if (config_.threads > 0) omp_set_num_threads(config_.threads);
  const int threads = omp_get_max_threads();

  std::int64_t max_degree = 1;
  for (Local* local : {local_[Side::users].get(), local_[Side::items].get()}) {
    const CsrBlock& r = local->ratings;
    const RoutePlan& plan = plan_[local == local_.users.get() ? Side::users : Side::items];
    if (plan.chunks().empty()) {
      local->order = solve_order(r, 0, r.rows(), threads);
      local->chunk_ends = {local->order.size()};
    } else {
      for (const RouteChunk& chunk : plan.chunks()) {
        const auto part = solve_order(r, chunk.row_begin, chunk.row_end, threads);
        local->order.insert(local->order.end(), part.begin(), part.end());
        local->chunk_ends.push_back(local->order.size());
      }
    }
    for (std::int64_t i = 0; i < r.rows(); ++i) {
      max_degree = std::max(max_degree, r.degree(i));
      if (r.degree(i) > 0) local->flops += row_solve_flops(params_, r.degree(i));
    }
  }
  // A heavy row's parts may be longer than any local row (a fixed block's raters of it).
  for (Side side : kBothSides) max_degree = std::max(max_degree, heavy_[side].widest_part());
  flops_per_iteration_ = comm_.sum(local_[Side::users]->flops + local_[Side::items]->flops);
  // Implicit: each half forms the fixed side's gramian (SSYRK, lower triangle).
  if (params_.implicit)
    flops_per_iteration_ += static_cast<double>(manifest_.users + manifest_.items) * params_.k * (params_.k + 1);

  solvers_.reserve(threads);
  for (int t = 0; t < threads; ++t) solvers_.emplace_back(params_, max_degree);
  if (params_.cg_half) {
    std::int64_t fixed_rows = std::max(received_.rows(), std::int64_t{1});
    for (Side side : kBothSides)
      if (!routed_[side]) fixed_rows = std::max(fixed_rows, manifest_.rows(side));
    half_fixed_.reserve(fixed_rows, params_.k);
  }

  for (Side side : kBothSides) {
    const OwnedRange own = layout(side).of(comm_.rank());
    factors_[side] = routed_[side] ? FactorTable(own.first_row, own.rows(), params_.k)
                                   : FactorTable(manifest_.rows(side), params_.k);
  }
  draw_initial_factors();
}

void Trainer::draw_initial_factors() {
  for (Side side : kBothSides)
    factors_[side].init_random(config_.seed, side, factors_[side].first_row(), factors_[side].end_row());
}

FactorTable Trainer::gathered_factors(Side side) const {
  if (!routed_[side]) return factors_[side];
  FactorTable whole(manifest_.rows(side), params_.k);
  const FactorTable& own = factors_[side];
  std::copy(own.data(), own.data() + own.rows() * own.stride(), whole.row(own.first_row()));
  comm_.allgather_rows(whole.data(), whole.stride(), layout(side).first_rows(), layout(side).row_counts());
  return whole;
}

void Trainer::set_progress(int iterations_done, bool mid_iteration) {
  iteration_ = iterations_done;
  mid_iteration_ = mid_iteration;
  user_half_ = HalfResult{};  // the metrics of a split iteration count its second half only
  user_exchange_ = Moved{};
}

std::string Trainer::restore(const FactorReader& read, int iterations_done, bool mid_iteration) {
  const std::string problem = try_collectively(comm_, [&] { read(layouts_, comm_.rank(), factors_); });
  if (!problem.empty()) {
    // Every rank, also one whose read succeeded: its rows are the checkpoint's now.
    draw_initial_factors();
    set_progress(0, false);
    return problem;
  }
  exchange(Side::users);  // a routed side: nothing to do, each rank holds its own rows
  exchange(Side::items);
  set_progress(iterations_done, mid_iteration);
  return "";
}

void Trainer::solve_user_half() {
  if (mid_iteration_) return;
  user_half_ = solve_half(Side::users);
  user_exchange_ = exchange(Side::users);
  mid_iteration_ = true;
}

Trainer::~Trainer() = default;

std::int64_t Trainer::model_bytes() const {
  std::int64_t plan_bytes = 0;  // the send lists (4 bytes a row) and the test rows' flags
  for (const RoutePlan* plan : {&plan_.users, &plan_.items, &test_plan_, &validation_plan_}) {
    plan_bytes += plan->stats().rows_sent * 4;
    for (const RouteChunk& chunk : plan->chunks())
      plan_bytes += static_cast<std::int64_t>(chunk.known.size() + chunk.recv_counts.size() * 8);
  }
  plan_bytes += static_cast<std::int64_t>(known_.users.size() + known_.items.size());
  // What the model records per row: 400 MB at 5 * 10^7 own rows, as much as the routing plans there.
  const auto counts = static_cast<std::int64_t>((training_ratings_.users.size() + training_ratings_.items.size()) * 8);
  auto csr_bytes = [](const CsrBlock& b) {
    return static_cast<std::int64_t>(b.indptr.size() * 8 + b.indices.size() * 4 + b.values.size() * 4);
  };
  const auto constants = static_cast<std::int64_t>(
      (local_[Side::users]->implicit_constants.size() + local_[Side::items]->implicit_constants.size()) * 8);
  return csr_bytes(local_[Side::users]->ratings) + csr_bytes(local_[Side::items]->ratings) + csr_bytes(test_by_user_) +
         csr_bytes(validation_by_user_) + constants + heavy_[Side::users].bytes(params_.k) +
         heavy_[Side::items].bytes(params_.k) + ranking_exclusion_bytes(ranking_train_) +
         static_cast<std::int64_t>(bytes_for_random_reads(factors_.users.bytes()) +
                                   bytes_for_random_reads(factors_.items.bytes()) + half_fixed_.bytes() +
                                   bytes_for_random_reads(received_.bytes())) +
         plan_bytes + counts;
}

Trainer::HalfResult Trainer::solve_half(Side side) {
  const Local& local = *local_[side];
  const Side fixed_side = other(side);
  const double start = MPI_Wtime();
  std::int64_t retries = 0;
  double squared_error = 0;
  for (auto& solver : solvers_) solver.phase_seconds() = PhaseSeconds{};
  HalfResult half;
  // Implicit: the unobserved cells' share of every row's system, from the
  // fixed side, block by block (the same bits on every rank, routed or not).
  if (params_.implicit) half.routed += form_gramian(fixed_side);
  half.routed += solve_heavy(side, retries, squared_error);
  if (!routed_[fixed_side]) {
    solve_rows(side, factors_[fixed_side], factors_[fixed_side].rows(), 0, local.order.size(), retries, squared_error);
  } else {
    // Round by round: receive a chunk's rows, solve the chunk. Every rank
    // takes part in every round, with nothing where its chunks are done.
    const RoutePlan& plan = plan_[side];
    for (int round = 0; round < plan.rounds(); ++round) {
      half.routed += route(plan, fixed_side, round);
      if (round >= static_cast<int>(plan.chunks().size())) continue;
      const std::size_t begin = round == 0 ? 0 : local.chunk_ends[round - 1];
      solve_rows(side, received_, plan.chunks()[round].rows(), begin, local.chunk_ends[round], retries, squared_error);
    }
  }
  half.seconds = seconds_since(start) - half.routed.seconds;
  half.retries = retries;
  half.squared_error = squared_error;
  for (auto& solver : solvers_) {
    half.phases.gather += solver.phase_seconds().gather;
    half.phases.gram += solver.phase_seconds().gram;
    half.phases.factor += solver.phase_seconds().factor;
  }
  return half;
}

void Trainer::solve_rows(Side side, const FactorTable& fixed, std::int64_t fixed_rows, std::size_t order_begin,
                         std::size_t order_end, std::int64_t& retries_out, double& squared_error_out) {
  const Local& local = *local_[side];
  FactorTable& solving = factors_[side];
  const CsrBlock& r = local.ratings;
  const double mean = manifest_.mean;
  // The fixed side as CG reads it: converted once per half-iteration (or
  // routed chunk), after every change to it (Netflix-shaped users: about 10 ms).
  const HalfFactors* fixed_half = nullptr;
  if (params_.cg_half) {
    half_fixed_.assign(fixed, fixed_rows);
    fixed_half = &half_fixed_;
  }
  const bool implicit = params_.implicit;
  const HeavyRows& heavy = heavy_[side];  // solved apart (solve_heavy)
  std::int64_t retries = 0;
  double squared_error = 0;
#pragma omp parallel reduction(+ : retries, squared_error)
  {
    RowSolver& solver = solvers_[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 4)
    for (std::size_t i = order_begin; i < order_end; ++i) {
      const std::int64_t row = local.order[i];
      const std::int64_t begin = r.indptr[row], degree = r.degree(row);
      if (heavy.heavy(degree)) continue;
      if (degree == 0) {
        // No ratings: explicit keeps its initial factors and zero bias;
        // implicit solves to zero (no preference anywhere, a ridge).
        if (implicit) std::fill(solving.row(r.first_row + row), solving.row(r.first_row + row) + solving.stride(), 0.f);
        continue;
      }
      // Fetch the next row's current value (CG's warm start) while this
      // one is solved: the heavy rows, taken by degree, are scattered over
      // the table (so is a thread's next chunk; in storage order, the
      // fetch mostly finds the row in cache already).
      if (i + 1 < order_end) {
        const std::int64_t next_row = local.order[i + 1];
        const char* next = reinterpret_cast<const char*>(solving.row(r.first_row + next_row));
        for (int line = 0; line < solving.stride() * 4; line += 64) __builtin_prefetch(next + line);
        // And the start of its ratings, elsewhere in the arrays for the same
        // reason: the hardware's stream prefetcher takes a few misses to
        // start on a new stream of columns and values.
        // (A row without ratings may start at the arrays' end: nothing to fetch.)
        const auto* cols = reinterpret_cast<const char*>(r.indices.data() + r.indptr[next_row]);
        const auto* values = reinterpret_cast<const char*>(r.values.data() + r.indptr[next_row]);
        const std::int64_t bytes = std::min<std::int64_t>(r.degree(next_row) * 4, kRatingPrefetchBytes);
        for (std::int64_t line = 0; line < bytes; line += 64)
          __builtin_prefetch(cols + line), __builtin_prefetch(values + line);
      }
      const RowResult result =
          implicit ? solver.solve_implicit(&r.indices[begin], &r.values[begin], degree, local.implicit_constants[row],
                                           fixed, gramian_, solving.row(r.first_row + row), fixed_half)
                   : solver.solve(&r.indices[begin], &r.values[begin], degree, fixed, mean,
                                  solving.row(r.first_row + row), fixed_half);
      retries += result.retries;
      squared_error += result.squared_error;
    }
  }
  retries_out += retries;
  squared_error_out += squared_error;
}

IterationRecord Trainer::iterate() {
  solve_user_half();
  const HalfResult users = user_half_;
  Moved user_moved = user_exchange_;
  user_moved += users.routed;
  mid_iteration_ = false;
  const HalfResult items = solve_half(Side::items);
  Moved item_moved = items.routed;
  item_moved += exchange(Side::items);
  ++iteration_;
  // The test split's rows on a routed side travel too (evaluate), and
  // routed items' ranking lists (ranking_routed.hpp).
  Moved held_out_moved;
  IterationRecord out = evaluate(items.squared_error, held_out_moved);
  RankingSums ranking;
  if (params_.implicit && ranking_due()) ranking = ranking_metrics({config_.eval_k}, held_out_moved).front();
  Moved moved = user_moved;
  moved += item_moved;
  moved += held_out_moved;

  double times[3] = {users.seconds, items.seconds, moved.seconds};
  comm_.allreduce_inplace(std::span<double>(times, 3), MPI_MAX);
  std::int64_t bytes[8] = {moved.sent,      moved.received,      user_moved.sent,     user_moved.received,
                           item_moved.sent, item_moved.received, held_out_moved.sent, held_out_moved.received};
  comm_.allreduce_inplace(std::span<std::int64_t>(bytes, 8), MPI_MAX);
  out.exchange_bytes_sent = bytes[0];
  out.exchange_bytes_received = bytes[1];
  out.user_half_bytes_sent = bytes[2];
  out.user_half_bytes_received = bytes[3];
  out.item_half_bytes_sent = bytes[4];
  out.item_half_bytes_received = bytes[5];
  out.held_out_bytes_sent = bytes[6];
  out.held_out_bytes_received = bytes[7];
  // Thread-seconds of each phase, averaged over every thread of the job.
  const double threads = static_cast<double>(solvers_.size()) * comm_.size();
  double phases[3] = {users.phases.gather + items.phases.gather, users.phases.gram + items.phases.gram,
                      users.phases.factor + items.phases.factor};
  comm_.allreduce_inplace(std::span<double>(phases, 3), MPI_SUM);
  out.user_seconds = times[0];
  out.item_seconds = times[1];
  out.exchange_seconds = times[2];
  out.gather_seconds = phases[0] / threads;
  out.gram_seconds = phases[1] / threads;
  out.factor_seconds = phases[2] / threads;
  out.gflops = flops_per_iteration_ / std::max(1e-9, times[0] + times[1]) * 1e-9;
  out.ridge_retries = comm_.sum(users.retries + items.retries);
  if (params_.implicit && ranking_due()) {
    const RankingSums& sums = ranking;
    out.eval_k = config_.eval_k;
    if (sums.users > 0) {
      const double users_evaluated = static_cast<double>(sums.users);
      out.precision = sums.precision / users_evaluated;
      out.recall = sums.recall / users_evaluated;
      out.ndcg = sums.ndcg / users_evaluated;
    }
  }
  return out;
}

// The item half solved every rating's item last, with the users fixed: its
// squared error is the training error of the finished iteration.
IterationRecord Trainer::evaluate(double local_train_squared_error, Moved& moved) {
  IterationRecord rec;
  rec.iteration = iteration_;
  const double reg = regularization_value(local_[Side::users]->ratings, factors_.users, params_, manifest_.items) +
                     regularization_value(local_[Side::items]->ratings, factors_.items, params_, manifest_.users);
  double sums[6] = {local_train_squared_error, reg, 0, 0, 0, 0};
  if (manifest_.has_test && !params_.implicit) {
    const ErrorSums test = held_out_errors(test_by_user_, test_plan_, moved);
    sums[2] = test.squared_error;
    sums[3] = test.absolute_error;
  }
  if (validation_ratings_ > 0 && !params_.implicit) {
    const ErrorSums validation = held_out_errors(validation_by_user_, validation_plan_, moved);
    sums[4] = validation.squared_error;
    sums[5] = validation.absolute_error;
  }
  comm_.allreduce_inplace(std::span<double>(sums, 6), MPI_SUM);
  rec.objective = sums[0] + sums[1];
  if (params_.implicit) {  // the loss over every cell; ranking metrics in iterate()
    rec.implicit = true;
    rec.train_rmse = std::numeric_limits<double>::quiet_NaN();
    return rec;
  }
  const std::int64_t trained_on = manifest_.train.ratings - validation_ratings_;
  rec.train_rmse = std::sqrt(sums[0] / static_cast<double>(std::max<std::int64_t>(1, trained_on)));
  if (validation_ratings_ > 0) {
    rec.validation_rmse = std::sqrt(sums[4] / static_cast<double>(validation_ratings_));
    rec.validation_mae = sums[5] / static_cast<double>(validation_ratings_);
  }
  if (manifest_.has_test && manifest_.test.ratings > 0) {
    rec.test_rmse = std::sqrt(sums[2] / static_cast<double>(manifest_.test.ratings));
    rec.test_mae = sums[3] / static_cast<double>(manifest_.test.ratings);
  }
  return rec;
}

}  // namespace dals
