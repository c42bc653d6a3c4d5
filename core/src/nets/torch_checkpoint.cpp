#include "nets/torch_checkpoint.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "diffuscope/error.h"

namespace ds::nets {

namespace {

torch::Dtype torch_dtype(const std::string& dtype) {
  if (dtype == "float32") return torch::kFloat32;
  if (dtype == "float64") return torch::kFloat64;
  if (dtype == "float16") return torch::kFloat16;
  if (dtype == "bfloat16") return torch::kBFloat16;
  if (dtype == "int64") return torch::kInt64;
  if (dtype == "int32") return torch::kInt32;
  if (dtype == "int16") return torch::kInt16;
  if (dtype == "int8") return torch::kInt8;
  if (dtype == "uint8") return torch::kUInt8;
  if (dtype == "bool") return torch::kBool;
  throw InvalidArgument("unknown storage dtype " + dtype);
}

// c10 errors carry a backtrace and several lines; a user needs the first line.
std::string first_line(const c10::Error& e) {
  std::string message = e.what_without_backtrace();
  const auto end = message.find('\n');
  return end == std::string::npos ? message : message.substr(0, end);
}

constexpr int kMaxJsonDepth = 64;  // JSON must not recurse without bound
// The memo lets a pickle refer to one value many times: 40 nested lists of two references to the
// level below are a few hundred bytes of pickle and 2^40 values of JSON. Metadata is small.
constexpr std::size_t kMaxJsonValues = 1 << 20;

nlohmann::json to_json(const PickleValue& v, int depth, std::size_t& budget) {
  if (depth > kMaxJsonDepth) throw InvalidArgument("pickled value nested too deeply");
  if (budget == 0)
    throw InvalidArgument("pickled value expands to more than " + std::to_string(kMaxJsonValues) +
                          " JSON values");
  --budget;
  switch (v.kind) {
    case PickleKind::None:
      return nullptr;
    case PickleKind::Bool:
      return v.boolean;
    case PickleKind::Int:
      return v.integer;
    case PickleKind::Float:
      return v.real;
    case PickleKind::String:
      return v.text;
    case PickleKind::Global:
      return "<global " + v.text + ">";
    case PickleKind::List:
    case PickleKind::Tuple: {
      auto out = nlohmann::json::array();
      for (const auto& item : v.items) out.push_back(to_json(*item, depth + 1, budget));
      return out;
    }
    case PickleKind::Dict: {
      auto out = nlohmann::json::object();
      for (const auto& [key, value] : v.entries) {
        if (key->is(PickleKind::String))
          out[key->text] = to_json(*value, depth + 1, budget);
        else if (key->is(PickleKind::Int))
          out[std::to_string(key->integer)] = to_json(*value, depth + 1, budget);
        else
          throw InvalidArgument(std::string("a dict key of type ") + pickle_kind_name(key->kind) +
                                " has no JSON form");
      }
      return out;
    }
    case PickleKind::Tensor:
      return {{"tensor", v.tensor.shape}, {"dtype", v.tensor.storage.dtype}};
    case PickleKind::Storage:
      return {{"storage", v.storage.key}};
    case PickleKind::Bytes:
      break;
  }
  throw InvalidArgument(std::string("a pickled ") + pickle_kind_name(v.kind) + " has no JSON form");
}

std::map<std::string, torch::Tensor> read_state_dict(const PickleValue& dict, TorchArchive& archive,
                                                     const std::string& key) {
  if (!dict.is(PickleKind::Dict))
    throw FileError(archive.path(),
                    "'" + key + "' is a " + pickle_kind_name(dict.kind) + ", not a state dict");
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, value] : dict.entries) {
    if (!name->is(PickleKind::String) || !value->is(PickleKind::Tensor))
      throw FileError(archive.path(), "'" + key + "' holds an entry that is not a named tensor");
    out.emplace(name->text, archive.tensor(value->tensor));
  }
  return out;
}

}  // namespace

// LibTorch's zip reader reports a corrupt archive (records outside the top folder, a bad central
// directory entry) with c10::Error from any call; users get a FileError naming the file.
template <class F>
auto TorchArchive::guarded(const std::string& what, F&& read) const {
  try {
    return read();
  } catch (const c10::Error& e) {
    throw FileError(path_,
                    "unreadable PyTorch archive: cannot " + what + " (" + first_line(e) + ")");
  }
}

TorchArchive::TorchArchive(const std::string& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path, "does not exist");
  if (std::filesystem::is_directory(path, ec)) throw FileError(path, "is a directory");
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, sizeof magic);
  if (std::memcmp(magic, "PK\x03\x04", 4) != 0)
    throw FileError(path,
                    "not a zip archive (torch.save writes zip archives since PyTorch 1.6; the "
                    "legacy pickle-only format is not supported)");
  try {
    reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw FileError(path,
                    "unreadable PyTorch archive, truncated or corrupt (" + first_line(e) + ")");
  }
  if (has_record("byteorder")) {
    const auto [data, size] =
        guarded("read byteorder", [&] { return reader_->getRecord("byteorder"); });
    const std::string order(static_cast<const char*>(data.get()), size);
    if (order.rfind("little", 0) != 0)
      throw FileError(path, "stores tensors in '" + order + "' byte order; only little is read");
  }
}

TorchArchive::~TorchArchive() = default;

bool TorchArchive::has_record(const std::string& name) const {
  return guarded("look up " + name, [&] { return reader_->hasRecord(name); });
}

bool TorchArchive::is_torchscript() const {
  if (has_record("constants.pkl")) return true;
  for (const auto& name : guarded("list its records", [&] { return reader_->getAllRecords(); }))
    if (name.rfind("code/", 0) == 0) return true;
  return false;
}

PickleValuePtr TorchArchive::read_pickle_record(const std::string& name) const {
  if (!has_record(name)) throw FileError(path_, "archive has no " + name + " record");
  try {
    const auto [data, size] = reader_->getRecord(name);
    return read_pickle(data.get(), size, path_);
  } catch (const c10::Error& e) {
    throw FileError(path_, "cannot read " + name + " (" + first_line(e) + ")");
  }
}

torch::Tensor TorchArchive::tensor(const PickleTensor& t) {
  const PickleStorage& s = t.storage;
  auto it = storages_.find(s.key);
  if (it == storages_.end()) {
    const std::string record = "data/" + s.key;
    if (!has_record(record)) throw FileError(path_, "storage record " + record + " is missing");
    torch::Tensor storage;
    try {
      const auto [data, size] = reader_->getRecord(record);
      // The element count comes from the pickle: it is checked against the record's actual size
      // before the storage is allocated (a hostile numel would otherwise ask for exabytes).
      std::size_t bytes = 0;
      const std::string claim =
          std::to_string(s.numel) + " elements of " + std::to_string(s.element_size) + " bytes";
      if (__builtin_mul_overflow(static_cast<std::size_t>(s.numel), s.element_size, &bytes))
        throw FileError(path_, "storage record " + record + ": the pickle claims " + claim +
                                   ", more than can be addressed");
      if (size < bytes)
        throw FileError(path_, "storage record " + record + " holds " + std::to_string(size) +
                                   " bytes, expected " + std::to_string(bytes) + " (" + claim +
                                   ")");
      storage = torch::empty({s.numel}, torch::TensorOptions().dtype(torch_dtype(s.dtype)));
      std::memcpy(storage.data_ptr(), data.get(), bytes);
    } catch (const c10::Error& e) {
      throw FileError(path_, "cannot read " + record + " (" + first_line(e) + ")");
    }
    it = storages_.emplace(s.key, storage).first;
  }
  // The pickle machine checked that the view stays inside the storage the pickle claims; a
  // storage several tensors share must be claimed with one size and type by all of them.
  const torch::Tensor& storage = it->second;
  if (storage.numel() != s.numel || storage.scalar_type() != torch_dtype(s.dtype))
    throw FileError(path_, "storage record data/" + s.key + " is claimed as " +
                               std::to_string(storage.numel()) + " and as " +
                               std::to_string(s.numel) + " elements (or of two types)");
  try {
    return storage.as_strided(t.shape, t.stride, t.offset).clone(torch::MemoryFormat::Contiguous);
  } catch (const c10::Error& e) {
    throw FileError(path_, "tensor view of data/" + s.key + ": " + first_line(e));
  }
}

TorchCheckpoint read_torch_checkpoint(const std::string& path, const std::string& weights_key) {
  TorchArchive archive(path);
  if (archive.is_torchscript())
    throw FileError(path, "is a TorchScript module, not a torch.save checkpoint");
  const PickleValuePtr root = archive.read_pickle_record("data.pkl");
  if (!root->is(PickleKind::Dict))
    throw FileError(path, std::string("holds a pickled ") + pickle_kind_name(root->kind) +
                              ", not a checkpoint dict");
  TorchCheckpoint ckpt;
  ckpt.path = path;
  for (const auto& entry : root->entries)
    if (entry.first->is(PickleKind::String)) ckpt.keys.push_back(entry.first->text);

  try {
    if (const auto* v = root->find("model_type")) ckpt.model_type = v->as_string();
    if (const auto* v = root->find("model_kwargs")) ckpt.model_kwargs = pickle_to_json(*v);
    if (const auto* v = root->find("schedule")) ckpt.schedule = v->as_string();
    if (const auto* v = root->find("schedule_args")) ckpt.schedule_args = pickle_to_json(*v);
    if (const auto* v = root->find("epoch")) ckpt.epoch = v->as_int();
    if (const auto* v = root->find("itn")) ckpt.iteration = v->as_int();
    if (const auto* v = root->find("betas")) {
      const torch::Tensor betas = archive.tensor(v->as_tensor()).to(torch::kFloat64).flatten();
      ckpt.betas.assign(betas.data_ptr<double>(), betas.data_ptr<double>() + betas.numel());
    }
  } catch (const InvalidArgument& e) {
    throw FileError(path, std::string("malformed checkpoint metadata: ") + e.what());
  }
  ckpt.has_ema = root->find("model_ema_state_dict") != nullptr;
  const PickleValue* weights = root->find(weights_key);
  if (!weights)
    throw FileError(path, "has no '" + weights_key +
                              "' entry (keys: " + nlohmann::json(ckpt.keys).dump() + ")");
  ckpt.weights_key = weights_key;
  ckpt.state_dict = read_state_dict(*weights, archive, weights_key);
  return ckpt;
}

nlohmann::json pickle_to_json(const PickleValue& value) {
  std::size_t budget = kMaxJsonValues;
  return to_json(value, 0, budget);
}

}  // namespace ds::nets
