// dals-partition, phase 3: sort each user bucket and resolve duplicates.
//
// A bucket is a range of user order hashes, so after sorting, its users
// come out in dense-id order and each user's ratings by item hash (= item
// dense order). A bucket larger than the sort budget is split into 16
// narrower ranges first, recursively, so any input fits in --memory-limit
// except the ratings of one single user.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "dals/core/error.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/partition/text_reader.hpp"
#include "internal.hpp"
#include "signals.hpp"

namespace dals::part {

std::string where_is(const Job& job, std::uint64_t seq) {
  const InputFile& f = job.plan.files[seq_file(seq)];
  return f.path + ":" + std::to_string(count_lines_before(f.path, f.gzip, seq_offset(seq)) + 1);
}

namespace {

using u128 = unsigned __int128;

bool record_less(const Record& a, const Record& b) {
  if (a.user != b.user) return a.user < b.user;
  if (a.item != b.item) return a.item < b.item;
  if ((a.flags & kFromTest) != (b.flags & kFromTest)) return (a.flags & kFromTest) < (b.flags & kFromTest);
  if (a.time != b.time) return a.time < b.time;
  return a.seq < b.seq;
}

}  // namespace

void collision(const Job& job, Side side, const std::string& a, const std::string& b) {
  throw Error(std::string(side == Side::users ? "user" : "item") + " ids '" + a + "' and '" + b +
              "' have the same 64-bit hash with --seed " + std::to_string(job.o.seed) +
              " (a chance of about n^2/2^65 for n string ids): rerun with another --seed");
}

Names load_names(const Job& job, SpillStore& store, std::size_t part, Side side, bool keep) {
  const std::vector<char> raw = store.take<char>(part);
  struct Entry {
    std::uint64_t hash;
    std::size_t at;
    std::uint16_t len;
  };
  std::vector<Entry> entries;
  for (std::size_t at = 0; at + 10 <= raw.size();) {
    Entry e{0, at + 10, 0};
    std::memcpy(&e.hash, raw.data() + at, 8);
    std::memcpy(&e.len, raw.data() + at + 8, 2);
    entries.push_back(e);
    at += 10 + e.len;
  }
  auto text = [&](const Entry& e) { return std::string_view(raw.data() + e.at, e.len); };
  std::sort(entries.begin(), entries.end(),
            [&](const Entry& a, const Entry& b) { return a.hash != b.hash ? a.hash < b.hash : text(a) < text(b); });
  Names names;
  std::vector<char> sorted;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].hash == entries[i - 1].hash) {
      if (text(entries[i]) != text(entries[i - 1]))
        collision(job, side, std::string(text(entries[i - 1])), std::string(text(entries[i])));
      continue;
    }
    names.hash.push_back(entries[i].hash);
    names.text.push_back(text(entries[i]));
    if (keep) sorted.insert(sorted.end(), raw.data() + entries[i].at - 10, raw.data() + entries[i].at + entries[i].len);
  }
  if (!sorted.empty()) store.append(part, sorted.data(), sorted.size());
  return names;
}

namespace {

class BucketSorter {
 public:
  BucketSorter(Job& job, FlatMap64& items) : job_(job), items_(items) {}

  // Sorts the records of in[part] (user hashes in [lo, hi)) and appends the
  // deduplicated ones to job.sorted[out].
  void run(SpillStore& in, std::size_t part, u128 lo, u128 hi, const Names& names, std::size_t out) {
    if (in.size(part) > job_.budget.sort_bytes) {
      split(in, part, lo, hi, names, out);
      return;
    }
    std::vector<Record>& r = records_;  // kept between buckets, as sorted_: no churn in the allocator
    in.take_into(part, r);
    sort_records(r, lo, hi);
    const std::size_t kept = dedup(r);
    r.resize(kept);
    check_users(r, names);
    std::uint64_t last_item = 0;
    std::uint32_t last_flags = 0;
    for (const Record& x : r) {
      const std::uint32_t flags =
          (x.flags & kItemString ? kItemIsString : kItemIsInt) | (x.flags & kFromTest ? 0 : kItemInTrain);
      if (x.item == last_item && flags == last_flags) continue;  // a cheap filter for repeats
      items_[x.item] |= flags;
      last_item = x.item;
      last_flags = flags;
    }
    job_.sorted.append_records(out, r.data(), r.size(), sizeof(Record));
  }

 private:
  // Too large to sort in memory: 16 narrower hash ranges, each sorted alone.
  void split(SpillStore& in, std::size_t part, u128 lo, u128 hi, const Names& names, std::size_t out) {
    constexpr int kWays = 16;
    std::vector<std::string> paths;
    for (int k = 0; k < kWays; ++k) paths.push_back(in.path(part) + "." + std::to_string(k));
    SpillStore parts(paths, job_.pool);
    std::uint64_t min_user = ~std::uint64_t{0}, max_user = 0;
    const std::uint64_t count = in.size(part) / sizeof(Record);
    in.read<Record>(part, [&](std::span<const Record> chunk) {
      for (const Record& x : chunk) {
        min_user = std::min(min_user, x.user);
        max_user = std::max(max_user, x.user);
        const int k =
            static_cast<int>((static_cast<u128>(x.user - static_cast<std::uint64_t>(lo)) * kWays) / (hi - lo));
        parts.append(static_cast<std::size_t>(k), &x, sizeof x);
      }
    });
    in.clear(part);
    if (min_user == max_user)
      throw Error("one user has " + std::to_string(count) + " ratings, more than can be sorted within --memory-limit " +
                  std::to_string(job_.budget.total >> 20) + "M: raise --memory-limit");
    // Part k holds the hashes h with floor((h - lo) * 16 / (hi - lo)) == k.
    auto begin = [&](int k) { return lo + ((hi - lo) * static_cast<unsigned>(k) + kWays - 1) / kWays; };
    for (int k = 0; k < kWays; ++k) run(parts, static_cast<std::size_t>(k), begin(k), begin(k + 1), names, out);
  }

  // Sorts by (user, item, source, time, input order). First a counting sort
  // into slots by the user hash's place in [lo, hi) (hashes are uniform, so
  // a slot holds about one user), then each slot by the full order: one pass
  // of moves instead of log(n) of them, and small sorts that stay in cache.
  void sort_records(std::vector<Record>& r, u128 lo, u128 hi) {
    const auto less = [](const Record& a, const Record& b) { return record_less(a, b); };  // inlined
    if (r.size() < 64) {
      std::sort(r.begin(), r.end(), less);
      return;
    }
    std::size_t slots = 64;
    while (slots < r.size() / 4 && slots < (1u << 20)) slots *= 2;
    // slot(h) = floor((h - lo) * scale / 2^64) with scale = 2^64 * slots / (hi - lo):
    // monotone in h and below `slots`, without a division per record.
    const u128 width = hi - lo;
    const std::uint64_t scale =
        width <= slots ? ~std::uint64_t{0} : static_cast<std::uint64_t>((static_cast<u128>(slots) << 64) / width);
    auto slot = [&](const Record& x) {
      const auto s =
          static_cast<std::size_t>((static_cast<u128>(x.user - static_cast<std::uint64_t>(lo)) * scale) >> 64);
      return std::min(s, slots - 1);
    };
    std::vector<std::uint32_t> start(slots + 1, 0);
    for (const Record& x : r) ++start[slot(x) + 1];
    for (std::size_t k = 0; k < slots; ++k) start[k + 1] += start[k];
    std::vector<Record>& out = sorted_;  // kept between buckets: no fresh pages to fault in
    out.resize(r.size());
    {
      std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
      for (const Record& x : r) out[next[slot(x)]++] = x;
    }
    for (std::size_t k = 0; k < slots; ++k)
      if (start[k + 1] - start[k] > 1) std::sort(out.begin() + start[k], out.begin() + start[k + 1], less);
    r.swap(out);
  }

  // Resolves each run of equal (user, item, source) by the --dedup policy;
  // returns how many records remain at the front of r.
  std::size_t dedup(std::vector<Record>& r) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < r.size();) {
      std::size_t j = i + 1;
      while (j < r.size() && r[j].user == r[i].user && r[j].item == r[i].item &&
             (r[j].flags & kFromTest) == (r[i].flags & kFromTest))
        ++j;
      Record keep = r[j - 1];  // the last by (timestamp, input order)
      if (j - i > 1) {
        job_.counters[kDuplicates] += static_cast<std::int64_t>(j - i - 1);
        double sum = 0, max = r[i].value;
        for (std::size_t k = i; k < j; ++k) sum += r[k].value, max = std::max<double>(max, r[k].value);
        switch (job_.o.dedup) {
          case Dedup::last:
            break;
          case Dedup::mean:
            keep.value = static_cast<float>(sum / static_cast<double>(j - i));
            break;
          case Dedup::max:
            keep.value = static_cast<float>(max);
            break;
          case Dedup::sum:
            keep.value = static_cast<float>(sum);
            // Finite values can sum past a float's range: no inf in a dataset.
            if (!std::isfinite(keep.value))
              throw Error(where_is(job_, keep.seq) + ": the " + std::to_string(j - i) +
                          " values of this user and item sum beyond a float's range (--dedup sum)");
            break;
          case Dedup::error:
            duplicate_error(r, i, j);
        }
      }
      r[out++] = keep;
      i = j;
    }
    return out;
  }

  [[noreturn]] void duplicate_error(const std::vector<Record>& r, std::size_t i, std::size_t j) {
    std::vector<std::uint64_t> seqs;
    for (std::size_t k = i; k < j; ++k) seqs.push_back(r[k].seq);
    std::sort(seqs.begin(), seqs.end());
    const InputFile& f = job_.plan.files[seq_file(seqs[1])];
    throw Error(where_is(job_, seqs[1]) + ": repeats the user and item of " + where_is(job_, seqs[0]) +
                " (--dedup error): " + line_at(f.path, f.gzip, seq_offset(seqs[1])));
  }

  // Every user id is either an integer or a string with a name entry; one
  // hash with both, or with two flags, is a collision of two ids.
  void check_users(const std::vector<Record>& r, const Names& names) {
    std::string text;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (i > 0 && r[i].user == r[i - 1].user && ((r[i].flags ^ r[i - 1].flags) & kUserString) == 0) continue;
      const bool is_string = r[i].flags & kUserString;
      const bool named = names.find(r[i].user, text) != nullptr;
      auto as_int = [&] {
        return std::to_string(static_cast<std::int64_t>(key_of_order_hash(job_.o.seed, Side::users, r[i].user)));
      };
      if (i > 0 && r[i].user == r[i - 1].user) collision(job_, Side::users, as_int(), named ? text : "?");
      if (is_string && !named) throw Error("internal: no name was received for a string user id");
      if (!is_string && named) collision(job_, Side::users, as_int(), text);
    }
  }

  Job& job_;
  FlatMap64& items_;
  std::vector<Record> records_, sorted_;
};

}  // namespace

void sort_buckets(Job& job, FlatMap64& local_items) {
  job.progress.start("sort", job.space.per_rank, "buckets");
  std::vector<std::string> paths;
  for (int k = 0; k < job.space.per_rank; ++k) paths.push_back(job.bucket_file("us", job.first_bucket() + k));
  job.sorted = SpillStore(paths, job.pool);
  run_collectively(job.comm, [&] {
    BucketSorter sorter(job, local_items);
    for (int k = 0; k < job.space.per_rank; ++k) {
      throw_if_interrupted();
      const int b = job.first_bucket() + k;
      const auto part = static_cast<std::size_t>(k);
      const Names names = load_names(job, job.user_names, part, Side::users, true);
      sorter.run(job.records, part, job.space.bucket_begin(b), job.space.bucket_begin(b + 1), names, part);
      job.progress.update(k + 1);
    }
  });
  job.records = SpillStore();
  job.progress.finish();
}

}  // namespace dals::part
