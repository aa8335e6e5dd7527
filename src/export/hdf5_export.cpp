// OUT/model.h5 of dals-export --format hdf5: the whole model in one file
// (hdf5_writer.hpp), and the pieces that --parts writes the same way
// (hdf5_parts.cpp): one side's arrays, the items' inner-product table and
// the attributes.
#include "dals/core/version.hpp"
#include "hdf5_writer.hpp"

namespace dals {

namespace export_internal {

void write_side_arrays(Writer& w, Side side, const FactorTable& t, const RawIds& ids,
                       const std::vector<std::uint8_t>& trained, int k, bool with_item_bias) {
  const std::string s = side == Side::users ? "user" : "item";
  w.table_columns(s + "_factors", t, 0, k, false);
  w.table_columns(s + "_bias", t, k, 1, true);
  w.ids(s + "_ids", ids);
  w.array(s + "_trained", H5T_NATIVE_UINT8, trained.data(), t.rows());
  if (side == Side::users) return;
  // [v_j, c_j]: the item rows as the model holds them; with [u_i, 1] their
  // inner product is dals-recommend's score. Models scored without the item
  // bias (implicit, --no-bias) get a zero last column.
  w.table_columns("item_factors_ip", t, 0, k + 1, false);
  if (!with_item_bias) w.zero_column("item_factors_ip", t.rows(), k);
}

void write_model_attributes(Writer& w, const SavedState& state, bool with_item_bias) {
  const double mean = state.mean;
  w.array("global_mean", H5T_NATIVE_DOUBLE, &mean, 1, true);
  w.attribute("format", "dals-export");
  w.attribute("version", 1);
  w.attribute("dals_version", kVersion);
  w.attribute("dataset_fingerprint", state.fingerprint);
  w.attribute("iterations_done", state.progress.iterations);
  // The last rows of user_*: users fold-in added (not in the dataset).
  w.attribute("added_users", state.added_users);
  w.attribute("score", with_item_bias ? "item bias + u . v" : "u . v");
  w.attribute("hyperparameters", state.hyperparameters);
  const nlohmann::json h = nlohmann::json::parse(state.hyperparameters, nullptr, false);
  if (h.is_object())
    for (const auto& [key, value] : h.items()) w.attribute(key, value);
}

}  // namespace export_internal

void write_hdf5_export(const std::string& path, const ExportModel& model) {
  using namespace export_internal;
  Writer w(path);
  for (Side side : kBothSides)
    write_side_arrays(w, side, model.tables[side], model.ids[side], model.trained[side], model.state.factors,
                      model.with_item_bias);
  write_model_attributes(w, model.state, model.with_item_bias);
  w.close();
}

}  // namespace dals
