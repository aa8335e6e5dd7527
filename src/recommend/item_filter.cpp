// --exclude-items and --candidate-items: the item id files read and applied
// to the mask of items users' (or similar items') lists may hold.
#include "item_filter.hpp"

#include <algorithm>
#include <charconv>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/data/id_index.hpp"
#include "dals/recommend/foldin.hpp"
#include "recommend_input.hpp"

namespace dals::recommend_internal {

namespace {

bool is_integer(const std::string& id) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  return ec == std::errc() && end == id.data() + id.size();
}

ItemIdFile read_item_ids(const std::string& path, const std::string& data, bool integer_ids) {
  ItemIdFile f;
  f.path = path;
  if (path.empty()) return f;
  const std::string text = read_text_file(path);  // Error naming the file if unreadable
  IdLookup lookup(data, Side::items);
  std::size_t start = 0;
  std::int64_t line = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string id = text.substr(start, end - start);
    start = end + 1;
    ++line;
    while (!id.empty() && (id.back() == '\r' || id.back() == ' ' || id.back() == '\t')) id.pop_back();
    const auto first = id.find_first_not_of(' ');
    id = first == std::string::npos ? std::string() : id.substr(first);
    if (id.empty()) continue;
    const std::string where = path + ":" + std::to_string(line) + ": ";
    for (const char ch : id)
      if (ch == '\t' || static_cast<unsigned char>(ch) < 0x20)
        throw Error(where + "one raw item id per line expected, got a tab or a control character");
    if (integer_ids && !is_integer(id))
      throw Error(where + "'" + id + "' is not an integer id (the dataset's item ids are integers)");
    ++f.lines;
    const auto found = lookup.dense_id(canonical_id(id, integer_ids));
    if (found)
      f.ids.push_back(*found);
    else
      ++f.unknown;
  }
  if (f.lines == 0) throw Error(path + ": no item ids (one raw item id per line expected)");
  std::sort(f.ids.begin(), f.ids.end());
  f.ids.erase(std::unique(f.ids.begin(), f.ids.end()), f.ids.end());
  return f;
}

nlohmann::json describe_file(const ItemIdFile& f) {
  if (f.path.empty()) return nullptr;
  return {{"path", f.path}, {"ids", f.lines}, {"unknown", f.unknown}, {"items", f.ids.size()}};
}

}  // namespace

ItemFilter read_item_filter(const RecommendConfig& c) {
  ItemFilter filter;
  if (c.exclude_items.empty() && c.candidate_items.empty()) return filter;
  const bool integer_ids = !string_ids(c.data, Side::items);
  filter.exclude = read_item_ids(c.exclude_items, c.data, integer_ids);
  filter.candidates = read_item_ids(c.candidate_items, c.data, integer_ids);
  return filter;
}

std::int64_t ItemFilter::apply(std::vector<std::uint8_t>& mask) const {
  std::int64_t cleared = 0;
  for (const std::int64_t j : exclude.ids) {
    cleared += mask[j] != 0;
    mask[j] = 0;
  }
  if (!candidates.path.empty()) {
    std::vector<std::uint8_t> named(mask.size(), 0);
    for (const std::int64_t j : candidates.ids) named[j] = 1;
    for (std::size_t j = 0; j < mask.size(); ++j) {
      cleared += mask[j] != 0 && !named[j];
      if (!named[j]) mask[j] = 0;
    }
  }
  return cleared;
}

nlohmann::json ItemFilter::describe() const {
  return {{"exclude_items", describe_file(exclude)}, {"candidate_items", describe_file(candidates)}};
}

void ItemFilter::report_unknown(const std::string& data) const {
  for (const ItemIdFile* f : {&exclude, &candidates})
    if (!f->path.empty() && f->unknown > 0)
      Log::info("%s: %lld of %lld item ids are not in %s (skipped)", f->path.c_str(),
                static_cast<long long>(f->unknown), static_cast<long long>(f->lines), data.c_str());
}

}  // namespace dals::recommend_internal
