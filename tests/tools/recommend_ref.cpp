// dals-test-recommend-ref --factors MODEL DATA: every user's factors with
// training ratings, as dals-recommend --fold-in-factors writes them (user
// f_1 .. f_k bias, %.9g), for cli/foldin.sh.
//
// dals-test-recommend-ref --similar items|users MODEL DATA K: every trained
// row's K most similar trained rows of the same side by the cosine of
// their factors (n = v / |v| in double, rounded to float; item_score of the
// normalized rows), itself left out, ties to the lower dense id.
//
// dals-test-recommend-ref --print-h5 FILE DATA: a list file of dals-recommend
// --format hdf5 as the TSV lines of the text format, read with H5File alone
// (not dals' list reader); exit 1 if a line's dense ids do not name its raw
// ids in DATA's id maps.
//
// Both modes take [--exclude FILE] [--candidates FILE] (raw item ids, one
// per line): items named in the first are never listed, and with the second
// only the items it names are (--exclude-items, --candidate-items).
//
// dals-test-recommend-ref MODEL DATA K [--include-rated] [--min-item-ratings
// N]: the top-K lists of
// every user with training ratings, by brute force, as dals-recommend's TSV
// lines (user item score rank, raw ids), on stdout. One process: the whole
// model (read_model), every training block, each user's items all scored
// with item_score and sorted (higher score first, then lower item id). No
// code of dals-recommend's own, so cli/recommend.sh compares two ways. Items
// with fewer than N (at least 1) training ratings are never listed; without
// the option N is dals-recommend's documented default, 20 for an explicit
// model and 0 for an implicit one.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/data/inspect.hpp"
#include "dals/train/ranking.hpp"

namespace {

// --exclude / --candidates: which items may be listed, by raw id text
// (the whole line, blanks around it dropped; blank lines skipped).
struct Allowed {
  std::set<std::string> exclude, candidates;
  bool with_candidates = false;
  bool ok(const std::string& raw) const {
    return exclude.count(raw) == 0 && (!with_candidates || candidates.count(raw) > 0);
  }
  static std::set<std::string> read(const char* path) {
    std::ifstream f(path);
    std::set<std::string> ids;
    for (std::string line; std::getline(f, line);) {
      const auto a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
      if (a != std::string::npos) ids.insert(line.substr(a, b - a + 1));
    }
    return ids;
  }
};

int print_factors(const char* model_dir, const char* data) {
  const dals::Model model = dals::read_model(model_dir);
  const dals::Manifest m = dals::read_manifest(data);
  const auto users = dals::raw_id_texts(data, m, dals::Side::users);
  for (int b = 0; b < m.blocks; ++b) {
    const auto& info = m.train.user_blocks[b];
    const dals::CsrBlock train =
        dals::read_ratings_block(dals::ratings_path(data, dals::Split::train, dals::Side::users, b), info, m.items);
    for (std::int64_t r = 0; r < train.rows(); ++r) {
      if (train.degree(r) == 0) continue;
      const std::int64_t u = train.first_row + r;
      std::printf("%s", users[u].c_str());
      const float* row = model.tables.users.row(u);
      for (int d = 0; d <= model.tables.users.k(); ++d) std::printf("\t%.9g", static_cast<double>(row[d]));
      std::printf("\n");
    }
  }
  return 0;
}

int print_similar(const std::string& which, const char* model_dir, const char* data, int k, const Allowed& allowed) {
  const dals::Model model = dals::read_model(model_dir);
  const dals::Manifest m = dals::read_manifest(data);
  const dals::Side side = which == "items" ? dals::Side::items : dals::Side::users;
  const auto ids = dals::raw_id_texts(data, m, side);
  const dals::FactorTable& table = model.tables[side];
  dals::FactorTable unit(table.rows(), table.k());
  for (std::int64_t r = 0; r < table.rows(); ++r) {
    double squares = 0;
    for (int d = 0; d < table.k(); ++d) squares += static_cast<double>(table.row(r)[d]) * table.row(r)[d];
    for (int d = 0; squares > 0 && d < table.k(); ++d)
      unit.row(r)[d] = static_cast<float>(table.row(r)[d] / std::sqrt(squares));
  }
  // Trained rows: a degree in the side's own training blocks.
  std::vector<char> trained(table.rows(), 0);
  for (int b = 0; b < m.blocks; ++b) {
    const dals::CsrBlock block = dals::read_ratings_block(dals::ratings_path(data, dals::Split::train, side, b),
                                                          m.train.blocks(side)[b], m.rows(dals::other(side)));
    for (std::int64_t r = 0; r < block.rows(); ++r) trained[block.first_row + r] = block.degree(r) > 0;
  }
  std::vector<float> score(table.rows());
  for (std::int64_t a = 0; a < table.rows(); ++a) {
    if (!trained[a]) continue;
    std::vector<std::int64_t> order;
    for (std::int64_t b = 0; b < table.rows(); ++b) {
      if (b == a || !trained[b] || (side == dals::Side::items && !allowed.ok(ids[b]))) continue;
      score[b] = dals::item_score(unit, unit, a, b, false);
      order.push_back(b);
    }
    std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) { return score[x] > score[y]; });
    for (int j = 0; j < std::min<int>(k, static_cast<int>(order.size())); ++j)
      std::printf("%s\t%s\t%.9g\t%d\n", ids[a].c_str(), ids[order[j]].c_str(), static_cast<double>(score[order[j]]),
                  j + 1);
  }
  return 0;
}

// One raw id column (integers, or offsets into bytes) as texts.
std::vector<std::string> id_column(const dals::H5File& f, const std::string& name, std::uint64_t lines) {
  std::vector<std::string> out;
  if (f.string_attribute(name + "_id_type") == "int64") {
    for (const std::int64_t v : f.read_exact<std::int64_t>(name, lines)) out.push_back(std::to_string(v));
    return out;
  }
  const auto offsets = f.read_exact<std::int64_t>(name + "_offsets", lines + 1);
  const auto bytes = f.read<char>(name + "_bytes");
  for (std::uint64_t r = 0; r < lines; ++r) out.emplace_back(bytes.data() + offsets[r], offsets[r + 1] - offsets[r]);
  return out;
}

int print_h5(const char* path, const char* data) {
  const dals::H5File f = dals::H5File::open(path);
  const auto lines = static_cast<std::uint64_t>(f.int_attribute("lines"));
  const auto users = id_column(f, "user", lines), items = id_column(f, "item", lines);
  const auto user_dense = f.read_exact<std::int64_t>("user_dense", lines);
  const auto item_dense = f.read_exact<std::int32_t>("item_dense", lines);
  const auto score = f.read_exact<float>("score", lines);
  const auto rank = f.read_exact<std::int32_t>("rank", lines);
  const dals::Manifest m = dals::read_manifest(data);
  const auto user_ids = dals::raw_id_texts(data, m, dals::Side::users);
  const auto item_ids = dals::raw_id_texts(data, m, dals::Side::items);
  for (std::uint64_t i = 0; i < lines; ++i) {
    if (user_ids.at(user_dense[i]) != users[i] || item_ids.at(item_dense[i]) != items[i]) {
      std::fprintf(stderr, "%s: line %llu: dense ids do not name the raw ids\n", path,
                   static_cast<unsigned long long>(i));
      return 1;
    }
    std::printf("%s\t%s\t%.9g\t%d\n", users[i].c_str(), items[i].c_str(), static_cast<double>(score[i]), rank[i]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Allowed allowed;
  int args = argc;  // without the trailing --exclude / --candidates pairs
  while (args >= 3 &&
         (std::strcmp(argv[args - 2], "--exclude") == 0 || std::strcmp(argv[args - 2], "--candidates") == 0)) {
    if (std::strcmp(argv[args - 2], "--exclude") == 0) {
      allowed.exclude = Allowed::read(argv[args - 1]);
    } else {
      allowed.candidates = Allowed::read(argv[args - 1]);
      allowed.with_candidates = true;
    }
    args -= 2;
  }
  argc = args;
  if (argc == 6 && std::strcmp(argv[1], "--similar") == 0) {
    try {
      return print_similar(argv[2], argv[3], argv[4], std::stoi(argv[5]), allowed);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dals-test-recommend-ref: error: %s\n", e.what());
      return 2;
    }
  }
  if (argc == 4 && std::strcmp(argv[1], "--factors") == 0) {
    try {
      return print_factors(argv[2], argv[3]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dals-test-recommend-ref: error: %s\n", e.what());
      return 2;
    }
  }
  if (argc == 4 && std::strcmp(argv[1], "--print-h5") == 0) {
    try {
      return print_h5(argv[2], argv[3]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dals-test-recommend-ref: error: %s\n", e.what());
      return 2;
    }
  }
  bool include_rated = false;
  long min_ratings = -1;  // dals-recommend's auto: 20 for explicit models, 0 (any trained item) for implicit
  bool usage = argc < 4;
  for (int a = 4; a < argc && !usage; ++a) {
    if (std::strcmp(argv[a], "--include-rated") == 0)
      include_rated = true;
    else if (std::strcmp(argv[a], "--min-item-ratings") == 0 && a + 1 < argc)
      min_ratings = std::stol(argv[++a]);
    else
      usage = true;
  }
  if (usage) {
    std::fprintf(stderr, "usage: dals-test-recommend-ref MODEL DATA K [--include-rated] [--min-item-ratings N]\n");
    return 2;
  }
  try {
    const dals::Model model = dals::read_model(argv[1]);
    const dals::Manifest m = dals::read_manifest(argv[2]);
    const int k = std::stoi(argv[3]);
    const bool implicit =
        nlohmann::json::parse(model.state_json).at("hyperparameters").value("feedback", "explicit") == "implicit";
    const bool with_bias = !implicit && model.bias;
    if (min_ratings < 0) min_ratings = implicit ? 0 : 20;
    min_ratings = std::max(1L, min_ratings);
    const auto users = dals::raw_id_texts(argv[2], m, dals::Side::users);
    const auto items = dals::raw_id_texts(argv[2], m, dals::Side::items);
    std::vector<float> score(m.items);
    // Items without training ratings are never listed (their factors are
    // random), nor those with fewer than --min-item-ratings.
    std::vector<char> trained(m.items, 0);
    for (int b = 0; b < m.blocks; ++b) {
      const auto& info = m.train.item_blocks[b];
      const dals::CsrBlock by_item = dals::read_ratings_block(
          dals::ratings_path(argv[2], dals::Split::train, dals::Side::items, b), info, m.users);
      for (std::int64_t r = 0; r < by_item.rows(); ++r)
        trained[by_item.first_row + r] = by_item.degree(r) >= min_ratings && allowed.ok(items[by_item.first_row + r]);
    }
    for (int b = 0; b < m.blocks; ++b) {
      const auto& info = m.train.user_blocks[b];
      const dals::CsrBlock train = dals::read_ratings_block(
          dals::ratings_path(argv[2], dals::Split::train, dals::Side::users, b), info, m.items);
      for (std::int64_t r = 0; r < train.rows(); ++r) {
        if (train.degree(r) == 0) continue;
        const std::int64_t u = train.first_row + r;
        std::vector<char> rated(m.items, 0);
        for (auto p = train.indptr[r]; p < train.indptr[r + 1]; ++p) rated[train.indices[p]] = 1;
        std::vector<std::int32_t> order;
        for (std::int32_t i = 0; i < m.items; ++i) {
          if ((rated[i] && !include_rated) || !trained[i]) continue;
          score[i] = dals::item_score(model.tables.users, model.tables.items, u, i, with_bias);
          order.push_back(i);
        }
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return score[a] > score[b]; });
        for (int j = 0; j < std::min<int>(k, static_cast<int>(order.size())); ++j)
          std::printf("%s\t%s\t%.9g\t%d\n", users[u].c_str(), items[order[j]].c_str(),
                      static_cast<double>(score[order[j]]), j + 1);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dals-test-recommend-ref: error: %s\n", e.what());
    return 2;
  }
}
