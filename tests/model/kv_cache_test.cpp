#include "tandem/model/kv_cache.h"

#include <utility>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(KvCache, EveryLayerHasItsOwnKeysAndValues) {
  const int64_t L = 3, C = 17, E = 8;
  KvCache kv(L, C, E);
  const int64_t C_blocks = (C + kKeyBlock - 1) / kKeyBlock * kKeyBlock;  // whole key blocks
  EXPECT_EQ(kv.bytes(), static_cast<size_t>(2 * L * C_blocks * E) * sizeof(float));
  EXPECT_EQ(kv.key_block_stride(), E * kKeyBlock);
  EXPECT_EQ(KvCache::key_index(17, 3, E), 1 * E * kKeyBlock + 3 * kKeyBlock + 1);
  for (int64_t l = 0; l < L; ++l)
    for (int64_t i = 0; i < C * E; ++i) {
      EXPECT_EQ(kv.keys(l)[i], 0.0f);  // a fresh cache reads zero
      kv.keys(l)[i] = static_cast<float>(l * 1000 + i);
      kv.values(l)[i] = static_cast<float>(-(l * 1000 + i));
    }
  KvCache moved = std::move(kv);
  const KvCache& c = moved;
  for (int64_t l = 0; l < L; ++l)
    for (int64_t i = 0; i < C * E; ++i) {
      ASSERT_EQ(c.keys(l)[i], static_cast<float>(l * 1000 + i));
      ASSERT_EQ(c.values(l)[i], static_cast<float>(-(l * 1000 + i)));
    }
}

TEST(KvCache, HalfElementsTakeHalfTheBytes) {
  KvCache f32(2, 16, 8), f16(2, 16, 8, true);
  EXPECT_FALSE(f32.f16());
  EXPECT_TRUE(f16.f16());
  EXPECT_EQ(f16.bytes() * 2, f32.bytes());
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t i = 0; i < 16 * 8; ++i) {
      f16.keys16(l)[i] = static_cast<uint16_t>(l * 1000 + i);
      f16.values16(l)[i] = static_cast<uint16_t>(30000 + l * 1000 + i);
    }
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t i = 0; i < 16 * 8; ++i) {
      ASSERT_EQ(f16.keys16(l)[i], static_cast<uint16_t>(l * 1000 + i));
      ASSERT_EQ(f16.values16(l)[i], static_cast<uint16_t>(30000 + l * 1000 + i));
    }
}

TEST(KvCache, TruncatesOnlyBackwards) {
  KvCache kv(1, 8, 4);
  kv.advance(5);
  EXPECT_EQ(kv.n_past(), 5);
  EXPECT_TRUE(kv.truncate(2).ok());
  EXPECT_EQ(kv.n_past(), 2);
  auto st = kv.truncate(3);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot truncate to position 3"), std::string::npos) << st.error().message;
  EXPECT_FALSE(kv.truncate(-1).ok());
}

}  // namespace
}  // namespace tandem
