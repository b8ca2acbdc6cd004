#include "tandem/base/page_buffer.h"

#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(PageBuffer, StartsOnAHugePageZeroedAndWritable) {
  auto b = PageBuffer::allocate(5 * PageBuffer::kHugePage + 123);
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_NE(b->data(), nullptr);
  EXPECT_EQ(b->size(), 5 * PageBuffer::kHugePage + 123);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data()) % PageBuffer::kHugePage, 0u);
  size_t nonzero = 0;
  for (size_t i = 0; i < b->size(); ++i) nonzero += b->data()[i] != 0;
  EXPECT_EQ(nonzero, 0u);
  std::memset(b->data(), 0xab, b->size());
  EXPECT_EQ(b->data()[b->size() - 1], 0xab);
}

TEST(PageBuffer, HugePagesBackItWhereTheKernelOffersThem) {
  auto b = PageBuffer::allocate(8 * PageBuffer::kHugePage);
  ASSERT_TRUE(b.ok());
  std::memset(b->data(), 1, b->size());
  const size_t huge = b->huge_bytes();
  EXPECT_LE(huge, b->size());
  EXPECT_EQ(huge % PageBuffer::kHugePage, 0u);
  if (!transparent_huge_pages_available()) GTEST_SKIP() << "this kernel offers no transparent huge pages";
  // Without compaction on a fault, a fragmented machine may have no free huge page to give.
  std::ifstream defrag("/sys/kernel/mm/transparent_hugepage/defrag");
  std::string mode;
  std::getline(defrag, mode);
  if (mode.find("[always]") == std::string::npos && mode.find("[madvise]") == std::string::npos &&
      mode.find("[defer+madvise]") == std::string::npos)
    GTEST_SKIP() << "huge pages are not compacted on a fault here (defrag: " << mode << ")";
  EXPECT_GT(huge, 0u) << "no huge page backs 16 MiB advised for them";
}

TEST(PageBuffer, MovesAndEmpties) {
  auto b = PageBuffer::allocate(4096);
  ASSERT_TRUE(b.ok());
  b->data()[7] = 42;
  PageBuffer c = std::move(*b);
  EXPECT_EQ(b->data(), nullptr);
  EXPECT_EQ(b->size(), 0u);
  EXPECT_EQ(c.data()[7], 42);
  PageBuffer d;
  d = std::move(c);
  EXPECT_EQ(d.data()[7], 42);
  EXPECT_EQ(d.huge_bytes() % PageBuffer::kHugePage, 0u);
  auto e = PageBuffer::allocate(0);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->data(), nullptr);
  EXPECT_EQ(e->huge_bytes(), 0u);
}

TEST(PageBuffer, TooLargeIsAnError) {
  auto b = PageBuffer::allocate(size_t{1} << 62);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("cannot map"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace tandem
