// dals-test-model-counts: the training_ratings of model blocks, for
// cli/trained_rows.sh.
//
//   --model MODEL                  every row's count as the blocks record it,
//                                  `users|items dense count` lines (read_model)
//   --data DATA [SEED FRACTION]    the same lines from the dataset: each row's
//                                  training ratings in its side's rating blocks,
//                                  less those the validation split of SEED and
//                                  FRACTION holds out (validation_split.hpp)
//   --strip MODEL                  rewrites every block without its counts and
//                                  re-seals state.json: a model as dals wrote
//                                  them before the counts existed
//   --write MODEL SIDE BLOCK C,..  replaces one block's counts by C,.. (any
//                                  length or value; the array's own checksum
//                                  valid, state.json untouched): a hostile block
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dals/checkpoint/model_io.hpp"
#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/data/dataset.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/train/validation_split.hpp"

namespace {

using dals::Side;

int print_model(const std::string& model_dir) {
  const dals::Model model = dals::read_model(model_dir);
  for (Side side : dals::kBothSides) {
    if (!model.training_ratings[side]) throw dals::Error(model_dir + ": no training_ratings");
    const auto& counts = *model.training_ratings[side];
    for (std::size_t r = 0; r < counts.size(); ++r)
      std::printf("%s %zu %lld\n", dals::side_name(side), r, static_cast<long long>(counts[r]));
  }
  return 0;
}

int print_data(const std::string& data, std::uint64_t seed, double fraction) {
  const dals::Manifest m = dals::read_manifest(data);
  for (Side side : dals::kBothSides) {
    for (int b = 0; b < m.blocks; ++b) {
      dals::CsrBlock block = dals::read_ratings_block(dals::ratings_path(data, dals::Split::train, side, b),
                                                      m.train.blocks(side)[b], m.rows(dals::other(side)));
      dals::split_off_validation(block, side, seed, fraction);
      for (std::int64_t r = 0; r < block.rows(); ++r)
        std::printf("%s %lld %lld\n", dals::side_name(side), static_cast<long long>(block.first_row + r),
                    static_cast<long long>(block.degree(r)));
    }
  }
  return 0;
}

// Rewrites `path` (a block of `rows` rows from `first`) with `counts`, or
// without any when null; returns the checksum a reader computes for it.
std::uint64_t rewrite_block(const std::string& path, std::int64_t first, std::int64_t rows, int k,
                            const std::vector<std::int64_t>* counts) {
  std::vector<float> factors, biases;
  {
    const dals::H5File in = dals::H5File::open(path);
    std::uint64_t cols = 0;
    factors = in.read_exact<float>("factors", static_cast<std::uint64_t>(rows) * k, &cols);
    biases = in.read_exact<float>("biases", static_cast<std::uint64_t>(rows));
  }
  dals::H5File f = dals::H5File::create(path);
  f.set_attribute("first_row", first);
  f.set_attribute("factors_k", static_cast<std::int64_t>(k));
  f.write("factors", std::span<const float>(factors), static_cast<std::uint64_t>(k));
  f.write("biases", std::span<const float>(biases));
  if (counts) f.write(dals::kTrainingRatings, std::span<const std::int64_t>(*counts));
  f.close();
  return dals::hash_combine(dals::checksum_of(std::span<const float>(factors)),
                            dals::checksum_of(std::span<const float>(biases)));
}

struct Layout {
  nlohmann::json state;
  int k = 0;
  dals::PerSide<std::vector<std::int64_t>> firsts;
  dals::PerSide<std::int64_t> rows;
};

Layout layout_of(const std::string& model_dir) {
  Layout l;
  l.state = nlohmann::json::parse(dals::read_text_file(model_dir + "/state.json"));
  l.k = l.state.at("hyperparameters").at("factors").get<int>();
  const auto& d = l.state.at("dataset");
  l.firsts = {d.at("user_block_firsts").get<std::vector<std::int64_t>>(),
              d.at("item_block_firsts").get<std::vector<std::int64_t>>()};
  l.rows = {d.at("users").get<std::int64_t>(), d.at("items").get<std::int64_t>()};
  return l;
}

std::int64_t block_rows(const Layout& l, Side side, std::size_t b) {
  const auto& f = l.firsts[side];
  return (b + 1 < f.size() ? f[b + 1] : l.rows[side]) - f[b];
}

int strip(const std::string& model_dir) {
  Layout l = layout_of(model_dir);
  for (Side side : dals::kBothSides) {
    nlohmann::json sums = nlohmann::json::array();
    for (std::size_t b = 0; b < l.firsts[side].size(); ++b)
      sums.push_back(dals::to_hex(rewrite_block(dals::factor_block_path(model_dir, side, static_cast<int>(b)),
                                                l.firsts[side][b], block_rows(l, side, b), l.k, nullptr)));
    l.state["block_checksums"][dals::side_name(side)] = sums;
  }
  // As run_state.cpp seals a state.json: the checksum of every other field.
  l.state.erase("checksum");
  const std::string body = l.state.dump();
  l.state["checksum"] = dals::to_hex(dals::checksum64(body.data(), body.size()));
  dals::write_file_atomic(model_dir + "/state.json", l.state.dump(1) + "\n");
  return 0;
}

int write_counts(const std::string& model_dir, const std::string& side_name, int block, const std::string& list) {
  const Layout l = layout_of(model_dir);
  const Side side = side_name == "users" ? Side::users : Side::items;
  std::vector<std::int64_t> counts;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) counts.push_back(std::stoll(item));
  rewrite_block(dals::factor_block_path(model_dir, side, block), l.firsts[side].at(block), block_rows(l, side, block),
                l.k, &counts);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "--model" && argc == 3) return print_model(argv[2]);
    if (mode == "--data" && (argc == 3 || argc == 5))
      return print_data(argv[2], argc == 5 ? std::stoull(argv[3]) : 0, argc == 5 ? std::stod(argv[4]) : 0.0);
    if (mode == "--strip" && argc == 3) return strip(argv[2]);
    if (mode == "--write" && argc == 6) return write_counts(argv[2], argv[3], std::stoi(argv[4]), argv[5]);
    std::fprintf(stderr,
                 "usage: dals-test-model-counts --model MODEL | --data DATA [SEED FRACTION] | --strip MODEL | "
                 "--write MODEL SIDE BLOCK C,..\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dals-test-model-counts: error: %s\n", e.what());
    return 2;
  }
}
