// Software prefetch of the weight rows a one-token or small-batch matmul reads
// next (the AVX-512 kernels).
//
// Those passes do little work per weight byte, so from DRAM they run at the
// rate the next rows arrive. The hardware prefetcher alone leaves the 4
// interleaved row streams of a tile mostly to demand misses (kernels_bench
// gen_cold Q8_0, one thread, no software prefetch: 6.5 GB/s), and a burst of
// the whole tile two tiles ahead, issued per tile, left a third of the
// bandwidth unused (15.7 GB/s, 99 us). The kernels instead pull the rows about
// 16 KiB ahead into L2, one slice per group of the tile they are computing, so
// the requests stay evenly in flight. gen_cold on one thread went: Q8_0 99 ->
// 66 us, Q4_0 57 -> 43-46, Q4_K 59 -> 48-51, Q5_K 64 -> 58-61, Q6_K 96 -> 88-92.
// 8, 24 and 32 KiB ahead measured slower; the T0 hint (into L1 too) measured as
// slow as no prefetch at all. The AVX2 one-token kernel, slower per byte,
// measured mixed with it here (Q8_0 148 -> 120 us, Q4_0 100 -> 107, Q6_K 208 ->
// 221) and keeps its per-tile prefetch.
#pragma once

#include <xmmintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "tandem/tensor/kernels.h"

namespace tandem {

class WeightPrefetch {
 public:
  static constexpr size_t kAheadBytes = 16 * 1024;

  WeightPrefetch() = default;
  // Rows [r, r_end) of w, which must lie back to back (row_stride == the row
  // bytes); an empty range prefetches nothing.
  static WeightPrefetch rows(const WeightView& w, int64_t r, int64_t r_end) {
    WeightPrefetch pf;
    if (r < r_end) {
      pf.p_ = w.row(r);
      pf.bytes_ = static_cast<size_t>(r_end - r) * w.row_stride;
    }
    return pf;
  }
  // The bytes [p, p + n): a packed matrix's tiles.
  static WeightPrefetch span(const uint8_t* p, size_t n) {
    WeightPrefetch pf;
    pf.p_ = p;
    pf.bytes_ = n;
    return pf;
  }
  // For tile i of n_tiles back-to-back tiles of tile_bytes (a packed matrix):
  // the tile about kAheadBytes ahead of it (at least the next), spread over
  // the tile's `groups` steps; nothing past the last tile.
  static WeightPrefetch tile_ahead(const uint8_t* tiles, size_t tile_bytes, int64_t i, int64_t n_tiles,
                                   int64_t groups) {
    const auto ahead = std::max<int64_t>(1, static_cast<int64_t>((kAheadBytes + tile_bytes - 1) / tile_bytes));
    WeightPrefetch pf;
    if (i + ahead < n_tiles) {
      pf = span(tiles + static_cast<size_t>(i + ahead) * tile_bytes, tile_bytes);
      pf.spread_over(groups);
    }
    return pf;
  }
  // For a float matmul's tile of 4 rows at rt (rows of w up to r1, rb bytes
  // each): the rows about kAheadBytes on, spread over the tile's `steps`. Rows
  // that are not back to back get the first kRowStartBytes of the rows two
  // tiles on touched now instead, and nothing to spread.
  static WeightPrefetch float_tile(const WeightView& w, int64_t rt, int64_t r1, size_t rb, int64_t steps) {
    if (w.row_stride != rb) {
      for (int64_t i = rt + 8; i < std::min(rt + 12, r1); ++i)
        for (size_t off = 0; off < std::min(rb, kRowStartBytes); off += 64)
          _mm_prefetch(reinterpret_cast<const char*>(w.row(i) + off), _MM_HINT_T1);
      return {};
    }
    const int64_t ahead = rows_ahead(rb, 4);
    WeightPrefetch pf = rows(w, rt + ahead, std::min(rt + ahead + 4, r1));
    pf.spread_over(steps);
    return pf;
  }
  static constexpr size_t kRowStartBytes = 2048;
  // How many rows ahead of the current tile to prefetch: about kAheadBytes,
  // in whole tiles, at least two.
  static int64_t rows_ahead(size_t row_bytes, int64_t tile_rows) {
    const size_t tile_bytes = std::max<size_t>(1, row_bytes * static_cast<size_t>(tile_rows));
    return tile_rows * std::max<int64_t>(2, static_cast<int64_t>((kAheadBytes + tile_bytes - 1) / tile_bytes));
  }

  // Splits the range into one slice per group (whole cache lines).
  void spread_over(int64_t groups) {
    step_ = groups > 0 ? (bytes_ / static_cast<size_t>(groups) + 63) & ~size_t{63} : bytes_;
  }
  // Prefetches the next slice.
  void next() {
    for (const size_t e = std::min(bytes_, at_ + step_); at_ < e; at_ += 64)
      _mm_prefetch(reinterpret_cast<const char*>(p_ + at_), _MM_HINT_T1);
  }

 private:
  const uint8_t* p_ = nullptr;
  size_t bytes_ = 0, step_ = 0, at_ = 0;
};

}  // namespace tandem
