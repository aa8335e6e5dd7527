// The distributed top-K of routed items (ranking_routed.hpp).
#include "ranking_routed.hpp"

#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "dals/core/error.hpp"
#include "dals/mpi/route_rows.hpp"
#include "ranking_internal.hpp"

namespace dals {
namespace {

using ranking_detail::Candidate;

std::uint32_t float_word(float f) {
  std::uint32_t w;
  std::memcpy(&w, &f, 4);
  return w;
}
float word_float(std::uint32_t w) {
  float f;
  std::memcpy(&f, &w, 4);
  return f;
}

// The users of other ranks received in one round, as the ranker reads
// them: their rows (ids 0..n-1) and their excluded items (dense ids).
struct ReceivedUsers {
  FactorTable rows;
  CsrBlock excluded;
  std::vector<std::int64_t> from;  // users from each rank, in rank order
};

ReceivedUsers parse_received(const std::vector<std::uint32_t>& words, const std::vector<std::int64_t>& counts, int k,
                             std::int64_t num_items) {
  ReceivedUsers in;
  in.from.assign(counts.size(), 0);
  in.excluded.num_cols = num_items;
  const std::int64_t row_words = routed_ranking_row_words(k);
  // First pass: how many users; a second one fills the table.
  std::int64_t users = 0;
  for (std::size_t pos = 0; pos < words.size(); ++users) pos += row_words + words[pos + k];
  in.rows = FactorTable(0, users, k);
  std::size_t pos = 0;
  std::int64_t u = 0;
  for (std::size_t s = 0; s < counts.size(); ++s) {
    const std::size_t end = pos + static_cast<std::size_t>(counts[s]);
    for (; pos < end; ++u, ++in.from[s]) {
      float* row = in.rows.row(u);
      for (int d = 0; d < k; ++d) row[d] = word_float(words[pos + d]);
      const std::uint32_t n = words[pos + k];
      for (std::uint32_t i = 0; i < n; ++i)
        in.excluded.indices.push_back(static_cast<std::int32_t>(words[pos + row_words + i]));
      in.excluded.indptr.push_back(static_cast<std::int64_t>(in.excluded.indices.size()));
      pos += row_words + n;
    }
  }
  return in;
}

// The received users' top-kmax over this rank's items, OpenMP over batches.
void rank_received(const ReceivedUsers& in, const FactorTable& items, int kmax, const RankingOptions& options,
                   std::vector<Candidate>& lists, std::vector<std::int32_t>& counts) {
  const std::int64_t n = in.rows.rows(), batch = options.user_batch;
  lists.assign(static_cast<std::size_t>(n) * kmax, Candidate{0.f, -1});
  counts.assign(n, 0);
  const std::int64_t batches = (n + batch - 1) / batch;
#pragma omp parallel
  {
    ranking_detail::ModelRanker ranker(in.rows, items, in.excluded, options);
    std::vector<std::int64_t> ids;
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::int64_t lo = b * batch, hi = std::min(n, lo + batch);
      ids.clear();
      for (std::int64_t u = lo; u < hi; ++u) ids.push_back(u);
      ranker.rank(ids.data(), hi - lo, kmax, lists.data() + lo * kmax, counts.data() + lo);
    }
  }
}

// Adds users' metrics in sums_by_block's order: each chunk of kRankingChunk
// users (from its block's first row) summed over its users in row order,
// then added to its block's sums, chunk after chunk.
class BlockSums {
 public:
  BlockSums(const std::vector<std::int64_t>& block_first, const std::vector<int>& ks)
      : first_(block_first), ks_(ks), out_(block_first.size(), std::vector<RankingSums>(ks.size())) {
    for (auto& block : out_)
      for (std::size_t j = 0; j < ks.size(); ++j) block[j].k = ks[j];
    chunk_ = fresh();
  }
  void add(std::int64_t user, const std::int32_t* list, int count, const std::int32_t* test_items,
           std::int64_t test_count) {
    while (block_ + 1 < first_.size() && user >= first_[block_ + 1]) ++block_;
    const std::int64_t chunk = (user - first_[block_]) / kRankingChunk;
    if (has_chunk_ && (chunk_block_ != block_ || chunk_index_ != chunk)) flush();
    has_chunk_ = true, chunk_block_ = block_, chunk_index_ = chunk;
    for (std::size_t j = 0; j < ks_.size(); ++j)
      chunk_[j] += user_ranking_metrics(list, count, ks_[j], test_items, test_count);
  }
  std::vector<std::vector<RankingSums>> finish() {
    if (has_chunk_) flush();
    return std::move(out_);
  }

 private:
  std::vector<RankingSums> fresh() const {
    std::vector<RankingSums> s(ks_.size());
    for (std::size_t j = 0; j < ks_.size(); ++j) s[j].k = ks_[j];
    return s;
  }
  void flush() {
    for (std::size_t j = 0; j < ks_.size(); ++j) out_[chunk_block_][j] += chunk_[j];
    chunk_ = fresh();
    has_chunk_ = false;
  }
  const std::vector<std::int64_t>& first_;
  const std::vector<int>& ks_;
  std::vector<std::vector<RankingSums>> out_;
  std::vector<RankingSums> chunk_;
  std::size_t block_ = 0, chunk_block_ = 0;
  std::int64_t chunk_index_ = 0;
  bool has_chunk_ = false;
};

}  // namespace

std::int64_t routed_ranking_users_per_round(std::int64_t buffer_bytes, int ranks, int k, int kmax) {
  const std::int64_t per_user = (routed_ranking_row_words(k) + routed_ranking_list_words(kmax)) * 4 * ranks;
  return std::max<std::int64_t>(1, buffer_bytes / per_user);
}

CsrBlock training_items_of_test_users(const CsrBlock& train, const CsrBlock& test) {
  require(test.first_row == train.first_row && test.rows() == train.rows(),
          "routed ranking: the test entries and the training entries hold different users");
  CsrBlock out;
  out.first_row = train.first_row;
  out.num_cols = train.num_cols;
  out.column_ids = train.column_ids;
  out.indptr.reserve(train.indptr.size());
  for (std::int64_t r = 0; r < train.rows(); ++r) {
    if (test.degree(r) > 0)
      out.indices.insert(out.indices.end(), train.indices.begin() + train.indptr[r],
                         train.indices.begin() + train.indptr[r + 1]);
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
  }
  return out;
}

RoutedRanking routed_ranking_sums_by_block(const Comm& comm, const FactorTable& users, const FactorTable& items,
                                           const SideLayout& item_layout, const CsrBlock& train, const CsrBlock& test,
                                           const std::vector<std::int64_t>& block_first, std::int64_t end,
                                           const std::vector<int>& ks, std::int64_t users_per_round,
                                           const RankingOptions& options) {
  require(!ks.empty(), "ranking metrics: no K given");
  require(users_per_round >= 1, "routed ranking: at least one user per round");
  const int kmax = *std::max_element(ks.begin(), ks.end());
  const int k = users.k(), p = comm.size(), me = comm.rank();
  require(items.k() == k,
          "ranking: user factors have k = " + std::to_string(k) + " but item factors k = " + std::to_string(items.k()));
  const OwnedRange mine = item_layout.of(me);
  require(items.first_row() == mine.first_row && items.end_row() == mine.end_row,
          "routed ranking: the item table does not hold this rank's items");
  const std::int64_t first = block_first.empty() ? end : block_first.front();
  require(train.first_row <= first && end <= train.first_row + train.rows() && test.first_row == train.first_row &&
              test.rows() == train.rows() && users.first_row() <= first && end <= users.end_row(),
          "routed ranking: users [" + std::to_string(first) + ", " + std::to_string(end) +
              ") are not within the training, test and factor rows");

  std::int64_t own_test_users = 0;
  for (std::int64_t u = first; u < end; ++u) own_test_users += test.degree(u - test.first_row) > 0;
  const std::int64_t rounds = comm.max((own_test_users + users_per_round - 1) / users_per_round);
  const std::int64_t list_words = routed_ranking_list_words(kmax);

  RoutedRanking result;
  BlockSums sums(block_first, ks);
  std::int64_t cursor = first;  // the next own user not yet sent
  std::vector<std::int64_t> batch, send_counts(p), recv_counts, reply_counts(p), back_counts;
  std::vector<std::uint32_t> words;
  std::vector<Candidate> lists, merged(kmax);
  std::vector<std::int32_t> counts, merged_items(kmax), part_counts(p);
  std::vector<const Candidate*> parts(p);
  std::vector<Candidate> replies;
  for (std::int64_t round = 0; round < rounds; ++round) {
    batch.clear();
    for (; cursor < end && static_cast<std::int64_t>(batch.size()) < users_per_round; ++cursor)
      if (test.degree(cursor - test.first_row) > 0) batch.push_back(cursor);
    // Out: to each rank, every batch user's row and its training items in that rank's range.
    words.clear();
    for (int d = 0; d < p; ++d) {
      const OwnedRange range = item_layout.of(d);
      const std::size_t before = words.size();
      for (const std::int64_t u : batch) {
        const float* row = users.row(u);
        for (int f = 0; f < k; ++f) words.push_back(float_word(row[f]));
        const std::int64_t r = u - train.first_row;
        const std::int32_t* b = train.indices.data() + train.indptr[r];
        const std::int32_t* e = train.indices.data() + train.indptr[r + 1];
        const std::int32_t* lo = std::lower_bound(b, e, static_cast<std::int32_t>(range.first_row));
        const std::int32_t* hi = std::lower_bound(lo, e, static_cast<std::int32_t>(range.end_row));
        words.push_back(static_cast<std::uint32_t>(hi - lo));
        for (const std::int32_t* it = lo; it < hi; ++it) words.push_back(static_cast<std::uint32_t>(*it));
      }
      send_counts[d] = static_cast<std::int64_t>(words.size() - before);
    }
    double start = MPI_Wtime();
    const std::vector<std::uint32_t> in_words = alltoallv_words(comm, words, send_counts, recv_counts);
    result.seconds += MPI_Wtime() - start;
    for (int d = 0; d < p; ++d)
      if (d != me) result.sent += send_counts[d] * 4, result.received += recv_counts[d] * 4;

    // Rank them against the own items; back: each user's count and kmax (score, item) pairs.
    {
      const ReceivedUsers in = parse_received(in_words, recv_counts, k, train.num_cols);
      rank_received(in, items, kmax, options, lists, counts);
      words.clear();
      for (std::int64_t u = 0; u < in.rows.rows(); ++u) {
        words.push_back(static_cast<std::uint32_t>(counts[u]));
        for (int i = 0; i < kmax; ++i) {
          const Candidate& c = lists[static_cast<std::size_t>(u) * kmax + i];
          words.push_back(float_word(c.score));
          words.push_back(static_cast<std::uint32_t>(c.item));
        }
      }
      for (int s = 0; s < p; ++s) reply_counts[s] = in.from[s] * list_words;
    }
    start = MPI_Wtime();
    const std::vector<std::uint32_t> back = alltoallv_words(comm, words, reply_counts, back_counts);
    result.seconds += MPI_Wtime() - start;
    for (int d = 0; d < p; ++d)
      if (d != me) result.sent += reply_counts[d] * 4, result.received += back_counts[d] * 4;

    // Merge each user's P lists (rank d's at d's offset, the users in batch order) and sum its metrics.
    const auto n = static_cast<std::int64_t>(batch.size());
    replies.resize(static_cast<std::size_t>(p) * n * kmax);
    std::int64_t offset = 0;
    for (int d = 0; d < p; ++d) {
      require(back_counts[d] == n * list_words, "routed ranking: rank " + std::to_string(d) + " sent " +
                                                    std::to_string(back_counts[d]) + " words of lists, not " +
                                                    std::to_string(n * list_words));
      for (std::int64_t i = 0; i < n; ++i) {
        const std::uint32_t* w = back.data() + offset + i * list_words;
        Candidate* out = replies.data() + (static_cast<std::size_t>(d) * n + i) * kmax;
        for (int j = 0; j < kmax; ++j) out[j] = {word_float(w[1 + 2 * j]), static_cast<std::int32_t>(w[2 + 2 * j])};
      }
      offset += back_counts[d];
    }
    for (std::int64_t i = 0; i < n; ++i) {
      offset = 0;
      for (int d = 0; d < p; ++d) {
        parts[d] = replies.data() + (static_cast<std::size_t>(d) * n + i) * kmax;
        part_counts[d] = static_cast<std::int32_t>(back[offset + i * list_words]);
        offset += back_counts[d];
      }
      const int count = ranking_detail::merge_candidates(parts.data(), part_counts.data(), p, kmax, merged.data());
      for (int j = 0; j < count; ++j) merged_items[j] = merged[j].item;
      const std::int64_t r = batch[i] - test.first_row;
      sums.add(batch[i], merged_items.data(), count, test.indices.data() + test.indptr[r], test.degree(r));
    }
  }
  result.blocks = sums.finish();
  return result;
}

}  // namespace dals
