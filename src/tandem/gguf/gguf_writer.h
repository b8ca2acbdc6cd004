// GGUF writer (version 3, little-endian): metadata of every value type and
// tensors of any known type, each tensor's data aligned to general.alignment
// (default 32). Files are written to a temporary name and renamed into place, so
// a crash never leaves a half-written model under the final name.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/gguf/ggml_type.h"
#include "tandem/gguf/gguf_value.h"

namespace tandem {

class GgufFile;

class GgufWriter {
 public:
  // Sets a metadata key; an existing key keeps its position and takes the new value.
  void set(const std::string& key, GgufValue value);
  // Copies every metadata entry of another file (e.g. to rewrite or requantize it).
  void copy_metadata(const GgufFile& f);
  // Adds a tensor; `shape` in ggml order (shape[0] contiguous). The data size must
  // match type and shape. The data is copied.
  Status add_tensor(const std::string& name, GgmlType type, std::vector<uint64_t> shape,
                    std::span<const uint8_t> data);
  Status add_tensor_f32(const std::string& name, std::vector<uint64_t> shape, std::span<const float> data);
  // Adds a tensor whose data `produce` writes when the file is written, into a
  // buffer it must fill with exactly the bytes of type and shape: one tensor's
  // data in memory at a time, for files larger than memory would hold.
  using Producer = std::function<Status(std::vector<uint8_t>& out)>;
  Status add_tensor_later(const std::string& name, GgmlType type, std::vector<uint64_t> shape, Producer produce);

  size_t n_tensors() const { return tensors_.size(); }
  uint32_t alignment() const;

  Status write(std::ostream& out) const;
  Status write_file(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    uint64_t n_bytes = 0;
    std::vector<uint8_t> data;  // or
    Producer produce;
  };
  // Checks name and shape; the data size the type and shape take.
  Result<uint64_t> check_new(const std::string& name, GgmlType type, const std::vector<uint64_t>& shape) const;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace tandem
