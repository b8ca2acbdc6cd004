// A GGUF metadata value: one of the format's scalar types, a string, or an array
// (of scalars, strings or nested arrays). Keeps the on-disk type so that what the
// writer writes reads back field for field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tandem {

enum class GgufValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

std::string_view gguf_value_type_name(GgufValueType t);
bool gguf_value_type_valid(uint32_t t);
// Bytes of one scalar on disk; 0 for STRING and ARRAY.
size_t gguf_scalar_size(GgufValueType t);

class GgufValue;

struct GgufArray {
  GgufValueType elem_type = GgufValueType::UINT8;
  std::vector<GgufValue> items;
};

class GgufValue {
 public:
  GgufValue() = default;
  // Factories name the on-disk type explicitly.
  static GgufValue u8(uint8_t v) { return {GgufValueType::UINT8, uint64_t{v}}; }
  static GgufValue i8(int8_t v) { return {GgufValueType::INT8, int64_t{v}}; }
  static GgufValue u16(uint16_t v) { return {GgufValueType::UINT16, uint64_t{v}}; }
  static GgufValue i16(int16_t v) { return {GgufValueType::INT16, int64_t{v}}; }
  static GgufValue u32(uint32_t v) { return {GgufValueType::UINT32, uint64_t{v}}; }
  static GgufValue i32(int32_t v) { return {GgufValueType::INT32, int64_t{v}}; }
  static GgufValue u64(uint64_t v) { return {GgufValueType::UINT64, v}; }
  static GgufValue i64(int64_t v) { return {GgufValueType::INT64, v}; }
  static GgufValue f32(float v) { return {GgufValueType::FLOAT32, double{v}}; }
  static GgufValue f64(double v) { return {GgufValueType::FLOAT64, v}; }
  static GgufValue boolean(bool v) { return {GgufValueType::BOOL, v}; }
  static GgufValue string(std::string v) { return {GgufValueType::STRING, std::move(v)}; }
  static GgufValue array(GgufArray a) { return {GgufValueType::ARRAY, std::move(a)}; }
  static GgufValue string_array(const std::vector<std::string>& v);
  static GgufValue f32_array(const std::vector<float>& v);
  static GgufValue i32_array(const std::vector<int32_t>& v);

  GgufValueType type() const { return type_; }
  bool is_integer() const;
  bool is_float() const { return type_ == GgufValueType::FLOAT32 || type_ == GgufValueType::FLOAT64; }

  // Typed views; nullopt/nullptr when the value is of another kind.
  std::optional<int64_t> as_int() const;    // any integer type (UINT64 above INT64_MAX: nullopt)
  std::optional<uint64_t> as_uint() const;  // any non-negative integer
  std::optional<double> as_float() const;   // float types, and integers
  std::optional<bool> as_bool() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v_); }
  const GgufArray* as_array() const { return std::get_if<GgufArray>(&v_); }

  // Human-readable rendering; arrays longer than max_items are abbreviated.
  std::string to_string(size_t max_items = 8) const;

  bool operator==(const GgufValue& o) const;

 private:
  using Storage = std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray>;
  GgufValue(GgufValueType t, Storage v) : type_(t), v_(std::move(v)) {}
  GgufValueType type_ = GgufValueType::UINT8;
  Storage v_ = uint64_t{0};
};

inline bool operator==(const GgufArray& a, const GgufArray& b) {
  return a.elem_type == b.elem_type && a.items == b.items;
}

}  // namespace tandem
