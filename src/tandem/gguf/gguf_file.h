// GGUF reader (format versions 2 and 3, little-endian). The whole header is
// validated before anything is used: every count, length and offset is checked
// against the file size, so a truncated or hostile file is an error naming the
// file, the field, what was expected and what was found. Tensor data is not
// copied: views point into the memory mapping, which the GgufFile keeps alive.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tandem/base/mapped_file.h"
#include "tandem/base/result.h"
#include "tandem/gguf/ggml_type.h"
#include "tandem/gguf/gguf_value.h"

namespace tandem {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> shape;  // ggml order: shape[0] is the contiguous (row) dimension
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;   // from the start of the data section
  uint64_t n_bytes = 0;  // derived from type and shape
  const uint8_t* data = nullptr;  // into the mapping

  uint64_t n_elements() const;
  std::span<const uint8_t> bytes() const { return {data, static_cast<size_t>(n_bytes)}; }
  std::string shape_string() const;  // "[128, 2000]"
};

class GgufFile {
 public:
  // Maps and validates a file.
  static Result<GgufFile> open(const std::string& path);
  // Validates bytes already in memory (they must outlive the GgufFile); `name`
  // appears in error messages. Used by the fuzzer and by tests.
  static Result<GgufFile> parse(std::span<const uint8_t> bytes, std::string name);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return file_size_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* tensor(std::string_view name) const;

  // Typed metadata lookups. Missing keys give the fallback; a key of the wrong
  // type is an error naming the key, the expected and the found type.
  Result<std::string> get_string(std::string_view key, std::string fallback = {}) const;
  Result<int64_t> get_int(std::string_view key, int64_t fallback) const;
  Result<double> get_float(std::string_view key, double fallback) const;
  Result<bool> get_bool(std::string_view key, bool fallback) const;
  // The array under key, or nullptr when absent; error when present but not an
  // array of `elem` (pass ARRAY to accept any element type).
  Result<const GgufArray*> get_array(std::string_view key, GgufValueType elem) const;
  // A required key is present: an error naming the key otherwise.
  Status require(std::string_view key) const;
  // Drops the whole pages of [p, p + n) (tensor bytes) from memory where the
  // file is mapped (MappedFile::release); the bytes read the same afterwards.
  void release(const uint8_t* p, size_t n) const;

 private:
  std::shared_ptr<const MappedFile> mapping_;
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  uint64_t file_size_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace tandem
