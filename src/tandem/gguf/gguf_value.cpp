#include "tandem/gguf/gguf_value.h"

#include <cstdio>
#include <limits>
#include <sstream>

namespace tandem {

std::string_view gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "u8";
    case GgufValueType::INT8: return "i8";
    case GgufValueType::UINT16: return "u16";
    case GgufValueType::INT16: return "i16";
    case GgufValueType::UINT32: return "u32";
    case GgufValueType::INT32: return "i32";
    case GgufValueType::FLOAT32: return "f32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "str";
    case GgufValueType::ARRAY: return "arr";
    case GgufValueType::UINT64: return "u64";
    case GgufValueType::INT64: return "i64";
    case GgufValueType::FLOAT64: return "f64";
  }
  return "?";
}

bool gguf_value_type_valid(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::FLOAT64); }

size_t gguf_scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16:
    case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64:
    case GgufValueType::INT64:
    case GgufValueType::FLOAT64: return 8;
    case GgufValueType::STRING:
    case GgufValueType::ARRAY: return 0;
  }
  return 0;
}

GgufValue GgufValue::string_array(const std::vector<std::string>& v) {
  GgufArray a{GgufValueType::STRING, {}};
  a.items.reserve(v.size());
  for (const auto& s : v) a.items.push_back(string(s));
  return array(std::move(a));
}

GgufValue GgufValue::f32_array(const std::vector<float>& v) {
  GgufArray a{GgufValueType::FLOAT32, {}};
  a.items.reserve(v.size());
  for (float x : v) a.items.push_back(f32(x));
  return array(std::move(a));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) {
  GgufArray a{GgufValueType::INT32, {}};
  a.items.reserve(v.size());
  for (int32_t x : v) a.items.push_back(i32(x));
  return array(std::move(a));
}

bool GgufValue::is_integer() const {
  switch (type_) {
    case GgufValueType::UINT8:
    case GgufValueType::INT8:
    case GgufValueType::UINT16:
    case GgufValueType::INT16:
    case GgufValueType::UINT32:
    case GgufValueType::INT32:
    case GgufValueType::UINT64:
    case GgufValueType::INT64: return true;
    default: return false;
  }
}

std::optional<int64_t> GgufValue::as_int() const {
  if (const auto* u = std::get_if<uint64_t>(&v_)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(*u);
  }
  if (const auto* i = std::get_if<int64_t>(&v_)) return *i;
  return std::nullopt;
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&v_)) return *u;
  if (const auto* i = std::get_if<int64_t>(&v_)) {
    if (*i < 0) return std::nullopt;
    return static_cast<uint64_t>(*i);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&v_)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&v_)) return *b;
  return std::nullopt;
}

namespace {
void quote(std::ostringstream& os, const std::string& s) {
  os << '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      os << '\\' << c;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      os << buf;
    } else {
      os << c;
    }
  }
  os << '"';
}
}  // namespace

std::string GgufValue::to_string(size_t max_items) const {
  std::ostringstream os;
  if (const auto* u = std::get_if<uint64_t>(&v_)) {
    os << *u;
  } else if (const auto* i = std::get_if<int64_t>(&v_)) {
    os << *i;
  } else if (const auto* d = std::get_if<double>(&v_)) {
    os.precision(type_ == GgufValueType::FLOAT32 ? 7 : 15);
    os << *d;
  } else if (const auto* b = std::get_if<bool>(&v_)) {
    os << (*b ? "true" : "false");
  } else if (const auto* s = std::get_if<std::string>(&v_)) {
    quote(os, *s);
  } else if (const auto* a = std::get_if<GgufArray>(&v_)) {
    os << "[";
    size_t n = a->items.size();
    size_t shown = n <= max_items ? n : max_items;
    for (size_t k = 0; k < shown; ++k) os << (k ? ", " : "") << a->items[k].to_string(max_items);
    if (shown < n) os << ", ... (" << n << " " << gguf_value_type_name(a->elem_type) << ")";
    os << "]";
  }
  return os.str();
}

bool GgufValue::operator==(const GgufValue& o) const { return type_ == o.type_ && v_ == o.v_; }

}  // namespace tandem
