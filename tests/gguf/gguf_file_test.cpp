// GGUF reader and writer: round trips of every value type, reading files from
// other writers (the fixtures), and one clear error for each kind of bad file.
#include "tandem/gguf/gguf_file.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include <sstream>

#include <gtest/gtest.h>

#include "tandem/gguf/gguf_writer.h"
#include "test_util.h"

namespace tandem {
namespace {

GgufWriter sample_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("t.u8", GgufValue::u8(200));
  w.set("t.i8", GgufValue::i8(-100));
  w.set("t.u16", GgufValue::u16(60000));
  w.set("t.i16", GgufValue::i16(-30000));
  w.set("t.u32", GgufValue::u32(4000000000u));
  w.set("t.i32", GgufValue::i32(-2000000000));
  w.set("t.u64", GgufValue::u64(18000000000000000000ull));
  w.set("t.i64", GgufValue::i64(-9000000000000000000ll));
  w.set("t.f32", GgufValue::f32(3.25f));
  w.set("t.f64", GgufValue::f64(-1.0e300));
  w.set("t.bool", GgufValue::boolean(true));
  w.set("t.str", GgufValue::string(std::string("with\0nul and \xe2\x96\x81", 16)));
  w.set("t.strs", GgufValue::string_array({"a", "", "\xf0\x9f\xa6\x99"}));
  GgufArray inner1{GgufValueType::INT32, {GgufValue::i32(1), GgufValue::i32(2)}};
  GgufArray inner2{GgufValueType::INT32, {}};
  w.set("t.nested", GgufValue::array({GgufValueType::ARRAY, {GgufValue::array(inner1), GgufValue::array(inner2)}}));
  std::vector<float> a(64 * 3);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.5f;
  EXPECT_TRUE(w.add_tensor_f32("a", {64, 3}, a).ok());
  std::vector<uint8_t> q(34 * 2, 7);  // two Q8_0 blocks
  EXPECT_TRUE(w.add_tensor("b", GgmlType::Q8_0, {64}, q).ok());
  return w;
}

TEST(GgufFile, RoundTripsEveryValueType) {
  GgufWriter w = sample_writer();
  std::vector<uint8_t> bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes, "mem");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  ASSERT_EQ(f->metadata().size(), 15u);
  auto g = GgufFile::parse(bytes, "mem");
  // Each value, with its on-disk type, reads back equal to what was set.
  GgufWriter w2;
  w2.copy_metadata(*f);
  auto f2bytes = w2.to_bytes();
  auto f2 = GgufFile::parse(f2bytes, "mem2");
  ASSERT_TRUE(f2.ok());
  for (size_t i = 0; i < f->metadata().size(); ++i) {
    EXPECT_EQ(f->metadata()[i].first, f2->metadata()[i].first);
    EXPECT_TRUE(f->metadata()[i].second == f2->metadata()[i].second) << f->metadata()[i].first;
  }
  EXPECT_EQ(*f->find("t.u64")->as_uint(), 18000000000000000000ull);
  EXPECT_EQ(*f->find("t.i64")->as_int(), -9000000000000000000ll);
  EXPECT_EQ(f->find("t.u8")->type(), GgufValueType::UINT8);
  EXPECT_EQ(*f->find("t.f32")->as_float(), 3.25);
  EXPECT_EQ(f->find("t.str")->as_string()->size(), 16u);
  EXPECT_EQ(f->find("t.nested")->as_array()->items[0].as_array()->items[1].as_int(), 2);
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_FALSE(f->get_int("general.architecture", 0).ok());
  EXPECT_EQ(*f->get_int("missing", 42), 42);

  ASSERT_EQ(f->tensors().size(), 2u);
  const GgufTensorInfo* a = f->tensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<uint64_t>{64, 3}));
  EXPECT_EQ(a->n_bytes, 64u * 3 * 4);
  EXPECT_EQ(a->offset % 32, 0u);
  float x;
  std::memcpy(&x, a->data + 4 * 10, 4);
  EXPECT_EQ(x, 5.0f);
  const GgufTensorInfo* b = f->tensor("b");
  EXPECT_EQ(b->type, GgmlType::Q8_0);
  EXPECT_EQ(b->n_bytes, 68u);
  EXPECT_EQ(b->offset % 32, 0u);
  EXPECT_EQ((f->data_offset() + b->offset) % 32, 0u);
}

TEST(GgufFile, HonoursCustomAlignment) {
  GgufWriter w = sample_writer();
  w.set("general.alignment", GgufValue::u32(64));
  auto bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes, "mem");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->alignment(), 64u);
  for (const auto& t : f->tensors()) EXPECT_EQ((f->data_offset() + t.offset) % 64, 0u);
}

// Tensors whose data is produced when the file is written: the same file as
// with the data given up front, and a producer that fails or gives the wrong
// size fails the write.
TEST(GgufFile, WritesTensorsProducedLater) {
  std::vector<float> a(64 * 3);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.5f;
  GgufWriter now, later;
  now.set("general.architecture", GgufValue::string("llama"));
  later.set("general.architecture", GgufValue::string("llama"));
  ASSERT_TRUE(now.add_tensor_f32("a", {64, 3}, a).ok());
  ASSERT_TRUE(now.add_tensor_f32("b", {5}, std::vector<float>(5, 2.0f)).ok());
  int calls = 0;
  ASSERT_TRUE(later
                  .add_tensor_later("a", GgmlType::F32, {64, 3},
                                    [&](std::vector<uint8_t>& o) {
                                      ++calls;
                                      const auto* p = reinterpret_cast<const uint8_t*>(a.data());
                                      o.assign(p, p + a.size() * sizeof(float));
                                      return ok_status();
                                    })
                  .ok());
  ASSERT_TRUE(later.add_tensor_f32("b", {5}, std::vector<float>(5, 2.0f)).ok());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(later.to_bytes(), now.to_bytes());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(later.add_tensor_later("a", GgmlType::F32, {4}, nullptr).ok());  // the name is taken

  GgufWriter short_data;
  ASSERT_TRUE(short_data
                  .add_tensor_later("x", GgmlType::F32, {8},
                                    [](std::vector<uint8_t>& o) {
                                      o.assign(16, 0);
                                      return ok_status();
                                    })
                  .ok());
  std::ostringstream os;
  auto st = short_data.write(os);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("tensor 'x': produced 16 bytes, expected 32"), std::string::npos)
      << st.error().message;
  GgufWriter failing;
  ASSERT_TRUE(failing
                  .add_tensor_later("y", GgmlType::F32, {8},
                                    [](std::vector<uint8_t>&) { return Status(make_error("disk on fire")); })
                  .ok());
  std::ostringstream os2;
  st = failing.write(os2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("tensor 'y': disk on fire"), std::string::npos) << st.error().message;
}

TEST(GgufFile, WritesAndMapsAFile) {
  auto path = std::filesystem::temp_directory_path() / "tandem_gguf_test.gguf";
  ASSERT_TRUE(sample_writer().write_file(path.string()).ok());
  auto f = GgufFile::open(path.string());
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tensors().size(), 2u);
  std::filesystem::remove(path);
}

TEST(GgufFile, ReadsFixturesFromOtherWriters) {
  TANDEM_REQUIRE_FIXTURES("models");
  auto f = GgufFile::open(testing::shared_dir() + "/fixtures/models/llama-gqa-spm-q4_k_m.gguf");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_EQ(*f->get_int("llama.embedding_length", 0), 256);
  const GgufTensorInfo* out = f->tensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->type, GgmlType::Q6_K);
  EXPECT_EQ(out->shape, (std::vector<uint64_t>{256, 2000}));
  auto toks = f->get_array("tokenizer.ggml.tokens", GgufValueType::STRING);
  ASSERT_TRUE(toks.ok());
  EXPECT_EQ((*toks)->items.size(), 2000u);

  // Rewriting a fixture tensor for tensor gives a file that reads back equal.
  GgufWriter w;
  w.copy_metadata(*f);
  for (const auto& t : f->tensors()) ASSERT_TRUE(w.add_tensor(t.name, t.type, t.shape, t.bytes()).ok());
  auto bytes = w.to_bytes();
  auto g = GgufFile::parse(bytes, "rewritten");
  ASSERT_TRUE(g.ok()) << g.error().message;
  ASSERT_EQ(g->tensors().size(), f->tensors().size());
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const auto& a = f->tensors()[i];
    const auto& b = g->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.shape, b.shape);
    EXPECT_EQ(a.type, b.type);
    ASSERT_EQ(a.n_bytes, b.n_bytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.n_bytes), 0);
  }
}

TEST(GgufFile, ReadsEveryTokenizerFixture) {
  TANDEM_REQUIRE_FIXTURES("tokenizer");
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::shared_dir() + "/fixtures/tokenizer")) {
    if (e.path().extension() != ".gguf") continue;
    auto f = GgufFile::open(e.path().string());
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_TRUE(f->find("tokenizer.ggml.model") != nullptr) << e.path();
    ++n;
  }
  EXPECT_EQ(n, 9);
}

// ---- bad files: each one a clear error, never a crash ----

std::string parse_error(const std::vector<uint8_t>& bytes) {
  auto f = GgufFile::parse(bytes, "bad.gguf");
  return f.ok() ? std::string("(parsed)") : f.error().message;
}

template <class T>
void poke(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

// Byte offset of the first tensor info in a minimal one-tensor, no-metadata file.
GgufWriter one_tensor() {
  GgufWriter w;
  std::vector<float> a(32, 1.0f);
  EXPECT_TRUE(w.add_tensor_f32("w", {32}, a).ok());
  return w;
}
// Layout of one_tensor(): header 24 bytes; name len 8 + "w" 1; n_dims 4 at 33; dim 8 at 37;
// type 4 at 45; offset 8 at 49.
constexpr size_t kNDims = 33, kDim0 = 37, kType = 45, kOffset = 49;

TEST(GgufFile, RejectsBadMagicAndVersion) {
  auto b = one_tensor().to_bytes();
  auto c = b;
  c[0] = 'X';
  EXPECT_NE(parse_error(c).find("magic is \"XGUF\", expected \"GGUF\""), std::string::npos) << parse_error(c);
  c = b;
  poke<uint32_t>(c, 4, 1);
  EXPECT_NE(parse_error(c).find("version 1 is not supported"), std::string::npos);
  poke<uint32_t>(c, 4, 7);
  EXPECT_NE(parse_error(c).find("unsupported GGUF version 7"), std::string::npos);
  poke<uint32_t>(c, 4, 3u << 24);
  EXPECT_NE(parse_error(c).find("big-endian"), std::string::npos);
  EXPECT_NE(parse_error({'G', 'G'}).find("too short"), std::string::npos);
}

TEST(GgufFile, RejectsTruncationAtEveryLength) {
  GgufWriter w = sample_writer();
  auto b = w.to_bytes();
  // Every cut before the end of the last tensor's data fails (only trailing padding may go).
  auto whole = GgufFile::parse(b, "whole");
  ASSERT_TRUE(whole.ok());
  const auto& last = whole->tensors().back();
  size_t end = whole->data_offset() + last.offset + last.n_bytes;
  for (size_t n = 0; n < end; ++n) {
    std::vector<uint8_t> c(b.begin(), b.begin() + static_cast<long>(n));
    auto f = GgufFile::parse(c, "cut.gguf");
    EXPECT_FALSE(f.ok()) << "truncated to " << n << " bytes parsed";
    if (!f.ok()) {
      EXPECT_EQ(f.error().message.rfind("cut.gguf: ", 0), 0u);
    }
  }
}

TEST(GgufFile, RejectsHugeCountsAndLengths) {
  auto b = one_tensor().to_bytes();
  auto c = b;
  poke<uint64_t>(c, 8, 1ull << 60);
  EXPECT_NE(parse_error(c).find("tensor count 1152921504606846976 cannot fit"), std::string::npos) << parse_error(c);
  c = b;
  poke<uint64_t>(c, 16, 1ull << 40);
  EXPECT_NE(parse_error(c).find("metadata count"), std::string::npos);
  c = b;
  poke<uint64_t>(c, 24, 1ull << 50);  // tensor name length
  EXPECT_NE(parse_error(c).find("string length"), std::string::npos) << parse_error(c);
}

TEST(GgufFile, RejectsBadTensorInfo) {
  auto b = one_tensor().to_bytes();
  auto c = b;
  poke<uint32_t>(c, kType, 5);  // removed Q4_2
  EXPECT_NE(parse_error(c).find("tensor 'w' (#0): unknown tensor type 5"), std::string::npos) << parse_error(c);
  c = b;
  poke<uint32_t>(c, kNDims, 9);
  EXPECT_NE(parse_error(c).find("9 dimensions (expected 1..4)"), std::string::npos) << parse_error(c);
  c = b;
  poke<uint32_t>(c, kType, static_cast<uint32_t>(GgmlType::Q8_0));
  poke<uint64_t>(c, kDim0, 33);
  EXPECT_NE(parse_error(c).find("not a multiple of the Q8_0 block size 32"), std::string::npos) << parse_error(c);
  c = b;
  poke<uint64_t>(c, kOffset, 4);
  EXPECT_NE(parse_error(c).find("offset 4 is not aligned to 32"), std::string::npos) << parse_error(c);
  c = b;
  poke<uint64_t>(c, kOffset, 64);
  EXPECT_NE(parse_error(c).find("outside the data section"), std::string::npos) << parse_error(c);
  c = b;
  poke<uint64_t>(c, kDim0, 1ull << 40);
  EXPECT_NE(parse_error(c).find("larger than the whole file"), std::string::npos) << parse_error(c);
}

TEST(GgufFile, RejectsOverflowingShapes) {
  GgufWriter w;
  std::vector<float> a(32 * 2, 1.0f);
  ASSERT_TRUE(w.add_tensor_f32("w", {32, 2}, a).ok());
  auto b = w.to_bytes();
  // dims at 37 and 45; make both 2^62.
  poke<uint64_t>(b, 37, 1ull << 62);
  poke<uint64_t>(b, 45, 1ull << 62);
  EXPECT_NE(parse_error(b).find("element count overflows"), std::string::npos) << parse_error(b);
}

TEST(GgufFile, RejectsDuplicatesAndBadAlignment) {
  GgufWriter w;
  std::vector<float> a(32, 1.0f);
  ASSERT_TRUE(w.add_tensor_f32("w", {32}, a).ok());
  EXPECT_FALSE(w.add_tensor_f32("w", {32}, a).ok());
  ASSERT_TRUE(w.add_tensor_f32("v", {32}, a).ok());
  auto b = w.to_bytes();
  // Rename the second tensor "v" to "w": names are 1 byte at 32 and, after the first
  // info (33..56), at 65.
  ASSERT_EQ(b[65], 'v');
  b[65] = 'w';
  EXPECT_NE(parse_error(b).find("name appears twice"), std::string::npos) << parse_error(b);

  GgufWriter k;
  k.set("general.alignment", GgufValue::u32(48));
  EXPECT_NE(parse_error(k.to_bytes()).find("power of two"), std::string::npos);
  GgufWriter k2;
  k2.set("a", GgufValue::u8(1));
  k2.set("b", GgufValue::u8(2));
  auto kb = k2.to_bytes();
  // second key "b" at 24 + 8+1+4+1 + 8 = 46
  ASSERT_EQ(kb[46], 'b');
  kb[46] = 'a';
  EXPECT_NE(parse_error(kb).find("metadata 'a' appears twice"), std::string::npos) << parse_error(kb);
}

TEST(GgufFile, RejectsOverlappingTensors) {
  GgufWriter w;
  std::vector<float> a(32, 1.0f);
  ASSERT_TRUE(w.add_tensor_f32("w", {32}, a).ok());
  ASSERT_TRUE(w.add_tensor_f32("v", {32}, a).ok());
  auto b = w.to_bytes();
  poke<uint64_t>(b, 66 + 4 + 8 + 4, 96);  // v's offset inside w? w is 128 bytes at 0
  poke<uint64_t>(b, 66 + 4 + 8 + 4, 64);
  EXPECT_NE(parse_error(b).find("overlaps"), std::string::npos) << parse_error(b);
}

TEST(GgufFile, RejectsBadValues) {
  GgufWriter w;
  w.set("flag", GgufValue::boolean(true));
  auto b = w.to_bytes();
  ASSERT_EQ(b[40], 1);  // 24-byte header, key length 8, "flag", type 4, then the value
  b[40] = 2;
  EXPECT_NE(parse_error(b).find("bool value 2"), std::string::npos) << parse_error(b);
  poke<uint32_t>(b, 24 + 8 + 4, 13);  // the value type
  EXPECT_NE(parse_error(b).find("unknown value type 13"), std::string::npos) << parse_error(b);
}

TEST(GgufFile, OpenNamesMissingFile) {
  auto f = GgufFile::open("/nonexistent/x.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("/nonexistent/x.gguf: cannot open"), std::string::npos);
}

}  // namespace
}  // namespace tandem
