// dals-test-fuzz-mutate's HDF5 mode: one edit of an HDF5 file's objects
// (an attribute made an array, retyped, given another value or removed; a
// dataset removed, reshaped, retyped, declared huge or given extreme values
// under a recomputed checksum), through the HDF5 C API.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "dals/core/checksum.hpp"
#include "dals/core/error.hpp"
#include "dals/data/hdf5_file.hpp"
#include "fuzz_mutate.hpp"

namespace fuzz {

namespace {

using dals::Error;
using dals::H5Id;

struct Attr {
  std::string object;  // "" = the file's root
  std::string name;
};

herr_t collect_attr(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

std::vector<std::string> attr_names(hid_t object) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &names);
  return names;
}

class Hdf5Editor {
 public:
  explicit Hdf5Editor(const std::string& file) : path_(file) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file_ = H5Id(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    if (file_.get() < 0) throw Nothing{};  // not HDF5 (already damaged, or another kind of file)
    H5G_info_t info;
    if (H5Gget_info(file_.get(), &info) < 0) throw Error(file + ": cannot list the root group");
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      char name[256];
      if (H5Lget_name_by_idx(file_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0)
        continue;
      datasets_.push_back(name);
    }
    for (const std::string& a : attr_names(file_.get())) attrs_.push_back({"", a});
    for (const std::string& d : datasets_) {
      H5Id ds = open(d);
      for (const std::string& a : attr_names(ds.get())) attrs_.push_back({d, a});
    }
  }

  std::string edit() {
    std::vector<int> kinds;
    if (!attrs_.empty()) kinds.insert(kinds.end(), {0, 1, 2, 3, 3});
    if (!datasets_.empty()) kinds.insert(kinds.end(), {4, 5, 5, 6, 7, 8, 8});
    if (kinds.empty()) throw Nothing{};
    switch (pick(kinds)) {
      case 0:
        return attr_array(pick(attrs_));
      case 1:
        return attr_type(pick(attrs_));
      case 2:
        return attr_remove(pick(attrs_));
      case 3:
        return attr_value(pick(attrs_));
      case 4:
        return dataset_remove(pick(datasets_));
      case 5:
        return dataset_shape(pick(datasets_));
      case 6:
        return dataset_type(pick(datasets_));
      case 7:
        return dataset_huge(pick(datasets_));
      default:
        return dataset_values(pick(datasets_));
    }
  }

 private:
  H5Id open(const std::string& dataset) const {
    H5Id d(H5Dopen2(file_.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (d.get() < 0) throw Error(path_ + ": cannot open dataset '" + dataset + "'");
    return d;
  }
  static std::string label(const Attr& a) { return (a.object.empty() ? "/" : a.object) + "@" + a.name; }

  // The attribute's object, kept open while it is edited.
  struct Target {
    H5Id dataset;
    hid_t id;
  };
  Target target(const Attr& a) const {
    if (a.object.empty()) return {H5Id(), file_.get()};
    H5Id d = open(a.object);
    const hid_t id = d.get();
    return {std::move(d), id};
  }

  // Replaces attribute `a` by one of `type` and `space` holding `data`.
  void replace_attr(const Attr& a, hid_t type, hid_t space, const void* data) const {
    Target t = target(a);
    if (H5Adelete(t.id, a.name.c_str()) < 0) throw Error(path_ + ": cannot delete " + label(a));
    H5Id attr(H5Acreate2(t.id, a.name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (attr.get() < 0 || H5Awrite(attr.get(), type, data) < 0)
      throw Error(path_ + ": cannot write " + label(a) + " (" + dals::h5_last_error() + ")");
  }

  H5T_class_t attr_class(const Attr& a) const {
    Target t = target(a);
    H5Id attr(H5Aopen(t.id, a.name.c_str(), H5P_DEFAULT), H5Aclose);
    H5Id type(H5Aget_type(attr.get()), H5Tclose);
    return H5Tget_class(type.get());
  }

  std::string attr_array(const Attr& a) const {
    const bool text = attr_class(a) == H5T_STRING;
    // Strings of 64 bytes: 17 at most, or the attribute outgrows a 64 KiB object header message.
    const hsize_t n = pick(text ? std::vector<hsize_t>{2, 3, 17} : std::vector<hsize_t>{2, 3, 17, 4096});
    H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (text) {
      H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), 64);
      const std::string bytes(64 * n, 'A');
      replace_attr(a, type.get(), space.get(), bytes.data());
    } else {
      const std::vector<std::int64_t> values(n, 0x4141414141414141);
      replace_attr(a, H5T_NATIVE_INT64, space.get(), values.data());
    }
    return "expect=fail: " + label(a) + " became an array of " + std::to_string(n);
  }

  std::string attr_type(const Attr& a) const {
    H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
    const H5T_class_t cls = attr_class(a);
    const int choice = static_cast<int>(below(3));
    if (cls != H5T_STRING && choice == 0) {
      H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), 3);
      replace_attr(a, type.get(), scalar.get(), "12");
      return "expect=fail: " + label(a) + " became the string \"12\"";
    }
    if (cls != H5T_FLOAT && choice == 1) {
      const double v = 12.5;
      replace_attr(a, H5T_NATIVE_DOUBLE, scalar.get(), &v);
      return "expect=fail: " + label(a) + " became the double 12.5";
    }
    if (cls != H5T_INTEGER) {
      const std::int64_t v = 12;
      replace_attr(a, H5T_NATIVE_INT64, scalar.get(), &v);
      return "expect=fail: " + label(a) + " became the int64 12";
    }
    // An integer stored narrower or unsigned: the same value in another
    // integer type, which a reader converting on read may well accept.
    std::int64_t v = 0;
    {
      Target t = target(a);
      H5Id attr(H5Aopen(t.id, a.name.c_str(), H5P_DEFAULT), H5Aclose);
      H5Aread(attr.get(), H5T_NATIVE_INT64, &v);
    }
    const hid_t type = pick(std::vector<hid_t>{H5T_NATIVE_INT32, H5T_NATIVE_UINT64, H5T_NATIVE_INT8});
    Target t = target(a);
    H5Adelete(t.id, a.name.c_str());
    H5Id attr(H5Acreate2(t.id, a.name.c_str(), type, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_INT64, &v) < 0)  // HDF5 converts (clips) the value
      throw Error(path_ + ": cannot write " + label(a) + " (" + dals::h5_last_error() + ")");
    return "expect=any: " + label(a) + " stored as another integer type (value " + std::to_string(v) + ")";
  }

  std::string attr_remove(const Attr& a) const {
    Target t = target(a);
    if (H5Adelete(t.id, a.name.c_str()) < 0) throw Error(path_ + ": cannot delete " + label(a));
    return "expect=fail: " + label(a) + " removed";
  }

  std::string attr_value(const Attr& a) const {
    H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
    const H5T_class_t cls = attr_class(a);
    if (cls == H5T_STRING) {
      const std::string v = pick(
          std::vector<std::string>{"", "string", "int64", "\x1b[2J", std::string(300, 'x'), std::string("in\0t64", 6)});
      H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), v.size() + 1);
      replace_attr(a, type.get(), scalar.get(), v.c_str());
      return "expect=any: " + label(a) + " = a string of " + std::to_string(v.size()) + " bytes";
    }
    if (cls == H5T_FLOAT) {
      const double v = pick(std::vector<double>{std::numeric_limits<double>::quiet_NaN(),
                                                std::numeric_limits<double>::infinity(), -1.0, 1e300, 0.0});
      replace_attr(a, H5T_NATIVE_DOUBLE, scalar.get(), &v);
      return "expect=any: " + label(a) + " = " + std::to_string(v);
    }
    std::int64_t old = 0;
    {
      Target t = target(a);
      H5Id attr(H5Aopen(t.id, a.name.c_str(), H5P_DEFAULT), H5Aclose);
      H5Aread(attr.get(), H5T_NATIVE_INT64, &old);
    }
    const std::int64_t v = pick(
        std::vector<std::int64_t>{-1, 0, old + 1, old - 1, std::int64_t{1} << 31, std::int64_t{1} << 40,
                                  std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()});
    if (v == old) throw Nothing{};
    // The stored type stays: a checksum attribute is unsigned, the rest signed.
    Target t = target(a);
    H5Id attr(H5Aopen(t.id, a.name.c_str(), H5P_DEFAULT), H5Aclose);
    if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_INT64, &v) < 0)
      throw Error(path_ + ": cannot write " + label(a));
    return "expect=any: " + label(a) + " " + std::to_string(old) + " -> " + std::to_string(v);
  }

  std::string dataset_remove(const std::string& d) const {
    if (H5Ldelete(file_.get(), d.c_str(), H5P_DEFAULT) < 0) throw Error(path_ + ": cannot delete '" + d + "'");
    return "expect=fail: dataset '" + d + "' removed";
  }

  // A dataset's contents as raw bytes of its own (native) type.
  struct Contents {
    H5Id type;  // native memory type
    std::vector<hsize_t> dims;
    std::vector<char> bytes;
    std::uint64_t checksum = 0;
    std::size_t elem() const { return H5Tget_size(type.get()); }
  };
  Contents read(const std::string& d) const {
    H5Id ds = open(d);
    Contents c;
    H5Id file_type(H5Dget_type(ds.get()), H5Tclose);
    c.type = H5Id(H5Tget_native_type(file_type.get(), H5T_DIR_ASCEND), H5Tclose);
    H5Id space(H5Dget_space(ds.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 8) throw Nothing{};
    c.dims.resize(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), c.dims.data(), nullptr);
    const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
    c.bytes.resize(n * c.elem());
    if (n > 0 && H5Dread(ds.get(), c.type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, c.bytes.data()) < 0)
      throw Error(path_ + ": cannot read '" + d + "'");
    if (H5Aexists(ds.get(), "checksum") > 0) {
      H5Id attr(H5Aopen(ds.get(), "checksum", H5P_DEFAULT), H5Aclose);
      H5Aread(attr.get(), H5T_NATIVE_UINT64, &c.checksum);
    }
    return c;
  }

  // Replaces dataset d by one of `dims` (elements of c's memory type, stored
  // as `stored`), holding `bytes`, with a checksum attribute `sum`.
  void write(const std::string& d, hid_t memory, hid_t stored, const std::vector<hsize_t>& dims, const void* bytes,
             std::uint64_t sum) const {
    H5Ldelete(file_.get(), d.c_str(), H5P_DEFAULT);
    H5Id space(
        dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
        H5Sclose);
    H5Id ds(H5Dcreate2(file_.get(), d.c_str(), stored, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (ds.get() < 0) throw Error(path_ + ": cannot create '" + d + "' (" + dals::h5_last_error() + ")");
    hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n > 0 && H5Dwrite(ds.get(), memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes) < 0)
      throw Error(path_ + ": cannot write '" + d + "' (" + dals::h5_last_error() + ")");
    H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
    H5Id attr(H5Acreate2(ds.get(), "checksum", H5T_NATIVE_UINT64, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (attr.get() < 0 || H5Awrite(attr.get(), H5T_NATIVE_UINT64, &sum) < 0)
      throw Error(path_ + ": cannot write the checksum of '" + d + "'");
  }

  std::string dataset_shape(const std::string& d) const {
    Contents c = read(d);
    const std::size_t elem = c.elem(), n = c.bytes.size() / elem;
    std::vector<hsize_t> dims;
    std::string what;
    // Every array dals reads has a known count and rank: any other is damage.
    std::string expect = "fail";
    switch (below(4)) {
      case 0: {  // fewer or more elements, 1-D
        const std::size_t m = pick(std::vector<std::size_t>{0, n / 2, n > 0 ? n - 1 : 1, n + 1, n + 7});
        c.bytes.resize(m * elem, '\0');
        dims = {m};
        what = std::to_string(n) + " -> " + std::to_string(m) + " elements";
        if (m == n) expect = "any";
        break;
      }
      case 1:  // 2-D where 1-D belongs or the other way round, same elements
        dims = c.dims.size() == 2 ? std::vector<hsize_t>{n} : std::vector<hsize_t>{n, 1};
        what = std::to_string(c.dims.size()) + "-D -> " + std::to_string(dims.size()) + "-D";
        break;
      case 2:  // scalar dataspace
        c.bytes.resize(elem, '\0');
        what = "a scalar";
        break;
      default:  // 3-D
        dims = {1, 1, n};
        what = "3-D";
        break;
    }
    // Half the time the checksum follows the new contents, so only the shape check is left.
    const bool resum = below(2) == 0;
    const std::uint64_t sum = resum ? dals::checksum64(c.bytes.data(), c.bytes.size()) : c.checksum;
    write(d, c.type.get(), c.type.get(), dims, c.bytes.data(), sum);
    return "expect=" + expect + ": dataset '" + d + "' reshaped: " + what + (resum ? " (checksum recomputed)" : "");
  }

  std::string dataset_type(const std::string& d) const {
    Contents c = read(d);
    std::vector<hid_t> others;
    for (hid_t t : {H5T_NATIVE_INT32, H5T_NATIVE_INT64, H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_UINT8})
      if (H5Tequal(t, c.type.get()) <= 0) others.push_back(t);
    const hid_t to = pick(others);
    const std::size_t n = c.bytes.size() / c.elem();
    // HDF5 converts the values (clipping what does not fit); the checksum
    // follows the converted bytes, so only the element type is wrong.
    std::vector<char> converted(std::max(n * c.elem(), n * H5Tget_size(to)) + 8);
    std::copy(c.bytes.begin(), c.bytes.end(), converted.begin());
    H5Id xfer(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
    if (n > 0 && H5Tconvert(c.type.get(), to, n, converted.data(), nullptr, xfer.get()) < 0)
      throw Error(path_ + ": cannot convert '" + d + "'");
    converted.resize(n * H5Tget_size(to));
    write(d, to, to, c.dims, converted.data(), dals::checksum64(converted.data(), converted.size()));
    return "expect=fail: dataset '" + d + "' retyped (" + std::to_string(c.elem()) + "-byte elements -> " +
           std::to_string(H5Tget_size(to)) + "-byte, class " + std::to_string(H5Tget_class(to)) + ")";
  }

  std::string dataset_huge(const std::string& d) const {
    Contents c = read(d);
    const hsize_t count =
        pick(std::vector<hsize_t>{hsize_t{1} << 31, hsize_t{1} << 34, hsize_t{1} << 40, (hsize_t{1} << 62) / 8});
    H5Ldelete(file_.get(), d.c_str(), H5P_DEFAULT);
    const hsize_t dims[1] = {count}, chunk[1] = {1 << 16};
    H5Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    H5Id plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(plist.get(), 1, chunk);
    H5Id ds(H5Dcreate2(file_.get(), d.c_str(), c.type.get(), space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
            H5Dclose);
    if (ds.get() < 0) throw Error(path_ + ": cannot create '" + d + "' (" + dals::h5_last_error() + ")");
    H5Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
    H5Id attr(H5Acreate2(ds.get(), "checksum", H5T_NATIVE_UINT64, scalar.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    H5Awrite(attr.get(), H5T_NATIVE_UINT64, &c.checksum);
    return "expect=fail: dataset '" + d + "' declares " + std::to_string(count) + " elements, never written";
  }

  // Extreme values where the checksum cannot help: it is recomputed.
  std::string dataset_values(const std::string& d) const {
    Contents c = read(d);
    const std::size_t elem = c.elem(), n = c.bytes.size() / elem;
    if (n == 0) throw Nothing{};
    const H5T_class_t cls = H5Tget_class(c.type.get());
    const int count = 1 + static_cast<int>(below(3));
    std::string what;
    for (int i = 0; i < count; ++i) {
      const std::size_t at = below(n);
      char* p = c.bytes.data() + at * elem;
      if (cls == H5T_FLOAT && elem == 4) {
        const float v = pick(std::vector<float>{std::numeric_limits<float>::quiet_NaN(),
                                                std::numeric_limits<float>::infinity(), -3e38f, 1e20f, 0.0f});
        std::memcpy(p, &v, 4);
      } else if (cls == H5T_INTEGER && elem == 4) {
        const std::int32_t v = pick(std::vector<std::int32_t>{-1, std::numeric_limits<std::int32_t>::max(),
                                                              std::numeric_limits<std::int32_t>::min(), 0, 1 << 20});
        std::memcpy(p, &v, 4);
      } else if (cls == H5T_INTEGER && elem == 8) {
        const std::int64_t v =
            pick(std::vector<std::int64_t>{-1, std::numeric_limits<std::int64_t>::max(),
                                           std::numeric_limits<std::int64_t>::min(), 0, std::int64_t{1} << 40});
        std::memcpy(p, &v, 8);
      } else {
        p[0] = pick(std::vector<char>{'\0', '\x1b', '\xff', '\n', ','});
      }
      what += " [" + std::to_string(at) + "]";
    }
    write(d, c.type.get(), c.type.get(), c.dims, c.bytes.data(), dals::checksum64(c.bytes.data(), c.bytes.size()));
    return "expect=any: dataset '" + d + "' extreme values at" + what + " (checksum recomputed)";
  }

  std::string path_;
  H5Id file_;
  std::vector<std::string> datasets_;
  std::vector<Attr> attrs_;
};

}  // namespace

std::string hdf5_edit(const std::string& file) { return Hdf5Editor(file).edit(); }

}  // namespace fuzz
