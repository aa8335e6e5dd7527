#include "dals/data/dataset_builder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "dals/core/error.hpp"
#include "dals/core/rng.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/data/blocking.hpp"
#include "dals/data/dataset.hpp"

namespace dals {

namespace {

struct DenseIds {
  std::vector<std::int64_t> raw_of_dense;
  std::unordered_map<std::int64_t, std::int64_t> dense_of_raw;
};

// Orders raw ids by a seeded hash: a deterministic shuffle that spreads the
// popular ids over all blocks, whatever order they had in the input.
DenseIds assign_dense_ids(std::vector<std::int64_t> raw, std::uint64_t seed, std::uint64_t side) {
  std::sort(raw.begin(), raw.end());
  raw.erase(std::unique(raw.begin(), raw.end()), raw.end());
  std::sort(raw.begin(), raw.end(), [&](std::int64_t a, std::int64_t b) {
    auto ha = key_hash(seed, side, static_cast<std::uint64_t>(a)),
         hb = key_hash(seed, side, static_cast<std::uint64_t>(b));
    return ha != hb ? ha < hb : a < b;
  });
  DenseIds ids;
  ids.raw_of_dense = raw;
  ids.dense_of_raw.reserve(raw.size());
  for (std::size_t d = 0; d < raw.size(); ++d) ids.dense_of_raw.emplace(raw[d], static_cast<std::int64_t>(d));
  return ids;
}

Manifest write_all_blocks(const std::string& dir, const std::vector<RawRating>& ratings, const BuildOptions& options);

}  // namespace

Manifest build_dataset(const std::string& out_dir, const std::vector<RawRating>& ratings, const BuildOptions& options) {
  // Everything is written under DIR.tmp and renamed at the end: a failure
  // leaves no half-written dataset, and a previous one stays intact.
  StagedDir out(out_dir, options.force, dataset_output_kind());
  out.check();
  if (ratings.empty()) throw Error(out.dest() + ": no ratings to write");
  if (options.blocks <= 0) throw Error("--blocks must be positive");
  out.create();
  Manifest m = write_all_blocks(out.staging(), ratings, options);
  out.publish();
  return m;
}

namespace {

Manifest write_all_blocks(const std::string& dir, const std::vector<RawRating>& ratings, const BuildOptions& options) {
  std::vector<std::int64_t> raw_users, raw_items;
  raw_users.reserve(ratings.size());
  raw_items.reserve(ratings.size());
  for (const auto& r : ratings) {
    if (!std::isfinite(r.value)) throw Error(dir + ": non-finite rating for user " + std::to_string(r.user));
    if (options.feedback == Feedback::events && !(r.value > 0))
      throw Error(dir + ": event count " + std::to_string(r.value) + " of user " + std::to_string(r.user) +
                  " is not positive");
    raw_users.push_back(r.user);
    raw_items.push_back(r.item);
  }
  DenseIds users = assign_dense_ids(std::move(raw_users), options.seed, 1);
  DenseIds items = assign_dense_ids(std::move(raw_items), options.seed, 2);

  Manifest m;
  m.users = static_cast<std::int64_t>(users.raw_of_dense.size());
  m.items = static_cast<std::int64_t>(items.raw_of_dense.size());
  m.blocks = options.blocks;
  if (m.users < m.blocks || m.items < m.blocks)
    throw Error(dir + ": " + std::to_string(options.blocks) + " blocks need at least as many users and items");
  m.has_test = options.test_fraction > 0;
  m.provenance_json = options.provenance_json;
  m.feedback = options.feedback;

  std::vector<Triplet> train, test;
  std::vector<std::int64_t> user_cost(m.users, 1), item_cost(m.items, 1);
  double sum = 0;
  for (const auto& r : ratings) {
    Triplet t{users.dense_of_raw.at(r.user), items.dense_of_raw.at(r.item), r.value};
    const bool to_test = m.has_test && to_unit(key_hash(options.seed, 3, static_cast<std::uint64_t>(r.user),
                                                        static_cast<std::uint64_t>(r.item))) < options.test_fraction;
    if (to_test) {
      test.push_back(t);
    } else {
      train.push_back(t);
      sum += r.value;
      ++user_cost[t.row];
      ++item_cost[t.col];
    }
  }
  if (train.empty()) throw Error(dir + ": every rating went to the test split");
  m.mean = sum / static_cast<double>(train.size());
  m.train.ratings = static_cast<std::int64_t>(train.size());
  m.test.ratings = static_cast<std::int64_t>(test.size());

  const auto user_cuts = balanced_cuts(user_cost, m.blocks);
  const auto item_cuts = balanced_cuts(item_cost, m.blocks);
  // What a manifest may hold (manifest.hpp): checked before anything is written.
  if (m.users > kMaxSideRows || m.items > kMaxSideRows)
    throw Error(dir + ": more than 2^40 users or items is not supported");
  for (const auto* cuts : {&user_cuts, &item_cuts})
    for (int b = 0; b < m.blocks; ++b)
      if ((*cuts)[b + 1] - (*cuts)[b] > std::numeric_limits<std::int32_t>::max())
        throw Error(dir + ": a block would hold 2^31 rows or more: give more blocks");
  create_dataset_dirs(dir, m.has_test);

  auto write_side = [&](Split split, Side side, const std::vector<Triplet>& all, SplitInfo& info) {
    const auto& cuts = side == Side::users ? user_cuts : item_cuts;
    const std::int64_t num_cols = side == Side::users ? m.items : m.users;
    std::vector<std::vector<Triplet>> per_block(m.blocks);
    for (const auto& t : all) {
      Triplet e = side == Side::users ? t : Triplet{t.col, t.row, t.value};
      int b = static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), e.row) - cuts.begin()) - 1;
      per_block[b].push_back(e);
    }
    info.blocks(side).clear();
    for (int b = 0; b < m.blocks; ++b) {
      CsrBlock block = csr_from_triplets(cuts[b], cuts[b + 1] - cuts[b], num_cols, std::move(per_block[b]));
      info.blocks(side).push_back(write_ratings_block(ratings_path(dir, split, side, b), block));
    }
  };
  for (Side side : {Side::users, Side::items}) {
    write_side(Split::train, side, train, m.train);
    if (m.has_test) write_side(Split::test, side, test, m.test);
    const auto& cuts = side == Side::users ? user_cuts : item_cuts;
    const auto& raw = side == Side::users ? users.raw_of_dense : items.raw_of_dense;
    for (int b = 0; b < m.blocks; ++b)
      write_id_block(ids_path(dir, side, b), cuts[b],
                     std::vector<std::int64_t>(raw.begin() + cuts[b], raw.begin() + cuts[b + 1]));
  }
  m.fingerprint = m.compute_fingerprint();
  write_manifest(dir, m);
  return m;
}

}  // namespace

}  // namespace dals
