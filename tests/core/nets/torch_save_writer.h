// Test helper: writes torch.save-style zip archives from C++ (LibTorch's own zip writer plus a
// minimal protocol-2 pickler), so tests can build checkpoints that are malicious, malformed, or
// shaped differently from the fixture without Python.
#pragma once

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "diffuscope/data/pickle.h"

namespace ds::testing {

inline PickleValuePtr pv_none() {
  return std::make_shared<PickleValue>(PickleKind::None);
}
inline PickleValuePtr pv_int(std::int64_t i) {
  auto v = std::make_shared<PickleValue>(PickleKind::Int);
  v->integer = i;
  return v;
}
inline PickleValuePtr pv_bool(bool b) {
  auto v = std::make_shared<PickleValue>(PickleKind::Bool);
  v->boolean = b;
  return v;
}
inline PickleValuePtr pv_float(double d) {
  auto v = std::make_shared<PickleValue>(PickleKind::Float);
  v->real = d;
  return v;
}
inline PickleValuePtr pv_str(const std::string& s) {
  auto v = std::make_shared<PickleValue>(PickleKind::String);
  v->text = s;
  return v;
}
inline PickleValuePtr pv_seq(PickleKind kind, std::vector<PickleValuePtr> items) {
  auto v = std::make_shared<PickleValue>(kind);
  v->items = std::move(items);
  return v;
}
inline PickleValuePtr pv_dict() {
  return std::make_shared<PickleValue>(PickleKind::Dict);
}
inline void pv_set(const PickleValuePtr& dict, const std::string& key, PickleValuePtr value) {
  dict->set_item(pv_str(key), std::move(value));
}

// Pickles a value tree with protocol 2 the way torch.save does: dicts as OrderedDicts, tensors
// through torch._utils._rebuild_tensor_v2 with a ('storage', ...) persistent id.
class TorchSavePickler {
 public:
  std::string pickle(const PickleValue& root) {
    out_ = "\x80\x02";
    write(root);
    out_ += '.';
    return out_;
  }
  // Float32 tensors stored so far: record key -> little-endian bytes.
  const std::map<std::string, std::string>& storages() const { return storages_; }

  // A contiguous float32 tensor as a Tensor value whose storage this pickler will emit.
  PickleValuePtr tensor(const torch::Tensor& t) {
    const auto c = t.to(torch::kFloat32).contiguous();
    const std::string key = std::to_string(storages_.size());
    storages_[key].assign(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float));
    auto v = std::make_shared<PickleValue>(PickleKind::Tensor);
    v->tensor.storage = {key, "float32", 4, "cpu", c.numel()};
    v->tensor.shape = c.sizes().vec();
    v->tensor.stride = c.strides().vec();
    return v;
  }
  // A raw view (offset/shape/stride chosen by the test) over a float storage.
  PickleValuePtr view(const std::vector<float>& storage, std::int64_t offset,
                      std::vector<std::int64_t> shape, std::vector<std::int64_t> stride) {
    const std::string key = std::to_string(storages_.size());
    storages_[key].assign(reinterpret_cast<const char*>(storage.data()),
                          storage.size() * sizeof(float));
    auto v = std::make_shared<PickleValue>(PickleKind::Tensor);
    v->tensor.storage = {key, "float32", 4, "cpu", std::int64_t(storage.size())};
    v->tensor.offset = offset;
    v->tensor.shape = std::move(shape);
    v->tensor.stride = std::move(stride);
    return v;
  }

 private:
  void u32(std::uint32_t n) {
    for (int i = 0; i < 4; ++i) out_ += char((n >> (8 * i)) & 0xff);
  }
  void text(const std::string& s) {
    out_ += 'X';
    u32(std::uint32_t(s.size()));
    out_ += s;
  }
  void global(const std::string& module, const std::string& name) {
    out_ += 'c' + module + '\n' + name + '\n';
  }
  void integer(std::int64_t i) {
    if (i >= INT32_MIN && i <= INT32_MAX) {
      out_ += 'J';
      u32(std::uint32_t(std::int32_t(i)));
    } else {
      out_ += '\x8a';
      out_ += '\x08';
      for (int k = 0; k < 8; ++k) out_ += char((std::uint64_t(i) >> (8 * k)) & 0xff);
    }
  }
  void int_tuple(const std::vector<std::int64_t>& values) {
    out_ += '(';
    for (auto v : values) integer(v);
    out_ += 't';
  }
  void write(const PickleValue& v) {
    switch (v.kind) {
      case PickleKind::None:
        out_ += 'N';
        break;
      case PickleKind::Bool:
        out_ += v.boolean ? '\x88' : '\x89';
        break;
      case PickleKind::Int:
        integer(v.integer);
        break;
      case PickleKind::Float: {
        std::uint64_t bits;
        std::memcpy(&bits, &v.real, 8);
        out_ += 'G';
        for (int k = 7; k >= 0; --k) out_ += char((bits >> (8 * k)) & 0xff);
        break;
      }
      case PickleKind::String:
        text(v.text);
        break;
      case PickleKind::List:
        out_ += "](";
        for (const auto& item : v.items) write(*item);
        out_ += 'e';
        break;
      case PickleKind::Tuple:
        out_ += '(';
        for (const auto& item : v.items) write(*item);
        out_ += 't';
        break;
      case PickleKind::Dict:
        global("collections", "OrderedDict");
        out_ += ")R(";
        for (const auto& [key, value] : v.entries) {
          write(*key);
          write(*value);
        }
        out_ += 'u';
        break;
      case PickleKind::Global: {
        const auto dot = v.text.rfind('.');
        global(v.text.substr(0, dot), v.text.substr(dot + 1));
        break;
      }
      case PickleKind::Tensor: {
        const PickleTensor& t = v.tensor;
        global("torch._utils", "_rebuild_tensor_v2");
        out_ += "((";
        text("storage");
        global("torch", "FloatStorage");
        text(t.storage.key);
        text(t.storage.location);
        integer(t.storage.numel);
        out_ += "tQ";
        integer(t.offset);
        int_tuple(t.shape);
        int_tuple(t.stride);
        out_ += '\x89';
        global("collections", "OrderedDict");
        out_ += ")Rt";  // empty backward hooks, then the argument tuple
        out_ += 'R';
        break;
      }
      default:
        throw std::logic_error("TorchSavePickler: unsupported kind");
    }
  }

  std::string out_;
  std::map<std::string, std::string> storages_;
};

// Writes records (name -> bytes) as a PyTorch zip archive; "version" is added by the writer.
inline void write_torch_archive(const std::string& path,
                                const std::map<std::string, std::string>& records) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  for (const auto& [name, bytes] : records)
    if (name != "version") writer.writeRecord(name, bytes.data(), bytes.size());
  writer.writeEndOfFile();
}

// A torch.save archive of a value tree built with `pickler`.
inline void write_torch_save(const std::string& path, TorchSavePickler& pickler,
                             const PickleValue& root) {
  std::map<std::string, std::string> records{{"data.pkl", pickler.pickle(root)}};
  for (const auto& [key, bytes] : pickler.storages()) records["data/" + key] = bytes;
  write_torch_archive(path, records);
}

// Every record of an existing archive (names without the top folder).
inline std::map<std::string, std::string> read_torch_archive(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  std::map<std::string, std::string> records;
  for (const auto& name : reader.getAllRecords()) {
    const auto [data, size] = reader.getRecord(name);
    records[name].assign(static_cast<const char*>(data.get()), size);
  }
  return records;
}

}  // namespace ds::testing
