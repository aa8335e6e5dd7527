// dals-partition, phase 4c: dense ids, the number of blocks and their cuts.
//
// Items: the replicated counts give every item's cost (1 + training
// ratings) in dense order, cut by balanced_cuts, as dals-import does.
// Users: their costs are on the ranks that own them, in dense order, in
// each rank's cost file. balanced_cuts puts user i in block b once
// acc_i + cost_i / 2 reaches b/B of the total (acc_i: the cost of users
// before i); that key grows with i, so cut b is the number of users whose
// key is below target b: each rank counts its own, and a sum gives the
// same cuts as balanced_cuts over all users would.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dals/core/error.hpp"
#include "dals/data/blocking.hpp"
#include "dals/data/dataset_builder.hpp"
#include "internal.hpp"

namespace dals::part {

int Histogram::bin_of(double v) const {
  if (exact) return static_cast<int>(std::lower_bound(values.begin(), values.end(), v) - values.begin());
  if (hi <= lo) return 0;
  return std::clamp(static_cast<int>((v - lo) / (hi - lo) * 10), 0, 9);
}

std::string Histogram::label(int bin) const {
  char text[64];
  if (exact) {
    std::snprintf(text, sizeof text, "%g", values[bin]);
  } else {
    const double w = (hi - lo) / 10;
    std::snprintf(text, sizeof text, "[%g, %g%c", lo + w * bin, bin == 9 ? hi : lo + w * (bin + 1),
                  bin == 9 ? ']' : ')');
  }
  return text;
}

namespace {

constexpr std::int64_t kDefaultBlockRatings = 8'000'000;
constexpr int kDefaultMinBlocks = 64;

std::vector<std::int64_t> user_cuts(Job& job, std::int64_t my_cost_before, std::int64_t total_cost) {
  const int B = job.blocks;
  std::vector<long double> target(B + 1);
  for (int b = 1; b < B; ++b) target[b] = static_cast<long double>(total_cost) * b / B;
  std::vector<std::int64_t> below(B + 1, 0);  // below[b]: my users whose key is below target b
  std::int64_t acc = my_cost_before, index = 0;
  int b = 1;
  job.costs.read<std::int32_t>(0, [&](std::span<const std::int32_t> chunk) {
    for (const std::int32_t c : chunk) {
      const long double key = static_cast<long double>(acc) + c / 2.0L;
      while (b < B && !(key < target[b])) below[b++] = index;
      acc += c;
      ++index;
    }
  });
  for (; b < B; ++b) below[b] = index;
  job.comm.allreduce_inplace(std::span<std::int64_t>(below), MPI_SUM);
  below[0] = 0;
  below[B] = job.users;
  return below;
}

}  // namespace

void compute_layout(Job& job) {
  const Comm& comm = job.comm;
  const auto& o = job.o;
  job.users = comm.sum(job.local_users);
  job.train_total = comm.sum(job.local_train);
  job.test_total = comm.sum(job.local_test);
  job.user_offset = comm.exscan_sum(job.local_users);

  ItemTable& items = job.items;
  items.dense.assign(items.hash.size(), -1);
  job.item_position.clear();
  std::vector<std::int64_t> item_cost;
  for (std::size_t p = 0; p < items.hash.size(); ++p) {
    if (items.train_count[p] + items.test_count[p] == 0) continue;
    items.dense[p] = static_cast<std::int32_t>(job.item_position.size());
    job.item_position.push_back(static_cast<std::int64_t>(p));
    item_cost.push_back(1 + items.train_count[p]);
  }
  job.item_count = static_cast<std::int64_t>(job.item_position.size());

  // The id types of the maps: strings if asked, or if any id of that side is one.
  job.strings_out.users = o.id_type == IdType::string || job.user_strings;
  job.strings_out.items = o.id_type == IdType::string || job.item_strings;

  // Histogram bins: exact values if few, else 10 equal bins over the range.
  Histogram& h = job.histogram;
  h.lo = -comm.allreduce(-job.rating_min, MPI_MAX);
  h.hi = comm.allreduce(job.rating_max, MPI_MAX);
  std::vector<double> mine = job.distinct;
  mine.resize(Histogram::kMaxExact + 1, std::nan(""));
  const std::vector<double> all =
      comm.allgatherv(std::span<const double>(mine), std::vector<std::int64_t>(comm.size(), mine.size()));
  for (double v : all)
    if (!std::isnan(v)) h.values.push_back(v);
  std::sort(h.values.begin(), h.values.end());
  h.values.erase(std::unique(h.values.begin(), h.values.end()), h.values.end());
  h.exact = h.values.size() <= static_cast<std::size_t>(Histogram::kMaxExact);

  run_collectively(comm, [&] {
    if (job.train_total == 0)
      throw Error(o.inputs.front() + ": no training ratings are left (" + std::to_string(job.counters[kLines]) +
                  " lines read on rank 0; see the filters and the split)");
    if (job.users >= INT32_MAX || job.item_count >= INT32_MAX)
      throw Error(
          "more than 2^31 - 1 users or items: dals-partition holds 32-bit dense ids (the dataset format and "
          "dals-train take up to 2^40 a side; see docs/formats.md)");
    if (o.blocks > 0) {
      if (o.blocks > job.users || o.blocks > job.item_count)
        throw Error("--blocks " + std::to_string(o.blocks) + " is more than the " + std::to_string(job.users) +
                    " users or " + std::to_string(job.item_count) + " items of the dataset");
      job.blocks = o.blocks;
    } else {
      const std::int64_t by_size = (job.train_total + kDefaultBlockRatings - 1) / kDefaultBlockRatings;
      job.blocks =
          static_cast<int>(std::min({std::max<std::int64_t>(kDefaultMinBlocks, by_size), job.users, job.item_count}));
    }
  });
  job.cuts.items = balanced_cuts(item_cost, job.blocks);
  const std::int64_t my_cost = job.local_users + job.local_train, cost_before = comm.exscan_sum(my_cost);
  job.cuts.users = user_cuts(job, cost_before, comm.sum(my_cost));
}

}  // namespace dals::part
