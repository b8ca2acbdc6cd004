// Scalar packers of the tile layouts (tile.h).
#include "tandem/tensor/tile.h"

#include <cstring>

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

WideForm wide_form(GgmlType t) {
  const bool k = t == GgmlType::Q4_K;
  return {affine_block_size(t), !offset_only(t), four_bit_codes(t), k};
}

size_t wide_tile_bytes(GgmlType t, int64_t n_in) {
  if (!uses_q8a_activations(t)) return 0;
  return static_cast<size_t>(affine_groups(t, n_in)) * wide_group_bytes(wide_form(t));
}

void interleave_wide(const uint8_t* tiles4, int64_t G, WideForm f, uint8_t* out) {
  const int nq = quads(f.bs);
  const size_t wgb = weight_group_bytes(f.bs), tile_bytes = static_cast<size_t>(G) * wgb;
  const size_t codes = wide_codes_bytes(f);
  for (int64_t g = 0; g < G; ++g, out += wide_group_tail(f)) {
    for (int b = 0; b < kGroupBlocks; ++b, out += wide_block_bytes(f))
      for (int row = 0; row < kWideRows; ++row) {
        const uint8_t* src = tiles4 + static_cast<size_t>(row / kRows) * tile_bytes + static_cast<size_t>(g) * wgb;
        const int r = row % kRows;
        auto code = [&](int i, int k) { return src[i * 64 + r * 16 + b * 4 + k]; };  // quad i, byte k
        if (f.nibbles) {
          for (int i = 0; i < nq / 2; ++i)
            for (int k = 0; k < 4; ++k)
              out[i * 64 + row * 4 + k] = static_cast<uint8_t>(code(i, k) | code(i + nq / 2, k) << 4);
        } else {
          for (int i = 0; i < nq; ++i)
            for (int k = 0; k < 4; ++k) out[i * 64 + row * 4 + k] = code(i, k);
        }
        if (f.k_scales) continue;
        for (int v = 0; v < (f.with_min ? 2 : 1); ++v)  // d, then m: float lane r*4+b -> lane row
          std::memcpy(out + codes + v * 64 + row * 4, src + nq * 64 + v * 64 + (r * 4 + b) * 4, 4);
      }
  }
}

void pack_wide_k_scales(const uint8_t* const rows[kWideRows], int64_t n_in, uint8_t* out) {
  const WideForm f = wide_form(GgmlType::Q4_K);
  const int64_t G = affine_groups(GgmlType::Q4_K, n_in);
  for (int64_t g = 0; g < G; ++g, out += wide_group_bytes(f))
    for (int row = 0; row < kWideRows; ++row) {
      BlockQ4_K blk;  // group g is half g % 2 of super-block g / 2
      std::memcpy(&blk, rows[row] + static_cast<size_t>(g / 2) * sizeof(BlockQ4_K), sizeof blk);
      uint8_t* tail = out + kGroupBlocks * wide_block_bytes(f);
      std::memcpy(tail + row * 2, &blk.d, 2);
      std::memcpy(tail + 32 + row * 2, &blk.dmin, 2);
      for (int b = 0; b < kGroupBlocks; ++b)
        k_scale_min(static_cast<int>(g % 2) * kGroupBlocks + b, blk.scales, tail[64 + b * 32 + row],
                    tail[64 + b * 32 + 16 + row]);
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
