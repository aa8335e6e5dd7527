#pragma once
/// @file route_rows.hpp
/// @brief A sparse all-to-all of table rows: each rank sends chosen rows of
/// its own table to each other rank, and receives other ranks' rows into a
/// compact table, with no copy in between.
///
/// The routed exchange (train/route_plan.hpp) moves only the factor rows a
/// rank's ratings reference. Each destination's rows are described by a
/// derived datatype over the sender's table (an indexed block per row, byte
/// displacements as MPI_Aint) and each source's rows land as one run of the
/// receiver's table, so neither side packs a buffer, and no count is in
/// elements: counts are rows of a (width)-float datatype, far below INT_MAX.

#include <cstdint>
#include <span>
#include <vector>

#include "dals/mpi/comm.hpp"

namespace dals {

/// Collective. `send_rows[d]`: the rows of `table` (offsets from its start,
/// in the order the destination expects) for rank d; `recv_counts[s]`: how
/// many rows rank s sends here, stored in `out` one source after another in
/// rank order. Rows are `width` floats.
void route_rows(const Comm& comm, const float* table, int width,
                const std::vector<std::span<const std::uint32_t>>& send_rows, float* out,
                const std::vector<std::int64_t>& recv_counts);

/// Collective. Every rank sends `send[d]` (ids, any length) to rank d and
/// receives, in rank order, what every rank sent it; `recv_counts` gets each
/// source's count. For the routing plan's one request round.
std::vector<std::int64_t> alltoallv_ids(const Comm& comm, const std::vector<std::vector<std::int64_t>>& send,
                                        std::vector<std::int64_t>& recv_counts);

/// Collective. `send` holds every destination's words one after another in
/// rank order, send_counts[d] of them for rank d; returns what every rank
/// sent here, in rank order, and each source's count in `recv_counts`. For
/// the routed items' ranking (its users' rows and lists, packed as words).
std::vector<std::uint32_t> alltoallv_words(const Comm& comm, const std::vector<std::uint32_t>& send,
                                           const std::vector<std::int64_t>& send_counts,
                                           std::vector<std::int64_t>& recv_counts);

}  // namespace dals
