// Private anonymous memory for data that is read in full on every token (model
// weights held in memory, packed tiles). It starts on a 2 MiB boundary and is
// advised for transparent huge pages, so that streaming it needs one TLB entry
// per 2 MiB instead of one per 4 KiB page: reading 100 MiB with 2 threads goes
// from about 29 to 37-42 GB/s on the machine tandem is developed on. Where the
// kernel gives no huge pages the memory works the same, with small pages.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tandem/base/result.h"

namespace tandem {

class PageBuffer {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;

  // n bytes, zeroed; n == 0 gives an empty buffer. Fails when the memory cannot be mapped.
  static Result<PageBuffer> allocate(size_t n);
  PageBuffer() = default;
  PageBuffer(PageBuffer&& o) noexcept;
  PageBuffer& operator=(PageBuffer&& o) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes of this buffer the kernel currently backs with huge pages (read from
  // /proc/self/smaps; 0 where that cannot be read). For reports and tests.
  size_t huge_bytes() const;

 private:
  void free();
  uint8_t* map_ = nullptr;  // the whole mapping (data_ rounded down, with the slack for alignment)
  size_t map_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Whether the kernel hands out transparent huge pages to memory advised for them
// (/sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise").
bool transparent_huge_pages_available();

}  // namespace tandem
