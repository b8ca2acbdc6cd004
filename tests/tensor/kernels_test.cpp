// Every kernel path this CPU can run (Scalar, and AVX2 and AVX-512 each forced
// on its own) against the scalar reference: SIMD weight decoding and activation
// quantization byte-equal to the scalar packers, matmuls within float rounding
// of the reference dots, and each token's outputs bit-identical whatever the
// batch size and row split.
#include "tandem/tensor/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/tensor/affine.h"
#include "tandem/tensor/float16.h"
#include "tandem/tensor/kernels_impl.h"
#include "tandem/tensor/matmul.h"
#include "tandem/tensor/quants.h"
#include "tandem/tensor/tile.h"

namespace tandem {
namespace {

const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                              GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                              GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
const GgmlType kQuantTypes[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

bool cpu_has(Isa isa) { return CpuFeatures::detect().best_isa() >= isa; }

std::vector<float> gaussian(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

// A weight matrix: half the rows from the reference quantizer, half random bytes
// (every code pattern, negative Q6_K scales, Q8_0's -128) with finite scales.
std::vector<uint8_t> make_weights(GgmlType t, int64_t n_out, int64_t n_in, uint32_t seed) {
  const size_t rb = row_bytes(t, n_in);
  std::vector<uint8_t> w(rb * n_out);
  std::mt19937 rng(seed);
  for (int64_t r = 0; r < n_out; ++r) {
    uint8_t* row = w.data() + r * rb;
    if (r % 2 == 0 || !uses_q8a_activations(t)) {
      const auto x = gaussian(static_cast<size_t>(n_in), seed * 1000 + static_cast<uint32_t>(r));
      quantize_row(t, x.data(), row, n_in);
      continue;
    }
    for (size_t i = 0; i < rb; ++i) row[i] = static_cast<uint8_t>(rng());
    std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
    auto set_half = [&](size_t off) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(row + off, &h, 2);
    };
    const GgmlTypeTraits tr = ggml_traits(t);
    for (size_t b = 0; b < rb / tr.type_size; ++b) {
      const size_t base = b * tr.type_size;
      switch (t) {
        case GgmlType::Q4_1:
        case GgmlType::Q5_1:
        case GgmlType::Q4_K:
        case GgmlType::Q5_K: set_half(base), set_half(base + 2); break;
        case GgmlType::Q6_K: set_half(base + 208); break;
        default: set_half(base);
      }
    }
  }
  return w;
}

std::string label(GgmlType t, Isa isa) {
  return std::string(ggml_type_name(t)) + " on " + std::string(isa_name(isa));
}

class KernelPath : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu_has(GetParam())) GTEST_SKIP() << "this CPU has no " << isa_name(GetParam()) << " path";
    k_ = kernels_for_isa(GetParam());
    ASSERT_EQ(k_.isa, GetParam());
  }
  Kernels k_;
};

// y (n_tokens, n_out) by the kernels.
std::vector<float> run_matmul(const Kernels& k, const WeightView& w, const std::vector<float>& x, int64_t n_tokens) {
  std::vector<float> y(static_cast<size_t>(n_tokens * w.n_out), -1.0f);
  Activations acts;
  matmul(k, w, x.data(), n_tokens, y.data(), acts);
  return y;
}

TEST_P(KernelPath, MatmulMatchesReferenceDots) {
  for (GgmlType t : kAllTypes) {
    const bool k_quant = ggml_traits(t).block_size == 256;
    // Row lengths with a partial last group (352 = 2 groups + 3 blocks) and a
    // float tail (100 = 6 x 16 + 4); 13 rows leave a partial tile.
    for (int64_t n_in : {k_quant ? int64_t{512} : int64_t{352}, int64_t{k_quant ? 256 : 32},
                         int64_t{uses_q8a_activations(t) ? 96 : 100}}) {
      if (n_in % ggml_traits(t).block_size != 0) continue;
      const int64_t n_out = 13, n_tokens = 11;
      const auto wbytes = make_weights(t, n_out, n_in, 11);
      const WeightView w{t, wbytes.data(), n_in, n_out, row_bytes(t, n_in)};
      ASSERT_TRUE(check_weight(w).ok());
      const auto x = gaussian(static_cast<size_t>(n_in * n_tokens), 12, 2.0f);
      const auto y = run_matmul(k_, w, x, n_tokens);
      std::vector<BlockQ8A> a(static_cast<size_t>(n_in / 32 + 1));
      AffineGroup grp;
      for (int64_t tk = 0; tk < n_tokens; ++tk) {
        const float* xt = x.data() + tk * n_in;
        if (uses_q8a_activations(t)) quantize_row_q8a(xt, a.data(), n_in);
        for (int64_t r = 0; r < n_out; ++r) {
          const float want = vec_dot_row(t, n_in, w.row(r), xt, a.data());
          // Float rounding scale: the sum of |terms|, counting Q8_0 with the
          // +128 codes of the AVX-512 form (their offset term cancels).
          double mag = 0;
          if (uses_q8a_activations(t)) {
            const int bs = affine_block_size(t);
            for (int64_t g = 0; g < affine_groups(t, n_in); ++g) {
              decode_affine_group(t, w.row(r), n_in, g, false, grp);
              for (int b = 0; b < 4 && (g * 4 + b) * bs < n_in; ++b) {
                const BlockQ8A& ab = a[(g * 4 + b) * bs / 32];
                const int off = static_cast<int>(((g * 4 + b) * bs) % 32);
                for (int i = 0; i < bs; ++i)
                  mag += std::fabs(ab.d * grp.d[b] * grp.q[b * bs + i] * ab.qs[off + i]) +
                         std::fabs(ab.d * grp.m[b] * ab.qs[off + i]);
              }
            }
          } else {
            std::vector<float> wf(static_cast<size_t>(n_in));
            dequantize_row(t, w.row(r), wf.data(), n_in);
            for (int64_t i = 0; i < n_in; ++i) mag += std::fabs(double(wf[i]) * xt[i]);
          }
          EXPECT_NEAR(y[tk * n_out + r], want, 4e-6 * mag + 1e-30)
              << label(t, k_.isa) << " n_in=" << n_in << " token " << tk << " row " << r;
        }
      }
    }
  }
}

TEST_P(KernelPath, TokensAreBatchAndSplitInvariant) {
  // Speculative verification feeds several tokens at once and compares with one
  // at a time: each token's outputs must not depend on its batch or row range.
  // Rows of whole 128-element groups (the fused one-token kernels) and with a partial last group.
  for (GgmlType t : kAllTypes)
  for (int64_t n_in : {ggml_traits(t).block_size == 256 ? int64_t{512} : 352 - (uses_q8a_activations(t) ? 0 : 3),
                       ggml_traits(t).block_size == 256 ? int64_t{768} : int64_t{384}}) {
    SCOPED_TRACE("n_in " + std::to_string(n_in));
    const int64_t n_out = 22, n_tokens = 19;
    const auto wbytes = make_weights(t, n_out, n_in, 21);
    const WeightView w{t, wbytes.data(), n_in, n_out, row_bytes(t, n_in)};
    const auto x = gaussian(static_cast<size_t>(n_in * n_tokens), 22);
    const auto all = run_matmul(k_, w, x, n_tokens);
    std::vector<std::vector<float>> ones;
    for (int64_t tk = 0; tk < n_tokens; ++tk) {
      const std::vector<float> xt(x.begin() + tk * n_in, x.begin() + (tk + 1) * n_in);
      ones.push_back(run_matmul(k_, w, xt, 1));
      ASSERT_EQ(std::memcmp(ones.back().data(), all.data() + tk * n_out, n_out * sizeof(float)), 0)
          << label(t, k_.isa) << " token " << tk;
    }
    // Every batch size against one token at a time: the fused kernels of 2..8
    // tokens and the tile path's runs of 8 with each remainder.
    for (int64_t nb = 2; nb < n_tokens; ++nb) {
      const std::vector<float> xb(x.begin(), x.begin() + nb * n_in);
      const auto batch = run_matmul(k_, w, xb, nb);
      for (int64_t tk = 0; tk < nb; ++tk)
        ASSERT_EQ(std::memcmp(ones[static_cast<size_t>(tk)].data(), batch.data() + tk * n_out, n_out * sizeof(float)), 0)
            << label(t, k_.isa) << " batch " << nb << " token " << tk;
    }
    // The same rows computed in ranges [0, 5), [5, 6), [6, 22) by "threads".
    Activations acts;
    prepare_activations(k_, t, x.data(), n_tokens, n_in, n_in, acts);
    std::vector<float> split(all.size(), -1.0f);
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 5}, {5, 6}, {6, 22}})
      matmul(k_, w, acts, split.data(), n_out, r0, r1);
    ASSERT_EQ(std::memcmp(split.data(), all.data(), all.size() * sizeof(float)), 0) << label(t, k_.isa);
    // The same split for a small batch (the fused kernels).
    prepare_activations(k_, t, x.data(), 5, n_in, n_in, acts);
    std::vector<float> small(static_cast<size_t>(5 * n_out), -1.0f);
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 5}, {5, 6}, {6, 22}})
      matmul(k_, w, acts, small.data(), n_out, r0, r1);
    ASSERT_EQ(std::memcmp(small.data(), all.data(), small.size() * sizeof(float)), 0) << label(t, k_.isa) << " 5 tokens";
    // Packed weights (the path's tiles, the last one partial): every batch size
    // equal to the rows read directly, and a split at a tile boundary too.
    if (k_.pack_tile == nullptr || !uses_q8a_activations(t)) continue;
    for (PackFor pf : {PackFor::kCache, PackFor::kStream}) {  // each layout the path has
      const std::string form = label(t, k_.isa) + (pf == PackFor::kStream ? " packed for streaming" : " packed for cache");
      WeightView wp = w;
      wp.pack_for = pf;
      std::vector<Activations::Line> packed(packed_matrix_bytes(k_, wp) / 64 + 1);
      pack_weights(k_, wp, packed[0].b);
      wp.packed = packed[0].b;
      for (int64_t nb = 1; nb <= n_tokens; ++nb) {
        const std::vector<float> xb(x.begin(), x.begin() + nb * n_in);
        const auto batch = run_matmul(k_, wp, xb, nb);
        ASSERT_EQ(std::memcmp(batch.data(), all.data(), batch.size() * sizeof(float)), 0) << form << ", batch " << nb;
      }
      prepare_activations(k_, t, x.data(), n_tokens, n_in, n_in, acts);
      std::fill(split.begin(), split.end(), -1.0f);
      const int64_t cut = k_.pack_rows;
      for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, cut}, {cut, n_out}}) matmul(k_, wp, acts, split.data(), n_out, r0, r1);
      ASSERT_EQ(std::memcmp(split.data(), all.data(), all.size() * sizeof(float)), 0) << form << ", split";
      // A range that starts inside a packed tile reads the GGUF rows instead: same results.
      std::fill(split.begin(), split.end(), -1.0f);
      for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, 5}, {5, 6}, {6, n_out}}) matmul(k_, wp, acts, split.data(), n_out, r0, r1);
      ASSERT_EQ(std::memcmp(split.data(), all.data(), all.size() * sizeof(float)), 0) << form << ", odd split";
    }
  }
}

TEST_P(KernelPath, LongRowsUseAHeapTile) {
  // 10240 elements: the tile of 4 rows outgrows the kernels' stack scratch.
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q6_K, GgmlType::F16}) {
    // 17 tokens: more than the fused small-batch kernels take, so the tile path runs.
    const int64_t n_in = 10240, n_out = 5, n_tokens = 17;
    const auto wbytes = make_weights(t, n_out, n_in, 51);
    const WeightView w{t, wbytes.data(), n_in, n_out, row_bytes(t, n_in)};
    const auto x = gaussian(static_cast<size_t>(n_in * n_tokens), 52);
    const auto y = run_matmul(k_, w, x, n_tokens);
    std::vector<BlockQ8A> a(static_cast<size_t>(n_in / 32));
    for (int64_t tk = 0; tk < n_tokens; ++tk) {
      quantize_row_q8a(x.data() + tk * n_in, a.data(), n_in);
      for (int64_t r = 0; r < n_out; ++r) {
        const float want = vec_dot_row(t, n_in, w.row(r), x.data() + tk * n_in, a.data());
        EXPECT_NEAR(y[tk * n_out + r], want, 2e-4f * (10.0f + std::fabs(want))) << label(t, k_.isa);
      }
    }
  }
}

TEST_P(KernelPath, ActivationQuantizationMatchesReference) {
  if (k_.isa == Isa::Scalar) GTEST_SKIP() << "the scalar path stores quantize_row_q8a rows as they are";
  for (int bs : {32, 16}) {
    for (int64_t n : {int64_t{32}, int64_t{64}, int64_t{96}, int64_t{352}, int64_t{512}}) {
      if (n % (bs == 16 ? 64 : 32) != 0) continue;
      auto x = gaussian(static_cast<size_t>(n * 2), 31, 5.0f);
      x[3] = 0.0f;
      std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block: d = 0
      const size_t tb = k_.act_token_bytes(n, bs);
      std::vector<Activations::Line> got((2 * tb + 63) / 64 + 1), want = got;
      k_.quantize_acts(x.data(), 2, n, n, bs, got[0].b, tb);
      std::vector<BlockQ8A> a(static_cast<size_t>(n / 32));
      for (int t = 0; t < 2; ++t) {
        quantize_row_q8a(x.data() + t * n, a.data(), n);
        tile::pack_act_row(a.data(), n, bs, want[0].b + t * tb);
      }
      ASSERT_EQ(std::memcmp(got[0].b, want[0].b, 2 * tb), 0) << isa_name(k_.isa) << " bs=" << bs << " n=" << n;
    }
  }
}

TEST_P(KernelPath, SimdDecodingMatchesScalarPacker) {
  if (k_.isa == Isa::Scalar) GTEST_SKIP() << "the scalar path does not pack tiles";
  const PackTileFn pack = k_.isa == Isa::Avx512 ? avx512_pack_tile() : avx2_pack_tile();
  const int n_rows = k_.pack_rows;  // 4, or 16 for AVX-512's wide tiles
  ASSERT_TRUE(n_rows == tile::kRows || n_rows == tile::kWideRows) << n_rows;
  for (GgmlType t : kQuantTypes) {
    const bool k_quant = ggml_traits(t).block_size == 256;
    for (int64_t n_in : {int64_t{k_quant ? 256 : 128}, int64_t{k_quant ? 768 : 352}})
    for (PackFor pf : {PackFor::kCache, PackFor::kStream}) {
      const bool narrow = pf == PackFor::kStream;
      const auto wbytes = make_weights(t, n_rows, n_in, 41);
      const size_t rb = row_bytes(t, n_in);
      std::vector<const uint8_t*> rows;
      for (int r = 0; r < n_rows; ++r) rows.push_back(wbytes.data() + r * rb);
      const int bs = affine_block_size(t);
      const int64_t G = affine_groups(t, n_in);
      const size_t tile_bytes = G * tile::weight_group_bytes(bs);  // one 4-row tile
      const size_t bytes4 = tile_bytes * static_cast<size_t>(n_rows / tile::kRows);
      // AVX2's Q8_0 tiles are compact (tile::kCompactQ8GroupBytes).
      const bool compact = k_.isa == Isa::Avx2 && t == GgmlType::Q8_0;
      const size_t bytes = n_rows == tile::kWideRows ? tile::wide_tile_bytes(t, n_in, narrow)
                           : compact                 ? static_cast<size_t>(G) * tile::kCompactQ8GroupBytes
                                                     : bytes4;
      EXPECT_EQ(packed_tile_bytes(k_, t, n_in, pf), bytes);
      const size_t lines = (std::max(bytes, bytes4) + 63) / 64;
      std::vector<Activations::Line> got(lines), want(lines), tiles4(bytes4 / 64);
      pack(t, rows.data(), n_in, pf, got[0].b);
      // The scalar oracle: 4-row tiles (pack_weight_group), interleaved where the path is wide.
      AffineGroup grp[4];
      const AffineGroup* gp[4] = {&grp[0], &grp[1], &grp[2], &grp[3]};
      for (int j = 0; j < n_rows / tile::kRows; ++j)
        for (int64_t g = 0; g < G; ++g) {
          for (int r = 0; r < 4; ++r)
            decode_affine_group(t, rows[static_cast<size_t>(4 * j + r)], n_in, g,
                                k_.isa == Isa::Avx2 && t == GgmlType::Q8_0, grp[r]);
          tile::pack_weight_group(gp, bs, tiles4[0].b + j * tile_bytes + g * tile::weight_group_bytes(bs));
        }
      if (n_rows == tile::kWideRows) {
        const tile::WideForm f = tile::wide_form(t, narrow);
        tile::interleave_wide(tiles4[0].b, G, f, want[0].b);
        if (f.k_scales) tile::pack_wide_k_scales(t, f, rows.data(), n_in, want[0].b);
      } else if (compact) {
        for (int64_t g = 0; g < G; ++g)
          tile::compact_q8_group(tiles4[0].b + g * tile::weight_group_bytes(bs),
                                 want[0].b + g * tile::kCompactQ8GroupBytes);
      } else {
        std::copy(tiles4.begin(), tiles4.end(), want.begin());
      }
      for (size_t off = 0; off < bytes; off += 64)
        ASSERT_EQ(std::memcmp(got[0].b + off, want[0].b + off, std::min<size_t>(64, bytes - off)), 0)
            << label(t, k_.isa) << " n_in=" << n_in << (narrow ? " narrow" : "") << " at byte " << off;
    }
  }
}

// The wide layout, spelled out for one row and block: lane R of block b's quad i is
// row R's codes 4i..4i+3 of that block (narrower codes: their low 4 bits with
// quad i in the low nibbles and quad i + Q / 2 in the high ones, then the bits
// above 4 of 8 / (bits - 4) quads per byte), and d / m follow the same lanes.
TEST(WideTile, LaneIsRow) {
  const int bs = 32, Q = tile::quads(bs);
  const int64_t G = 2;
  const size_t wgb = tile::weight_group_bytes(bs), tile_bytes = G * wgb;
  for (int bits : {8, 6, 5, 4}) {
    std::vector<AffineGroup> grp(16 * G);
    std::vector<Activations::Line> tiles4(4 * tile_bytes / 64), wide(4 * tile_bytes / 64);
    for (int row = 0; row < 16; ++row)
      for (int64_t g = 0; g < G; ++g) {
        AffineGroup& a = grp[static_cast<size_t>(row * G + g)];
        for (int e = 0; e < 4 * bs; ++e) a.q[e] = static_cast<uint8_t>((row * 7 + g * 3 + e * 5) % (1 << bits));
        for (int b = 0; b < 4; ++b) {
          a.d[b] = static_cast<float>(row * 100 + g * 10 + b);
          a.m[b] = -a.d[b];
        }
      }
    for (int j = 0; j < 4; ++j)
      for (int64_t g = 0; g < G; ++g) {
        const AffineGroup* gp[4];
        for (int r = 0; r < 4; ++r) gp[r] = &grp[static_cast<size_t>((4 * j + r) * G + g)];
        tile::pack_weight_group(gp, bs, tiles4[0].b + j * tile_bytes + g * wgb);
      }
    for (int form = 0; form < 4; ++form) {
      const bool with_min = form % 2 == 0;  // m left out for offset-only types
      const bool half = form >= 2;          // d and m as fp16 ahead of the group's codes
      const tile::WideForm f{bs, with_min, bits, false, half};
      tile::interleave_wide(tiles4[0].b, G, f, wide[0].b);
      const size_t unit_bytes = tile::wide_block_bytes(f);
      const size_t codes = static_cast<size_t>(Q) * 8 * bits;
      const size_t scales = (with_min ? 2 : 1) * 64;
      EXPECT_EQ(unit_bytes, half ? codes : codes + scales);
      EXPECT_EQ(tile::wide_group_bytes(f), 4 * (codes + (half ? scales / 2 : scales)));
      EXPECT_EQ(tile::wide_group_bytes(f) % 64, 0u);
      for (int64_t g = 0; g < G; ++g)
        for (int b = 0; b < 4; ++b) {
          const uint8_t* group = wide[0].b + g * tile::wide_group_bytes(f);
          const uint8_t* unit = group + tile::wide_group_head(f) + b * unit_bytes;
          for (int row = 0; row < 16; ++row) {
            const AffineGroup& a = grp[static_cast<size_t>(row * G + g)];
            for (int i = 0; i < Q; ++i)
              for (int k = 0; k < 4; ++k) {
                const uint8_t want = a.q[b * bs + 4 * i + k];
                auto byte = [&](int v) { return unit[v * 64 + row * 4 + k]; };
                int got = byte(i);
                if (bits < 8) got = i < Q / 2 ? byte(i) & 15 : byte(i - Q / 2) >> 4;
                if (bits == 5 || bits == 6) {  // bits above 4: 8 / (bits - 4) quads per byte
                  const int extra = bits - 4, per = 8 / extra;
                  got |= ((byte(Q / 2 + i / per) >> (extra * (i % per))) & ((1 << extra) - 1)) << 4;
                }
                ASSERT_EQ(got, want) << "row " << row << " block " << b << " quad " << i << " byte " << k << ", "
                                     << bits << "-bit codes";
              }
            // Scale v (d, then m) of this block and row.
            auto scale = [&](int v) {
              float x;
              if (!half) {
                std::memcpy(&x, unit + codes + v * 64 + row * 4, 4);
                return x;
              }
              uint16_t h;
              std::memcpy(&h, group + (v * 4 + b) * 32 + row * 2, 2);
              return fp16_to_fp32(h);
            };
            EXPECT_EQ(scale(0), a.d[b]);
            if (with_min) {
              EXPECT_EQ(scale(1), a.m[b]);
            }
          }
        }
    }
  }
}

}  // namespace

void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }

namespace {

INSTANTIATE_TEST_SUITE_P(Paths, KernelPath, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(isa_name(info.param)); });

TEST(KernelSelection, ForcedPathsAndFeatureLimits) {
  const CpuFeatures f = CpuFeatures::detect();
  EXPECT_EQ(select_kernels(f).isa, f.best_isa());
  EXPECT_EQ(select_kernels(f.limited_to(Isa::Scalar)).isa, Isa::Scalar);
  if (f.best_isa() >= Isa::Avx2) {
    EXPECT_EQ(select_kernels(f.limited_to(Isa::Avx2)).isa, Isa::Avx2);
  }
  CpuFeatures no_vnni = f;
  no_vnni.avx512vnni = false;  // Skylake-X: AVX-512 without VNNI takes the AVX2 path
  EXPECT_LE(no_vnni.best_isa(), Isa::Avx2);
  const Kernels k = select_kernels(f);
  for (GgmlType t : kAllTypes) EXPECT_NE(k.matmul_for(t), nullptr) << ggml_type_name(t);
  EXPECT_EQ(k.matmul_for(GgmlType::IQ2_XXS), nullptr);
}

TEST(KernelSelection, ActivationsShareAcrossTypesOfOneBlockSize) {
  EXPECT_TRUE(shares_activations(GgmlType::Q4_K, GgmlType::Q8_0));
  EXPECT_TRUE(shares_activations(GgmlType::F16, GgmlType::F32));
  EXPECT_FALSE(shares_activations(GgmlType::Q4_K, GgmlType::Q6_K));
  EXPECT_FALSE(shares_activations(GgmlType::F16, GgmlType::Q8_0));
  // Prepared once for Q4_K, used for a Q5_K matrix: same result as its own.
  const Kernels k = select_kernels(CpuFeatures::detect());
  const int64_t n_in = 512, n_out = 8, n_tok = 3;
  const auto wbytes = make_weights(GgmlType::Q5_K, n_out, n_in, 61);
  const WeightView w{GgmlType::Q5_K, wbytes.data(), n_in, n_out, row_bytes(GgmlType::Q5_K, n_in)};
  const auto x = gaussian(static_cast<size_t>(n_in * n_tok), 62);
  Activations acts;
  prepare_activations(k, GgmlType::Q4_K, x.data(), n_tok, n_in, n_in, acts);
  std::vector<float> y(static_cast<size_t>(n_out * n_tok));
  matmul(k, w, acts, y.data(), n_out, 0, n_out);
  EXPECT_EQ(y, run_matmul(k, w, x, n_tok));
}

TEST(KernelSelection, CheckWeightNamesTheProblem) {
  std::vector<uint8_t> bytes(1024);
  const WeightView ok{GgmlType::Q8_0, bytes.data(), 64, 2, row_bytes(GgmlType::Q8_0, 64)};
  EXPECT_TRUE(check_weight(ok).ok());
  WeightView bad = ok;
  bad.n_in = 48;
  EXPECT_FALSE(check_weight(bad).ok());
  bad = ok;
  bad.row_stride = 10;
  ASSERT_FALSE(check_weight(bad).ok());
  EXPECT_NE(check_weight(bad).error().message.find("stride"), std::string::npos);
}

}  // namespace
}  // namespace tandem
