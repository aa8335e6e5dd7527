#pragma once
/// @file model_io.hpp
/// @brief Model (and checkpoint) directories: factor blocks + state.json.
///
///     MODEL/state.json                iteration, hyper-parameters, dataset
///                                     fingerprint and block ranges, metrics
///     MODEL/users/block-00007.h5      factors (rows x k float32), biases (rows)
///     MODEL/items/block-00007.h5
///     MODEL/metrics.jsonl             one JSON record per iteration
///     MODEL/COMPLETE                  written last, after every block is on disk
///
/// The directory is built under MODEL.tmp and renamed into place, so a
/// reader sees a complete model or none.

#include <cstdint>
#include <string>
#include <vector>

#include "dals/mpi/comm.hpp"
#include "dals/solve/factors.hpp"
#include "dals/train/layout.hpp"
#include "dals/core/types.hpp"
#include "dals/data/manifest.hpp"

namespace dals {

/// Writes rows [first, first + rows) of `table` as one factor block file.
void write_factor_block(const std::string& path, const FactorTable& table, std::int64_t first, std::int64_t rows);

/// Reads a factor block into rows [first, first + rows) of `table`, checking
/// its id range, rank k and checksums.
void read_factor_block(const std::string& path, std::int64_t first, std::int64_t rows, FactorTable& table);

/// "MODEL/users/block-00007.h5"
std::string factor_block_path(const std::string& model_dir, Side side, int block);

/// The temporary directory a model is assembled in before it is published.
std::string staging_dir(const std::string& model_dir);

/// Fails early (before any data is read) if `model_dir` exists and `force`
/// is false. Rank 0 checks; call inside run_collectively.
void check_output_available(const Comm& comm, const std::string& model_dir, bool force);

/// Rank 0 creates a fresh staging directory with users/ and items/ (a stale
/// one from a killed run is removed first). Call inside run_collectively.
void create_staging_dir(const Comm& comm, const std::string& model_dir);

/// Rank 0 removes the staging directory of a run that failed.
void remove_staging_dir(const Comm& comm, const std::string& model_dir) noexcept;

/// The factors a model or checkpoint directory holds, as the ranks hold
/// them in memory: the manifest's blocks, who owns which, and the tables.
struct FactorView {
  const Manifest& manifest;
  const PerSide<SideLayout>& layouts;
  const PerSide<FactorTable>& tables;
};

/// Rank 0: creates `dir` with users/ and items/, removing a stale one (of a
/// killed run) first. Call inside run_collectively.
void make_factor_dir(const std::string& dir);

/// Collective: the one way a model or a checkpoint reaches the disk. Each
/// rank writes the blocks it owns into `staging` (made by make_factor_dir)
/// and fsyncs them; then rank 0 writes state.json and COMPLETE, fsyncs, and
/// renames `staging` to `dest` (an existing `dest` is replaced only if
/// `replace`). A failure on any rank is agreed (AgreedFailure) before
/// anything is renamed, so `dest` is never half-written. Returns the bytes
/// of factor data this rank wrote.
std::int64_t publish_factor_dir(const Comm& comm, const std::string& staging, const std::string& dest,
                                const FactorView& factors, const std::string& state_json, bool replace);

/// Reads, from a model or checkpoint directory, the factor blocks that
/// `rank` owns on both sides into its rows of `tables` (checking id ranges,
/// k and checksums). Error naming the file on any problem. Returns the
/// bytes of factor data read.
std::int64_t read_owned_blocks(const std::string& dir, const Manifest& manifest, const PerSide<SideLayout>& layouts,
                               int rank, PerSide<FactorTable>& tables);

/// Collective. publish_factor_dir from the staging directory of `model_dir`.
void publish_model(const Comm& comm, const std::string& model_dir, const FactorView& factors,
                   const std::string& state_json, bool force);

/// A model read back whole (for tools and tests; one process).
struct Model {
  std::string state_json;
  double mean = 0;
  bool bias = true;
  PerSide<FactorTable> tables;
};

/// Reads MODEL/state.json and every factor block; Error naming the file on
/// any problem (missing COMPLETE, bad checksum, wrong shape).
Model read_model(const std::string& model_dir);

}  // namespace dals
