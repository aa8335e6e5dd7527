// dals-eval --test-file: held-out entries with raw ids, read with fold-in's
// parser (foldin.hpp) and mapped with the dataset's ids, in place of the
// dataset's test split.
#include <algorithm>
#include <unordered_map>

#include "dals/checkpoint/added_users.hpp"
#include "dals/checkpoint/trained_rows.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/id_index.hpp"
#include "dals/data/inspect.hpp"
#include "dals/recommend/foldin.hpp"
#include "eval_block.hpp"

namespace dals::eval_detail {

namespace {

// Raw id text -> dense id of one side, ids the dataset lacks numbered after
// its own in order of first appearance. One map of every id (as fold-in
// maps items): a file's ids fall in every block, so looking each up in its
// block (IdLookup) would read the blocks again and again.
class IdMapper {
 public:
  // `more`: ids the model has after the dataset's (its added users).
  IdMapper(const std::string& data, const Manifest& m, Side side, const std::vector<std::string>& more = {}) {
    std::vector<std::string> ids = raw_id_texts(data, m, side);
    ids.insert(ids.end(), more.begin(), more.end());
    integer_ = m.rows(side) > 0 && id_block_type(ids_path(data, side, 0)) != "string";
    known_ = static_cast<std::int64_t>(ids.size());
    dense_.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) dense_.emplace(ids[i], static_cast<std::int64_t>(i));
  }
  // The dense id, and whether the dataset has it.
  std::pair<std::int64_t, bool> map(std::string_view raw) {
    auto [it, added] = dense_.emplace(canonical_id(raw, integer_), known_ + added_);
    if (added) ++added_;
    return {it->second, it->second < known_};
  }
  std::int64_t added() const { return added_; }

 private:
  std::unordered_map<std::string, std::int64_t> dense_;
  std::int64_t known_ = 0, added_ = 0;
  bool integer_ = false;
};

}  // namespace

TestFileCounts read_test_file_input(const Comm& comm, const EvalConfig& c, const Manifest& m, const SavedState& s,
                                    bool implicit, const OwnedRange& own, EvalInput& in) {
  TestFileCounts counts;
  const bool last = comm.rank() == comm.size() - 1;
  std::vector<Triplet> mine;  // this rank's users' entries, in file order
  std::vector<std::uint8_t> new_user_seen, new_item_seen;
  // The users fold-in added (added_users.hpp): known users after the
  // dataset's, owned by the last rank with the new ones.
  AddedUsers added;
  run_collectively(comm, [&] {
    added = read_model_added_users(c.model, s, id_block_type(ids_path(c.data, Side::users, 0)) == "string" ? 1 : 0);
    IdMapper users(c.data, m, Side::users, added.ids), items(c.data, m, Side::items);
    for_each_entry(c.test_file, implicit, c.test_header, [&](const RawEntry& e) {
      ++counts.entries;
      const auto [u, user_known] = users.map(e.user);
      const auto [j, item_known] = items.map(e.item);
      counts.new_user_entries += !user_known;
      counts.new_item_entries += !item_known;
      const bool owned = user_known && u < m.users ? (u >= own.first_row && u < own.end_row) : last;
      if (owned) mine.push_back({u, j, e.value});
    });
    counts.new_users = users.added();
    counts.new_items = items.added();
  });
  const std::int64_t n_users = m.users + added.count() + counts.new_users, n_items = m.items + counts.new_items;
  const std::int64_t end_row = last ? n_users : own.end_row;

  run_collectively(comm, [&] {
    in.tables = PerSide<FactorTable>{FactorTable(n_users, s.factors), FactorTable(n_items, s.factors)};
    in.user_degree =
        read_factor_blocks_counted(c.model, c.data, m, s, Side::users, own.first_block, own.end_block, in.tables.users);
    in.item_degree = read_factor_blocks_counted(c.model, c.data, m, s, Side::items, 0, m.blocks, in.tables.items);
    in.train = read_user_rows(c.data, m, Split::train, own);
  });
  in.train.num_cols = n_items;
  if (last) {
    // The added users' rows, training counts and rated items (never ranked);
    // the new users' rows stay zero, without training ratings.
    std::copy(added.rows.begin(), added.rows.end(), in.tables.users.row(m.users));
    in.user_degree.insert(in.user_degree.end(), added.training_ratings.begin(), added.training_ratings.end());
    for (const auto& items : added.rated) {
      in.train.indices.insert(in.train.indices.end(), items.begin(), items.end());
      in.train.values.insert(in.train.values.end(), items.size(), 1.f);
      in.train.indptr.push_back(in.train.nnz());
    }
  }
  for (std::int64_t u = in.train.first_row + in.train.rows(); u < end_row; ++u)
    in.train.indptr.push_back(in.train.nnz());

  // A repeated pair: the last line's value (fold-in's rule for explicit
  // entries; an implicit model's values are not read).
  std::stable_sort(mine.begin(), mine.end(),
                   [](const Triplet& a, const Triplet& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; });
  std::vector<Triplet> unique;
  unique.reserve(mine.size());
  for (const Triplet& t : mine) {
    if (!unique.empty() && unique.back().row == t.row && unique.back().col == t.col)
      unique.back().value = t.value;
    else
      unique.push_back(t);
  }
  counts.pairs = static_cast<std::int64_t>(unique.size());
  comm.allreduce_inplace(std::span<std::int64_t>(&counts.pairs, 1), MPI_SUM);
  in.test = csr_from_triplets(own.first_row, end_row - own.first_row, n_items, std::move(unique));
  return counts;
}

}  // namespace dals::eval_detail
