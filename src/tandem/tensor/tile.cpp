// Scalar packers of the tile layouts (tile.h).
#include "tandem/tensor/tile.h"

#include <cstddef>
#include <cstring>

#include "tandem/tensor/float16.h"
#include "tandem/tensor/quant_blocks.h"
#include "tandem/tensor/quants.h"

namespace tandem::tile {

size_t packed_tile_bytes(GgmlType t, int64_t n_in) {
  if (!uses_q8a_activations(t)) return 0;
  return static_cast<size_t>(affine_groups(t, n_in)) * weight_group_bytes(affine_block_size(t));
}

void pack_weight_group(const AffineGroup* const rows[kRows], int bs, uint8_t* out) {
  const int nq = quads(bs);
  for (int i = 0; i < nq; ++i)
    for (int r = 0; r < kRows; ++r)
      for (int b = 0; b < kGroupBlocks; ++b)
        std::memcpy(out + i * 64 + r * 16 + b * 4, rows[r]->q + b * bs + 4 * i, 4);
  float d[16], m[16];
  for (int r = 0; r < kRows; ++r)
    for (int b = 0; b < kGroupBlocks; ++b) {
      d[r * 4 + b] = rows[r]->d[b];
      m[r * 4 + b] = rows[r]->m[b];
    }
  std::memcpy(out + nq * 64, d, sizeof d);
  std::memcpy(out + nq * 64 + sizeof d, m, sizeof m);
}

size_t wide_tile_bytes(GgmlType t, int64_t n_in, bool narrow) {
  if (!uses_q8a_activations(t)) return 0;
  return static_cast<size_t>(affine_groups(t, n_in)) * wide_group_bytes(wide_form(t, narrow));
}

void compact_q8_group(const uint8_t* group, uint8_t* out) {
  const int nq = quads(kQK);
  for (int l = 0; l < 16; ++l) {
    float d;
    std::memcpy(&d, group + nq * 64 + l * 4, 4);
    const uint16_t h = fp32_to_fp16(d);
    std::memcpy(out + 2 * l, &h, 2);
  }
  std::memcpy(out + 32, group, static_cast<size_t>(nq) * 64);
}

void interleave_wide(const uint8_t* tiles4, int64_t G, WideForm f, uint8_t* out) {
  const int nq = quads(f.bs);
  const size_t wgb = weight_group_bytes(f.bs), tile_bytes = static_cast<size_t>(G) * wgb;
  const size_t codes = wide_codes_bytes(f);
  for (int64_t g = 0; g < G; ++g) {
    uint8_t* head = out;
    out += wide_group_head(f);
    for (int b = 0; b < kGroupBlocks; ++b, out += wide_block_bytes(f))
      for (int row = 0; row < kWideRows; ++row) {
        const uint8_t* src = tiles4 + static_cast<size_t>(row / kRows) * tile_bytes + static_cast<size_t>(g) * wgb;
        const int r = row % kRows;
        auto code = [&](int i, int k) { return src[i * 64 + r * 16 + b * 4 + k]; };  // quad i, byte k
        for (int k = 0; k < 4; ++k) {
          if (f.code_bits == 8) {
            for (int i = 0; i < nq; ++i) out[i * 64 + row * 4 + k] = code(i, k);
            continue;
          }
          for (int i = 0; i < nq / 2; ++i)  // low 4 bits, two quads per byte
            out[i * 64 + row * 4 + k] = static_cast<uint8_t>((code(i, k) & 15) | (code(i + nq / 2, k) & 15) << 4);
          // The bits above 4, 8 / (bits - 4) quads per byte.
          const int extra = f.code_bits - 4, per = extra > 0 ? 8 / extra : 0;
          for (int j = 0; extra > 0 && j < nq / per; ++j) {
            uint8_t h = 0;
            for (int q = 0; q < per; ++q)
              h = static_cast<uint8_t>(h | ((code(per * j + q, k) >> 4) & ((1 << extra) - 1)) << (extra * q));
            out[(nq / 2 + j) * 64 + row * 4 + k] = h;
          }
        }
        if (f.k_scales) continue;
        for (int v = 0; v < (f.with_min ? 2 : 1); ++v) {  // d, then m: float lane r*4+b -> lane row
          const uint8_t* from = src + nq * 64 + v * 64 + (r * 4 + b) * 4;
          if (!f.half_scales) {
            std::memcpy(out + codes + v * 64 + row * 4, from, 4);
            continue;
          }
          float x;
          std::memcpy(&x, from, 4);
          const uint16_t h = fp32_to_fp16(x);
          std::memcpy(head + (v * kGroupBlocks + b) * kHalfScaleBytes + row * 2, &h, 2);
        }
      }
  }
}

void pack_wide_k_scales(GgmlType t, WideForm f, const uint8_t* const rows[kWideRows], int64_t n_in, uint8_t* out) {
  const int64_t G = affine_groups(t, n_in);
  const bool q6 = t == GgmlType::Q6_K;
  // Q5_K's d, dmin and scales sit where Q4_K's do; only its stride differs.
  const size_t stride = t == GgmlType::Q5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  static_assert(offsetof(BlockQ5_K, scales) == offsetof(BlockQ4_K, scales) && offsetof(BlockQ5_K, dmin) == offsetof(BlockQ4_K, dmin));
  const int64_t per_super = q6 ? 4 : 2;  // groups per super-block
  for (int64_t g = 0; g < G; ++g, out += wide_group_bytes(f)) {
    uint8_t* head = out;
    std::memset(head, 0, wide_group_head(f));
    for (int row = 0; row < kWideRows; ++row) {
      const int first = static_cast<int>(g % per_super) * kGroupBlocks;  // the group's first sub-block
      if (q6) {
        BlockQ6_K blk;
        std::memcpy(&blk, rows[row] + static_cast<size_t>(g / per_super) * sizeof blk, sizeof blk);
        std::memcpy(head + row * 2, &blk.d, 2);
        for (int b = 0; b < kGroupBlocks; ++b)
          head[64 + b * wide_scale_stride(f) + row] = static_cast<uint8_t>(blk.scales[first + b]);
      } else {
        BlockQ4_K blk;  // its first fields, also Q5_K's
        std::memcpy(&blk, rows[row] + static_cast<size_t>(g / per_super) * stride, offsetof(BlockQ4_K, qs));
        std::memcpy(head + row * 2, &blk.d, 2);
        std::memcpy(head + 32 + row * 2, &blk.dmin, 2);
        for (int b = 0; b < kGroupBlocks; ++b)
          k_scale_min(first + b, blk.scales, head[64 + b * wide_scale_stride(f) + row],
                      head[64 + b * wide_scale_stride(f) + 16 + row]);
      }
    }
  }
}

void pack_act_row(const BlockQ8A* a, int64_t n, int bs, uint8_t* out) {
  const int nq = quads(bs);
  const int64_t span = int64_t{kGroupBlocks} * bs;
  const int64_t n_groups = (n + span - 1) / span;
  for (int64_t g = 0; g < n_groups; ++g, out += act_group_bytes(bs)) {
    float d[4], ds[4];
    int32_t sums[4];
    for (int b = 0; b < kGroupBlocks; ++b) {
      const int64_t start = g * span + int64_t{b} * bs;  // first element of the block
      if (start >= n) {
        for (int i = 0; i < nq; ++i) std::memset(out + i * 16 + b * 4, 0, 4);
        d[b] = ds[b] = 0.0f;
        sums[b] = 0;
        continue;
      }
      const BlockQ8A& ab = a[start / kQK];
      const int off = static_cast<int>(start % kQK);
      for (int i = 0; i < nq; ++i) std::memcpy(out + i * 16 + b * 4, ab.qs + off + 4 * i, 4);
      const int s = bs == kQK ? ab.s[0] + ab.s[1] : ab.s[off / 16];
      d[b] = ab.d;
      ds[b] = ab.d * static_cast<float>(s);
      sums[b] = s;
    }
    std::memcpy(out + nq * 16, d, sizeof d);
    std::memcpy(out + nq * 16 + sizeof d, ds, sizeof ds);
    std::memcpy(out + nq * 16 + sizeof d + sizeof ds, sums, sizeof sums);
  }
}

}  // namespace tandem::tile
