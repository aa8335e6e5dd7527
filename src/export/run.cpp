#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/export/export.hpp"
#include "dals/export/export_model.hpp"

namespace dals {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "dals-export";
constexpr const char* kManifestName = "export.json";
}  // namespace

OutputKind export_output_kind() { return output_kind_by_manifest("dals-export output", kManifestName, kFormat); }

void run_export(const Comm& comm, const ExportConfig& c) {
  StagedDir out(c.output, c.force, export_output_kind());
  // Rank 0 does it all (export.hpp); the others share its outcome.
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    out.check();  // a bad --output is refused before the model is read
    const ExportModel model = load_export_model(c.model, c.data);
    out.create();
    const std::string& dir = out.staging();
    nlohmann::json files;
    if (c.format == "hdf5") {
      write_hdf5_export(dir + "/model.h5", model);
      files = {"model.h5"};
    } else if (c.format == "npz") {
      write_npz_export(dir + "/model.npz", model);
      files = {"model.npz"};
    } else {
      write_tsv_export(dir, model);
      files = {"users.tsv", "items.tsv"};
    }
    const nlohmann::json summary = {
        {"format", kFormat},
        {"version", 1},
        {"file_format", c.format},
        {"files", files},
        {"model", c.model},
        {"dataset", c.data},
        {"dataset_fingerprint", model.state.fingerprint},
        {"feedback", model.implicit ? "implicit" : "explicit"},
        {"score", model.with_item_bias ? "item bias + u . v" : "u . v"},
        {"users", model.tables.users.rows()},
        {"items", model.tables.items.rows()},
        {"factors", model.state.factors},
        {"users_trained", model.trained_rows.users},
        {"items_trained", model.trained_rows.items},
        {"untrained_rows", c.format == "tsv" ? "left out" : "zero factors and bias, trained flag 0"},
    };
    write_file_atomic(dir + "/" + kManifestName, summary.dump(2) + "\n");
    out.publish();
    if (!c.quiet)
      Log::info("exported %lld users (%lld trained) and %lld items (%lld trained), k = %d, as %s to %s",
                static_cast<long long>(model.tables.users.rows()), static_cast<long long>(model.trained_rows.users),
                static_cast<long long>(model.tables.items.rows()), static_cast<long long>(model.trained_rows.items),
                model.state.factors, c.format.c_str(), out.dest().c_str());
  });
}

}  // namespace dals
