#include "data/hdf5_file.h"

#include "data/hdf5_check.h"

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "diffuscope/error.h"
#include "diffuscope/text.h"

namespace ds::detail {

namespace {

// HDF5 prints its own error stack to stderr by default; we report errors ourselves. The setting
// is per thread in a thread-safe libhdf5 (Debian's), so every thread that opens files makes it
// once (the GUI reads files on its worker threads).
void silence_hdf5() {
  thread_local const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

std::vector<hsize_t> to_dims(const std::vector<std::size_t>& shape) {
  return std::vector<hsize_t>(shape.begin(), shape.end());
}

}  // namespace

Hdf5Handle& Hdf5Handle::operator=(Hdf5Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Hdf5Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      H5Oclose(id_);
      break;
  }
  id_ = H5I_INVALID_HID;
}

Hdf5File::Hdf5File(std::string path, hid_t id) : path_(std::move(path)), file_(id) {}

Hdf5File Hdf5File::create(const std::string& path) {
  silence_hdf5();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) throw FileError(path, "cannot create HDF5 file");
  Hdf5File file(path, id);
  file.created_ = true;
  return file;
}

Hdf5File Hdf5File::open_read(const std::string& path) {
  silence_hdf5();
  if (!std::filesystem::exists(path)) throw FileError(path, "file does not exist");
  // libhdf5 reads the file first in a process of its own (data/hdf5_check.h).
  check_hdf5_file(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw FileError(path, "not an HDF5 file (or corrupt)");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw FileError(path, "cannot open HDF5 file (corrupt or truncated?)");
  Hdf5File file(path, id);
  std::error_code ec;
  file.file_size_ = std::filesystem::file_size(path, ec);
  if (ec) throw FileError(path, "cannot tell the file's size (" + ec.message() + ")");
  return file;
}

void Hdf5File::fail(const std::string& what) const {
  throw FileError(path_, what);
}

void Hdf5File::close() {
  if (file_.valid() && H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail("flush failed");
  const bool written = created_ && file_.valid();
  file_.reset();
  // What this process wrote needs no check when it reads it back (unless it changes).
  if (written) trust_hdf5_file(path_);
}

bool Hdf5File::exists(const std::string& name) const {
  // Check every prefix: H5Lexists fails on a path whose parent is missing.
  std::size_t pos = 0;
  while ((pos = name.find('/', pos + 1)) != std::string::npos)
    if (H5Lexists(id(), name.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
  return name == "/" || H5Lexists(id(), name.c_str(), H5P_DEFAULT) > 0;
}

void Hdf5File::create_group(const std::string& name) {
  Hdf5Handle g(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g.valid()) fail("cannot create group " + name);
}

namespace {
void write_dataset(const Hdf5File& f, const std::string& name,
                   const std::vector<std::size_t>& shape, hid_t file_type, hid_t memory_type,
                   const void* data, bool compress, std::size_t item_size) {
  const auto dims = to_dims(shape);
  Hdf5Handle space(H5Screate_simple(int(dims.size()), dims.data(), nullptr));
  Hdf5Handle properties(H5Pcreate(H5P_DATASET_CREATE));
  std::size_t total = 1;
  for (auto d : shape) total *= d;
  if (compress && !shape.empty() && total > 0) {
    // Chunk by sample (first axis), capped at ~4 MB per chunk.
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    std::size_t per_sample = total / shape[0] * item_size;
    if (per_sample > (4u << 20) && chunk.size() > 1)
      chunk[1] = std::max<hsize_t>(1, chunk[1] / (per_sample / (4u << 20) + 1));
    H5Pset_chunk(properties.get(), int(chunk.size()), chunk.data());
    H5Pset_shuffle(properties.get());
    H5Pset_deflate(properties.get(), 4);
  }
  Hdf5Handle set(H5Dcreate2(f.id(), name.c_str(), file_type, space.get(), H5P_DEFAULT,
                            properties.get(), H5P_DEFAULT));
  if (!set.valid()) throw FileError(f.path(), "cannot create dataset " + name);
  if (total > 0 && H5Dwrite(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    throw FileError(f.path(), "cannot write dataset " + name + " (disk full?)");
}
}  // namespace

void Hdf5File::write(const std::string& name, const std::vector<std::size_t>& shape,
                     const double* data) {
  write_dataset(*this, name, shape, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, false, 8);
}
void Hdf5File::write(const std::string& name, const std::vector<std::size_t>& shape,
                     const float* data, bool compress) {
  write_dataset(*this, name, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, compress, 4);
}
void Hdf5File::write(const std::string& name, const std::vector<std::size_t>& shape,
                     const std::int64_t* data) {
  write_dataset(*this, name, shape, H5T_STD_I64LE, H5T_NATIVE_INT64, data, false, 8);
}

Hdf5Handle Hdf5File::open_dataset(const std::string& name) const {
  if (!exists(name)) fail("has no dataset " + name);
  Hdf5Handle set(H5Dopen2(id(), name.c_str(), H5P_DEFAULT));
  if (!set.valid()) fail("cannot open dataset " + name);
  return set;
}

std::vector<std::size_t> Hdf5File::shape(const std::string& name) const {
  Hdf5Handle set = open_dataset(name);
  Hdf5Handle space(H5Dget_space(set.get()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail("cannot read the shape of " + name);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<std::size_t>(dims.begin(), dims.end());
}

namespace {
// Deflate expands at most about 1032:1; anything claiming more than this per stored byte is absurd.
constexpr std::uintmax_t kMaxExpansion = 1100;

}  // namespace

std::size_t Hdf5File::checked_element_count(const std::string& name, hid_t set,
                                            const std::vector<std::size_t>& shape,
                                            std::size_t memory_item_size) const {
  std::size_t total = 1, memory_bytes = 0;
  for (auto d : shape)
    if (__builtin_mul_overflow(total, d, &total))
      fail("dataset " + name + " has an absurd shape " + shape_text(shape) +
           " (its element count overflows)");
  if (__builtin_mul_overflow(total, memory_item_size, &memory_bytes))
    fail("dataset " + name + " has an absurd shape " + shape_text(shape) +
         " (its size in bytes overflows)");
  if (file_size_ == 0 || total == 0) return total;  // a file being written: our own data
  Hdf5Handle type(H5Dget_type(set));
  const std::size_t stored_item = type.valid() ? H5Tget_size(type.get()) : 0;
  if (stored_item == 0) fail("cannot read the type of dataset " + name);
  Hdf5Handle properties(H5Dget_create_plist(set));
  const bool filtered = properties.valid() && H5Pget_nfilters(properties.get()) > 0;
  std::size_t stored_bytes = 0;
  const std::uintmax_t limit = filtered ? file_size_ * kMaxExpansion : file_size_;
  if (__builtin_mul_overflow(total, stored_item, &stored_bytes) || stored_bytes > limit)
    fail("dataset " + name + " claims " + shape_text(shape) + " values of " +
         std::to_string(stored_item) + " bytes, more than the file's " +
         std::to_string(file_size_) + " bytes can hold" + (filtered ? " even compressed" : ""));
  return total;
}

template <class T>
std::vector<T> Hdf5File::read_dataset(const std::string& name, hid_t memory_type) const {
  const auto dims = shape(name);
  Hdf5Handle set = open_dataset(name);
  const std::size_t total = checked_element_count(name, set.get(), dims, sizeof(T));
  std::vector<T> out(total);
  if (total > 0 && H5Dread(set.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail("cannot read dataset " + name + " (corrupt or truncated?)");
  return out;
}

std::vector<double> Hdf5File::read_doubles(const std::string& name) const {
  return read_dataset<double>(name, H5T_NATIVE_DOUBLE);
}
std::vector<float> Hdf5File::read_floats(const std::string& name) const {
  return read_dataset<float>(name, H5T_NATIVE_FLOAT);
}
std::vector<std::int64_t> Hdf5File::read_int64(const std::string& name) const {
  return read_dataset<std::int64_t>(name, H5T_NATIVE_INT64);
}

namespace {
Hdf5Handle open_object(const Hdf5File& f, const std::string& object) {
  Hdf5Handle o(H5Oopen(f.id(), object.c_str(), H5P_DEFAULT));
  if (!o.valid()) throw FileError(f.path(), "has no object " + object);
  return o;
}

void write_attribute(const Hdf5File& f, const std::string& object, const std::string& key,
                     hid_t type, hid_t space, const void* data) {
  Hdf5Handle o = open_object(f, object);
  if (H5Aexists(o.get(), key.c_str()) > 0) H5Adelete(o.get(), key.c_str());
  Hdf5Handle a(H5Acreate2(o.get(), key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), type, data) < 0)
    throw FileError(f.path(), "cannot write attribute " + key + " of " + object);
}

Hdf5Handle string_type() {
  Hdf5Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}
}  // namespace

void Hdf5File::set_attribute(const std::string& object, const std::string& key,
                             const std::string& value) {
  Hdf5Handle type = string_type();
  Hdf5Handle space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  write_attribute(*this, object, key, type.get(), space.get(), &p);
}

void Hdf5File::set_attribute(const std::string& object, const std::string& key, double value) {
  Hdf5Handle space(H5Screate(H5S_SCALAR));
  write_attribute(*this, object, key, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void Hdf5File::set_attribute(const std::string& object, const std::string& key,
                             std::uint64_t value) {
  Hdf5Handle space(H5Screate(H5S_SCALAR));
  write_attribute(*this, object, key, H5T_NATIVE_UINT64, space.get(), &value);
}

void Hdf5File::set_attribute(const std::string& object, const std::string& key,
                             const std::vector<std::string>& values) {
  Hdf5Handle type = string_type();
  const hsize_t n = values.size();
  Hdf5Handle space(H5Screate_simple(1, &n, nullptr));
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  write_attribute(*this, object, key, type.get(), space.get(), pointers.data());
}

bool Hdf5File::has_attribute(const std::string& object, const std::string& key) const {
  if (!exists(object)) return false;
  Hdf5Handle o = open_object(*this, object);
  return H5Aexists(o.get(), key.c_str()) > 0;
}

namespace {
Hdf5Handle open_attribute(const Hdf5File& f, const std::string& object, const std::string& key) {
  if (!f.has_attribute(object, key))
    throw FileError(f.path(), "has no attribute " + key + " on " + object);
  Hdf5Handle o = open_object(f, object);
  Hdf5Handle a(H5Aopen(o.get(), key.c_str(), H5P_DEFAULT));
  if (!a.valid()) throw FileError(f.path(), "cannot open attribute " + key + " of " + object);
  return a;
}
}  // namespace

std::vector<std::string> Hdf5File::strings_attribute(const std::string& object,
                                                     const std::string& key) const {
  Hdf5Handle a = open_attribute(*this, object, key);
  Hdf5Handle file_type(H5Aget_type(a.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING)
    fail("attribute " + key + " of " + object + " is not a string");
  Hdf5Handle space(H5Aget_space(a.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const std::size_t item =
      H5Tis_variable_str(file_type.get()) > 0 ? 1 : H5Tget_size(file_type.get());
  // Attribute values live in the file: more bytes than it has is an absurd header, refused before
  // the buffer is allocated.
  if (n < 0 || item == 0 || (file_size_ > 0 && std::uintmax_t(n) > file_size_ / item))
    fail("attribute " + key + " of " + object + " claims " + std::to_string(n) + " strings of " +
         std::to_string(item) + " bytes, more than the file holds");
  std::vector<std::string> out;
  if (H5Tis_variable_str(file_type.get()) > 0) {
    Hdf5Handle type = string_type();
    std::vector<char*> raw(std::size_t(n), nullptr);
    if (H5Aread(a.get(), type.get(), raw.data()) < 0) fail("cannot read attribute " + key);
    for (char* s : raw) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
  } else {
    const std::size_t size = H5Tget_size(file_type.get());
    std::vector<char> raw(size * std::size_t(n));
    if (H5Aread(a.get(), file_type.get(), raw.data()) < 0) fail("cannot read attribute " + key);
    for (hssize_t i = 0; i < n; ++i) {
      std::string s(raw.data() + std::size_t(i) * size, size);
      out.push_back(s.substr(0, s.find('\0')));
    }
  }
  return out;
}

std::string Hdf5File::string_attribute(const std::string& object, const std::string& key) const {
  const auto values = strings_attribute(object, key);
  if (values.size() != 1) fail("attribute " + key + " of " + object + " is not a single string");
  return values[0];
}

double Hdf5File::double_attribute(const std::string& object, const std::string& key) const {
  Hdf5Handle a = open_attribute(*this, object, key);
  double v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) fail("attribute " + key + " is not a number");
  return v;
}

std::uint64_t Hdf5File::uint_attribute(const std::string& object, const std::string& key) const {
  Hdf5Handle a = open_attribute(*this, object, key);
  std::uint64_t v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_UINT64, &v) < 0) fail("attribute " + key + " is not an integer");
  return v;
}

}  // namespace ds::detail

namespace ds::detail {

void Hdf5File::write_string(const std::string& name, const std::string& value) {
  Hdf5Handle type = string_type();
  Hdf5Handle space(H5Screate(H5S_SCALAR));
  Hdf5Handle set(H5Dcreate2(id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT));
  if (!set.valid()) fail("cannot create dataset " + name);
  const char* p = value.c_str();
  if (H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0)
    fail("cannot write dataset " + name + " (disk full?)");
}

std::string Hdf5File::read_string(const std::string& name) const {
  Hdf5Handle set = open_dataset(name);
  Hdf5Handle file_type(H5Dget_type(set.get()));
  if (H5Tget_class(file_type.get()) != H5T_STRING || H5Tis_variable_str(file_type.get()) <= 0)
    fail("dataset " + name + " is not a variable-length string");
  Hdf5Handle space(H5Dget_space(set.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1) fail("dataset " + name + " is not a scalar");
  // The stored value is a descriptor (length: 4 bytes little-endian, then the global heap
  // address and index), and libhdf5 1.10 allocates `length` bytes before it reads the heap: a
  // corrupt length made a 12 KB file cost 8.5 GB and 12 s (fuzz_model_file). Where the descriptor
  // lies in the file (contiguous storage, as Diffuscope writes it), read the length first.
  const haddr_t offset = H5Dget_offset(set.get());
  if (file_size_ > 0 && offset != HADDR_UNDEF) {
    std::ifstream in(path_, std::ios::binary);
    unsigned char bytes[4] = {0, 0, 0, 0};
    if (!in.seekg(std::streamoff(offset)) || !in.read(reinterpret_cast<char*>(bytes), 4))
      fail("dataset " + name + " lies outside the file");
    const std::uint64_t length = std::uint64_t(bytes[0]) | std::uint64_t(bytes[1]) << 8 |
                                 std::uint64_t(bytes[2]) << 16 | std::uint64_t(bytes[3]) << 24;
    if (length > file_size_)
      fail("dataset " + name + " claims a string of " + std::to_string(length) +
           " bytes in a file of " + std::to_string(file_size_));
  }
  Hdf5Handle type = string_type();
  char* raw = nullptr;
  if (H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &raw) < 0)
    fail("cannot read dataset " + name);
  std::string out = raw ? raw : "";
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, &raw);
  return out;
}

std::vector<std::string> Hdf5File::members(const std::string& group) const {
  if (!exists(group)) fail("has no group " + group);
  Hdf5Handle g(H5Gopen2(id(), group.c_str(), H5P_DEFAULT));
  if (!g.valid()) fail(group + " is not a group");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) fail("cannot list group " + group);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size =
        H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0) fail("cannot list group " + group);
    std::string name(std::size_t(size) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(std::size_t(size));
    names.push_back(name);
  }
  return names;
}

}  // namespace ds::detail
