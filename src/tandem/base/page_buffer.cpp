#include "tandem/base/page_buffer.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <utility>

namespace tandem {

Result<PageBuffer> PageBuffer::allocate(size_t n) {
  PageBuffer b;
  if (n == 0) return b;
  if (n > SIZE_MAX / 2) return make_error("cannot map ", n, " bytes of memory: too large");
  // Map one huge page more than asked, so that the data can start on a huge-page boundary.
  const size_t want = (n + kHugePage - 1) / kHugePage * kHugePage + kHugePage;
  void* p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return make_error("cannot map ", n, " bytes of memory: ", std::strerror(errno));
  b.map_ = static_cast<uint8_t*>(p);
  b.map_size_ = want;
  const auto at = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) / kHugePage * kHugePage;
  b.data_ = reinterpret_cast<uint8_t*>(at);
  b.size_ = n;
#ifdef MADV_HUGEPAGE
  // Advice only: without transparent huge pages the buffer keeps small pages.
  madvise(b.data_, (n + kHugePage - 1) / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
  return b;
}

PageBuffer::PageBuffer(PageBuffer&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)),
      map_size_(std::exchange(o.map_size_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& o) noexcept {
  if (this != &o) {
    free();
    map_ = std::exchange(o.map_, nullptr);
    map_size_ = std::exchange(o.map_size_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

PageBuffer::~PageBuffer() { free(); }

void PageBuffer::free() {
  if (map_ != nullptr) munmap(map_, map_size_);
  map_ = data_ = nullptr;
  map_size_ = size_ = 0;
}

size_t PageBuffer::huge_bytes() const {
  if (data_ == nullptr) return 0;
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool mine = false;
  size_t kb = 0;
  const auto lo = reinterpret_cast<uintptr_t>(map_), hi = lo + map_size_;
  while (std::getline(in, line)) {
    unsigned long a = 0, e = 0;
    char dash = 0;
    if (std::sscanf(line.c_str(), "%lx%c%lx", &a, &dash, &e) == 3 && dash == '-') {
      mine = a < hi && e > lo;  // a mapping line: the kernel may have split or merged ours
      continue;
    }
    size_t v = 0;
    if (mine && std::sscanf(line.c_str(), "AnonHugePages: %zu kB", &v) == 1) kb += v;
  }
  // The mapping's slack past the data may hold a huge page too: count only the data's pages.
  return std::min(kb << 10, (size_ + kHugePage - 1) / kHugePage * kHugePage);
}

bool transparent_huge_pages_available() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string s;
  std::getline(in, s);
  return s.find("[always]") != std::string::npos || s.find("[madvise]") != std::string::npos;
}

}  // namespace tandem
