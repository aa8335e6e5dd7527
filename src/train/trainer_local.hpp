#pragma once
// One side's local ratings and solve order, as the trainer's files share
// them (trainer.cpp, trainer_held_out.cpp, trainer_exchange.cpp). Private
// to src/train/.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dals/data/csr.hpp"
#include "dals/train/trainer.hpp"

namespace dals {

struct Trainer::Local {
  CsrBlock ratings;  // owned rows of this side, all owned blocks appended; where the
                     // other side is routed, columns are positions in a chunk's received rows
  // Implicit mode: ratings.values hold each entry's scale (implicit_scale)
  // in place of its value, converted once; and each row's constant.
  std::vector<double> implicit_constants;
  std::vector<std::int64_t> order;      // local rows, as solve_order takes them, chunk after chunk
  std::vector<std::size_t> chunk_ends;  // where each routed chunk's rows end in `order` (one chunk otherwise)
  double flops = 0;                     // of one half on this rank
};

/// Seconds since `start` (an MPI_Wtime), as the trainer's records count them.
inline double seconds_since(double start) { return MPI_Wtime() - start; }

}  // namespace dals
