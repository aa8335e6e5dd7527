// dals-partition's closing summary.
#include <cstdio>
#include <sstream>

#include "dals/partition/partition.hpp"

namespace dals {
namespace {

// 1234567 -> "1,234,567"
std::string grouped(std::int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string format(const char* fmt, double x) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, x);
  return text;
}

}  // namespace

std::string partition_summary(const PartitionResult& r, const std::string& output) {
  const PartitionStats& s = r.stats;
  const Manifest& m = r.manifest;
  std::ostringstream out;
  const double density = static_cast<double>(s.train_ratings + s.test_ratings) /
                         (static_cast<double>(s.users) * static_cast<double>(s.items));
  out << "dals-partition: " << output << ": " << grouped(s.users) << " users, " << grouped(s.items) << " items, "
      << grouped(s.train_ratings) << " training + " << grouped(s.test_ratings)
      << (m.feedback == Feedback::events ? " test events, " : " test ratings, ") << m.blocks
      << (m.blocks == 1 ? " block, mean " : " blocks, mean ") << format("%.4f", m.mean) << ", density "
      << format("%.3g%%", 100 * density) << "\n";
  out << "  input: " << s.files << (s.files == 1 ? " file, " : " files, ") << format("%.1f MB", s.input_bytes / 1e6)
      << ", " << grouped(s.lines) << " lines (" << grouped(s.header_lines) << " header, " << grouped(s.blank_lines)
      << " blank, " << grouped(s.bad_lines) << " bad); separator " << s.separator << "; ids: users " << s.user_ids
      << ", items " << s.item_ids << "\n";
  out << "  ratings read: " << grouped(s.train_lines) << " training";
  if (s.test_lines > 0) out << " + " << grouped(s.test_lines) << " from --test-input";
  out << "; dropped: " << grouped(s.out_of_range) << " outside the rating range, " << grouped(s.dropped_by_user_count)
      << " by the user count filter, " << grouped(s.dropped_by_item_count) << " by the item count filter";
  if (s.k_core_rounds > 0) out << " (k-core: " << s.k_core_rounds << " rounds)";
  out << "; " << grouped(s.duplicates) << " duplicates merged\n";
  if (s.test_lines > 0)  // --test-input
    out << "  test: " << grouped(s.cold_start) << " cold-start ratings (user or item without training ratings), "
        << grouped(s.cold_start_kept) << " kept; " << grouped(s.test_dropped_filtered)
        << " dropped with their filtered user or item; " << grouped(s.test_in_train)
        << " dropped as pairs also in the training input\n";
  else if (s.test_ratings > 0 || s.cold_start > 0)  // a split: only cold starts can be dropped
    out << "  test: " << grouped(s.cold_start)
        << (m.feedback == Feedback::events ? " cold-start events" : " cold-start ratings")
        << " (user or item without training ratings after the split), " << grouped(s.cold_start_kept) << " kept\n";
  out << "  training ratings by value:";
  for (std::size_t b = 0; b < s.histogram.size(); ++b)
    out << (b ? "; " : " ") << s.histogram[b].first << ": " << grouped(s.histogram[b].second);
  out << "\n  time:";
  for (const auto& [phase, seconds] : s.phase_seconds) out << " " << phase << " " << format("%.2f s", seconds) << ",";
  out << " total " << format("%.2f s", s.seconds) << " ("
      << format("%.2f", s.train_lines / std::max(s.seconds, 1e-9) / 1e6) << " M ratings/s on " << s.ranks
      << (s.ranks == 1 ? " rank" : " ranks") << "); peak memory " << format("%.1f MiB", s.peak_rss_mib)
      << " per rank (--memory-limit " << (s.memory_limit >> 20) << " MiB), " << format("%.1f MB", s.spilled_bytes / 1e6)
      << " spilled to temporary files";
  return out.str();
}

}  // namespace dals
