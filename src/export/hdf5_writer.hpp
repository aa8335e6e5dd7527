#pragma once
// The HDF5 writer of dals-export's files (model.h5, and with --parts its
// part files and the virtual datasets over them): plain HDF5 as h5py and
// any HDF5 reader take it, written with the C API. The factor tables are
// written straight from their (k + 1)-float rows through hyperslabs, so
// nothing is copied; string ids are variable-length UTF-8 (h5py's str); no
// modification times, so the same model gives the same bytes.
#include <hdf5.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"
#include "dals/export/export_model.hpp"

namespace dals::export_internal {

class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    // No modification times in the objects' headers (the root group's, the
    // datasets'): the same model gives the same bytes, whenever and on
    // however many ranks it is exported.
    H5Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    if (fcpl.get() < 0 || H5Pset_obj_track_times(fcpl.get(), false) < 0) fail("cannot make a property list");
    file_ = H5Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose);
    if (file_.get() < 0) fail("cannot create file");
    dcpl_ = H5Id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (dcpl_.get() < 0 || H5Pset_obj_track_times(dcpl_.get(), false) < 0) fail("cannot make a property list");
  }

  [[noreturn]] void fail(const std::string& what) const {
    const std::string inner = h5_last_error();
    throw Error(path_ + ": " + what + (inner.empty() ? "" : ": " + inner));
  }

  // Columns [col, col + cols) of every row of `t` as a rows x cols dataset
  // (1-D when `one_d`).
  void table_columns(const std::string& name, const FactorTable& t, int col, int cols, bool one_d) {
    const hsize_t rows = static_cast<hsize_t>(t.rows());
    const hsize_t mem_dims[2] = {rows, static_cast<hsize_t>(t.stride())};
    const hsize_t file_dims[2] = {rows, static_cast<hsize_t>(cols)};
    H5Id file_space(H5Screate_simple(one_d ? 1 : 2, file_dims, nullptr), H5Sclose);
    H5Id dset(H5Dcreate2(file_.get(), name.c_str(), H5T_NATIVE_FLOAT, file_space.get(), H5P_DEFAULT, dcpl_.get(),
                         H5P_DEFAULT),
              H5Dclose);
    if (file_space.get() < 0 || dset.get() < 0) fail("cannot create dataset " + name);
    if (rows == 0 || cols == 0) return;
    H5Id mem_space(H5Screate_simple(2, mem_dims, nullptr), H5Sclose);
    const hsize_t start[2] = {0, static_cast<hsize_t>(col)}, count[2] = {rows, static_cast<hsize_t>(cols)};
    if (mem_space.get() < 0 || H5Sselect_hyperslab(mem_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0)
      fail("cannot select the columns of " + name);
    if (H5Dwrite(dset.get(), H5T_NATIVE_FLOAT, mem_space.get(), H5S_ALL, H5P_DEFAULT, t.data()) < 0)
      fail("cannot write dataset " + name);
  }

  // Zeroes one column of an existing 2-D float dataset.
  void zero_column(const std::string& name, std::int64_t rows, int col) {
    if (rows == 0) return;
    H5Id dset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    H5Id space(dset.get() < 0 ? H5I_INVALID_HID : H5Dget_space(dset.get()), H5Sclose);
    const hsize_t start[2] = {0, static_cast<hsize_t>(col)}, count[2] = {static_cast<hsize_t>(rows), 1};
    const hsize_t mem_dims[1] = {static_cast<hsize_t>(rows)};
    H5Id mem(H5Screate_simple(1, mem_dims, nullptr), H5Sclose);
    const std::vector<float> zeros(rows, 0.f);
    if (space.get() < 0 || mem.get() < 0 ||
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
        H5Dwrite(dset.get(), H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, zeros.data()) < 0)
      fail("cannot write dataset " + name);
  }

  template <class T>
  void array(const std::string& name, hid_t type, const T* data, std::int64_t count, bool scalar = false) {
    const hsize_t dims[1] = {static_cast<hsize_t>(count)};
    H5Id space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nullptr), H5Sclose);
    H5Id dset(H5Dcreate2(file_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, dcpl_.get(), H5P_DEFAULT),
              H5Dclose);
    if (space.get() < 0 || dset.get() < 0) fail("cannot create dataset " + name);
    if ((scalar || count > 0) && H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
      fail("cannot write dataset " + name);
  }

  void ids(const std::string& name, const RawIds& ids) {
    if (!ids.is_string) return array(name, H5T_NATIVE_INT64, ids.ints.data(), ids.size());
    // Variable-length strings are written from NUL-terminated pointers.
    std::vector<char> bytes;
    std::vector<std::int64_t> at;
    for (std::int64_t r = 0; r < ids.size(); ++r) {
      const std::string_view id = ids.strings.at(r);
      if (id.find('\0') != std::string_view::npos)
        throw Error(path_ + ": raw id of " + name + " row " + std::to_string(r) + " holds a NUL byte");
      at.push_back(static_cast<std::int64_t>(bytes.size()));
      bytes.insert(bytes.end(), id.begin(), id.end());
      bytes.push_back('\0');
    }
    std::vector<const char*> pointers;
    for (const std::int64_t a : at) pointers.push_back(bytes.data() + a);
    H5Id type = utf8_type();
    array(name, type.get(), pointers.data(), ids.size());
  }

  void attribute(const std::string& name, const nlohmann::json& value) {
    if (H5Aexists(file_.get(), name.c_str()) > 0) return;  // the first writer of a name wins
    H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Id string_type = utf8_type();
    std::int64_t i = 0;
    double d = 0;
    std::string s;
    const char* p = nullptr;
    hid_t type = H5T_NATIVE_INT64;
    const void* data = &i;
    if (value.is_boolean()) {
      i = value.get<bool>() ? 1 : 0;
    } else if (value.is_number_integer()) {
      i = value.get<std::int64_t>();
    } else if (value.is_number()) {
      type = H5T_NATIVE_DOUBLE;
      d = value.get<double>();
      data = &d;
    } else {
      s = value.is_string() ? value.get<std::string>() : value.dump();
      p = s.c_str();
      type = string_type.get();
      data = &p;
    }
    H5Id attr(H5Acreate2(file_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (attr.get() < 0 || H5Awrite(attr.get(), type, data) < 0) fail("cannot write attribute " + name);
  }

  // A virtual dataset `name` of `total` rows (x `cols` columns; 1-D when
  // cols is 0) over the datasets of the same name in the part files: rows
  // [first, first + rows) of part `file` (a path relative to this file's
  // directory, as HDF5 resolves it), parts of 0 rows left out.
  struct Part {
    std::string file;
    std::int64_t first = 0, rows = 0;
  };
  void virtual_dataset(const std::string& name, hid_t type, std::int64_t total, int cols,
                       const std::vector<Part>& parts) {
    const int rank = cols == 0 ? 1 : 2;
    const hsize_t dims[2] = {static_cast<hsize_t>(total), static_cast<hsize_t>(cols)};
    H5Id space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
    H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (space.get() < 0 || dcpl.get() < 0 || H5Pset_obj_track_times(dcpl.get(), false) < 0)
      fail("cannot make the layout of " + name);
    for (const Part& p : parts) {
      if (p.rows == 0) continue;
      const hsize_t part_dims[2] = {static_cast<hsize_t>(p.rows), static_cast<hsize_t>(cols)};
      const hsize_t start[2] = {static_cast<hsize_t>(p.first), 0};
      H5Id part_space(H5Screate_simple(rank, part_dims, nullptr), H5Sclose);
      if (part_space.get() < 0 ||
          H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, part_dims, nullptr) < 0 ||
          H5Pset_virtual(dcpl.get(), space.get(), p.file.c_str(), name.c_str(), part_space.get()) < 0)
        fail("cannot map " + p.file + " into " + name);
    }
    if (H5Sselect_all(space.get()) < 0) fail("cannot select " + name);
    H5Id dset(H5Dcreate2(file_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose);
    if (dset.get() < 0) fail("cannot create virtual dataset " + name);
  }

  H5Id utf8_type() const {
    H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
    if (type.get() < 0 || H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)
      fail("cannot make a string type");
    return type;
  }

  void close() {
    if (H5Fclose(file_.release()) < 0) fail("cannot close file");
  }

 private:
  std::string path_;
  H5Id file_, dcpl_;
};

/// One side's arrays of model.h5 (or of a part file), from rows of `t`:
/// {user|item}_factors, _bias, _ids, _trained, and for items item_factors_ip.
void write_side_arrays(Writer& w, Side side, const FactorTable& t, const RawIds& ids,
                       const std::vector<std::uint8_t>& trained, int k, bool with_item_bias);

/// global_mean and the attributes (format, version, the hyper-parameters).
void write_model_attributes(Writer& w, const SavedState& state, bool with_item_bias);

}  // namespace dals::export_internal
