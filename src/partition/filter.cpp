// dals-partition, phase 4b: the count filters (--min-user-ratings,
// --min-item-ratings, --k-core), the split, and the counts that fix the
// dense ids and the blocks.
//
// User state never leaves its rank: each pass recomputes a user's fate from
// its sorted records and the replicated item state, so a pass needs no
// memory per user. Item state is replicated; each pass ends with an
// all-reduce of per-item counts.
#include <algorithm>
#include <cmath>

#include "dals/core/error.hpp"
#include "dals/core/rng.hpp"
#include "dals/data/dataset_builder.hpp"
#include "dals/data/id_keys.hpp"
#include "internal.hpp"
#include "signals.hpp"

namespace dals::part {

void for_each_user(Job& job, const std::function<void(std::uint64_t, std::span<const Record>)>& f, bool consume) {
  std::vector<Record> user;
  for (int k = 0; k < job.space.per_rank; ++k) {
    throw_if_interrupted();
    job.sorted.read<Record>(static_cast<std::size_t>(k), [&](std::span<const Record> chunk) {
      // A user's records are handed over in place when the chunk holds them
      // all, and gathered when they straddle two chunks.
      std::size_t i = 0;
      if (!user.empty()) {
        while (i < chunk.size() && chunk[i].user == user.front().user) user.push_back(chunk[i++]);
        if (i == chunk.size()) return;
        f(user.front().user, user);
        user.clear();
      }
      while (i < chunk.size()) {
        std::size_t j = i + 1;
        while (j < chunk.size() && chunk[j].user == chunk[i].user) ++j;
        if (j == chunk.size()) {
          user.assign(chunk.begin() + static_cast<std::ptrdiff_t>(i), chunk.end());
          return;
        }
        f(chunk[i].user, chunk.subspan(i, j - i));
        i = j;
      }
    });
    if (!user.empty()) f(user.front().user, user);
    user.clear();
    if (consume) job.sorted.clear(static_cast<std::size_t>(k));
  }
}

namespace {

// The split of one user's training candidates (fate kTrain): --test-fraction
// or --test-per-user turns some into kTest.
void split_user(const Job& job, std::span<const Record> recs, std::vector<std::uint8_t>& fate,
                std::int64_t candidates) {
  const PartitionOptions& o = job.o;
  const std::size_t n = recs.size();
  const std::uint64_t user_key = key_of_order_hash(o.seed, Side::users, recs[0].user);
  auto split_hash = [&](std::size_t k, std::uint64_t salt) {
    return key_hash(o.seed, salt, user_key, key_of_order_hash(o.seed, Side::items, recs[k].item));
  };
  if (o.test_fraction > 0) {  // the rule of dals-import: the same split for integer ids
    for (std::size_t k = 0; k < n; ++k)
      if (fate[k] == kTrain && to_unit(split_hash(k, 3)) < o.test_fraction) fate[k] = kTest;
    return;
  }
  // --test-per-user N: the last (or random) N, never all of a user's ratings.
  const std::int64_t held = std::min<std::int64_t>(o.test_per_user, candidates - 1);
  if (held <= 0) return;
  thread_local std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.clear();
  for (std::size_t k = 0; k < n; ++k)
    if (fate[k] == kTrain) order.emplace_back(0, k);
  if (o.test_pick == TestPick::random) {
    for (auto& [key, k] : order) key = split_hash(k, 4);
    std::sort(order.begin(), order.end());
  } else {
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      const Record &x = recs[a.second], &y = recs[b.second];
      return x.time != y.time ? x.time > y.time : x.seq > y.seq;
    });
  }
  for (std::int64_t h = 0; h < held; ++h) fate[order[h].second] = kTest;
}

}  // namespace

void decide_user(const Job& job, std::span<const Record> recs, std::vector<std::uint8_t>& fate,
                 std::vector<std::int64_t>& pos, std::array<std::int64_t, kCounters>* counters) {
  const PartitionOptions& o = job.o;
  const ItemTable& items = job.items;
  const std::size_t n = recs.size();
  fate.assign(n, kDropped);
  std::int64_t all = 0, alive = 0;
  pos.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    pos[k] = items.position_of(recs[k].item);
    if (pos[k] < 0) throw Error("internal: an item is missing from the item table");
    if (recs[k].flags & kFromTest) continue;
    ++all;
    alive += items.alive[pos[k]];
  }
  const bool present = all > 0;  // the user has training ratings
  const bool user_alive = present && (o.k_core ? alive : all) >= o.min_user_ratings;
  auto count = [&](Counter c) {
    if (counters != nullptr) ++(*counters)[c];
  };
  std::int64_t candidates = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const bool item_alive = items.alive[pos[k]] != 0;
    if (!(recs[k].flags & kFromTest)) {
      if (user_alive && item_alive)
        fate[k] = kTrain, ++candidates;
      else
        count(user_alive ? kDroppedByItem : kDroppedByUser);
      continue;
    }
    const bool item_present = items.flags[pos[k]] & kItemInTrain;
    // Records are sorted by (item, source): a training rating of the same
    // pair comes just before. A test rating must not be one trained on.
    if (k > 0 && recs[k - 1].item == recs[k].item && !(recs[k - 1].flags & kFromTest)) {
      count(kTestInTrain);
      continue;
    }
    if (!present || !item_present) {  // cold start: no training rating at all
      count(kColdStart);
      if (o.keep_cold_start && (!present || user_alive) && (!item_present || item_alive)) {
        fate[k] = kTest;
        count(kColdStartKept);
      }
    } else if (!user_alive || !item_alive) {
      count(kTestFiltered);
    } else {
      fate[k] = kTest;
    }
  }
  if (o.test_fraction <= 0 && o.test_per_user <= 0) return;
  if (candidates > 0) split_user(job, recs, fate, candidates);
  // After the split, a held-out rating whose user or item has no training
  // rating left is a cold-start rating, as with --test-input. The user's
  // fact is this user's; the item's is known once the count pass has
  // all-reduced the training counts (items.counted): during that pass the
  // caller counts the cold items' ratings (apply_filters), and the last
  // pass drops them here.
  const bool user_trained = std::find(fate.begin(), fate.end(), kTrain) != fate.end();
  for (std::size_t k = 0; k < n; ++k) {
    if (fate[k] != kTest) continue;
    const bool item_trained = !items.counted || items.train_count[pos[k]] > 0;
    if (user_trained && item_trained) continue;
    count(kColdStart);
    if (o.keep_cold_start)
      count(kColdStartKept);
    else
      fate[k] = kDropped;
  }
}

namespace {

// Per-item training counts under the current filter state, all-reduced.
std::vector<std::int32_t> item_degrees(Job& job, bool count_only_alive_users) {
  const ItemTable& items = job.items;
  std::vector<std::int32_t> degree(items.hash.size(), 0);
  const auto& o = job.o;
  for_each_user(job, [&](std::uint64_t, std::span<const Record> recs) {
    std::int64_t all = 0, alive = 0;
    for (const Record& r : recs) {
      if (r.flags & kFromTest) continue;
      ++all;
      alive += items.alive[items.position_of(r.item)];
    }
    const bool user_alive = (o.k_core ? alive : all) >= o.min_user_ratings;
    if (count_only_alive_users && !user_alive) return;
    for (const Record& r : recs) {
      if (r.flags & kFromTest) continue;
      const std::int64_t p = items.position_of(r.item);
      if (!count_only_alive_users || items.alive[p]) ++degree[p];
    }
  });
  job.comm.allreduce_inplace(std::span<std::int32_t>(degree), MPI_SUM);
  return degree;
}

void filter_items(Job& job) {
  const auto& o = job.o;
  if (o.min_user_ratings <= 0 && o.min_item_ratings <= 0) return;
  ItemTable& items = job.items;
  job.progress.start("filter", 0, "");
  if (!o.k_core) {  // one application, on the unfiltered counts
    std::vector<std::int32_t> degree;
    run_collectively(job.comm, [&] { degree = item_degrees(job, false); });
    for (std::size_t p = 0; p < degree.size(); ++p)
      if (degree[p] < o.min_item_ratings) items.alive[p] = 0;
    job.progress.finish();
    return;
  }
  // k-core: users with too few live items die, then items with too few
  // live users, until nothing changes (the fixed point is the core).
  while (true) {
    std::vector<std::int32_t> degree;
    run_collectively(job.comm, [&] { degree = item_degrees(job, true); });
    ++job.k_core_rounds;
    bool changed = false;
    for (std::size_t p = 0; p < degree.size(); ++p)
      if (items.alive[p] && degree[p] < o.min_item_ratings) items.alive[p] = 0, changed = true;
    // Users die only when an item dies, so no change here is the fixed point.
    if (!changed) break;
  }
  job.progress.finish();
}

}  // namespace

void apply_filters(Job& job) {
  filter_items(job);
  // The count pass: each user's fate, the users' costs (1 + training
  // ratings) in dense order on disk, the items' counts, the rating range.
  ItemTable& items = job.items;
  items.train_count.assign(items.hash.size(), 0);
  items.test_count.assign(items.hash.size(), 0);
  items.counted = false;
  // After a split, the test ratings of an item left without training
  // ratings are cold starts: those of users with training ratings are
  // counted below from test_count, less the users' own cold starts that
  // --cold-start keep left in it (only --test-fraction can hold out all of a
  // user's ratings; under drop they are not in test_count).
  const bool split = job.o.test_fraction > 0 || job.o.test_per_user > 0;
  std::vector<std::int32_t> user_cold_kept(job.o.test_fraction > 0 && job.o.keep_cold_start ? items.hash.size() : 0);
  job.progress.start("count", job.space.per_rank, "buckets");
  std::vector<std::uint8_t> fate;
  std::vector<std::int64_t> positions;
  run_collectively(job.comm, [&] {
    job.costs = SpillStore({job.scratch.file("costs")}, job.pool);
    SpillStore& costs = job.costs;
    for_each_user(job, [&](std::uint64_t, std::span<const Record> recs) {
      decide_user(job, recs, fate, positions, &job.counters);
      std::int32_t train = 0, test = 0;
      for (std::size_t k = 0; k < recs.size(); ++k) {
        if (fate[k] == kDropped) continue;
        const std::int64_t p = positions[k];
        if (fate[k] == kTrain) {
          ++train, ++items.train_count[p];
          job.rating_min = std::min(job.rating_min, static_cast<double>(recs[k].value));
          job.rating_max = std::max(job.rating_max, static_cast<double>(recs[k].value));
          job.note_value(recs[k].value);
        } else {
          ++test, ++items.test_count[p];
        }
      }
      if (!user_cold_kept.empty() && train == 0)
        for (std::size_t k = 0; k < recs.size(); ++k)
          if (fate[k] == kTest) ++user_cold_kept[positions[k]];
      if (train + test == 0) return;  // not in the dataset
      ++job.local_users;
      job.local_train += train;
      job.local_test += test;
      const std::int32_t cost = 1 + train;
      costs.append(0, &cost, sizeof cost);
    });
  });
  job.comm.allreduce_inplace(std::span<std::int32_t>(items.train_count), MPI_SUM);
  items.counted = true;
  // An item whose training ratings were all held out: its test ratings are
  // cold starts, counted here on the rank of their user (decide_user drops
  // them in the last pass). Training ratings, and so users, are unchanged:
  // such a user has training ratings. Under drop the item has no rating
  // left and gets no dense id (compute_layout).
  for (std::size_t p = 0; split && p < items.hash.size(); ++p) {
    if (items.train_count[p] > 0) continue;
    const std::int32_t cold = items.test_count[p] - (user_cold_kept.empty() ? 0 : user_cold_kept[p]);
    if (cold == 0) continue;
    job.counters[kColdStart] += cold;
    if (job.o.keep_cold_start) {
      job.counters[kColdStartKept] += cold;
    } else {
      items.test_count[p] -= cold;
      job.local_test -= cold;
    }
  }
  job.comm.allreduce_inplace(std::span<std::int32_t>(items.test_count), MPI_SUM);
  job.progress.finish();
}

}  // namespace dals::part
