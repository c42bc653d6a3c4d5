#include "diffuscope/data/pickle.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "diffuscope/error.h"

namespace ds {

namespace {

// Offset of the first byte that breaks strict UTF-8 (overlong forms, surrogates and code points
// above U+10FFFF included), or size_t(-1) when all n bytes are valid.
std::size_t first_invalid_utf8(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    std::size_t extra = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (n - i <= extra) return i;
    for (std::size_t k = 1; k <= extra; ++k) {
      const unsigned char b = p[i + k];
      const unsigned first_lo = k == 1 ? lo : 0x80, first_hi = k == 1 ? hi : 0xBF;
      if (b < first_lo || b > first_hi) return i;
    }
    i += extra + 1;
  }
  return std::size_t(-1);
}

struct StorageType {
  const char* global;  // "torch.FloatStorage"
  const char* dtype;
  std::size_t element_size;
};

constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", "float32", 4}, {"torch.DoubleStorage", "float64", 8},
    {"torch.HalfStorage", "float16", 2},  {"torch.BFloat16Storage", "bfloat16", 2},
    {"torch.LongStorage", "int64", 8},    {"torch.IntStorage", "int32", 4},
    {"torch.ShortStorage", "int16", 2},   {"torch.CharStorage", "int8", 1},
    {"torch.ByteStorage", "uint8", 1},    {"torch.BoolStorage", "bool", 1}};

// The opcodes torch.save (protocol 2) and pickle protocols 4-5 use for plain data; names as in
// CPython's pickletools. Anything else (INST, OBJ, NEWOBJ, EXT*, ...) is refused.
enum Opcode : unsigned char {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kBinFloat = 'G',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinPersId = 'Q',
  kReduce = 'R',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kProto = 0x80,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95
};

constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";

const StorageType* storage_type(const std::string& global) {
  for (const auto& s : kStorageTypes)
    if (global == s.global) return &s;
  return nullptr;
}

// Python's equality for the key kinds a state dict uses; other keys are never merged.
bool hashable_key(const PickleValue& key, std::string* out) {
  switch (key.kind) {
    case PickleKind::String:
      *out = "s" + key.text;
      return true;
    case PickleKind::Bytes:
      *out = "b" + key.text;
      return true;
    case PickleKind::Int:
      *out = "i" + std::to_string(key.integer);
      return true;
    case PickleKind::Bool:
      *out = "i" + std::to_string(key.boolean ? 1 : 0);
      return true;
    default:
      return false;
  }
}

PickleValuePtr make(PickleKind kind) {
  return std::make_shared<PickleValue>(kind);
}

class PickleMachine {
 public:
  PickleMachine(const unsigned char* data, std::size_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}
  PickleMachine(const PickleMachine&) = delete;
  PickleMachine& operator=(const PickleMachine&) = delete;

  // A refused pickle may have built reference cycles (a list appended to itself through the
  // memo), which shared pointers never free: every list and dict it created that is still alive
  // lets go of its children. Every cycle runs through a list or a dict, the only values that can
  // change after they were pushed.
  // An accepted pickle may have built such cycles among values it did not return (only through
  // the memo; found by the fuzzer): those are released the same way, the returned tree (checked
  // acyclic) is left whole.
  ~PickleMachine() {
    for (const auto& weak : containers_)
      if (const auto container = weak.lock();
          container && (!accepted_ || reachable_.count(container.get()) == 0))
        container->drop_children();
  }

  PickleValuePtr run() {
    while (true) {
      op_position_ = pos_;
      const unsigned char op = read_byte();
      switch (op) {
        case kProto:
          if (const int protocol = read_byte(); protocol > 5)
            fail("pickle protocol " + std::to_string(protocol) + " is unknown");
          break;
        case kFrame:  // a length hint; the frame's opcodes follow inline
          read_bytes(8);
          break;
        case kEmptyDict:
          push(make(PickleKind::Dict));
          break;
        case kEmptyList:
          push(make(PickleKind::List));
          break;
        case kEmptyTuple:
          push(make(PickleKind::Tuple));
          break;
        case kMark:
          marks_.push_back(stack_.size());
          break;
        case kNone:
          push(make(PickleKind::None));
          break;
        case kNewTrue:
        case kNewFalse: {
          auto v = make(PickleKind::Bool);
          v->boolean = op == kNewTrue;
          push(v);
          break;
        }
        case kBinInt1:
          push_int(read_byte());
          break;
        case kBinInt2:
          push_int(std::int64_t(read_uint(2)));
          break;
        case kBinInt:
          push_int(static_cast<std::int32_t>(read_uint(4)));
          break;
        case kLong1:
          push_int(read_long(read_byte()));
          break;
        case kBinFloat:
          push_float();
          break;
        case kBinUnicode:
        case kBinString:
          push_text(PickleKind::String, read_uint(4));
          break;
        case kShortBinUnicode:
        case kShortBinString:
          push_text(PickleKind::String, read_byte());
          break;
        case kBinUnicode8:
          push_text(PickleKind::String, read_uint(8));
          break;
        case kBinBytes:
          push_text(PickleKind::Bytes, read_uint(4));
          break;
        case kShortBinBytes:
          push_text(PickleKind::Bytes, read_byte());
          break;
        case kBinBytes8:
          push_text(PickleKind::Bytes, read_uint(8));
          break;
        case kTuple:
          push_sequence(PickleKind::Tuple, pop_mark());
          break;
        case kTuple1:
        case kTuple2:
        case kTuple3:
          push_sequence(PickleKind::Tuple, pop_n(std::size_t(op - kTuple1 + 1)));
          break;
        case kList:
          push_sequence(PickleKind::List, pop_mark());
          break;
        case kDict: {
          auto dict = make(PickleKind::Dict);
          set_items(*dict, pop_mark());
          push(dict);
          break;
        }
        case kAppend: {
          auto value = pop();
          list_on_top().items.push_back(value);
          break;
        }
        case kAppends: {
          auto values = pop_mark();
          auto& list = list_on_top();
          list.items.insert(list.items.end(), values.begin(), values.end());
          break;
        }
        case kSetItem: {
          auto value = pop();
          auto key = pop();
          dict_on_top().set_item(key, value);
          break;
        }
        case kSetItems: {
          // The marked pairs first, then the dict below them: two statements, as the order in
          // which a call's arguments are evaluated is unspecified (clang took the top value,
          // one of the pairs, for the dict and built a cycle; found by fuzz_pickle).
          auto pairs = pop_mark();
          set_items(dict_on_top(), std::move(pairs));
          break;
        }
        case kBinPut:
          memo_[read_byte()] = top();
          break;
        case kLongBinPut:
          memo_[read_uint(4)] = top();
          break;
        case kMemoize:
          memo_[memo_.size()] = top();
          break;
        case kBinGet:
          push(memo_get(read_byte()));
          break;
        case kLongBinGet:
          push(memo_get(read_uint(4)));
          break;
        case kPop:
          pop();
          break;
        case kPopMark:
          pop_mark();
          break;
        case kDup:
          push(top());
          break;
        case kGlobal: {
          const std::string module = read_line();
          const std::string name = read_line();
          push(global(module, name));
          break;
        }
        case kStackGlobal: {
          auto name = pop();
          auto module = pop();
          if (!module->is(PickleKind::String) || !name->is(PickleKind::String))
            fail("STACK_GLOBAL needs two strings");
          push(global(module->text, name->text));
          break;
        }
        case kReduce: {
          auto args = pop();
          auto callable = pop();
          push(reduce(*callable, *args));
          break;
        }
        case kBuild:
          build();
          break;
        case kBinPersId: {
          auto pid = pop();
          push(persistent_load(*pid));
          break;
        }
        case kStop:
          if (stack_.size() != 1 || !marks_.empty())
            fail("pickle stops with " + std::to_string(stack_.size()) + " values on the stack");
          if (contains_cycle(stack_.back(), &reachable_))
            fail("pickled value contains itself (a reference cycle)");
          accepted_ = true;
          return stack_.back();
        default: {
          std::ostringstream hex;
          hex << "0x" << std::hex << int(op);
          fail("unsupported pickle opcode " + hex.str());
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw FileError(path_, what + " (pickle byte " + std::to_string(op_position_) + ")");
  }

  unsigned char read_byte() {
    if (pos_ >= size_) fail("truncated pickle");
    return data_[pos_++];
  }
  const unsigned char* read_bytes(std::uint64_t n) {
    if (n > size_ - pos_) fail("truncated pickle");
    const unsigned char* p = data_ + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  std::uint64_t read_uint(int bytes) {
    const unsigned char* p = read_bytes(bytes);
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  // LONG1: n bytes of little-endian two's complement.
  std::int64_t read_long(int n) {
    if (n > 8) fail("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
    if (n == 0) return 0;
    std::uint64_t v = read_uint(n);
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t(0) << (8 * n);  // sign-extend
    return static_cast<std::int64_t>(v);
  }
  std::string read_line() {
    const auto* start = data_ + pos_;
    const auto* end = static_cast<const unsigned char*>(std::memchr(start, '\n', size_ - pos_));
    if (!end) fail("truncated pickle");
    pos_ += static_cast<std::size_t>(end - start) + 1;
    return std::string(reinterpret_cast<const char*>(start), end - start);
  }

  void push(PickleValuePtr v) {
    if (v->is(PickleKind::List) || v->is(PickleKind::Dict)) containers_.push_back(v);
    stack_.push_back(std::move(v));
  }
  void push_int(std::int64_t i) {
    auto v = make(PickleKind::Int);
    v->integer = i;
    push(v);
  }
  void push_float() {
    std::uint64_t bits = 0;  // big-endian IEEE 754 double
    for (const unsigned char *p = read_bytes(8), *e = p + 8; p != e; ++p) bits = (bits << 8) | *p;
    auto v = make(PickleKind::Float);
    std::memcpy(&v->real, &bits, sizeof bits);
    push(v);
  }
  void push_text(PickleKind kind, std::uint64_t length) {
    const unsigned char* p = read_bytes(length);
    // Python decodes a pickled str as UTF-8 (torch.load's encoding) and fails on bad bytes; so
    // does this reader, and every str it returns is valid UTF-8 (JSON and Qt take it as is).
    if (kind == PickleKind::String) {
      const std::size_t bad = first_invalid_utf8(p, static_cast<std::size_t>(length));
      if (bad != std::size_t(-1))
        fail("pickled str is not valid UTF-8 (byte " + std::to_string(bad) + " of " +
             std::to_string(length) + ")");
    }
    auto v = make(kind);
    v->text.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(length));
    push(v);
  }
  void push_sequence(PickleKind kind, std::vector<PickleValuePtr> items) {
    auto v = make(kind);
    v->items = std::move(items);
    push(v);
  }

  PickleValuePtr pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("pickle stack underflow");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const PickleValuePtr& top() const {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("pickle stack underflow");
    return stack_.back();
  }
  std::vector<PickleValuePtr> pop_n(std::size_t n) {
    std::vector<PickleValuePtr> out(n);
    for (std::size_t i = n; i-- > 0;) out[i] = pop();
    return out;
  }
  std::vector<PickleValuePtr> pop_mark() {
    if (marks_.empty()) fail("pickle MARK missing");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PickleValuePtr> out(stack_.begin() + static_cast<std::ptrdiff_t>(mark),
                                    stack_.end());
    stack_.resize(mark);
    return out;
  }
  PickleValue& list_on_top() {
    const auto& v = top();
    if (!v->is(PickleKind::List)) fail("APPEND to a " + std::string(pickle_kind_name(v->kind)));
    return *v;
  }
  PickleValue& dict_on_top() {
    const auto& v = top();
    if (!v->is(PickleKind::Dict)) fail("SETITEM on a " + std::string(pickle_kind_name(v->kind)));
    return *v;
  }
  void set_items(PickleValue& dict, const std::vector<PickleValuePtr>& flat) {
    if (flat.size() % 2) fail("odd number of items for a dict");
    for (std::size_t i = 0; i < flat.size(); i += 2) dict.set_item(flat[i], flat[i + 1]);
  }
  PickleValuePtr memo_get(std::uint64_t index) const {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("pickle memo has no entry " + std::to_string(index));
    return it->second;
  }

  PickleValuePtr global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    const auto& allowed = pickle_allowed_globals();
    if (std::find(allowed.begin(), allowed.end(), full) == allowed.end())
      throw FileError(path_, "refuses to load: pickle references the global '" + full +
                                 "', which is not on the whitelist");
    auto v = make(PickleKind::Global);
    v->text = full;
    return v;
  }

  // The whitelisted callables, interpreted here: nothing is ever looked up or executed.
  PickleValuePtr reduce(const PickleValue& callable, const PickleValue& args) {
    if (!callable.is(PickleKind::Global) || !args.is(PickleKind::Tuple))
      fail("REDUCE needs a global and an argument tuple");
    const auto& a = args.items;
    if (callable.text == kOrderedDict) {
      if (!a.empty()) fail("collections.OrderedDict called with arguments");
      return make(PickleKind::Dict);
    }
    if (callable.text == kRebuildTensor) {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() < 6 || a.size() > 7 || !a[0]->is(PickleKind::Storage))
        fail(std::string(kRebuildTensor) + " called with unexpected arguments");
      auto v = make(PickleKind::Tensor);
      PickleTensor& t = v->tensor;
      t.storage = a[0]->storage;
      t.offset = integer(*a[1], "storage offset");
      t.shape = int_tuple(*a[2], "size");
      t.stride = int_tuple(*a[3], "stride");
      t.requires_grad = a[4]->is(PickleKind::Bool) && a[4]->boolean;
      check_view(t);
      return v;
    }
    if (callable.text == kRebuildParameter) {  // (tensor, requires_grad, backward_hooks)
      if (a.size() != 3 || !a[0]->is(PickleKind::Tensor))
        fail(std::string(kRebuildParameter) + " called with unexpected arguments");
      auto v = std::make_shared<PickleValue>(*a[0]);
      v->tensor.requires_grad = a[1]->is(PickleKind::Bool) && a[1]->boolean;
      return v;
    }
    fail("the global '" + callable.text + "' cannot be called");
  }

  std::int64_t integer(const PickleValue& v, const char* what) const {
    if (!v.is(PickleKind::Int)) fail(std::string("tensor ") + what + " is not an integer");
    return v.integer;
  }
  std::vector<std::int64_t> int_tuple(const PickleValue& v, const char* what) const {
    if (!v.is(PickleKind::Tuple)) fail(std::string("tensor ") + what + " is not a tuple");
    std::vector<std::int64_t> out;
    for (const auto& item : v.items) out.push_back(integer(*item, what));
    return out;
  }
  // Every element of the view must lie inside the storage: the bytes are read from the archive
  // later, and a hostile file must not make us read outside them.
  void check_view(const PickleTensor& t) const {
    if (t.shape.size() != t.stride.size()) fail("tensor size and stride differ in rank");
    if (t.offset < 0) fail("negative tensor storage offset");
    bool empty = false;
    for (std::size_t k = 0; k < t.shape.size(); ++k) {
      if (t.shape[k] < 0 || t.stride[k] < 0) fail("negative tensor size or stride");
      if (t.shape[k] == 0) empty = true;
    }
    if (empty) return;  // reads nothing (a size-0 dimension would also pull `last` below 0)
    // The last element the view reads: offset + sum (size - 1) * stride, every term >= 0.
    std::int64_t last = t.offset;
    for (std::size_t k = 0; k < t.shape.size(); ++k) {
      if (t.stride[k] > 0 &&
          t.shape[k] - 1 > (std::numeric_limits<std::int64_t>::max() - last) / t.stride[k])
        fail("tensor view overflows");
      last += (t.shape[k] - 1) * t.stride[k];
    }
    if (last >= t.storage.numel)
      fail("tensor view reaches element " + std::to_string(last) + " of a storage of " +
           std::to_string(t.storage.numel));
  }

  // BUILD sets an object's state. The only object torch.save gives state to in a checkpoint is a
  // state dict (its _metadata: per-module versions), which a weights reader does not need.
  void build() {
    auto state = pop();
    const auto& target = top();
    if (!target->is(PickleKind::Dict))
      fail("BUILD on a " + std::string(pickle_kind_name(target->kind)) + " is not supported");
  }

  // torch.save's persistent ids: ('storage', StorageType, key, location, numel).
  PickleValuePtr persistent_load(const PickleValue& pid) {
    const auto& a = pid.items;
    if (!pid.is(PickleKind::Tuple) || a.size() != 5 || !a[0]->is(PickleKind::String) ||
        a[0]->text != "storage")
      fail("unsupported persistent id (expected a torch.save storage)");
    if (!a[1]->is(PickleKind::Global)) fail("storage type is not a global");
    const StorageType* type = storage_type(a[1]->text);
    if (!type) fail("'" + a[1]->text + "' is not a storage type");
    if (!a[2]->is(PickleKind::String) || !a[3]->is(PickleKind::String) ||
        !a[4]->is(PickleKind::Int) || a[4]->integer < 0)
      fail("malformed storage persistent id");
    auto v = make(PickleKind::Storage);
    v->storage.key = a[2]->text;
    v->storage.dtype = type->dtype;
    v->storage.element_size = type->element_size;
    v->storage.location = a[3]->text;
    v->storage.numel = a[4]->integer;
    return v;
  }

  // Depth-first walk with the usual three colours; iterative, as the tree may be deep.
  // True when the tree under root holds a value twice on one path; `reached` receives every
  // value visited.
  static bool contains_cycle(const PickleValuePtr& root,
                             std::unordered_set<const PickleValue*>* reached) {
    enum Colour : char { kOpen = 1, kDone = 2 };
    std::unordered_map<const PickleValue*, char> colour;
    struct Record {
      std::unordered_map<const PickleValue*, char>& colour;
      std::unordered_set<const PickleValue*>* reached;
      ~Record() {
        for (const auto& [value, c] : colour) reached->insert(value);
      }
    } record{colour, reached};
    std::vector<std::pair<const PickleValue*, std::size_t>> path{{root.get(), 0}};
    colour[root.get()] = kOpen;
    while (!path.empty()) {
      auto& [value, next] = path.back();
      const std::size_t children = value->items.size() + 2 * value->entries.size();
      if (next == children) {
        colour[value] = kDone;
        path.pop_back();
        continue;
      }
      const std::size_t k = next++;
      const PickleValue* child =
          k < value->items.size()
              ? value->items[k].get()
              : ((k - value->items.size()) % 2 == 0
                     ? value->entries[(k - value->items.size()) / 2].first.get()
                     : value->entries[(k - value->items.size()) / 2].second.get());
      if (!child) continue;
      const char c = colour[child];
      if (c == kOpen) return true;
      if (c == 0 && (!child->items.empty() || !child->entries.empty())) {
        colour[child] = kOpen;
        path.emplace_back(child, 0);
      }
    }
    return false;
  }

  const unsigned char* data_;
  std::size_t size_;
  const std::string& path_;
  bool accepted_ = false;
  std::unordered_set<const PickleValue*> reachable_;  // the accepted tree's values
  std::vector<std::weak_ptr<PickleValue>>
      containers_;  // lists and dicts pushed, for ~PickleMachine
  std::size_t pos_ = 0;
  std::size_t op_position_ = 0;
  std::vector<PickleValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, PickleValuePtr> memo_;
};

[[noreturn]] void wrong_kind(const char* expected, PickleKind actual) {
  throw InvalidArgument(std::string("expected a pickled ") + expected + ", found a " +
                        pickle_kind_name(actual));
}

}  // namespace

const char* pickle_kind_name(PickleKind kind) {
  switch (kind) {
    case PickleKind::None:
      return "None";
    case PickleKind::Bool:
      return "bool";
    case PickleKind::Int:
      return "int";
    case PickleKind::Float:
      return "float";
    case PickleKind::String:
      return "str";
    case PickleKind::Bytes:
      return "bytes";
    case PickleKind::List:
      return "list";
    case PickleKind::Tuple:
      return "tuple";
    case PickleKind::Dict:
      return "dict";
    case PickleKind::Global:
      return "global";
    case PickleKind::Storage:
      return "storage";
    case PickleKind::Tensor:
      return "tensor";
  }
  return "?";
}

std::int64_t PickleTensor::numel() const {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

PickleValue::~PickleValue() {
  std::vector<PickleValuePtr> pending;
  auto adopt_children = [&pending](PickleValue& v) {
    for (auto& item : v.items) pending.push_back(std::move(item));
    v.items.clear();
    for (auto& [key, value] : v.entries) {
      pending.push_back(std::move(key));
      pending.push_back(std::move(value));
    }
    v.entries.clear();
  };
  adopt_children(*this);
  while (!pending.empty()) {
    PickleValuePtr last = std::move(pending.back());
    pending.pop_back();
    // Only a value about to die gives up its children; shared ones are merely released.
    if (last && last.use_count() == 1) adopt_children(*last);
  }
}

bool PickleValue::as_bool() const {
  if (!is(PickleKind::Bool)) wrong_kind("bool", kind);
  return boolean;
}
std::int64_t PickleValue::as_int() const {
  if (is(PickleKind::Bool)) return boolean ? 1 : 0;
  if (!is(PickleKind::Int)) wrong_kind("int", kind);
  return integer;
}
double PickleValue::as_double() const {
  if (is(PickleKind::Int)) return double(integer);
  if (!is(PickleKind::Float)) wrong_kind("float", kind);
  return real;
}
const std::string& PickleValue::as_string() const {
  if (!is(PickleKind::String)) wrong_kind("str", kind);
  return text;
}
const PickleTensor& PickleValue::as_tensor() const {
  if (!is(PickleKind::Tensor)) wrong_kind("tensor", kind);
  return tensor;
}

const PickleValue* PickleValue::find(const std::string& key) const {
  if (!is(PickleKind::Dict)) return nullptr;
  const auto it = index_.find("s" + key);
  return it == index_.end() ? nullptr : entries[it->second].second.get();
}

void PickleValue::drop_children() {
  std::vector<PickleValuePtr> items_dropped = std::move(items);
  auto entries_dropped = std::move(entries);
  items.clear();
  entries.clear();
  index_.clear();
}  // the dropped children are released here, after this value no longer refers to them

void PickleValue::set_item(PickleValuePtr key, PickleValuePtr value) {
  std::string hashed;
  if (hashable_key(*key, &hashed)) {
    const auto [it, inserted] = index_.emplace(hashed, entries.size());
    if (!inserted) {
      entries[it->second].second = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

PickleValuePtr read_pickle(const void* data, std::size_t size, const std::string& path) {
  return PickleMachine(static_cast<const unsigned char*>(data), size, path).run();
}

const std::vector<std::string>& pickle_allowed_globals() {
  static const std::vector<std::string> globals = [] {
    std::vector<std::string> g{kOrderedDict, kRebuildTensor, kRebuildParameter};
    for (const auto& s : kStorageTypes) g.emplace_back(s.global);
    return g;
  }();
  return globals;
}

}  // namespace ds
