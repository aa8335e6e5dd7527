#include "dals/recommend/lists.hpp"

#include <algorithm>
#include <cstdio>

#include "dals/core/error.hpp"
#include "dals/train/ranking.hpp"

namespace dals {

namespace {

// Users ranked by one rank_top_k call at most: their lists and text are all
// this function holds at once (4096 x K pairs, fewer users for a large K:
// at most 2^22 pairs, 32 MiB), whatever the rank's share.
constexpr std::int64_t kChunkUsers = 4096;
constexpr std::int64_t kChunkPairs = std::int64_t{1} << 22;

// A CSV field: quoted where a string id holds a separator, a quote or a line
// break (RFC 4180), so a CSV reader gets the id back.
void append_field(std::string& out, const std::string& id, char separator) {
  if (separator != ',' || id.find_first_of(",\"\r\n") == std::string::npos) {
    out += id;
    return;
  }
  out += '"';
  for (const char c : id) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  out += '"';
}

}  // namespace

void ListRows::clear() {
  user.clear();
  item.clear();
  score.clear();
  rank.clear();
}

void ListRows::append(const ListRows& other) {
  user.insert(user.end(), other.user.begin(), other.user.end());
  item.insert(item.end(), other.item.begin(), other.item.end());
  score.insert(score.end(), other.score.begin(), other.score.end());
  rank.insert(rank.end(), other.rank.begin(), other.rank.end());
}

ListCounts rank_lists(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                      const std::vector<std::int64_t>& chosen, const ListSpec& spec,
                      const std::function<void(const ListRows&)>& sink) {
  if (spec.k < 1) throw Error("write_lists: k must be >= 1, got " + std::to_string(spec.k));
  // --include-rated: the same rows with no entries, so nothing is excluded.
  CsrBlock none;
  none.first_row = train.first_row;
  none.num_cols = train.num_cols;
  none.indptr.assign(static_cast<std::size_t>(train.rows()) + 1, 0);
  const CsrBlock& excluded = spec.include_rated ? none : train;
  RankingOptions options;
  options.with_item_bias = spec.with_item_bias;
  options.candidates = spec.candidates;
  // No list is longer than the items: a K above n would only size buffers.
  const int k = static_cast<int>(std::min<std::int64_t>(spec.k, std::max<std::int64_t>(1, items.rows())));
  const std::int64_t chunk = std::clamp<std::int64_t>(kChunkPairs / k, 1, kChunkUsers);

  auto trained = [&](std::int64_t u) {
    const std::int64_t r = u - train.first_row;
    return spec.user_ratings ? (*spec.user_ratings)[r] > 0 : train.degree(r) > 0;
  };
  if (spec.user_ratings && static_cast<std::int64_t>(spec.user_ratings->size()) != train.rows())
    throw Error("write_lists: " + std::to_string(spec.user_ratings->size()) + " user rating counts for " +
                std::to_string(train.rows()) + " rows");
  ListCounts counts;
  // A user without training entries still has its random initial factors:
  // a list from them would be noise, so such users get none.
  std::vector<std::int64_t> ranked;
  ranked.reserve(chosen.size());
  for (std::size_t j = 0; j < chosen.size(); ++j) {
    const std::int64_t u = chosen[j];
    if (u < train.first_row || u >= train.first_row + train.rows() || (j > 0 && u <= chosen[j - 1]))
      throw Error("write_lists: chosen users must increase within [" + std::to_string(train.first_row) + ", " +
                  std::to_string(train.first_row + train.rows()) + "), got " + std::to_string(u));
    if (trained(u) || spec.fallback)
      ranked.push_back(u);
    else
      ++counts.no_training;
  }

  ListRows rows;
  std::size_t j = 0;
  while (j < ranked.size()) {
    // A run of consecutive dense ids, one call of rank_top_k.
    std::size_t end = j + 1;
    while (end < ranked.size() && ranked[end] == ranked[end - 1] + 1 && static_cast<std::int64_t>(end - j) < chunk)
      ++end;
    const TopKLists lists = rank_top_k(users, items, excluded, ranked[j], ranked[end - 1] + 1, k, options);
    rows.clear();
    for (std::int64_t u = ranked[j]; u <= ranked[end - 1]; ++u) {
      // (The fallback's users have no entries to exclude: its list as it is.)
      const bool fallback = spec.fallback && !trained(u);
      const int count =
          fallback ? static_cast<int>(std::min<std::size_t>(spec.fallback->size(), k)) : lists.count_of(u);
      for (int r = 0; r < count; ++r) {
        rows.user.push_back(u);
        rows.item.push_back(fallback ? (*spec.fallback)[r].first : lists.items_of(u)[r]);
        rows.score.push_back(fallback ? (*spec.fallback)[r].second : lists.scores_of(u)[r]);
        rows.rank.push_back(r + 1);
      }
      counts.lines += count;
      ++counts.users;
      if (fallback) ++counts.fallback;
    }
    sink(rows);
    j = end;
  }
  return counts;
}

ListCounts write_lists(const FactorTable& users, const FactorTable& items, const CsrBlock& train,
                       const std::vector<std::int64_t>& chosen, const std::vector<std::string>& user_ids,
                       const std::vector<std::string>& item_ids, const ListSpec& spec,
                       const std::function<void(const std::string&)>& sink) {
  if (static_cast<std::int64_t>(user_ids.size()) != train.rows() ||
      static_cast<std::int64_t>(item_ids.size()) != items.rows())
    throw Error("write_lists: " + std::to_string(user_ids.size()) + " user ids for " + std::to_string(train.rows()) +
                " rows, " + std::to_string(item_ids.size()) + " item ids for " + std::to_string(items.rows()));
  std::string text;
  char number[32];
  return rank_lists(users, items, train, chosen, spec, [&](const ListRows& rows) {
    text.clear();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      append_field(text, user_ids[rows.user[i] - train.first_row], spec.separator);
      text += spec.separator;
      append_field(text, item_ids[rows.item[i]], spec.separator);
      std::snprintf(number, sizeof number, "%c%.9g%c%d\n", spec.separator, static_cast<double>(rows.score[i]),
                    spec.separator, rows.rank[i]);
      text += number;
    }
    sink(text);
  });
}

}  // namespace dals
