#include "tandem/gguf/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tandem/gguf/gguf_file.h"

namespace tandem {
namespace {

template <class T>
void put(std::ostream& o, T v) {
  o.write(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_string(std::ostream& o, const std::string& s) {
  put<uint64_t>(o, s.size());
  o.write(s.data(), static_cast<std::streamsize>(s.size()));
}

void put_value(std::ostream& o, const GgufValue& v) {
  switch (v.type()) {
    case GgufValueType::UINT8: put<uint8_t>(o, static_cast<uint8_t>(*v.as_uint())); break;
    case GgufValueType::INT8: put<int8_t>(o, static_cast<int8_t>(*v.as_int())); break;
    case GgufValueType::UINT16: put<uint16_t>(o, static_cast<uint16_t>(*v.as_uint())); break;
    case GgufValueType::INT16: put<int16_t>(o, static_cast<int16_t>(*v.as_int())); break;
    case GgufValueType::UINT32: put<uint32_t>(o, static_cast<uint32_t>(*v.as_uint())); break;
    case GgufValueType::INT32: put<int32_t>(o, static_cast<int32_t>(*v.as_int())); break;
    case GgufValueType::UINT64: put<uint64_t>(o, *v.as_uint()); break;
    case GgufValueType::INT64: put<int64_t>(o, *v.as_int()); break;
    case GgufValueType::FLOAT32: put<float>(o, static_cast<float>(*v.as_float())); break;
    case GgufValueType::FLOAT64: put<double>(o, *v.as_float()); break;
    case GgufValueType::BOOL: put<uint8_t>(o, *v.as_bool() ? 1 : 0); break;
    case GgufValueType::STRING: put_string(o, *v.as_string()); break;
    case GgufValueType::ARRAY: {
      const GgufArray& a = *v.as_array();
      put<uint32_t>(o, static_cast<uint32_t>(a.elem_type));
      put<uint64_t>(o, a.items.size());
      for (const auto& it : a.items) put_value(o, it);
      break;
    }
  }
}

void pad_to(std::ostream& o, uint64_t pos, uint64_t align) {
  static constexpr char zeros[64] = {};
  uint64_t n = (align - pos % align) % align;
  while (n > 0) {
    uint64_t k = n < sizeof zeros ? n : sizeof zeros;
    o.write(zeros, static_cast<std::streamsize>(k));
    n -= k;
  }
}

uint64_t padded(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::copy_metadata(const GgufFile& f) {
  for (const auto& [k, v] : f.metadata()) set(k, v);
}

uint32_t GgufWriter::alignment() const {
  for (const auto& [k, v] : kv_) {
    if (k == "general.alignment") {
      auto a = v.as_uint();
      if (a && *a > 0 && (*a & (*a - 1)) == 0 && *a <= 1u << 20) return static_cast<uint32_t>(*a);
    }
  }
  return kGgufDefaultAlignment;
}

Result<uint64_t> GgufWriter::check_new(const std::string& name, GgmlType type,
                                       const std::vector<uint64_t>& shape) const {
  for (const auto& t : tensors_)
    if (t.name == name) return make_error("gguf writer: tensor '", name, "' added twice");
  if (shape.empty() || shape.size() > static_cast<size_t>(kGgufMaxDims))
    return make_error("gguf writer: tensor '", name, "': ", shape.size(), " dimensions (expected 1..", kGgufMaxDims, ")");
  GgmlTypeTraits tr = ggml_traits(type);
  if (shape[0] % tr.block_size != 0)
    return make_error("gguf writer: tensor '", name, "': row length ", shape[0], " is not a multiple of the ", tr.name,
                      " block size ", tr.block_size);
  uint64_t n = shape[0] / tr.block_size * tr.type_size;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

Status GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> shape,
                              std::span<const uint8_t> data) {
  auto n = check_new(name, type, shape);
  if (!n) return n.error();
  if (*n != data.size())
    return make_error("gguf writer: tensor '", name, "': ", ggml_traits(type).name, " data of this shape is ", *n,
                      " bytes, got ", data.size());
  tensors_.push_back({name, type, std::move(shape), *n, std::vector<uint8_t>(data.begin(), data.end()), {}});
  return ok_status();
}

Status GgufWriter::add_tensor_later(const std::string& name, GgmlType type, std::vector<uint64_t> shape,
                                    Producer produce) {
  auto n = check_new(name, type, shape);
  if (!n) return n.error();
  tensors_.push_back({name, type, std::move(shape), *n, {}, std::move(produce)});
  return ok_status();
}

Status GgufWriter::add_tensor_f32(const std::string& name, std::vector<uint64_t> shape, std::span<const float> data) {
  return add_tensor(name, GgmlType::F32, std::move(shape),
                    {reinterpret_cast<const uint8_t*>(data.data()), data.size() * sizeof(float)});
}

Status GgufWriter::write(std::ostream& out) const {
  const uint64_t align = alignment();
  std::ostringstream head;
  put<uint32_t>(head, kGgufMagic);
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, kv_.size());
  for (const auto& [k, v] : kv_) {
    put_string(head, k);
    put<uint32_t>(head, static_cast<uint32_t>(v.type()));
    put_value(head, v);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(head, t.name);
    put<uint32_t>(head, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t d : t.shape) put<uint64_t>(head, d);
    put<uint32_t>(head, static_cast<uint32_t>(t.type));
    put<uint64_t>(head, offset);
    offset += padded(t.n_bytes, align);
  }
  std::string h = head.str();
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  pad_to(out, h.size(), align);
  std::vector<uint8_t> produced;
  for (const auto& t : tensors_) {
    const std::vector<uint8_t>* data = &t.data;
    if (t.produce) {
      produced.clear();
      if (auto st = t.produce(produced); !st)
        return make_error("gguf writer: tensor '", t.name, "': ", st.error().message);
      if (produced.size() != t.n_bytes)
        return make_error("gguf writer: tensor '", t.name, "': produced ", produced.size(), " bytes, expected ",
                          t.n_bytes);
      data = &produced;
    }
    out.write(reinterpret_cast<const char*>(data->data()), static_cast<std::streamsize>(data->size()));
    pad_to(out, data->size(), align);
  }
  if (!out) return make_error("gguf writer: write failed");
  return ok_status();
}

Status GgufWriter::write_file(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(tmp, ": cannot create: ", std::strerror(errno));
    auto st = write(out);
    out.flush();
    if (!st || !out) {
      std::remove(tmp.c_str());
      return make_error(path, ": write failed", st ? "" : ": ", st ? "" : st.error().message);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    return make_error(path, ": cannot rename from ", tmp, ": ", std::strerror(e));
  }
  return ok_status();
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::ostringstream os;
  (void)write(os);
  std::string s = os.str();
  return {s.begin(), s.end()};
}

}  // namespace tandem
