#include "dals/recommend/foldin.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "dals/core/enum_names.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/json_reader.hpp"
#include "dals/solve/implicit_gramian.hpp"
#include "dals/solve/row_solver.hpp"

namespace dals {

namespace {

// A line's fields: split at commas where it has one, else at runs of spaces
// and tabs; each field trimmed of surrounding blanks.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  auto trim = [](std::string_view f) {
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    return f;
  };
  if (line.find(',') != std::string_view::npos) {
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line.find(',', start);
      fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return fields;
  }
  std::size_t p = 0;
  while (p < line.size()) {
    while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
    const std::size_t start = p;
    while (p < line.size() && line[p] != ' ' && line[p] != '\t') ++p;
    if (p > start) fields.push_back(line.substr(start, p - start));
  }
  return fields;
}

// An integer raw id in the dataset's canonical text ("042" -> "42"); the
// text itself where it is no integer (it then names no item).
std::string canonical_integer(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::string(text);
  return std::to_string(v);
}

// An enum of state.json by its name (EnumNames' table).
template <class E>
E enum_of(const JsonReader& h, const std::string& key) {
  const std::string name = h.get_string(key);
  for (const auto& [text, value] : EnumNames<E>::table)
    if (name == text) return value;
  h.fail(key, "unknown value '" + name + "'");
}

}  // namespace

std::string canonical_id(std::string_view text, bool integer_ids) {
  return integer_ids ? canonical_integer(text) : std::string(text);
}

void for_each_entry(const std::string& path, bool implicit, bool header,
                    const std::function<void(const RawEntry&)>& each) {
  const std::string text = read_text_file(path);
  std::size_t start = 0;
  std::int64_t line_number = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (header && line_number == 1) continue;
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    const auto fields = split_fields(line);
    auto fail = [&](const std::string& what) { throw Error(path + ":" + std::to_string(line_number) + ": " + what); };
    const std::size_t wanted = implicit ? 2 : 3;
    if (fields.size() < wanted || fields[0].empty() || fields[1].empty())
      fail(std::string("expected ") + (implicit ? "`user item [value]`" : "`user item value`") + ", got " +
           std::to_string(fields.size()) + (fields.size() == 1 ? " field" : " fields"));
    RawEntry entry;
    entry.user = fields[0];
    entry.item = fields[1];
    entry.line = line_number;
    if (fields.size() >= 3) {
      const std::string field(fields[2]);
      char* stop = nullptr;
      entry.value = std::strtof(field.c_str(), &stop);
      if (field.empty() || *stop != '\0' || !std::isfinite(entry.value))
        fail("value '" + field + "' is not a finite number");
      if (implicit && !(entry.value > 0))
        fail("value " + field + " must be > 0 for an implicit model (an event or a count)");
    }
    each(entry);
  }
}

FoldInInput read_fold_in(const std::string& path, const FoldInItems& items, bool implicit, bool header) {
  std::unordered_map<std::string, std::int32_t> item_of;
  item_of.reserve(items.ids->size());
  for (std::size_t i = 0; i < items.ids->size(); ++i)
    if ((*items.trained)[i]) item_of.emplace((*items.ids)[i], static_cast<std::int32_t>(i));

  FoldInInput in;
  std::unordered_map<std::string, std::int64_t> user_of;
  // Per user: (item, value) in file order; sorted and merged below.
  std::vector<std::vector<std::pair<std::int32_t, float>>> entries;
  for_each_entry(path, implicit, header, [&](const RawEntry& e) {
    ++in.entries;
    const auto item = item_of.find(canonical_id(e.item, items.integer_ids));
    const std::string user(e.user);
    auto [it, added] = user_of.emplace(user, static_cast<std::int64_t>(in.users.size()));
    if (added) {
      in.users.push_back(user);
      entries.emplace_back();
    }
    if (item == item_of.end()) {
      ++in.unknown_entries;
      return;
    }
    entries[it->second].emplace_back(item->second, e.value);
  });

  in.history.first_row = 0;
  in.history.num_cols = static_cast<std::int64_t>(items.ids->size());
  in.history.indptr.assign(1, 0);
  for (auto& list : entries) {
    // Stable: a repeated item's values stay in file order.
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t p = 0; p < list.size(); ++p) {
      if (p > 0 && list[p].first == list[p - 1].first) {
        float& last = in.history.values.back();
        last = implicit ? last + list[p].second : list[p].second;
        continue;
      }
      in.history.indices.push_back(list[p].first);
      in.history.values.push_back(list[p].second);
    }
    in.history.indptr.push_back(static_cast<std::int64_t>(in.history.indices.size()));
  }
  return in;
}

SolveParams fold_in_params(const std::string& hyperparameters, const std::string& path, double rating_spread) {
  const nlohmann::json doc = parse_json_text(hyperparameters, path);
  const JsonReader h(doc, path, "hyperparameters");
  SolveParams p;
  p.k = static_cast<int>(h.get_int("factors", 0, 4096));
  p.lambda = h.get_double("lambda");
  if (!(p.lambda >= 0)) h.fail("lambda", "must be >= 0");
  p.regularization = enum_of<Regularization>(h, "regularization");
  if (p.regularization == Regularization::power) {
    p.exponent = h.get_double("lambda_exponent");
    if (!(p.exponent >= 0 && p.exponent <= 1)) h.fail("lambda_exponent", "must be in [0, 1]");
  }
  p.bias = h.get_bool("bias");
  if (h.has("bias_lambda")) {
    p.bias_lambda = h.get_double("bias_lambda");
    if (!(p.bias_lambda >= 0)) h.fail("bias_lambda", "must be >= 0");
  }
  p.solver = Solver::cholesky;
  // --lambda-units spread: the factors' lambda was lambda times the spread,
  // the biases' lambda as given (dals-train's Trainer).
  if (h.has("lambda_units") && h.get_string("lambda_units") == "spread") {
    if (p.bias_lambda < 0) p.bias_lambda = p.lambda;
    p.lambda *= rating_spread;
  }
  p.implicit = h.has("feedback") && h.get_string("feedback") == "implicit";
  if (p.implicit) {
    p.bias = false;
    p.alpha = h.get_double("alpha");
    p.confidence = enum_of<Confidence>(h, "confidence");
    if (p.confidence == Confidence::log) p.epsilon = h.get_double("epsilon");
    p.unobserved_weight = h.get_double("unobserved_weight");
    if (!(p.alpha > 0) || !(p.epsilon > 0) || !(p.unobserved_weight > 0 && p.unobserved_weight <= 1))
      h.fail("alpha", "alpha, epsilon must be > 0 and unobserved_weight in (0, 1]");
  }
  return p;
}

std::int64_t fold_in_heavy_threshold(const std::string& hyperparameters, const std::string& path,
                                     std::int64_t item_blocks, std::int64_t recorded) {
  if (recorded >= 0) return recorded;
  const nlohmann::json doc = parse_json_text(hyperparameters, path);
  const JsonReader h(doc, path, "hyperparameters");
  const int k = static_cast<int>(h.get_int("factors", 0, 4096));
  const Solver solver = enum_of<Solver>(h, "solver");
  std::int64_t option = -1;  // auto, unless recorded
  if (h.has("heavy_rows")) {
    const nlohmann::json& v = doc.at("heavy_rows");
    if (v.is_string() && v.get<std::string>() == "off")
      option = 0;
    else
      option = h.get_int("heavy_rows", 1, std::numeric_limits<std::int64_t>::max());
  }
  return RowSolver::heavy_threshold(k, solver, option, item_blocks);
}

std::vector<std::int64_t> item_block_first(const Manifest& m) {
  std::vector<std::int64_t> out;
  for (const BlockInfo& b : m.train.item_blocks) out.push_back(b.first);
  out.push_back(m.items);
  return out;
}

FactorTable fold_in(const CsrBlock& history, std::int64_t first, std::int64_t end, const FactorTable& items,
                    const SolveParams& params, double mean, std::span<const std::int64_t> item_block_first,
                    std::int64_t heavy_from) {
  if (first < 0 || end < first || end > history.rows() || items.k() != params.k)
    throw Error("fold_in: rows [" + std::to_string(first) + ", " + std::to_string(end) + ") of " +
                std::to_string(history.rows()) + ", k " + std::to_string(items.k()) + " vs " +
                std::to_string(params.k));
  FactorTable out(end - first, params.k);
  std::int64_t max_degree = 1;
  for (std::int64_t r = first; r < end; ++r) max_degree = std::max(max_degree, history.degree(r));
  // BLAS inside our threads, single-threaded, as in training (trainer.cpp):
  // the Gramian's bits are those of single-threaded SSYRKs.
  openblas_set_num_threads(1);
  ImplicitGramian gramian;
  if (params.implicit && item_block_first.empty()) gramian.compute(items, params.unobserved_weight);
  if (params.implicit && !item_block_first.empty()) gramian.compute(items, params.unobserved_weight, item_block_first);
#pragma omp parallel
  {
    RowSolver solver(params, max_degree);
    std::vector<float> scales;
#pragma omp for schedule(dynamic, 4)
    for (std::int64_t r = first; r < end; ++r) {
      const std::int64_t begin = history.indptr[r], degree = history.degree(r);
      if (degree == 0) continue;  // no known item: zero factors and bias (the fallback)
      float* row = out.row(r - first);
      const bool heavy = degree >= heavy_from && !item_block_first.empty();
      if (params.implicit) {
        // What the trainer reads per entry instead of its value (trainer.cpp).
        scales.resize(static_cast<std::size_t>(degree));
        for (std::int64_t p = 0; p < degree; ++p) scales[p] = params.implicit_scale(history.values[begin + p]);
        const double constant = params.implicit_constant(scales.data(), degree);
        if (heavy)
          solver.solve_in_parts(&history.indices[begin], scales.data(), degree, items, 0.0, item_block_first, row,
                                constant, &gramian);
        else
          solver.solve_implicit(&history.indices[begin], scales.data(), degree, constant, items, gramian, row);
      } else if (heavy) {
        solver.solve_in_parts(&history.indices[begin], &history.values[begin], degree, items, mean, item_block_first,
                              row);
      } else {
        solver.solve(&history.indices[begin], &history.values[begin], degree, items, mean, row);
      }
    }
  }
  return out;
}

}  // namespace dals
