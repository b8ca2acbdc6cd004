// MappedFile: the bytes of a file in place, and release(), which drops whole
// pages from the process (they count no more in its resident memory) while
// every byte still reads as before.
#include "tandem/base/mapped_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tandem {
namespace {

// Resident kB of the mapping that starts at `p` (/proc/self/smaps), -1 if not found.
long resident_kb(const uint8_t* p) {
  std::ifstream smaps("/proc/self/smaps");
  char start[32];
  std::snprintf(start, sizeof start, "%lx-", reinterpret_cast<unsigned long>(p));
  std::string line;
  bool in = false;
  while (std::getline(smaps, line)) {
    if (line.rfind(start, 0) == 0) in = true;
    if (in && line.rfind("Rss:", 0) == 0) return std::stol(line.substr(4));
  }
  return -1;
}

TEST(MappedFile, ReleaseDropsWholePagesAndKeepsTheBytes) {
  const long page = sysconf(_SC_PAGESIZE);
  const size_t n = static_cast<size_t>(page) * 16 + 123;
  std::vector<uint8_t> want(n);
  for (size_t i = 0; i < n; ++i) want[i] = static_cast<uint8_t>(i * 131 + 7);
  const std::string path = ::testing::TempDir() + "mapped_file_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(want.data()), static_cast<std::streamsize>(n));
  }
  auto f = MappedFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  const uint8_t* d = (*f)->data();
  ASSERT_EQ((*f)->size(), n);
  unsigned sum = 0;
  for (size_t i = 0; i < n; ++i) sum += d[i];  // touch every page
  EXPECT_GT(sum, 0u);
  const long before = resident_kb(d);
  ASSERT_GE(before, 16 * page / 1024) << "smaps lists the mapping";

  // From the middle of page 1 to the middle of page 14: pages 2..13 go.
  (*f)->release(d + page + page / 2, static_cast<size_t>(page) * 13);
  const long after = resident_kb(d);
  EXPECT_EQ(before - after, 12 * page / 1024);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(d[i], want[i]) << "byte " << i;

  // Outside the mapping, or less than a page: nothing happens.
  (*f)->release(d + n, 1);
  (*f)->release(d + 10, 100);
  EXPECT_EQ(resident_kb(d), (16 * page + page) / 1024);  // read back in above, all 17 pages
  std::remove(path.c_str());
}

}  // namespace
}  // namespace tandem
