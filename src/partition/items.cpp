// dals-partition, phase 4a: the item table. Every rank sends the items it
// saw to the owner of their hash range, which merges them, checks the
// string ids against its dictionary, and the ranks all-gather the result:
// every rank then holds every item's order hash, sorted (= dense order).
#include <algorithm>
#include <cstring>

#include "dals/core/error.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/mpi/exchange.hpp"
#include "internal.hpp"

namespace dals::part {
namespace {

struct ItemEntry {
  std::uint64_t hash;
  std::uint64_t flags;
};

// Checks this rank's merged items against its item dictionary buckets.
void check_item_names(Job& job, const std::vector<ItemEntry>& mine) {
  std::string text;
  std::size_t at = 0;
  for (int k = 0; k < job.space.per_rank; ++k) {
    const int b = job.first_bucket() + k;
    const Names names = load_names(job, job.item_names, static_cast<std::size_t>(k), Side::items, true);
    for (; at < mine.size() && job.space.bucket_of(mine[at].hash) == b; ++at) {
      const ItemEntry& e = mine[at];
      const bool named = names.find(e.hash, text) != nullptr;
      const std::string as_int =
          (e.flags & kItemIsInt)
              ? std::to_string(static_cast<std::int64_t>(key_of_order_hash(job.o.seed, Side::items, e.hash)))
              : "";
      if ((e.flags & kItemIsInt) && (e.flags & kItemIsString)) collision(job, Side::items, as_int, named ? text : "?");
      if ((e.flags & kItemIsString) && !named) throw Error("internal: no name was received for a string item id");
      if ((e.flags & kItemIsInt) && named) collision(job, Side::items, as_int, text);
    }
  }
}

}  // namespace

void build_item_table(Job& job, const FlatMap64& local_items) {
  const Comm& comm = job.comm;
  FlatMap64 merged;
  std::vector<ItemEntry> mine;
  job.progress.start("items", 0, "");
  run_collectively(comm, [&] {
    Exchange ex(comm, {job.budget.exchange_buffer}, {[&](int, const char* data, std::size_t bytes) {
                  for (std::size_t at = 0; at + sizeof(ItemEntry) <= bytes; at += sizeof(ItemEntry)) {
                    ItemEntry e;
                    std::memcpy(&e, data + at, sizeof e);
                    merged[e.hash] |= static_cast<std::uint32_t>(e.flags);
                  }
                }});
    local_items.for_each([&](std::uint64_t hash, std::uint32_t flags) {
      const ItemEntry e{hash, flags};
      ex.send(job.space.owner(hash), 0, &e, sizeof e);
    });
    ex.finish(false);
    mine.reserve(merged.size());
    merged.for_each([&](std::uint64_t hash, std::uint32_t flags) { mine.push_back({hash, flags}); });
    merged = FlatMap64();
    std::sort(mine.begin(), mine.end(), [](const ItemEntry& a, const ItemEntry& b) { return a.hash < b.hash; });
    check_item_names(job, mine);
  });

  // All-gather: the owners' ranges are in rank order, so the concatenation is sorted.
  const std::vector<std::int64_t> counts = comm.allgather(static_cast<std::int64_t>(mine.size()));
  ItemTable& t = job.items;
  std::vector<std::uint64_t> my_hash(mine.size());
  std::vector<std::uint8_t> my_flags(mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) {
    my_hash[i] = mine[i].hash;
    my_flags[i] = static_cast<std::uint8_t>(mine[i].flags);
  }
  t.hash = comm.allgatherv(std::span<const std::uint64_t>(my_hash), counts);
  t.flags = comm.allgatherv(std::span<const std::uint8_t>(my_flags), counts);
  const auto total = static_cast<std::int64_t>(t.hash.size());
  t.position = FlatMap64(static_cast<std::size_t>(total));
  for (std::int64_t i = 0; i < total; ++i) t.position[t.hash[i]] = static_cast<std::uint32_t>(i);
  t.alive.assign(total, 0);
  for (std::int64_t i = 0; i < total; ++i) t.alive[i] = (t.flags[i] & kItemInTrain) ? 1 : 0;
  job.progress.finish();
}

}  // namespace dals::part
