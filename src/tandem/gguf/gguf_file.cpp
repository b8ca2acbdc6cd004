#include "tandem/gguf/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>

namespace tandem {
namespace {

constexpr int kMaxArrayDepth = 16;
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                // key length, type, smallest value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one dim, type, offset

// Bounds-checked little-endian cursor over the file bytes. Every read checks
// what is left, so no count or length taken from the file can read past it.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> b, const std::string& name) : b_(b), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return b_.size() - pos_; }

  template <class T>
  Result<T> read(const char* what) {
    if (left() < sizeof(T))
      return make_error(name_, ": truncated at offset ", pos_, " reading ", what, ": need ", sizeof(T),
                        " bytes, ", left(), " left");
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  Result<std::string> read_string(const std::string& what) {
    auto n = read<uint64_t>(what.c_str());
    if (!n) return n.error();
    if (*n > left())
      return make_error(name_, ": ", what, ": string length ", *n, " exceeds the ", left(),
                        " bytes left in the file (offset ", pos_ - 8, ")");
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<size_t>(*n));
    pos_ += *n;
    return s;
  }

 private:
  std::span<const uint8_t> b_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

Result<GgufValue> read_value(Cursor& c, GgufValueType t, const std::string& what, const std::string& name, int depth);

Result<GgufValue> read_array(Cursor& c, const std::string& what, const std::string& name, int depth) {
  if (depth >= kMaxArrayDepth)
    return make_error(name, ": ", what, ": arrays nested deeper than ", kMaxArrayDepth, " levels");
  auto et = c.read<uint32_t>("array element type");
  if (!et) return et.error();
  if (!gguf_value_type_valid(*et))
    return make_error(name, ": ", what, ": unknown array element type ", *et, " (expected 0..12)");
  auto n = c.read<uint64_t>("array length");
  if (!n) return n.error();
  GgufArray a;
  a.elem_type = static_cast<GgufValueType>(*et);
  uint64_t min_elem = gguf_scalar_size(a.elem_type);
  if (min_elem == 0) min_elem = a.elem_type == GgufValueType::STRING ? 8 : 12;
  if (*n > c.left() / min_elem)
    return make_error(name, ": ", what, ": array of ", *n, " ", gguf_value_type_name(a.elem_type),
                      " needs at least ", min_elem, " bytes each, but only ", c.left(), " bytes are left");
  a.items.reserve(static_cast<size_t>(*n));
  for (uint64_t i = 0; i < *n; ++i) {
    auto v = read_value(c, a.elem_type, what, name, depth + 1);
    if (!v) return v.error();
    a.items.push_back(std::move(*v));
  }
  return GgufValue::array(std::move(a));
}

Result<GgufValue> read_value(Cursor& c, GgufValueType t, const std::string& what, const std::string& name, int depth) {
  const char* w = what.c_str();
  switch (t) {
    case GgufValueType::UINT8: { auto v = c.read<uint8_t>(w); if (!v) return v.error(); return GgufValue::u8(*v); }
    case GgufValueType::INT8: { auto v = c.read<int8_t>(w); if (!v) return v.error(); return GgufValue::i8(*v); }
    case GgufValueType::UINT16: { auto v = c.read<uint16_t>(w); if (!v) return v.error(); return GgufValue::u16(*v); }
    case GgufValueType::INT16: { auto v = c.read<int16_t>(w); if (!v) return v.error(); return GgufValue::i16(*v); }
    case GgufValueType::UINT32: { auto v = c.read<uint32_t>(w); if (!v) return v.error(); return GgufValue::u32(*v); }
    case GgufValueType::INT32: { auto v = c.read<int32_t>(w); if (!v) return v.error(); return GgufValue::i32(*v); }
    case GgufValueType::UINT64: { auto v = c.read<uint64_t>(w); if (!v) return v.error(); return GgufValue::u64(*v); }
    case GgufValueType::INT64: { auto v = c.read<int64_t>(w); if (!v) return v.error(); return GgufValue::i64(*v); }
    case GgufValueType::FLOAT32: { auto v = c.read<float>(w); if (!v) return v.error(); return GgufValue::f32(*v); }
    case GgufValueType::FLOAT64: { auto v = c.read<double>(w); if (!v) return v.error(); return GgufValue::f64(*v); }
    case GgufValueType::BOOL: {
      auto v = c.read<uint8_t>(w);
      if (!v) return v.error();
      if (*v > 1) return make_error(name, ": ", what, ": bool value ", int{*v}, " (expected 0 or 1)");
      return GgufValue::boolean(*v != 0);
    }
    case GgufValueType::STRING: {
      auto s = c.read_string(what);
      if (!s) return s.error();
      return GgufValue::string(std::move(*s));
    }
    case GgufValueType::ARRAY: return read_array(c, what, name, depth);
  }
  return make_error(name, ": ", what, ": unknown value type ", static_cast<uint32_t>(t));
}

std::string type_desc(const GgufValue& v) {
  std::string s(gguf_value_type_name(v.type()));
  if (const auto* a = v.as_array()) s += std::string(" of ") + std::string(gguf_value_type_name(a->elem_type));
  return s;
}

}  // namespace

uint64_t GgufTensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::string GgufTensorInfo::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m) return m.error();
  auto f = parse((*m)->bytes(), path);
  if (!f) return f.error();
  f->mapping_ = std::move(*m);
  return f;
}

Result<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes, std::string name) {
  GgufFile f;
  f.path_ = std::move(name);
  f.file_size_ = bytes.size();
  const std::string& nm = f.path_;
  Cursor c(bytes, nm);

  auto magic = c.read<uint32_t>("magic");
  if (!magic) return make_error(nm, ": not a GGUF file: ", bytes.size(), " bytes, too short for the header");
  if (*magic != kGgufMagic) {
    char found[5] = {0, 0, 0, 0, 0};
    std::memcpy(found, bytes.data(), 4);
    for (char& ch : found)
      if (ch != 0 && (ch < 0x20 || ch > 0x7e)) ch = '?';
    return make_error(nm, ": not a GGUF file: magic is \"", found, "\", expected \"GGUF\"");
  }
  auto version = c.read<uint32_t>("version");
  if (!version) return version.error();
  if (*version == 1) return make_error(nm, ": GGUF version 1 is not supported (expected 2 or 3)");
  if ((*version & 0xffff) == 0 && *version != 0)
    return make_error(nm, ": GGUF version field ", *version, " looks byte-swapped: big-endian files are not supported");
  if (*version != 2 && *version != 3)
    return make_error(nm, ": unsupported GGUF version ", *version, " (expected 2 or 3)");
  f.version_ = *version;

  auto n_tensors = c.read<uint64_t>("tensor count");
  if (!n_tensors) return n_tensors.error();
  auto n_kv = c.read<uint64_t>("metadata count");
  if (!n_kv) return n_kv.error();
  if (*n_tensors > c.left() / kMinTensorInfoBytes)
    return make_error(nm, ": tensor count ", *n_tensors, " cannot fit in the ", c.left(),
                      " bytes left (each tensor info needs at least ", kMinTensorInfoBytes, ")");
  if (*n_kv > c.left() / kMinKvBytes)
    return make_error(nm, ": metadata count ", *n_kv, " cannot fit in the ", c.left(),
                      " bytes left (each entry needs at least ", kMinKvBytes, ")");

  f.kv_.reserve(static_cast<size_t>(*n_kv));
  for (uint64_t i = 0; i < *n_kv; ++i) {
    std::ostringstream what;
    what << "metadata key #" << i;
    auto key = c.read_string(what.str());
    if (!key) return key.error();
    std::string kdesc = "metadata '" + *key + "'";
    if (f.kv_index_.count(*key)) return make_error(nm, ": ", kdesc, " appears twice (keys must be unique)");
    auto t = c.read<uint32_t>("metadata value type");
    if (!t) return t.error();
    if (!gguf_value_type_valid(*t))
      return make_error(nm, ": ", kdesc, ": unknown value type ", *t, " (expected 0..12)");
    auto v = read_value(c, static_cast<GgufValueType>(*t), kdesc, nm, 0);
    if (!v) return v.error();
    f.kv_index_.emplace(*key, f.kv_.size());
    f.kv_.emplace_back(std::move(*key), std::move(*v));
  }

  if (const GgufValue* al = f.find("general.alignment")) {
    auto a = al->as_uint();
    if (al->type() != GgufValueType::UINT32 || !a || *a == 0 || (*a & (*a - 1)) != 0)
      return make_error(nm, ": metadata 'general.alignment' must be a u32 power of two, found ", type_desc(*al), " ",
                        al->to_string());
    f.alignment_ = static_cast<uint32_t>(*a);
  }

  f.tensors_.reserve(static_cast<size_t>(*n_tensors));
  for (uint64_t i = 0; i < *n_tensors; ++i) {
    std::ostringstream what;
    what << "tensor #" << i << " name";
    GgufTensorInfo ti;
    auto tname = c.read_string(what.str());
    if (!tname) return tname.error();
    ti.name = std::move(*tname);
    std::string tdesc = "tensor '" + ti.name + "' (#" + std::to_string(i) + ")";
    if (f.tensor_index_.count(ti.name)) return make_error(nm, ": ", tdesc, ": name appears twice (must be unique)");
    auto nd = c.read<uint32_t>("tensor dimension count");
    if (!nd) return nd.error();
    if (*nd == 0 || *nd > static_cast<uint32_t>(kGgufMaxDims))
      return make_error(nm, ": ", tdesc, ": ", *nd, " dimensions (expected 1..", kGgufMaxDims, ")");
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < *nd; ++d) {
      auto dim = c.read<uint64_t>("tensor dimension");
      if (!dim) return dim.error();
      if (*dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return make_error(nm, ": ", tdesc, ": dimension ", d, " is ", *dim, " (expected below 2^63)");
      if (*dim != 0 && n_el > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / *dim)
        return make_error(nm, ": ", tdesc, ": element count overflows (dimension ", d, " = ", *dim, ")");
      n_el *= *dim;
      ti.shape.push_back(*dim);
    }
    auto type = c.read<uint32_t>("tensor type");
    if (!type) return type.error();
    auto traits = ggml_type_traits(*type);
    if (!traits) return make_error(nm, ": ", tdesc, ": unknown tensor type ", *type);
    ti.type = traits->type;
    if (ti.shape[0] % traits->block_size != 0)
      return make_error(nm, ": ", tdesc, ": row length ", ti.shape[0], " is not a multiple of the ", traits->name,
                        " block size ", traits->block_size);
    // Bytes: blocks per row times block size, times the other dimensions; n_el
    // bounds every factor, so checking against the file size before multiplying
    // keeps this from overflowing.
    uint64_t row_bytes = ti.shape[0] / traits->block_size * traits->type_size;
    uint64_t rows = ti.shape[0] == 0 ? 0 : n_el / ti.shape[0];
    if (rows != 0 && row_bytes > bytes.size() / rows)
      return make_error(nm, ": ", tdesc, ": ", traits->name, " data of shape ", ti.shape_string(),
                        " is larger than the whole file (", bytes.size(), " bytes)");
    ti.n_bytes = row_bytes * rows;
    auto off = c.read<uint64_t>("tensor data offset");
    if (!off) return off.error();
    ti.offset = *off;
    f.tensor_index_.emplace(ti.name, f.tensors_.size());
    f.tensors_.push_back(std::move(ti));
  }

  uint64_t a = f.alignment_;
  uint64_t header_end = c.pos();
  f.data_offset_ = (header_end + a - 1) / a * a;
  if (f.data_offset_ > bytes.size() && !f.tensors_.empty())
    return make_error(nm, ": truncated: the tensor data section should start at offset ", f.data_offset_, " but the file has ",
                      bytes.size(), " bytes");
  uint64_t data_size = bytes.size() > f.data_offset_ ? bytes.size() - f.data_offset_ : 0;

  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(f.tensors_.size());
  for (auto& ti : f.tensors_) {
    std::string tdesc = "tensor '" + ti.name + "'";
    if (ti.offset % a != 0)
      return make_error(nm, ": ", tdesc, ": data offset ", ti.offset, " is not aligned to ", a);
    if (ti.offset > data_size || ti.n_bytes > data_size - ti.offset)
      return make_error(nm, ": ", tdesc, ": data [", ti.offset, ", ", ti.offset + ti.n_bytes,
                        ") lies outside the data section of ", data_size, " bytes (file truncated?)");
    ti.data = bytes.data() + f.data_offset_ + ti.offset;
    by_offset.push_back(&ti);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* x, const GgufTensorInfo* y) { return x->offset < y->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const auto* p = by_offset[i - 1];
    const auto* q = by_offset[i];
    if (p->offset + p->n_bytes > q->offset)
      return make_error(nm, ": tensor '", q->name, "' data at offset ", q->offset, " overlaps tensor '", p->name,
                        "' ending at ", p->offset + p->n_bytes);
  }
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::string> GgufFile::get_string(std::string_view key, std::string fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (const auto* s = v->as_string()) return *s;
  return make_error(path_, ": metadata '", key, "' should be a string, found ", type_desc(*v));
}

Result<int64_t> GgufFile::get_int(std::string_view key, int64_t fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (auto i = v->as_int()) return *i;
  return make_error(path_, ": metadata '", key, "' should be an integer, found ", type_desc(*v));
}

Result<double> GgufFile::get_float(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (auto d = v->as_float()) return *d;
  return make_error(path_, ": metadata '", key, "' should be a number, found ", type_desc(*v));
}

Result<bool> GgufFile::get_bool(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (auto b = v->as_bool()) return *b;
  return make_error(path_, ": metadata '", key, "' should be a bool, found ", type_desc(*v));
}

Result<const GgufArray*> GgufFile::get_array(std::string_view key, GgufValueType elem) const {
  const GgufValue* v = find(key);
  if (!v) return static_cast<const GgufArray*>(nullptr);
  const GgufArray* a = v->as_array();
  if (!a || (elem != GgufValueType::ARRAY && a->elem_type != elem))
    return make_error(path_, ": metadata '", key, "' should be an array of ", gguf_value_type_name(elem), ", found ",
                      type_desc(*v));
  return a;
}

Status GgufFile::require(std::string_view key) const {
  if (!find(key)) return make_error(path_, ": required metadata '", key, "' is missing");
  return ok_status();
}

void GgufFile::release(const uint8_t* p, size_t n) const {
  if (mapping_) mapping_->release(p, n);
}

}  // namespace tandem
