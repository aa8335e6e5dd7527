#include "dals/mpi/route_rows.hpp"

namespace dals {
namespace {

// Frees the datatypes of one call however it ends.
struct Types {
  std::vector<MPI_Datatype> list;
  ~Types() {
    for (MPI_Datatype& t : list)
      if (t != MPI_DATATYPE_NULL && t != MPI_BYTE) MPI_Type_free(&t);
  }
};

}  // namespace

void route_rows(const Comm& comm, const float* table, int width,
                const std::vector<std::span<const std::uint32_t>>& send_rows, float* out,
                const std::vector<std::int64_t>& recv_counts) {
  const int p = comm.size();
  MPI_Datatype row;
  DALS_MPI(MPI_Type_contiguous(width, MPI_FLOAT, &row));
  Types owned;
  owned.list.push_back(row);
  DALS_MPI(MPI_Type_commit(&row));
  const MPI_Aint row_bytes = static_cast<MPI_Aint>(width) * static_cast<MPI_Aint>(sizeof(float));
  std::vector<int> send_counts(p, 0), recv_ones(p, 0), zeros(p, 0);
  std::vector<MPI_Datatype> send_types(p, MPI_BYTE), recv_types(p, MPI_BYTE);
  std::vector<MPI_Aint> displacements;
  MPI_Aint received = 0;
  for (int r = 0; r < p; ++r) {
    const auto& rows = send_rows[r];
    if (!rows.empty()) {
      displacements.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) displacements[i] = static_cast<MPI_Aint>(rows[i]) * row_bytes;
      DALS_MPI(MPI_Type_create_hindexed_block(checked_count(static_cast<std::int64_t>(rows.size()), "routed rows"), 1,
                                              displacements.data(), row, &send_types[r]));
      owned.list.push_back(send_types[r]);
      DALS_MPI(MPI_Type_commit(&send_types[r]));
      send_counts[r] = 1;
    }
    if (recv_counts[r] > 0) {
      const int count = checked_count(recv_counts[r], "routed rows");
      DALS_MPI(MPI_Type_create_hindexed(1, &count, &received, row, &recv_types[r]));
      owned.list.push_back(recv_types[r]);
      DALS_MPI(MPI_Type_commit(&recv_types[r]));
      recv_ones[r] = 1;
      received += recv_counts[r] * row_bytes;
    }
  }
  // Displacements live in the datatypes (MPI_Aint: no 2 GiB limit), so the
  // int byte displacements of MPI_Alltoallw stay 0.
  const CollectiveWatch watch("MPI_Alltoallw");
  DALS_MPI(MPI_Alltoallw(table, send_counts.data(), zeros.data(), send_types.data(), out, recv_ones.data(),
                         zeros.data(), recv_types.data(), comm.get()));
}

std::vector<std::int64_t> alltoallv_ids(const Comm& comm, const std::vector<std::vector<std::int64_t>>& send,
                                        std::vector<std::int64_t>& recv_counts) {
  const int p = comm.size();
  std::vector<int> sc(p), sd(p), rc(p), rd(p);
  std::int64_t total = 0;
  for (int r = 0; r < p; ++r) {
    sc[r] = checked_count(static_cast<std::int64_t>(send[r].size()), "routing request");
    sd[r] = checked_count(total, "routing request displacement");
    total += send[r].size();
  }
  std::vector<std::int64_t> flat;
  flat.reserve(static_cast<std::size_t>(total));
  for (const auto& part : send) flat.insert(flat.end(), part.begin(), part.end());
  const CollectiveWatch watch("MPI_Alltoall and MPI_Alltoallv of the routing requests");
  DALS_MPI(MPI_Alltoall(sc.data(), 1, MPI_INT, rc.data(), 1, MPI_INT, comm.get()));
  std::int64_t incoming = 0;
  recv_counts.assign(p, 0);
  for (int r = 0; r < p; ++r) {
    rd[r] = checked_count(incoming, "routing request displacement");
    recv_counts[r] = rc[r];
    incoming += rc[r];
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(incoming));
  DALS_MPI(MPI_Alltoallv(flat.data(), sc.data(), sd.data(), MPI_INT64_T, out.data(), rc.data(), rd.data(), MPI_INT64_T,
                         comm.get()));
  return out;
}

std::vector<std::uint32_t> alltoallv_words(const Comm& comm, const std::vector<std::uint32_t>& send,
                                           const std::vector<std::int64_t>& send_counts,
                                           std::vector<std::int64_t>& recv_counts) {
  const int p = comm.size();
  std::vector<int> sc(p), sd(p), rc(p), rd(p);
  std::int64_t total = 0;
  for (int r = 0; r < p; ++r) {
    sc[r] = checked_count(send_counts[r], "ranking words");
    sd[r] = checked_count(total, "ranking words displacement");
    total += send_counts[r];
  }
  require(total == static_cast<std::int64_t>(send.size()), "alltoallv_words: the counts do not add up to the words");
  const CollectiveWatch watch("MPI_Alltoall and MPI_Alltoallv of the routed ranking");
  DALS_MPI(MPI_Alltoall(sc.data(), 1, MPI_INT, rc.data(), 1, MPI_INT, comm.get()));
  std::int64_t incoming = 0;
  recv_counts.assign(p, 0);
  for (int r = 0; r < p; ++r) {
    rd[r] = checked_count(incoming, "ranking words displacement");
    recv_counts[r] = rc[r];
    incoming += rc[r];
  }
  std::vector<std::uint32_t> out(static_cast<std::size_t>(incoming));
  DALS_MPI(MPI_Alltoallv(send.data(), sc.data(), sd.data(), MPI_UINT32_T, out.data(), rc.data(), rd.data(),
                         MPI_UINT32_T, comm.get()));
  return out;
}

}  // namespace dals
