// A weights-only reader of Python pickles as written by torch.save (pickle protocols 2 to 5).
// It is a small virtual machine that builds a tree of plain values and never executes code: the
// only globals it accepts are those on a whitelist (collections.OrderedDict, torch's tensor
// rebuild functions, torch storage types), and it interprets them itself. Any other global
// (os.system, builtins.eval, a user class, ...) makes the whole file refused. No LibTorch here:
// tensors stay references to the archive's storage records until nets/ materialises them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ds {

enum class PickleKind {
  None,
  Bool,
  Int,
  Float,
  String,  // Python str (UTF-8 bytes), also Python 2 byte strings
  Bytes,   // Python bytes
  List,
  Tuple,
  Dict,     // dict and collections.OrderedDict, insertion order kept
  Global,   // a whitelisted global, "module.name" in text
  Storage,  // a persistent id of torch.save: a storage record of the archive
  Tensor    // torch._utils._rebuild_tensor_v2 applied to a storage
};

const char* pickle_kind_name(PickleKind kind);

// One storage of a torch.save archive: the zip record data/<key>, numel elements of dtype,
// little-endian.
struct PickleStorage {
  std::string key;               // record name below data/
  std::string dtype;             // "float32", "float64", "float16", "bfloat16", "int64", "int32",
                                 // "int16", "int8", "uint8", "bool"
  std::size_t element_size = 0;  // bytes per element
  std::string location;          // device the tensor was saved from: "cpu", "cuda:0", ...
  std::int64_t numel = 0;
};

// A tensor view of a storage, all in elements: element (i0, i1, ...) sits at
// offset + sum_k i_k stride[k] of the storage.
struct PickleTensor {
  PickleStorage storage;
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> stride;
  bool requires_grad = false;
  std::int64_t numel() const;
};

class PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

// A node of the unpickled tree. Containers hold shared pointers because a pickle's memo may refer
// to one object from several places (the same OrderedDict type, a reused key string).
class PickleValue {
 public:
  explicit PickleValue(PickleKind kind = PickleKind::None) : kind(kind) {}
  PickleValue(const PickleValue&) = default;
  PickleValue& operator=(const PickleValue&) = default;
  // Releases nested containers iteratively: a hostile pickle can nest lists millions deep, which
  // a recursive destructor would turn into a stack overflow.
  ~PickleValue();

  PickleKind kind;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;                   // String, Bytes, Global ("module.name")
  std::vector<PickleValuePtr> items;  // List, Tuple
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries;  // Dict, insertion order
  PickleStorage storage;                                           // Storage
  PickleTensor tensor;                                             // Tensor

  bool is(PickleKind k) const { return kind == k; }

  // Typed access: throws InvalidArgument naming the expected and the actual kind.
  bool as_bool() const;
  std::int64_t as_int() const;  // Int (or Bool)
  double as_double() const;     // Float or Int
  const std::string& as_string() const;
  const PickleTensor& as_tensor() const;

  // Dict lookup by string key; nullptr when absent or not a Dict.
  const PickleValue* find(const std::string& key) const;
  // Dict insertion with Python semantics: an existing equal key (str, int, bool) is overwritten.
  void set_item(PickleValuePtr key, PickleValuePtr value);
  // Drops the children (items, entries). read_pickle breaks the reference cycles that a refused
  // pickle built through its memo with it, so that nothing leaks.
  void drop_children();

 private:
  std::unordered_map<std::string, std::size_t> index_;  // hashable keys -> position in entries
};

// Runs the pickle in data[0, size). `path` names the file in errors. Throws FileError(path,
// reason) for a truncated or malformed pickle, an unsupported opcode, a global not on the
// whitelist ("refuses to load: pickle references the global 'os.system', which is not on the
// whitelist"), a whitelisted global called with unexpected arguments, or a value that contains
// itself (a list appended to itself through the memo: no state dict does that, and a cyclic tree
// could neither be freed nor walked).
PickleValuePtr read_pickle(const void* data, std::size_t size, const std::string& path);

// The accepted globals as "module.name".
const std::vector<std::string>& pickle_allowed_globals();

}  // namespace ds
