// Read-only memory mapping of a whole file. Model weights are used in place from
// the mapping (no copy); the mapping lives as long as any holder of the
// shared_ptr, so tensor views stay valid while a model is alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tandem/base/result.h"

namespace tandem {

class MappedFile {
 public:
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }
  // Drops the pages that lie wholly inside [p, p + n) from this process's
  // memory (the bytes stay as they were: a later read maps them in again from
  // the file). For data kept elsewhere in another form, so that it does not
  // count twice. Ranges outside the mapping are ignored.
  void release(const uint8_t* p, size_t n) const;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Reads a whole file into a string (exact bytes). For small inputs: prompts, text files.
Result<std::string> read_file(const std::string& path);

}  // namespace tandem
