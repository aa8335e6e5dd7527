// dals-export: a trained model as HDF5, .npz or TSV for numpy, h5py, faiss
// and Spark. All the work is in the library (export/export.hpp).
#include "dals/export/export.hpp"
#include "dals/mpi/tool_main.hpp"

int main(int argc, char** argv) {
  return dals::run_mpi_tool("dals-export", argc, argv, [&](const dals::Comm& comm) {
    dals::ExportConfig config;
    if (!dals::parse_collectively(
            comm, [&](std::string& text) { return dals::parse_export_config(argc, argv, config, text); }))
      return;
    dals::run_export(comm, config);
  });
}
