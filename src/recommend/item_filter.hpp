#pragma once
// dals-recommend --exclude-items FILE and --candidate-items FILE: items
// never listed, and the only items listed (implicit's filter_items and
// items). Private to src/recommend/.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dals/recommend/recommend.hpp"

namespace dals::recommend_internal {

// One id file read: the dense ids it names, and what it held.
struct ItemIdFile {
  std::string path;               // "" = not given
  std::vector<std::int64_t> ids;  // dense, sorted, no repeats
  std::int64_t lines = 0;         // ids given (blank lines not counted)
  std::int64_t unknown = 0;       // ids not in the dataset (skipped)
};

struct ItemFilter {
  ItemIdFile exclude, candidates;
  bool active() const { return !exclude.path.empty() || !candidates.path.empty(); }
  /// Clears mask[j] for the excluded items and, with a candidate file, for
  /// every item it does not name. Returns how many items it cleared.
  std::int64_t apply(std::vector<std::uint8_t>& mask) const;
  /// {exclude_items: {path, ids, unknown} | null, candidate_items: ...}
  nlohmann::json describe() const;
  /// Log::info of the unknown ids, if any.
  void report_unknown(const std::string& data) const;
};

/// Reads c.exclude_items and c.candidate_items (each rank alike; call
/// inside run_collectively). One raw item id per line, blank lines and
/// trailing blanks or \r ignored. Error `FILE: ...` for a file that cannot
/// be read or names no id, `FILE:LINE: ...` for a line holding a tab or a
/// control character, or, where the dataset's item ids are integers, no
/// integer. Ids the dataset lacks are counted, not refused.
ItemFilter read_item_filter(const RecommendConfig& c);

}  // namespace dals::recommend_internal
