#pragma once
/// @file export.hpp
/// @brief dals-export: a trained model as files that numpy, h5py, faiss and
/// Spark read without dals.
///
///     OUT/export.json   format "dals-export", the file format, the model,
///                       its dataset fingerprint, m, n, k, the trained counts
///     OUT/model.h5      --format hdf5: user_factors [m,k], item_factors [n,k],
///                       user_bias, item_bias, global_mean, user_ids, item_ids,
///                       user_trained, item_trained, item_factors_ip [n,k+1];
///                       the hyper-parameters as attributes
///     OUT/model.npz     --format npz: the same arrays (numpy.load, no pickle)
///     OUT/users.tsv     --format tsv: id, f_1..f_k, bias of each trained row
///     OUT/items.tsv
///
/// The raw ids live in the dataset's id maps, not in the model, so --data is
/// required; the dataset's training blocks also say which rows had training
/// ratings (the model does not record it): rows without any keep their
/// random initial factors in the model, and are exported as zero factors and
/// bias with a trained flag of 0 (hdf5, npz), or left out (tsv).
///
/// Rank 0 reads every block and writes the one file; the other ranks of an
/// mpirun only wait (a model that fits one node's memory, (m + n)(k + 1) x 4
/// bytes plus the ids). With --parts (hdf5) every rank reads and writes
/// only its own blocks, OUT/parts/{users,items}-BBBBB.h5, and model.h5 holds
/// virtual datasets over them: a model of any size, in one block's memory. The directory is published as a whole
/// (StagedDir), and --force replaces only an earlier dals-export output.

#include <string>

#include "dals/core/option_table.hpp"
#include "dals/core/staged_dir.hpp"
#include "dals/mpi/comm.hpp"

namespace dals {

struct ExportConfig {
  std::string model;            ///< model directory (dals-train --output)
  std::string data;             ///< the dataset it was trained on: raw ids, training counts
  std::string output;           ///< directory to write
  std::string format = "hdf5";  ///< hdf5, npz or tsv
  bool parts = false;           ///< hdf5: each rank writes its blocks, model.h5 is virtual over them
  bool force = false;           ///< replace an earlier dals-export output
  bool quiet = false;           ///< no summary line
};

const OptionTable<ExportConfig>& export_options();

/// Parses and checks the command line (UsageError on a bad one).
ParseOutcome parse_export_config(int argc, const char* const* argv, ExportConfig& config, std::string& text);

/// An output of dals-export, for StagedDir's --force rule: it holds an
/// export.json whose format is "dals-export".
OutputKind export_output_kind();

/// Collective: the whole tool after parsing. Error (agreed) on a model that
/// does not match the dataset or is damaged, or an output that may not be
/// written; nothing is published then.
void run_export(const Comm& comm, const ExportConfig& config);

}  // namespace dals
