// dals-plan's simulation (plan.hpp): every figure the trainer would hold or
// move on each of P ranks, from the rating blocks, one rank at a time.
#include "dals/train/plan.hpp"

#include <algorithm>
#include <limits>

#include "dals/core/huge_pages.hpp"
#include "dals/core/memory.hpp"
#include "dals/data/dataset.hpp"
#include "dals/solve/tile_kernels.hpp"
#include "dals/train/heavy_rows.hpp"
#include "dals/train/layout.hpp"
#include "dals/train/route_plan.hpp"
#include "ranking_routed.hpp"
#include "trainer_loading.hpp"

namespace dals {

const std::vector<std::string>& plan_field_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n = {"own_users",        "own_items",    "ratings_by_user",
                                  "ratings_by_item",  "test_ratings", "referenced_items",
                                  "referenced_users", "heavy_users",  "heavy_items"};
    for (const char* half : {"user_half", "item_half", "test"})
      for (const char* f : {"chunks", "rows_received", "rows_remote", "rows_sent", "rows_sent_remote", "max_chunk_rows",
                            "distinct_rows"})
        n.push_back(std::string(half) + "." + f);
    for (const char* f :
         {"user_half.bytes_sent", "user_half.bytes_received", "item_half.bytes_sent", "item_half.bytes_received",
          "held_out.ranking_bytes_sent", "held_out.ranking_bytes_received", "held_out.bytes_sent",
          "held_out.bytes_received", "iteration.bytes_sent", "iteration.bytes_received"})
      n.emplace_back(f);
    for (const char* f : {"ratings_by_user", "ratings_by_item", "held_out_ratings", "implicit_constants",
                          "user_factors", "item_factors", "exchange_buffer", "routing_plans", "known_flags",
                          "training_counts", "cg_half_copy", "heavy_rows", "ranking_exclusions", "total"})
      n.push_back(std::string("memory.") + f);
    return n;
  }();
  return names;
}

namespace {

// Offsets of a routed half's figures from its first (u_chunks, ...).
enum HalfOffset { chunks_at, received_at, remote_at, sent_at, sent_remote_at, max_chunk_at, distinct_at };

// The three routed plans of a trainer: their first field, their widest row
// (the most rows one local row references, over the simulated ranks), and
// per owner the rows sent (all, and to other ranks).
struct HalfPlan {
  int base = 0;
  std::int64_t widest = 0;
  std::vector<std::int64_t> sent, sent_remote;
};

// As CsrBlock's arrays take it: indptr (8 bytes a row and one more), 4 + 4 a rating.
std::int64_t csr_bytes(std::int64_t rows, std::int64_t nnz) { return (rows + 1) * 8 + nnz * 8; }

std::int64_t distinct_columns(const CsrBlock& r) {
  std::vector<std::int32_t> all(r.indices.begin(), r.indices.end());
  std::sort(all.begin(), all.end());
  return std::unique(all.begin(), all.end()) - all.begin();
}

// One routed half of simulated rank `rank`: the trainer's chunks of
// `ratings` (rewritten in place) and what they receive; each owner's rows
// sent are added to `half`. A rank with a row wider than the buffer is
// left out here: make_plan refuses the buffer, as RoutePlan::build does.
void plan_half(CsrBlock& ratings, const SideLayout& routed, std::int64_t buffer_rows, int rank, HalfPlan& half,
               std::vector<std::int64_t>& f, std::int64_t skip_degree = kNoHeavyRows) {
  std::int64_t widest = 0;
  for (std::int64_t r = 0; r < ratings.rows(); ++r)
    if (ratings.degree(r) < skip_degree) widest = std::max(widest, ratings.degree(r));
  half.widest = std::max(half.widest, widest);
  if (widest > buffer_rows) return;
  std::vector<std::vector<std::int64_t>> needed;
  std::int64_t distinct = 0;
  const std::vector<RouteChunk> chunks = cut_route_chunks(ratings, routed, buffer_rows, needed, distinct, skip_degree);
  const int b = half.base;
  f[b + chunks_at] = static_cast<std::int64_t>(chunks.size());
  for (const RouteChunk& c : chunks) {
    f[b + received_at] += c.rows();
    f[b + remote_at] += c.rows() - c.recv_counts[rank];
    f[b + max_chunk_at] = std::max(f[b + max_chunk_at], c.rows());
    for (int owner = 0; owner < routed.ranks(); ++owner) {
      half.sent[owner] += c.recv_counts[owner];
      if (owner != rank) half.sent_remote[owner] += c.recv_counts[owner];
    }
  }
  // As RouteStats: one chunk (or none) receives each row once.
  f[b + distinct_at] = chunks.size() <= 1 ? f[b + received_at] : distinct;
}

// Heavy rows (heavy_rows.hpp), per side solved: each simulated rank's
// count, and where the fixed side is routed, the ratings of the heavy rows
// each fixed-side owner indexes.
struct HeavyPlan {
  std::int64_t threshold = kNoHeavyRows;
  std::vector<std::int64_t> of;       // heavy rows per rank
  std::vector<std::int64_t> entries;  // per fixed-side owner
  std::vector<int> fixed_blocks_of;   // fixed blocks per rank
  std::int64_t group = 1;
};

// Counts rank `rank`'s heavy rows of `ratings` (and, for a routed fixed
// side, their ratings by the owner of each fixed row).
void count_heavy(const CsrBlock& ratings, const SideLayout& fixed, bool fixed_routed, int rank, HeavyPlan& h) {
  for (std::int64_t r = 0; r < ratings.rows(); ++r) {
    if (ratings.degree(r) < h.threshold) continue;
    ++h.of[rank];
    if (!fixed_routed) continue;
    int owner = 0;
    for (std::int64_t q = ratings.indptr[r]; q < ratings.indptr[r + 1]; ++q) {
      while (ratings.column(q) >= fixed.of(owner).end_row) ++owner;
      ++h.entries[owner];
    }
  }
}

// The figures that need every rank's sends (the routed rows each rank
// owns and others ask for): bytes per half and memory, as the trainer
// counts them (Trainer::route, exchange, model_bytes).
// `own_blocks`: the simulated rank's blocks per side (implicit mode's
// Gramian partials of a routed side, Trainer::form_gramian).
void finish_rank(const Plan& plan, const TrainConfig& train, const PerSide<std::int64_t>& own_blocks,
                 const PerSide<HeavyPlan>& heavy, int rank, std::vector<std::int64_t>& f) {
  const std::int64_t row_bytes = static_cast<std::int64_t>(plan.k + 1) * 4, p = plan.ranks;
  auto table_bytes = [&](std::int64_t rows) {
    return static_cast<std::int64_t>(bytes_for_random_reads(static_cast<std::size_t>(rows * row_bytes)));
  };
  // An all-gathered side: each rank sends its rows to every other and receives all others'.
  const std::int64_t user_gather_sent = plan.routed_users ? 0 : f[own_users] * row_bytes * (p - 1);
  const std::int64_t user_gather_received = plan.routed_users ? 0 : (plan.users - f[own_users]) * row_bytes;
  const std::int64_t item_gather_sent = plan.routed_items ? 0 : f[own_items] * row_bytes * (p - 1);
  const std::int64_t item_gather_received = plan.routed_items ? 0 : (plan.items - f[own_items]) * row_bytes;
  // Implicit, a routed fixed side: its B lower triangles of k x k doubles, all-gathered by block.
  const std::int64_t triangle_bytes = static_cast<std::int64_t>(plan.k) * (plan.k + 1) / 2 * 8;
  auto gramian_sent = [&](bool routed, std::int64_t own) {
    return plan.implicit && routed ? own * triangle_bytes * (p - 1) : 0;
  };
  auto gramian_received = [&](bool routed, std::int64_t own) {
    return plan.implicit && routed ? (plan.blocks - own) * triangle_bytes : 0;
  };
  // The user half reads the items (their Gramian), the item half the users.
  f[user_half_bytes_sent] =
      f[u_rows_sent_remote] * row_bytes + user_gather_sent + gramian_sent(plan.routed_items, own_blocks.items);
  f[user_half_bytes_received] =
      f[u_rows_remote] * row_bytes + user_gather_received + gramian_received(plan.routed_items, own_blocks.items);
  f[item_half_bytes_sent] =
      f[i_rows_sent_remote] * row_bytes + item_gather_sent + gramian_sent(plan.routed_users, own_blocks.users);
  f[item_half_bytes_received] =
      f[i_rows_remote] * row_bytes + item_gather_received + gramian_received(plan.routed_users, own_blocks.users);
  // Heavy rows of a half whose fixed side is routed: their parts.
  if (plan.routed_items) {
    const HeavyPlan& h = heavy.users;
    f[user_half_bytes_sent] += HeavyRows::bytes_sent(h.of, h.fixed_blocks_of, rank, plan.k);
    f[user_half_bytes_received] += HeavyRows::bytes_received(h.of, h.fixed_blocks_of, rank, plan.k);
  }
  if (plan.routed_users) {
    const HeavyPlan& h = heavy.items;
    f[item_half_bytes_sent] += HeavyRows::bytes_sent(h.of, h.fixed_blocks_of, rank, plan.k);
    f[item_half_bytes_received] += HeavyRows::bytes_received(h.of, h.fixed_blocks_of, rank, plan.k);
  }
  f[held_out_bytes_sent] = f[t_rows_sent_remote] * row_bytes + f[held_out_ranking_bytes_sent];
  f[held_out_bytes_received] = f[t_rows_remote] * row_bytes + f[held_out_ranking_bytes_received];
  f[bytes_sent] = f[user_half_bytes_sent] + f[item_half_bytes_sent] + f[held_out_bytes_sent];
  f[bytes_received] = f[user_half_bytes_received] + f[item_half_bytes_received] + f[held_out_bytes_received];

  f[mem_user_factors] = table_bytes(plan.routed_users ? f[own_users] : plan.users);
  f[mem_item_factors] = table_bytes(plan.routed_items ? f[own_items] : plan.items);
  const std::int64_t buffer = std::max({f[u_max_chunk_rows], f[i_max_chunk_rows], f[t_max_chunk_rows]});
  f[mem_exchange_buffer] = buffer > 0 ? table_bytes(buffer) : 0;
  // The send lists (4 bytes a row), P counts of 8 bytes per chunk, and the
  // test plan's flag per received row.
  f[mem_routing_plans] = (f[u_rows_sent] + f[i_rows_sent] + f[t_rows_sent]) * 4 +
                         (f[u_chunks] + f[i_chunks] + f[t_chunks]) * p * 8 + f[t_rows_received];
  f[mem_known_flags] = f[own_users] + (plan.routed_items ? 0 : plan.items);
  f[mem_training_counts] = (f[own_users] + f[own_items]) * 8;
  f[mem_implicit_constants] = plan.implicit ? (f[own_users] + f[own_items]) * 8 : 0;
  f[mem_cg_half_copy] = 0;
  if (train.solver == Solver::cg && train.cg_precision == Precision::half && plan.k > 0) {
    std::int64_t rows = std::max<std::int64_t>(buffer, 1);
    if (!plan.routed_users) rows = std::max(rows, plan.users);
    if (!plan.routed_items) rows = std::max(rows, plan.items);
    f[mem_cg_half_copy] =
        static_cast<std::int64_t>(bytes_for_random_reads(static_cast<std::size_t>(rows) * tile_stride(plan.k) * 2) +
                                  bytes_for_random_reads(static_cast<std::size_t>(rows) * 4));
  }
  f[mem_heavy_rows] = HeavyRows::memory_bytes(heavy.users.of, heavy.users.fixed_blocks_of, rank,
                                              heavy.users.entries[rank], heavy.users.group, plan.k, plan.routed_items) +
                      HeavyRows::memory_bytes(heavy.items.of, heavy.items.fixed_blocks_of, rank,
                                              heavy.items.entries[rank], heavy.items.group, plan.k, plan.routed_users);
  f[mem_total] = 0;
  for (int c = mem_ratings_by_user; c < mem_total; ++c) f[mem_total] += f[c];
}

// Routed items' ranking of simulated rank `rank`: its test users' rows
// and excluded items (its `train` rows' items in each rank's range) go to
// every other rank (ranking_routed.cpp); `users` and `received` gather
// each rank's test users and bytes received, f the bytes sent and the
// memory of the excluded items.
void plan_ranking(const CsrBlock& train, const CsrBlock& test, const SideLayout& items, int rank,
                  std::int64_t row_bytes, std::vector<std::int64_t>& users, std::vector<std::int64_t>& received,
                  std::vector<std::int64_t>& f) {
  const int p = items.ranks();
  std::int64_t excluded = 0;
  for (std::int64_t r = 0; r < train.rows(); ++r) {
    if (test.rows() == 0 || test.degree(r) == 0) continue;
    ++users[rank];
    excluded += train.degree(r);
    const std::int32_t* b = train.indices.data() + train.indptr[r];
    const std::int32_t* e = train.indices.data() + train.indptr[r + 1];
    for (int d = 0; d < p; ++d) {
      if (d == rank) continue;
      const std::int32_t* lo = std::lower_bound(b, e, train.column_bound(items.of(d).first_row));
      const std::int32_t* hi = std::lower_bound(lo, e, train.column_bound(items.of(d).end_row));
      const std::int64_t bytes = row_bytes + (hi - lo) * 4;
      f[held_out_ranking_bytes_sent] += bytes;
      received[d] += bytes;
    }
  }
  // As ranking_exclusion_bytes: indptr over every own row, the test users' items.
  f[mem_ranking_exclusions] = train.rows() > 0 || excluded > 0 ? (train.rows() + 1) * 8 + excluded * 4 : 0;
}

}  // namespace

Plan make_plan(const Comm& comm, const PlanConfig& config) {
  TrainConfig train = config.train;
  train.data = config.data;
  Manifest m;
  Plan plan;
  run_collectively(comm, [&] {
    m = read_manifest(config.data);
    if (config.ranks > m.blocks)
      throw Error(config.data + ": --ranks " + std::to_string(config.ranks) + " but the dataset has only " +
                  std::to_string(m.blocks) + (m.blocks == 1 ? " block" : " blocks") +
                  " per side (P must be <= B; re-partition with more blocks)");
    apply_feedback_defaults(train, m.feedback == Feedback::events);
    plan.memory_per_rank =
        config.memory_per_rank > 0 ? config.memory_per_rank : static_cast<std::int64_t>(physical_memory_bytes());
    const PerSide<bool> routed = loading::routed_sides(train, m, plan.memory_per_rank);
    plan.routed_users = routed.users;
    plan.routed_items = routed.items;
  });
  const int p = config.ranks;
  plan.ranks = p;
  plan.k = train.factors;
  plan.blocks = m.blocks;
  plan.users = m.users;
  plan.items = m.items;
  plan.ratings = m.train.ratings;
  plan.test_ratings = m.has_test ? m.test.ratings : 0;
  plan.implicit = train.implicit;
  const std::int64_t row_bytes = static_cast<std::int64_t>(train.factors + 1) * 4;
  plan.buffer_rows = std::max<std::int64_t>(1, train.exchange_buffer / row_bytes);
  const double row_weight = train.solver == Solver::cholesky ? (train.factors + 1) / 3.0 : 1.0;
  const PerSide<SideLayout> layouts{SideLayout(m.train.blocks(Side::users), p, row_weight),
                                    SideLayout(m.train.blocks(Side::items), p, row_weight)};

  PerSide<HeavyPlan> heavy;
  for (Side side : kBothSides) {
    const Side fixed = other(side);
    HeavyPlan& h = heavy[side];
    const auto fixed_blocks = static_cast<std::int64_t>(m.train.blocks(fixed).size());
    h.threshold = heavy_threshold(train, fixed_blocks);
    h.of.assign(p, 0);
    h.entries.assign(p, 0);
    for (int q = 0; q < p; ++q)
      h.fixed_blocks_of.push_back(layouts[fixed].of(q).end_block - layouts[fixed].of(q).first_block);
    h.group = HeavyRows::group_for(fixed_blocks, train.factors, train.exchange_buffer);
  }

  // This process's share of the simulated ranks, each read, planned and dropped in turn.
  plan.per_rank.assign(p, std::vector<std::int64_t>(kPlanFields, 0));
  HalfPlan halves[3];
  const int bases[3] = {u_chunks, i_chunks, t_chunks};
  for (int h = 0; h < 3; ++h)
    halves[h].base = bases[h], halves[h].sent.assign(p, 0), halves[h].sent_remote.assign(p, 0);
  // Routed items' ranking (ranking_routed.hpp): per simulated rank, its test
  // users, and the bytes of their rows and excluded items it sends and
  // each rank receives (the lists back follow from the users).
  const bool routed_ranking = plan.routed_items && loading::ranks_every_item(train, m);
  run_collectively(comm, [&] {  // as the trainer: ranked by 32-bit item ids
    if (loading::ranks_every_item(train, m) && m.items > std::numeric_limits<std::int32_t>::max())
      throw Error(config.data + ": ranking every item per test user holds 32-bit item ids, and there are " +
                  std::to_string(m.items) + " items");
  });
  const std::int64_t ranking_row_bytes = routed_ranking_row_words(train.factors) * 4;
  const std::int64_t ranking_list_bytes = routed_ranking_list_words(train.eval_k) * 4;
  std::vector<std::int64_t> ranking_users(p, 0), ranking_received(p, 0);
  const int first = static_cast<int>(static_cast<std::int64_t>(p) * comm.rank() / comm.size());
  const int end = static_cast<int>(static_cast<std::int64_t>(p) * (comm.rank() + 1) / comm.size());
  // auto's budget (resolve_heavy_threshold) from every row's degree: a pass
  // over the blocks' offsets before the rows are planned.
  for (Side side : kBothSides) {
    HeavyPlan& h = heavy[side];
    if (train.heavy_rows >= 0 || h.threshold == kNoHeavyRows) continue;
    std::vector<std::int64_t> mine;
    run_collectively(comm, [&] {
      const auto& blocks = m.train.blocks(side);
      if (first == end) return;
      for (int b = layouts[side].of(first).first_block; b < layouts[side].of(end - 1).end_block; ++b)
        for (const std::int64_t d : read_ratings_degrees(ratings_path(train.data, Split::train, side, b), blocks[b]))
          if (d >= h.threshold) mine.push_back(d);
    });
    const Side fixed = other(side);
    h.threshold = agree_heavy_threshold(comm, mine, h.threshold, m.rows(fixed),
                                        static_cast<std::int64_t>(m.train.blocks(fixed).size()), train.factors);
  }
  run_collectively(comm, [&] {
    for (int r = first; r < end; ++r) {
      std::vector<std::int64_t>& f = plan.per_rank[r];
      const OwnedRange ou = layouts.users.of(r), oi = layouts.items.of(r);
      f[own_users] = ou.rows();
      f[own_items] = oi.rows();
      CsrBlock test;
      if (m.has_test) test = loading::read_owned(train, m, Split::test, Side::users, ou, plan.routed_items);
      {
        CsrBlock by_user = loading::read_owned(train, m, Split::train, Side::users, ou, plan.routed_items);
        if (routed_ranking)
          plan_ranking(by_user, test, layouts.items, r, ranking_row_bytes, ranking_users, ranking_received, f);
        f[ratings_by_user] = by_user.nnz();
        f[referenced_items] = distinct_columns(by_user);
        f[mem_ratings_by_user] = csr_bytes(by_user.rows(), by_user.nnz());
        count_heavy(by_user, layouts.items, plan.routed_items, r, heavy.users);
        if (plan.routed_items)
          plan_half(by_user, layouts.items, plan.buffer_rows, r, halves[0], f, heavy.users.threshold);
      }
      {
        CsrBlock by_item = loading::read_owned(train, m, Split::train, Side::items, oi, plan.routed_users);
        f[ratings_by_item] = by_item.nnz();
        f[referenced_users] = distinct_columns(by_item);
        f[mem_ratings_by_item] = csr_bytes(by_item.rows(), by_item.nnz());
        count_heavy(by_item, layouts.users, plan.routed_users, r, heavy.items);
        if (plan.routed_users)
          plan_half(by_item, layouts.users, plan.buffer_rows, r, halves[1], f, heavy.items.threshold);
      }
      // The test split (and the validation split's empty CSR: dals-plan has no --validation-fraction).
      f[mem_test_ratings] = csr_bytes(0, 0);
      if (m.has_test) {
        f[test_ratings] = test.nnz();
        f[mem_test_ratings] += csr_bytes(test.rows(), test.nnz());
        if (plan.routed_items && !plan.implicit) plan_half(test, layouts.items, plan.buffer_rows, r, halves[2], f);
      } else {
        f[mem_test_ratings] += csr_bytes(0, 0);
      }
    }
  });

  // Every process's share to every process: each field is one rank's, zero elsewhere.
  for (auto& f : plan.per_rank) comm.allreduce_inplace(std::span<std::int64_t>(f), MPI_SUM);
  for (Side side : kBothSides) {
    comm.allreduce_inplace(std::span<std::int64_t>(heavy[side].of), MPI_SUM);
    comm.allreduce_inplace(std::span<std::int64_t>(heavy[side].entries), MPI_SUM);
  }
  for (HalfPlan& h : halves) {
    comm.allreduce_inplace(std::span<std::int64_t>(h.sent), MPI_SUM);
    comm.allreduce_inplace(std::span<std::int64_t>(h.sent_remote), MPI_SUM);
    h.widest = comm.max(h.widest);
  }
  comm.allreduce_inplace(std::span<std::int64_t>(ranking_users), MPI_SUM);
  comm.allreduce_inplace(std::span<std::int64_t>(ranking_received), MPI_SUM);
  std::int64_t all_ranking_users = 0;
  for (const std::int64_t n : ranking_users) all_ranking_users += n;
  // The trainer builds the plans in this order and stops at the first refused.
  run_collectively(comm, [&] {
    const bool built[3] = {plan.routed_items, plan.routed_users, plan.routed_items && m.has_test && !plan.implicit};
    for (int h = 0; h < 3; ++h)
      if (built[h] && halves[h].widest > plan.buffer_rows)
        throw Error(buffer_too_small("--exchange-buffer", plan.buffer_rows, row_bytes, halves[h].widest, h < 2));
  });
  for (int r = 0; r < p; ++r) {
    std::vector<std::int64_t>& f = plan.per_rank[r];
    for (const HalfPlan& h : halves) {
      f[h.base + sent_at] = h.sent[r];
      f[h.base + sent_remote_at] = h.sent_remote[r];
    }
    // The lists back: each other rank's to this rank's users, this rank's to every other's.
    f[held_out_ranking_bytes_sent] += (all_ranking_users - ranking_users[r]) * ranking_list_bytes;
    f[held_out_ranking_bytes_received] = ranking_received[r] + ranking_users[r] * (p - 1) * ranking_list_bytes;
    const PerSide<std::int64_t> own_blocks{layouts.users.of(r).end_block - layouts.users.of(r).first_block,
                                           layouts.items.of(r).end_block - layouts.items.of(r).first_block};
    f[heavy_users] = heavy.users.of[r];
    f[heavy_items] = heavy.items.of[r];
    finish_rank(plan, train, own_blocks, heavy, r, f);
  }
  return plan;
}

}  // namespace dals
