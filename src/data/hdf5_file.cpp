#include "dals/data/hdf5_file.hpp"

#include <cstring>

#include "dals/core/checksum.hpp"
#include "dals/core/fs_util.hpp"

namespace dals {
namespace {

// HDF5 prints its error stack to stderr by default; we report errors
// ourselves, once, with the file name in front.
//
// And no H5close at exit: a file whose flush or close failed (disk full)
// stays half-closed in HDF5's tables, and closing it again there crashes
// the process (HDF5 1.10) after the clean error it already reported. Every
// file dals writes is closed explicitly, so nothing is left to flush then.
// (H5dont_atexit must come before any other HDF5 call: this is the first.)
struct SilenceHdf5 {
  SilenceHdf5() {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
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
  // No modification times in the object headers: the same arrays make the
  // same file bytes, whenever and on however many ranks they are written.
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (dcpl.get() < 0 || H5Pset_obj_track_times(dcpl.get(), false) < 0)
    fail("cannot set the creation properties of '" + name + "'");
  H5Id dset(
      H5Dcreate2(file_.get(), name.c_str(), h5_native_type<T>(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
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

namespace {

// A file's attribute, or one of a dataset's: the object it hangs on and how
// messages call it ("attribute 'first_row'", "dataset 'indices': attribute
// 'checksum'").
struct AttrRef {
  hid_t object;
  std::string name;
  std::string label;
};

// The longest string attribute a reader accepts. Ours are names of a few
// bytes (the longest, the id order "dals-key-hash-v1", has 16); the bound
// keeps a hostile length from sizing the buffer.
constexpr std::size_t kMaxStringAttribute = 4096;

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "an integer";
    case H5T_FLOAT:
      return "a floating-point number";
    case H5T_STRING:
      return "a string";
    default:
      return "of another type";
  }
}

// Opens an attribute and checks, before anything is read from it, that it
// holds exactly one element of class `want` and of at most `max_size` bytes
// (HDF5 writes as many elements as the dataspace has: 4,096 of them into
// one number would overwrite the stack). Returns the attribute; *size
// receives the element's size in the file.
H5Id open_checked_attr(const std::string& path, const AttrRef& ref, H5T_class_t want, std::size_t max_size,
                       std::size_t* size = nullptr) {
  const std::string where = path + ": " + ref.label;
  if (H5Aexists(ref.object, ref.name.c_str()) <= 0) throw Error(where + " is missing");
  H5Id attr(H5Aopen(ref.object, ref.name.c_str(), H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0) throw Error(where + ": cannot open (" + h5_last_error() + ")");
  H5Id space(H5Aget_space(attr.get()), H5Sclose);
  const H5S_class_t shape = H5Sget_simple_extent_type(space.get());
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (shape == H5S_NULL || points == 0) throw Error(where + " holds no value");
  if (shape != H5S_SCALAR && !(shape == H5S_SIMPLE && points == 1))
    throw Error(where + " holds " + std::to_string(points) + " elements where one belongs");
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  const H5T_class_t got = H5Tget_class(type.get());
  if (got != want) throw Error(where + " is " + class_name(got) + ", not " + class_name(want));
  if (want == H5T_STRING && H5Tis_variable_str(type.get()) != 0)
    throw Error(where + " is a variable-length string (dals writes fixed-length ones)");
  const std::size_t bytes = H5Tget_size(type.get());
  if (bytes == 0 || bytes > max_size)
    throw Error(where + " is " + std::to_string(bytes) + " bytes long, more than the " + std::to_string(max_size) +
                " accepted");
  if (size != nullptr) *size = bytes;
  return attr;
}

// One number of class `cls` read as `memory` (HDF5 converts, within range).
template <class T>
T read_number_attr(const std::string& path, const AttrRef& ref, H5T_class_t cls, hid_t memory) {
  // Every number dals writes is 8 bytes (int64, uint64, double).
  H5Id attr = open_checked_attr(path, ref, cls, 8);
  T value{};
  if (H5Aread(attr.get(), memory, &value) < 0)
    throw Error(path + ": " + ref.label + ": cannot read (" + h5_last_error() + ")");
  return value;
}

std::string dataset_label(const std::string& name) { return "dataset '" + name + "'"; }

// The element count a 1-D or 2-D dataset declares (nothing is read).
std::uint64_t declared_elements(const std::string& path, hid_t dset, const std::string& label, hsize_t dims[2],
                                int* rank) {
  H5Id space(H5Dget_space(dset), H5Sclose);
  *rank = H5Sget_simple_extent_ndims(space.get());
  if (*rank < 1 || *rank > 2) throw Error(path + ": " + label + " is not 1-D or 2-D");
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  std::uint64_t count = dims[0];
  if (*rank == 2 && __builtin_mul_overflow(dims[0], dims[1], &count))
    throw Error(path + ": " + label + " declares " + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) +
                " elements, more than can be addressed");
  return count;
}

}  // namespace

template <class T>
std::vector<T> H5File::read(const std::string& name, std::uint64_t* cols) const {
  return read_checked<T>(name, nullptr, cols, nullptr);
}

template <class T>
std::vector<T> H5File::read_exact(const std::string& name, std::uint64_t count, std::uint64_t* cols,
                                  const char* source) const {
  return read_checked<T>(name, &count, cols, source);
}

template <class T>
std::vector<T> H5File::read_checked(const std::string& name, const std::uint64_t* expected, std::uint64_t* cols,
                                    const char* source) const {
  const std::string label = dataset_label(name);
  if (!has(name)) throw Error(path_ + ": " + label + " is missing");
  H5Id dset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (dset.get() < 0) fail("cannot open " + label);
  H5Id type(H5Dget_type(dset.get()), H5Tclose);
  H5Id native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
  if (native.get() < 0 || H5Tequal(native.get(), h5_native_type<T>()) <= 0)
    throw Error(path_ + ": " + label + " has the wrong element type");
  hsize_t dims[2] = {0, 0};
  int rank = 0;
  // The declared extent is the file's word only: check it against what the
  // caller knows and what the file stores before allocating for it.
  const std::uint64_t count = declared_elements(path_, dset.get(), label, dims, &rank);
  // A caller that takes no column count reads a 1-D array, and dals writes
  // those 1-D: a 2-D one (even n x 1, the same values) is not ours.
  if (cols == nullptr && rank != 1)
    throw Error(path_ + ": " + label + " is 2-D (" + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) +
                "), expected 1-D");
  if (expected != nullptr && count != *expected)
    throw Error(path_ + ": " + label + " declares " + std::to_string(count) + " elements" +
                (source != nullptr ? std::string(" but ") + source + " says " : std::string(", expected ")) +
                std::to_string(*expected));
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, sizeof(T), &bytes))
    throw Error(path_ + ": " + label + " declares " + std::to_string(count) + " elements, more than can be addressed");
  // Everything dals writes is stored whole and unfiltered, so the bytes on
  // disk cover the extent: an extent never written (a chunked dataset reads
  // as fill values without storage) or larger than the file is damage.
  H5Id plist(H5Dget_create_plist(dset.get()), H5Pclose);
  if (plist.get() < 0 || H5Pget_nfilters(plist.get()) != 0)
    throw Error(path_ + ": " + label + " is filtered (compressed); dals writes plain arrays");
  const hsize_t stored = H5Dget_storage_size(dset.get());
  hsize_t file_size = 0;
  if (H5Fget_filesize(file_.get(), &file_size) < 0) fail("cannot get the file's size");
  if (stored < bytes || stored > file_size)
    throw Error(path_ + ": " + label + " declares " + std::to_string(count) + " elements (" + std::to_string(bytes) +
                " bytes) but the file stores " + std::to_string(stored) + " bytes of it in " +
                std::to_string(file_size) + ": truncated or damaged");
  if (cols != nullptr) *cols = rank == 2 ? dims[1] : 0;
  std::vector<T> out(count);
  if (count > 0 && H5Dread(dset.get(), h5_native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail("cannot read " + label + " (file truncated or damaged?)");
  const auto stored_sum =
      read_number_attr<std::uint64_t>(path_, {dset.get(), kChecksumAttr, label + ": attribute '" + kChecksumAttr + "'"},
                                      H5T_INTEGER, H5T_NATIVE_UINT64);
  std::uint64_t actual = checksum_of(std::span<const T>(out));
  if (stored_sum != actual)
    throw Error(path_ + ": " + label + ": checksum mismatch (stored " + to_hex(stored_sum) + ", computed " +
                to_hex(actual) + "): the file is damaged");
  return out;
}

template <class T>
bool H5File::holds(const std::string& name) const {
  const std::string label = dataset_label(name);
  if (!has(name)) throw Error(path_ + ": " + label + " is missing");
  H5Id dset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (dset.get() < 0) fail("cannot open " + label);
  H5Id type(H5Dget_type(dset.get()), H5Tclose);
  H5Id native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), H5Tclose);
  return native.get() >= 0 && H5Tequal(native.get(), h5_native_type<T>()) > 0;
}

std::uint64_t H5File::elements(const std::string& name) const {
  const std::string label = dataset_label(name);
  if (!has(name)) throw Error(path_ + ": " + label + " is missing");
  H5Id dset(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (dset.get() < 0) fail("cannot open " + label);
  hsize_t dims[2] = {0, 0};
  int rank = 0;
  return declared_elements(path_, dset.get(), label, dims, &rank);
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
  return read_number_attr<std::int64_t>(path_, {file_.get(), name, "attribute '" + name + "'"}, H5T_INTEGER,
                                        H5T_NATIVE_INT64);
}

double H5File::double_attribute(const std::string& name) const {
  return read_number_attr<double>(path_, {file_.get(), name, "attribute '" + name + "'"}, H5T_FLOAT, H5T_NATIVE_DOUBLE);
}

std::string H5File::string_attribute(const std::string& name) const {
  const AttrRef ref{file_.get(), name, "attribute '" + name + "'"};
  std::size_t size = 0;
  H5Id attr = open_checked_attr(path_, ref, H5T_STRING, kMaxStringAttribute, &size);
  // Read as a terminated string one byte longer than the file's (a
  // null-padded one may fill its size), in the file's character set.
  H5Id file_type(H5Aget_type(attr.get()), H5Tclose);
  H5Id memory(H5Tcopy(H5T_C_S1), H5Tclose);
  if (memory.get() < 0 || H5Tset_size(memory.get(), size + 1) < 0 ||
      H5Tset_cset(memory.get(), H5Tget_cset(file_type.get())) < 0)
    fail("cannot read attribute '" + name + "'");
  std::string value(size + 1, '\0');
  if (H5Aread(attr.get(), memory.get(), value.data()) < 0) fail("cannot read attribute '" + name + "'");
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
  template std::vector<T> H5File::read<T>(const std::string&, std::uint64_t*) const;     \
  template bool H5File::holds<T>(const std::string&) const;                              \
  template std::vector<T> H5File::read_exact<T>(const std::string&, std::uint64_t, std::uint64_t*, const char*) const;
DALS_H5_INSTANTIATE(float)
DALS_H5_INSTANTIATE(double)
DALS_H5_INSTANTIATE(std::int32_t)
DALS_H5_INSTANTIATE(std::int64_t)
DALS_H5_INSTANTIATE(std::uint64_t)
DALS_H5_INSTANTIATE(std::uint8_t)
DALS_H5_INSTANTIATE(char)
#undef DALS_H5_INSTANTIATE

}  // namespace dals
