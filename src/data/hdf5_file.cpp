#include "dals/data/hdf5_file.hpp"

#include <cstring>

#include "dals/core/checksum.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {
namespace {

// HDF5 prints its error stack to stderr by default; we report errors
// ourselves, once, with the file name in front.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

void silence_once() { static SilenceHdf5 silence; }

herr_t collect_innermost(unsigned, const H5E_error2_t* err, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (err->desc != nullptr && err->desc[0] != '\0') *text = err->desc;
  return 0;
}

constexpr const char* kChecksumAttr = "checksum";

}  // namespace

std::string h5_last_error() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_innermost, &text);
  H5Eclear2(H5E_DEFAULT);
  // Errors are one line; HDF5's I/O messages embed a ctime() with its newline.
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

H5Id& H5Id::operator=(H5Id&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void H5Id::reset() noexcept {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = H5I_INVALID_HID;
}

template <>
hid_t h5_native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t h5_native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t h5_native_type<std::int32_t>() {
  return H5T_NATIVE_INT32;
}
template <>
hid_t h5_native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t h5_native_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}
template <>
hid_t h5_native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}
template <>
hid_t h5_native_type<char>() {
  return H5T_NATIVE_CHAR;
}

H5File::H5File(std::string path, hid_t id) : path_(std::move(path)), file_(id, H5Fclose) {}

void H5File::fail(const std::string& what) const {
  std::string detail = h5_last_error();
  throw Error(path_ + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

H5File H5File::create(const std::string& path) {
  silence_once();
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) {
    std::string detail = h5_last_error();
    throw Error(path + ": cannot create HDF5 file" + (detail.empty() ? "" : " (" + detail + ")"));
  }
  return H5File(path, id);
}

H5File H5File::open(const std::string& path) {
  require_regular_file(path);
  silence_once();
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    std::string detail = h5_last_error();
    throw Error(path + ": cannot open as HDF5 (missing, truncated or not an HDF5 file)" +
                (detail.empty() ? "" : " (" + detail + ")"));
  }
  return H5File(path, id);
}

template <class T>
void H5File::write(const std::string& name, std::span<const T> data, std::uint64_t cols) {
  hsize_t dims[2];
  int rank = 1;
  if (cols > 0) {
    if (data.size() % cols != 0) throw Error(path_ + ": dataset '" + name + "': size not a multiple of columns");
    dims[0] = data.size() / cols;
    dims[1] = cols;
    rank = 2;
  } else {
    dims[0] = data.size();
  }
  H5Id space(H5Screate_simple(rank, dims, nullptr), H5Sclose);
  if (space.get() < 0) fail("cannot create dataspace for '" + name + "'");
  H5Id dset(
      H5Dcreate2(file_.get(), name.c_str(), h5_native_type<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose);
  if (dset.get() < 0) fail("cannot create dataset '" + name + "'");
  if (!data.empty() && H5Dwrite(dset.get(), h5_native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    fail("cannot write dataset '" + name + "'");
  std::uint64_t sum = checksum_of(data);
  H5Id aspace(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(dset.get(), kChecksumAttr, H5T_NATIVE_UINT64, aspace.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_UINT64, &sum) < 0)
    fail("cannot write checksum of '" + name + "'");
}

template <class T>
std::vector<T> H5File::read(const std::string& name, std::uint64_t* cols) const {
  if (!has(name)) throw Error(path_ + ": dataset '" + name + "' is missing");
  H5Id dset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (dset.get() < 0) fail("cannot open dataset '" + name + "'");
  H5Id type(H5Dget_type(dset.get()), H5Tclose);
  H5Id native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
  if (native.get() < 0 || H5Tequal(native.get(), h5_native_type<T>()) <= 0)
    throw Error(path_ + ": dataset '" + name + "' has the wrong element type");
  H5Id space(H5Dget_space(dset.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 1 || rank > 2) throw Error(path_ + ": dataset '" + name + "' is not 1-D or 2-D");
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  std::uint64_t count = dims[0] * (rank == 2 ? dims[1] : 1);
  if (cols != nullptr) *cols = rank == 2 ? dims[1] : 0;
  std::vector<T> out(count);
  if (count > 0 && H5Dread(dset.get(), h5_native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail("cannot read dataset '" + name + "' (file truncated or damaged?)");
  if (H5Aexists(dset.get(), kChecksumAttr) <= 0) throw Error(path_ + ": dataset '" + name + "' has no checksum");
  H5Id attr(H5Aopen(dset.get(), kChecksumAttr, H5P_DEFAULT), H5Aclose);
  std::uint64_t stored = 0;
  if (attr.get() < 0 || H5Aread(attr.get(), H5T_NATIVE_UINT64, &stored) < 0)
    fail("cannot read checksum of '" + name + "'");
  std::uint64_t actual = checksum_of(std::span<const T>(out));
  if (stored != actual)
    throw Error(path_ + ": dataset '" + name + "': checksum mismatch (stored " + to_hex(stored) + ", computed " +
                to_hex(actual) + "): the file is damaged");
  return out;
}

bool H5File::has(const std::string& name) const {
  htri_t exists = H5Lexists(file_.get(), name.c_str(), H5P_DEFAULT);
  if (exists < 0) fail("cannot look up '" + name + "'");
  return exists > 0;
}

namespace {

template <class T>
void write_scalar_attr(const H5File& f, hid_t file, const std::string& name, const T& value, hid_t type) {
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(file, name.c_str()) > 0) H5Adelete(file, name.c_str());
  H5Id attr(H5Acreate2(file, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0 || H5Awrite(attr.get(), type, &value) < 0)
    throw Error(f.path() + ": cannot write attribute '" + name + "' (" + h5_last_error() + ")");
}

H5Id open_attr(const H5File& f, hid_t file, const std::string& name) {
  if (H5Aexists(file, name.c_str()) <= 0) throw Error(f.path() + ": attribute '" + name + "' is missing");
  H5Id attr(H5Aopen(file, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0) throw Error(f.path() + ": cannot open attribute '" + name + "' (" + h5_last_error() + ")");
  return attr;
}

}  // namespace

void H5File::set_attribute(const std::string& name, std::int64_t value) {
  write_scalar_attr(*this, file_.get(), name, value, H5T_NATIVE_INT64);
}

void H5File::set_attribute(const std::string& name, double value) {
  write_scalar_attr(*this, file_.get(), name, value, H5T_NATIVE_DOUBLE);
}

void H5File::set_attribute(const std::string& name, const std::string& value) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), value.size() + 1);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(file_.get(), name.c_str()) > 0) H5Adelete(file_.get(), name.c_str());
  H5Id attr(H5Acreate2(file_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0 || H5Awrite(attr.get(), type.get(), value.c_str()) < 0)
    fail("cannot write attribute '" + name + "'");
}

std::int64_t H5File::int_attribute(const std::string& name) const {
  H5Id attr = open_attr(*this, file_.get(), name);
  std::int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) fail("cannot read attribute '" + name + "'");
  return value;
}

double H5File::double_attribute(const std::string& name) const {
  H5Id attr = open_attr(*this, file_.get(), name);
  double value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("cannot read attribute '" + name + "'");
  return value;
}

std::string H5File::string_attribute(const std::string& name) const {
  H5Id attr = open_attr(*this, file_.get(), name);
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) throw Error(path_ + ": attribute '" + name + "' is not a string");
  std::size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  if (H5Aread(attr.get(), type.get(), value.data()) < 0) fail("cannot read attribute '" + name + "'");
  value.resize(std::strlen(value.c_str()));
  return value;
}

void H5File::close() {
  if (file_.get() < 0) return;
  if (H5Fflush(file_.get(), H5F_SCOPE_LOCAL) < 0) fail("cannot flush (disk full or read-only?)");
  hid_t id = file_.release();  // a failed close is reported, not retried by the destructor
  if (H5Fclose(id) < 0) fail("cannot close (disk full or read-only?)");
}

#define DALS_H5_INSTANTIATE(T)                                                           \
  template void H5File::write<T>(const std::string&, std::span<const T>, std::uint64_t); \
  template std::vector<T> H5File::read<T>(const std::string&, std::uint64_t*) const;
DALS_H5_INSTANTIATE(float)
DALS_H5_INSTANTIATE(double)
DALS_H5_INSTANTIATE(std::int32_t)
DALS_H5_INSTANTIATE(std::int64_t)
DALS_H5_INSTANTIATE(std::uint64_t)
DALS_H5_INSTANTIATE(std::uint8_t)
DALS_H5_INSTANTIATE(char)
#undef DALS_H5_INSTANTIATE

}  // namespace dals
