#include <filesystem>
#include <nlohmann/json.hpp>

#include "dals/checkpoint/model_check.hpp"
#include "dals/core/error.hpp"
#include "dals/core/fs_util.hpp"
#include "dals/core/log.hpp"
#include "dals/export/export.hpp"
#include "dals/export/export_model.hpp"
#include "hdf5_parts.hpp"

namespace dals {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "dals-export";
constexpr const char* kManifestName = "export.json";

nlohmann::json summary_json(const ExportConfig& c, const SavedState& state, bool implicit, bool with_item_bias,
                            const nlohmann::json& files, const PerSide<std::int64_t>& rows,
                            const PerSide<std::int64_t>& trained) {
  return {
      {"format", kFormat},
      {"version", 1},
      {"file_format", c.format},
      {"layout", c.parts ? "virtual over parts" : "one file"},
      {"files", files},
      {"model", c.model},
      {"dataset", c.data},
      {"dataset_fingerprint", state.fingerprint},
      {"feedback", implicit ? "implicit" : "explicit"},
      {"score", with_item_bias ? "item bias + u . v" : "u . v"},
      {"users", rows.users},
      {"items", rows.items},
      {"factors", state.factors},
      {"users_trained", trained.users},
      {"items_trained", trained.items},
      {"untrained_rows", c.format == "tsv" ? "left out" : "zero factors and bias, trained flag 0"},
  };
}

void log_summary(const ExportConfig& c, const PerSide<std::int64_t>& rows, const PerSide<std::int64_t>& trained, int k,
                 const std::string& dest) {
  if (!c.quiet)
    Log::info("exported %lld users (%lld trained) and %lld items (%lld trained), k = %d, as %s%s to %s",
              static_cast<long long>(rows.users), static_cast<long long>(trained.users),
              static_cast<long long>(rows.items), static_cast<long long>(trained.items), k, c.format.c_str(),
              c.parts ? " (virtual over parts)" : "", dest.c_str());
}

// --parts: every rank its own blocks, rank 0 the virtual model.h5.
void run_parts_export(const Comm& comm, const ExportConfig& c, StagedDir& out) {
  Manifest m;
  SavedState state;
  run_collectively(comm, [&] {
    m = read_manifest(c.data);
    if (comm.size() > m.blocks)
      throw Error(c.data + ": " + std::to_string(comm.size()) + " ranks but the dataset has only " +
                  std::to_string(m.blocks) + " blocks per side (P must be <= B)");
    state = read_model_state_for(c.model, c.data, m);
    if (comm.is_root()) {
      out.check();
      out.create();
      fs::create_directories(out.staging() + "/parts");
    }
  });
  const bool implicit = is_implicit_model(state);
  const bool with_item_bias = !implicit && state.bias;
  export_internal::PartsSummary parts;
  run_collectively(comm, [&] {
    parts = export_internal::write_parts(comm, c.model, c.data, m, state, with_item_bias, out.staging());
  });
  PerSide<std::int64_t> trained = parts.trained_rows;
  comm.allreduce_inplace(std::span<std::int64_t>(&trained.users, 1), MPI_SUM);
  comm.allreduce_inplace(std::span<std::int64_t>(&trained.items, 1), MPI_SUM);
  run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    const std::string& dir = out.staging();
    export_internal::write_virtual_model(dir + "/model.h5", m, state, with_item_bias, parts.string_ids);
    nlohmann::json files = {"model.h5"};
    for (const std::string& f : export_internal::part_files(m, state)) files.push_back(f);
    const PerSide<std::int64_t> rows{m.users + state.added_users, m.items};
    write_file_atomic(dir + "/" + kManifestName,
                      summary_json(c, state, implicit, with_item_bias, files, rows, trained).dump(2) + "\n");
    out.publish();
    log_summary(c, rows, trained, state.factors, out.dest());
  });
}

}  // namespace

OutputKind export_output_kind() { return output_kind_by_manifest("dals-export output", kManifestName, kFormat); }

void run_export(const Comm& comm, const ExportConfig& c) {
  StagedDir out(c.output, c.force, export_output_kind());
  if (c.parts) return run_parts_export(comm, c, out);
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
    const PerSide<std::int64_t> rows{model.tables.users.rows(), model.tables.items.rows()};
    const nlohmann::json summary =
        summary_json(c, model.state, model.implicit, model.with_item_bias, files, rows, model.trained_rows);
    write_file_atomic(dir + "/" + kManifestName, summary.dump(2) + "\n");
    out.publish();
    log_summary(c, rows, model.trained_rows, model.state.factors, out.dest());
  });
}

}  // namespace dals
