#include "dals/core/error.hpp"
#include "dals/core/version.hpp"
#include "dals/export/export.hpp"

namespace dals {

const OptionTable<ExportConfig>& export_options() {
  using C = ExportConfig;
  constexpr OptionUse local = OptionUse::local;
  static const OptionTable<C> table = [] {
    OptionTable<C> t(
        "Usage: [mpirun -n P] dals-export --model DIR --data DIR --output DIR [--format hdf5|npz|tsv] [options]\n"
        "Writes a trained model as one HDF5 file, a numpy .npz or TSV text, with raw ids (rank 0 writes; with --parts "
        "every rank)",
        std::string("dals-export ") + kVersion);
    t.add("Input", "model", &C::model, "model directory (dals-train --output)")
        .add("Input", "data", &C::data,
             "the dataset the model was trained on: its raw ids and which rows had training ratings");
    t.add("Output", "output,o", &C::output, "directory to write (written atomically)")
        .add("Output", "format", &C::format, "hdf5 (model.h5), npz (model.npz, numpy) or tsv (users.tsv and items.tsv)")
        .add("Output", "parts", &C::parts,
             "hdf5: every rank writes its own blocks as parts/*.h5 and model.h5 is an HDF5 virtual dataset over them "
             "(for a model too large for one node; read as one file)")
        .add("Output", "force", &C::force, "replace an existing --output written by dals-export")
        .add("Run", "quiet", &C::quiet, "no summary line", local);
    return t;
  }();
  return table;
}

ParseOutcome parse_export_config(int argc, const char* const* argv, ExportConfig& config, std::string& text) {
  if (export_options().parse(argc, argv, config, text) == ParseOutcome::help_shown) return ParseOutcome::help_shown;
  if (config.model.empty()) throw UsageError{"--model is required: the model directory to export"};
  if (config.data.empty()) throw UsageError{"--data is required: the dataset the model was trained on (raw ids)"};
  if (config.output.empty()) throw UsageError{"--output is required: the directory to write the export to"};
  if (config.format != "hdf5" && config.format != "npz" && config.format != "tsv")
    throw UsageError{"--format must be hdf5, npz or tsv, got '" + config.format + "'"};
  if (config.parts && config.format != "hdf5")
    throw UsageError{"--parts needs --format hdf5 (a virtual dataset over the parts), not " + config.format};
  return ParseOutcome::run;
}

}  // namespace dals
