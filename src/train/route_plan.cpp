#include "dals/train/route_plan.hpp"

#include <algorithm>
#include <limits>

#include "column_set.hpp"
#include "dals/mpi/route_rows.hpp"

namespace dals {

std::int64_t RouteChunk::rows() const {
  std::int64_t n = 0;
  for (std::int64_t c : recv_counts) n += c;
  return n;
}

namespace {

// Closes the chunk of rows [begin, end): numbers its columns, rewrites the
// rows' columns into those numbers and counts the rows each rank owns.
RouteChunk close_chunk(CsrBlock& ratings, std::int64_t begin, std::int64_t end, ColumnSet& set,
                       const SideLayout& layout, std::vector<std::int64_t>& needed, std::int64_t skip_degree) {
  RouteChunk chunk;
  chunk.row_begin = begin;
  chunk.row_end = end;
  // The set holds the block's columns (positions, for a compacted block:
  // they keep the dense ids' order); what is asked of the owners is ids.
  const std::vector<std::int32_t> columns = set.number_in_order();
  needed.resize(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i)
    needed[i] = ratings.compacted() ? ratings.column_ids[columns[i]] : columns[i];
  for (std::int64_t r = begin; r < end; ++r)
    if (ratings.degree(r) < skip_degree)
      for (std::int64_t p = ratings.indptr[r]; p < ratings.indptr[r + 1]; ++p)
        ratings.indices[p] = set.position(ratings.indices[p]);
  chunk.recv_counts.assign(layout.ranks(), 0);
  int owner = 0;
  for (const std::int64_t id : needed) {
    while (id >= layout.of(owner).end_row) ++owner;
    ++chunk.recv_counts[owner];
  }
  set.clear();
  return chunk;
}

}  // namespace

std::vector<RouteChunk> cut_route_chunks(CsrBlock& ratings, const SideLayout& routed_layout, std::int64_t buffer_rows,
                                         std::vector<std::vector<std::int64_t>>& needed, std::int64_t& distinct_rows,
                                         std::int64_t skip_degree) {
  // Chunks: as many consecutive rows as reference at most buffer_rows rows.
  std::vector<std::int64_t> ends;
  ColumnSet set(std::min<std::int64_t>(buffer_rows, ratings.nnz()) + 1);
  auto routed = [&](std::int64_t r) { return ratings.degree(r) < skip_degree; };
  for (std::int64_t r = 0; r < ratings.rows(); ++r) {
    if (!routed(r)) continue;
    const std::int32_t* cols = ratings.indices.data() + ratings.indptr[r];
    const std::int64_t degree = ratings.degree(r);
    std::int64_t fresh = 0;
    for (std::int64_t q = 0; q < degree; ++q) fresh += !set.contains(cols[q]);
    if (set.size() + fresh > buffer_rows) ends.push_back(r), set.clear();
    for (std::int64_t q = 0; q < degree; ++q) set.insert(cols[q]);
  }
  set.clear();
  if (ratings.rows() > 0) ends.push_back(ratings.rows());
  distinct_rows = 0;
  if (ends.size() > 1) {  // the duplication needs the distinct rows of all chunks together
    std::vector<std::int32_t> all;
    for (std::int64_t r = 0; r < ratings.rows(); ++r)
      if (routed(r))
        all.insert(all.end(), ratings.indices.begin() + ratings.indptr[r],
                   ratings.indices.begin() + ratings.indptr[r + 1]);
    std::sort(all.begin(), all.end());
    distinct_rows = std::unique(all.begin(), all.end()) - all.begin();
  }
  std::vector<RouteChunk> chunks;
  needed.assign(ends.size(), {});
  std::int64_t begin = 0;
  for (std::size_t c = 0; c < ends.size(); ++c) {
    for (std::int64_t r = begin; r < ends[c]; ++r)
      if (routed(r))
        for (std::int64_t q = ratings.indptr[r]; q < ratings.indptr[r + 1]; ++q) set.insert(ratings.indices[q]);
    chunks.push_back(close_chunk(ratings, begin, ends[c], set, routed_layout, needed[c], skip_degree));
    begin = ends[c];
  }
  if (chunks.size() == 1) distinct_rows = chunks[0].rows();
  return chunks;
}

std::string buffer_too_small(const std::string& option, std::int64_t buffer_rows, std::int64_t row_bytes,
                             std::int64_t widest, bool heavy_hint) {
  std::string e = option + " holds " + std::to_string(buffer_rows) + " rows of " + std::to_string(row_bytes) +
                  " bytes, but one row's ratings reference " + std::to_string(widest) + " rows: give at least " +
                  std::to_string(widest * row_bytes) + " bytes";
  // A threshold is at least k + 1 (and none at k = 0): only a buffer of k
  // rows or more has one that takes every row it cannot hold.
  const std::int64_t k = row_bytes / 4 - 1;
  if (heavy_hint && k > 0 && buffer_rows >= k)
    e += ", or solve rows of more ratings than it holds from their normal equations with --heavy-rows " +
         std::to_string(buffer_rows + 1);
  return e;
}

RoutePlan RoutePlan::build(const Comm& comm, CsrBlock& ratings, const SideLayout& routed_layout,
                           std::int64_t buffer_rows, std::span<const std::int64_t> owned_degrees, bool with_known,
                           const std::string& option, std::int64_t row_bytes, std::int64_t skip_degree) {
  const int p = comm.size();
  RoutePlan plan;
  plan.no_rows_.assign(p, 0);
  std::int64_t widest = 0;
  for (std::int64_t r = 0; r < ratings.rows(); ++r)
    if (ratings.degree(r) < skip_degree) widest = std::max(widest, ratings.degree(r));
  widest = comm.max(widest);
  plan.stats_.widest_row = widest;
  if (widest > buffer_rows) throw Error(buffer_too_small(option, buffer_rows, row_bytes, widest, !with_known));

  std::vector<std::vector<std::int64_t>> needed;
  plan.chunks_ = cut_route_chunks(ratings, routed_layout, buffer_rows, needed, plan.stats_.distinct_rows, skip_degree);

  // One request round per chunk round: each owner learns what to send.
  plan.rounds_ = static_cast<int>(comm.max(static_cast<std::int64_t>(plan.chunks_.size())));
  const OwnedRange own = routed_layout.of(comm.rank());
  // The send lists hold offsets from the owner's first row in 32 bits.
  const std::int64_t most_owned = comm.max(own.end_row - own.first_row);
  if (most_owned > std::numeric_limits<std::uint32_t>::max())
    throw Error("routing plan: a rank owns " + std::to_string(most_owned) +
                " rows of a routed side, more than 2^32 - 1: run on more ranks");
  plan.send_.resize(plan.rounds_);
  plan.send_first_.resize(plan.rounds_);
  for (int round = 0; round < plan.rounds_; ++round) {
    std::vector<std::vector<std::int64_t>> request(p);
    if (round < static_cast<int>(needed.size())) {
      int owner = 0;
      for (const std::int64_t id : needed[round]) {
        while (id >= routed_layout.of(owner).end_row) ++owner;
        request[owner].push_back(id);
      }
      std::vector<std::int64_t>().swap(needed[round]);
    }
    std::vector<std::int64_t> counts;
    const std::vector<std::int64_t> asked = alltoallv_ids(comm, request, counts);
    auto& rows = plan.send_[round];
    rows.resize(asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) {
      if (asked[i] < own.first_row || asked[i] >= own.end_row)
        throw Error("routing plan: asked for row " + std::to_string(asked[i]) + ", which this rank does not own");
      rows[i] = static_cast<std::uint32_t>(asked[i] - own.first_row);
    }
    auto& first = plan.send_first_[round];
    first.assign(p + 1, 0);
    for (int r = 0; r < p; ++r) first[r + 1] = first[r] + counts[r];
    plan.stats_.rows_sent += first[p];
    for (int r = 0; r < p; ++r)
      if (r != comm.rank()) plan.stats_.rows_sent_remote += counts[r];
    if (with_known) {  // which of the asked rows have training ratings: the owner knows
      std::vector<std::vector<std::int64_t>> reply(p);
      for (int r = 0; r < p; ++r)
        for (std::int64_t i = first[r]; i < first[r + 1]; ++i) reply[r].push_back(owned_degrees[rows[i]] > 0);
      std::vector<std::int64_t> reply_counts;
      const std::vector<std::int64_t> flags = alltoallv_ids(comm, reply, reply_counts);
      if (round < static_cast<int>(plan.chunks_.size())) plan.chunks_[round].known.assign(flags.begin(), flags.end());
    }
  }

  RouteStats& s = plan.stats_;
  s.chunks = static_cast<std::int64_t>(plan.chunks_.size());
  for (const RouteChunk& c : plan.chunks_) {
    s.rows_received += c.rows();
    s.rows_remote += c.rows() - c.recv_counts[comm.rank()];
    s.max_chunk_rows = std::max(s.max_chunk_rows, c.rows());
  }
  if (s.chunks <= 1) s.distinct_rows = s.rows_received;
  return plan;
}

std::vector<std::span<const std::uint32_t>> RoutePlan::send_rows(int round) const {
  std::vector<std::span<const std::uint32_t>> out;
  const auto& rows = send_[round];
  const auto& first = send_first_[round];
  for (std::size_t r = 0; r + 1 < first.size(); ++r)
    out.emplace_back(rows.data() + first[r], static_cast<std::size_t>(first[r + 1] - first[r]));
  return out;
}

const std::vector<std::int64_t>& RoutePlan::recv_counts(int round) const {
  return round < static_cast<int>(chunks_.size()) ? chunks_[round].recv_counts : no_rows_;
}

}  // namespace dals
