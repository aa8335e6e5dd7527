// dals-test-recommend-ref --factors MODEL DATA: every user's factors with
// training ratings, as dals-recommend --fold-in-factors writes them (user
// f_1 .. f_k bias, %.9g), for cli/foldin.sh.
//
// dals-test-recommend-ref --similar items|users MODEL DATA K: every trained
// row's K most similar trained rows of the same side by the cosine of
// their factors (n = v / |v| in double, rounded to float; item_score of the
// normalized rows), itself left out, ties to the lower dense id.
//
// dals-test-recommend-ref MODEL DATA K [--include-rated]: the top-K lists of
// every user with training ratings, by brute force, as dals-recommend's TSV
// lines (user item score rank, raw ids), on stdout. One process: the whole
// model (read_model), every training block, each user's items all scored
// with item_score and sorted (higher score first, then lower item id). No
// code of dals-recommend's own, so cli/recommend.sh compares two ways.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/error.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/inspect.hpp"
#include "dals/train/ranking.hpp"

namespace {

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

int print_similar(const std::string& which, const char* model_dir, const char* data, int k) {
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
      if (b == a || !trained[b]) continue;
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

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::strcmp(argv[1], "--similar") == 0) {
    try {
      return print_similar(argv[2], argv[3], argv[4], std::stoi(argv[5]));
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
  if (argc < 4 || argc > 5 || (argc == 5 && std::strcmp(argv[4], "--include-rated") != 0)) {
    std::fprintf(stderr, "usage: dals-test-recommend-ref MODEL DATA K [--include-rated]\n");
    return 2;
  }
  try {
    const dals::Model model = dals::read_model(argv[1]);
    const dals::Manifest m = dals::read_manifest(argv[2]);
    const int k = std::stoi(argv[3]);
    const bool include_rated = argc == 5;
    const bool implicit =
        nlohmann::json::parse(model.state_json).at("hyperparameters").value("feedback", "explicit") == "implicit";
    const bool with_bias = !implicit && model.bias;
    const auto users = dals::raw_id_texts(argv[2], m, dals::Side::users);
    const auto items = dals::raw_id_texts(argv[2], m, dals::Side::items);
    std::vector<float> score(m.items);
    // Items without training ratings are never listed (their factors are random).
    std::vector<char> trained(m.items, 0);
    for (int b = 0; b < m.blocks; ++b) {
      const auto& info = m.train.item_blocks[b];
      const dals::CsrBlock by_item = dals::read_ratings_block(
          dals::ratings_path(argv[2], dals::Split::train, dals::Side::items, b), info, m.users);
      for (std::int64_t r = 0; r < by_item.rows(); ++r) trained[by_item.first_row + r] = by_item.degree(r) > 0;
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
