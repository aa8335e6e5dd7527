// dals-partition, phase 2: read this rank's share of the text, parse each
// line into a Record and stream it to the rank that owns its user's hash
// bucket, which spills it to disk. String ids also travel, once per rank
// and id (best effort), to the owner of their hash, which keeps the
// dictionary that the id maps are written from.
#include <cstring>

#include "dals/core/error.hpp"
#include "dals/data/id_keys.hpp"
#include "dals/mpi/exchange.hpp"
#include "dals/partition/text_reader.hpp"
#include "internal.hpp"
#include "line_parser.hpp"
#include "signals.hpp"

namespace dals::part {
namespace {

enum ParseChannel { kRecords, kUserNames, kItemNames };

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t') return false;
  return true;
}

// A dictionary entry: hash (8 bytes), length (2 bytes), the id's bytes.
void send_name(Exchange& ex, const HashSpace& space, int channel, std::uint64_t hash, std::string_view text,
               std::vector<char>& scratch) {
  const auto len = static_cast<std::uint16_t>(text.size());
  scratch.resize(10 + text.size());
  std::memcpy(scratch.data(), &hash, 8);
  std::memcpy(scratch.data() + 8, &len, 2);
  std::memcpy(scratch.data() + 10, text.data(), text.size());
  ex.send(space.owner(hash), channel, scratch.data(), scratch.size());
}

// Reads this rank's share; throws Error on the first bad line (unless skipped).
void read_share(Job& job, Exchange& ex) {
  const auto& o = job.o;
  LineParser parser(job.plan.format, job.o.id_type, job.o.seed);
  if (job.o.implicit) parser.require_positive_counts(job.o.min_rating, job.o.max_rating);
  FlatMap64 sent_users, sent_items;  // string ids already sent (cleared when full)
  std::vector<char> scratch;
  std::uint64_t done_bytes = 0, total_bytes = 0;
  for (const auto& w : job.plan.ranges[job.comm.rank()])
    total_bytes += job.plan.files[w.file].gzip ? job.plan.files[w.file].size : w.end - w.begin;
  job.progress.start("parse", static_cast<double>(total_bytes), "bytes");
  auto& count = job.counters;
  for (const auto& w : job.plan.ranges[job.comm.rank()]) {
    const InputFile& file = job.plan.files[w.file];
    LineReader reader(file.path, file.gzip, w.begin, w.end, job.budget.read_buffer);
    std::int64_t lines_before = -1;  // lines of the file before this range, counted on demand
    std::uint64_t first_offset = 0;
    const std::uint32_t source = file.test ? std::uint32_t{kFromTest} : 0u;
    TextLine line;
    Record r{};
    std::string_view user, item;
    while (reader.next(line)) {
      if (reader.lines() == 1) first_offset = line.offset;
      ++count[kLines];
      if ((count[kLines] & 0x3fff) == 0) {
        if (ex.lower_rank_failed()) return;  // its error comes first: stop reading
        throw_if_interrupted();
        job.progress.update(static_cast<double>(done_bytes + reader.bytes_read()), static_cast<double>(count[kLines]));
      }
      if (job.plan.header && w.begin == 0 && reader.lines() == 1) {
        ++count[kHeaderLines];
        continue;
      }
      bool ok;
      if (line.too_long) {
        ok = false;
      } else {
        if (blank(line.text)) {
          ++count[kBlankLines];
          continue;
        }
        ok = parser.parse(line.text, r, user, item);
      }
      if (!ok) {
        if (lines_before < 0) lines_before = count_lines_before(file.path, file.gzip, first_offset);
        const std::string problem =
            line.too_long ? "line is longer than the read buffer (" + std::to_string(job.budget.read_buffer) + " bytes)"
                          : parser.problem();
        const std::string message = file.path + ":" + std::to_string(lines_before + reader.lines()) + ": " + problem +
                                    ": " + cut_line(line.text);
        if (!o.skip_bad_lines) throw Error(message);
        if (job.bad_line_samples.size() < 5) job.bad_line_samples.push_back(message);
        if (++count[kBadLines] > o.max_bad_lines && o.max_bad_lines >= 0)
          throw Error("more than " + std::to_string(o.max_bad_lines) +
                      " bad lines (--max-bad-lines); the first: " + job.bad_line_samples.front());
        continue;
      }
      if (r.value < o.min_rating || r.value > o.max_rating) {
        ++count[kOutOfRange];
        continue;
      }
      ++count[file.test ? kTestLines : kTrainLines];
      r.flags |= source;
      r.seq = make_seq(w.file, line.offset);
      if (line.offset >= (std::uint64_t{1} << kOffsetBits)) throw Error(file.path + ": more than 16 TiB of text");
      ex.send(job.space.owner(r.user), kRecords, &r, sizeof r);
      job.user_strings |= (r.flags & kUserString) != 0;
      job.item_strings |= (r.flags & kItemString) != 0;
      if (r.flags & kUserString) {
        if (sent_users.memory_bytes() > job.budget.dictionary_cache) sent_users = FlatMap64();
        std::uint32_t& seen = sent_users[r.user];
        if (!seen) send_name(ex, job.space, kUserNames, r.user, user, scratch);
        seen = 1;
      }
      if (r.flags & kItemString) {
        if (sent_items.memory_bytes() > job.budget.dictionary_cache) sent_items = FlatMap64();
        std::uint32_t& seen = sent_items[r.item];
        if (!seen) send_name(ex, job.space, kItemNames, r.item, item, scratch);
        seen = 1;
      }
    }
    done_bytes += file.gzip ? file.size : w.end - w.begin;
  }
}

}  // namespace

std::string Job::bucket_file(const char* kind, int bucket) const {
  char name[64];
  std::snprintf(name, sizeof name, "%s-b%06d", kind, bucket);
  return scratch.file(name);
}

void parse_inputs(Job& job) {
  const int local = job.space.per_rank, first = job.first_bucket();
  std::vector<std::string> rec_paths, user_name_paths, item_name_paths;
  for (int b = first; b < first + local; ++b) {
    rec_paths.push_back(job.bucket_file("u", b));
    user_name_paths.push_back(job.bucket_file("un", b));
    item_name_paths.push_back(job.bucket_file("in", b));
  }
  job.records = SpillStore(rec_paths, job.pool);
  job.user_names = SpillStore(user_name_paths, job.pool);
  job.item_names = SpillStore(item_name_paths, job.pool);
  SpillStore& records = job.records;
  SpillStore& user_names = job.user_names;
  SpillStore& item_names = job.item_names;
  const HashSpace& space = job.space;
  auto on_records = [&](int, const char* data, std::size_t bytes) {
    for (std::size_t at = 0; at + sizeof(Record) <= bytes; at += sizeof(Record)) {
      Record r;
      std::memcpy(&r, data + at, sizeof r);
      const int b = space.bucket_of(r.user) - first;
      if (b < 0 || b >= local) throw Error("internal: record sent to the wrong rank");
      records.append(static_cast<std::size_t>(b), &r, sizeof r);
    }
  };
  auto names_to = [&](SpillStore& out) {
    return [&out, &space, first, local](int, const char* data, std::size_t bytes) {
      std::size_t at = 0;
      while (at + 10 <= bytes) {
        std::uint64_t hash;
        std::uint16_t len;
        std::memcpy(&hash, data + at, 8);
        std::memcpy(&len, data + at + 8, 2);
        const int b = space.bucket_of(hash) - first;
        if (b < 0 || b >= local || at + 10 + len > bytes) throw Error("internal: malformed id message");
        out.append(static_cast<std::size_t>(b), data + at, 10 + len);
        at += 10 + len;
      }
    };
  };
  const std::size_t buf = job.budget.exchange_buffer;
  run_collectively(job.comm, [&] {
    Exchange ex(job.comm, {buf, buf / 4, buf / 4}, {on_records, names_to(user_names), names_to(item_names)});
    std::string error;
    try {
      read_share(job, ex);
    } catch (const Error& e) {
      error = e.what();
    }
    ex.finish(!error.empty());
    if (!error.empty()) throw Error(error);
  });
  job.progress.finish();
}

}  // namespace dals::part
