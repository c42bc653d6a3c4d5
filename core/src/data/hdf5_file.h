// Thin RAII layer over the HDF5 C API (private to core): every failure becomes a FileError naming
// the file and the object.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ds::detail {

// Owns one HDF5 identifier and closes it with the right H5?close.
class Hdf5Handle {
 public:
  Hdf5Handle() = default;
  explicit Hdf5Handle(hid_t id) : id_(id) {}
  ~Hdf5Handle() { reset(); }
  Hdf5Handle(Hdf5Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Hdf5Handle& operator=(Hdf5Handle&& o) noexcept;
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

class Hdf5File {
 public:
  static Hdf5File create(const std::string& path);  // truncates
  static Hdf5File open_read(const std::string& path);

  const std::string& path() const { return path_; }
  hid_t id() const { return file_.get(); }

  bool exists(const std::string& name) const;  // dataset or group, e.g. "/fields"
  void create_group(const std::string& name);

  // Datasets of doubles/floats/int64 with the given shape, written in one call. Large float
  // datasets are chunked and deflate-compressed.
  void write(const std::string& name, const std::vector<std::size_t>& shape, const double* data);
  void write(const std::string& name, const std::vector<std::size_t>& shape, const float* data,
             bool compress = false);
  void write(const std::string& name, const std::vector<std::size_t>& shape,
             const std::int64_t* data);

  // A scalar variable-length UTF-8 string dataset (e.g. a JSON document).
  void write_string(const std::string& name, const std::string& value);
  std::string read_string(const std::string& name) const;
  // Names of the members of a group, in creation-independent (name) order.
  std::vector<std::string> members(const std::string& group) const;

  std::vector<std::size_t> shape(const std::string& name) const;
  std::vector<double> read_doubles(const std::string& name) const;
  std::vector<float> read_floats(const std::string& name) const;
  std::vector<std::int64_t> read_int64(const std::string& name) const;

  // Attributes on an object ("/" for the file).
  void set_attribute(const std::string& object, const std::string& key, const std::string& value);
  void set_attribute(const std::string& object, const std::string& key, double value);
  void set_attribute(const std::string& object, const std::string& key, std::uint64_t value);
  void set_attribute(const std::string& object, const std::string& key,
                     const std::vector<std::string>& values);
  bool has_attribute(const std::string& object, const std::string& key) const;
  std::string string_attribute(const std::string& object, const std::string& key) const;
  double double_attribute(const std::string& object, const std::string& key) const;
  std::uint64_t uint_attribute(const std::string& object, const std::string& key) const;
  std::vector<std::string> strings_attribute(const std::string& object,
                                             const std::string& key) const;

  void close();

 private:
  Hdf5File(std::string path, hid_t id);
  [[noreturn]] void fail(const std::string& what) const;
  Hdf5Handle open_dataset(const std::string& name) const;
  template <class T>
  std::vector<T> read_dataset(const std::string& name, hid_t memory_type) const;
  // Refuses, before anything is allocated, a dataset whose shape claims more data than the file
  // can hold (its element count overflowing, or more bytes than the file has: compressed data
  // may expand, but not beyond deflate's bound). Returns the element count.
  std::size_t checked_element_count(const std::string& name, hid_t set,
                                    const std::vector<std::size_t>& shape,
                                    std::size_t memory_item_size) const;

  std::string path_;
  Hdf5Handle file_;
  std::uintmax_t file_size_ = 0;  // bytes on disk when opened for reading; 0 for created files
  bool created_ = false;           // written by this process (Hdf5File::create)
};

}  // namespace ds::detail
