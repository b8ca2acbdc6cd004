// The kernel table: one function per (weight type, activation type), chosen once
// from the CPU's features and then held by value (no globals, so two models, or a
// test forcing a lower path, can use different tables side by side).
//
// Paths: Scalar (the reference, any CPU), Avx2 (AVX2 + FMA + F16C) and Avx512
// (AVX-512 F/BW/VL + VNNI: vpdpbusd does the u8 x s8 dots). Each SIMD function is
// compiled with a target attribute, so one binary runs on any x86-64 and uses
// what the CPU has. A CPU with AVX-512 but no VNNI (Skylake-X) takes the AVX2 path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tandem/gguf/ggml_type.h"
#include "tandem/tensor/float_kernels.h"

namespace tandem {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
std::string_view isa_name(Isa isa);

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;

  // What this CPU (and OS) offers.
  static CpuFeatures detect();
  // The best path these features allow.
  Isa best_isa() const;
  // These features with everything above `isa` switched off (to force a path).
  CpuFeatures limited_to(Isa isa) const;
};

// What a packed layout is chosen for, where a path has several (AVX-512's wide
// forms, tile.h): kCache, the fewest instructions per weight (a model that
// stays in cache is bound by decoding; 5- and 6-bit codes then stay bytes),
// kStream, the fewest bytes (a model streamed from memory is bound by reading:
// codes as narrow as their type's).
enum class PackFor : uint8_t { kCache, kStream };

// Decodes Kernels::pack_rows weight rows (n_in elements, GGUF bytes) into all
// the groups of one tile (tile.h) of a SIMD path's layout.
using PackTileFn = void (*)(GgmlType t, const uint8_t* const* rows, int64_t n_in, PackFor pf, uint8_t* out);

// A weight matrix W (n_out rows of n_in elements, GGUF row layout).
struct WeightView {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int64_t n_in = 0;
  int64_t n_out = 0;
  size_t row_stride = 0;  // bytes between rows (row_bytes(type, n_in) for a GGUF tensor)
  // Optional: the same rows already in the kernels' tile layout (pack_weights in matmul.h),
  // tile t (rows t * pack_rows onwards, Kernels::pack_rows) at packed + t * packed_tile_bytes
  // (matmul.h). Kernels that have a packed path read it instead of decoding `data`;
  // results are the same bit for bit.
  const uint8_t* packed = nullptr;
  PackFor pack_for = PackFor::kCache;  // the layout of `packed` (and the one pack_weights writes)

  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
};

// x (n_tokens, n_in) made ready for one weight type by prepare_activations:
// quantized to the kernels' activation layout once per matmul, or, for float
// weight types, a view of the caller's f32 rows (which must outlive it).
// Reuse one object across calls: the buffer grows, never shrinks.
struct Activations {
  struct alignas(64) Line {
    uint8_t b[64];
  };

  GgmlType wtype = GgmlType::F32;
  int isa = -1;  // the Isa whose layout `buf` holds
  int64_t n_tokens = 0;
  int64_t n_in = 0;
  const float* x = nullptr;  // float weight types: row t at x + t * ldx
  int64_t ldx = 0;
  size_t token_bytes = 0;  // quantized: bytes per token in buf
  std::vector<Line> buf;

  const uint8_t* token(int64_t t) const { return buf.front().b + static_cast<size_t>(t) * token_bytes; }
  uint8_t* token(int64_t t) { return buf.front().b + static_cast<size_t>(t) * token_bytes; }
};

// y(t, r) = dot(W row r, x row t) for rows [r0, r1) and every token; y row t at
// y + t * ldy. Preconditions (check_matmul in matmul.h): shapes agree, a was
// prepared for w.type by the same Kernels.
using MatmulFn = void (*)(const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0,
                          int64_t r1);
// Quantizes n_tokens rows of x (row t at x + t * ldx) for weights whose affine
// block size is bs (16 or 32) into out (token_bytes per token).
using QuantizeActsFn = void (*)(const float* x, int64_t n_tokens, int64_t n_in, int64_t ldx, int bs,
                                uint8_t* out, size_t token_bytes);

struct Kernels {
  Isa isa = Isa::Scalar;
  QuantizeActsFn quantize_acts = nullptr;
  // Bytes per token of the activation layout for block size bs.
  size_t (*act_token_bytes)(int64_t n_in, int bs) = nullptr;

  MatmulFn matmul_f32_f32 = nullptr;
  MatmulFn matmul_f16_f32 = nullptr;
  MatmulFn matmul_bf16_f32 = nullptr;
  MatmulFn matmul_q8_0_q8a = nullptr;
  MatmulFn matmul_q4_0_q8a = nullptr;
  MatmulFn matmul_q4_1_q8a = nullptr;
  MatmulFn matmul_q5_0_q8a = nullptr;
  MatmulFn matmul_q5_1_q8a = nullptr;
  MatmulFn matmul_q4_k_q8a = nullptr;
  MatmulFn matmul_q5_k_q8a = nullptr;
  MatmulFn matmul_q6_k_q8a = nullptr;

  AttendFn attend = attend_scalar;
  SwigluFn swiglu = swiglu_scalar;
  RmsNormFn rms_norm = rms_norm_scalar;
  RopeFn rope = rope_scalar;
  LogSumExpFn log_sum_exp = log_sum_exp_scalar;
  ColumnMaxFn column_max = column_max_scalar;
  IndicesAtLeastFn indices_at_least = indices_at_least_scalar;

  // Weights kept decoded in the tile layout (paths that support it; else
  // nullptr): pack_tile decodes pack_rows rows (GGUF bytes) into one tile of
  // packed_tile_bytes (matmul.h); pack_weights packs a whole matrix with it.
  // AVX2 packs 4-row tiles, AVX-512 16-row wide tiles (tile.h). Callers that
  // split a packed matrix's rows (threads) split at multiples of pack_rows.
  // A packed matrix is read with no decoding at all, which pays where the
  // weights stay in cache (small models: decoding is most of a token's work
  // there) and may cost where they stream from memory, where tiles larger
  // than the rows (AVX2's 8-bit codes of 4-bit types: twice the bytes) are
  // read at the same rate. The legacy types' wide tiles and AVX2's Q8_0 tiles
  // take their GGUF bytes (544 per 512 Q8_0 weights).
  PackTileFn pack_tile = nullptr;
  int pack_rows = 4;
  // Bytes of one packed tile of n_in elements per row in the layout for pf
  // (packed_tile_bytes in matmul.h); nullptr where the path does not pack.
  size_t (*tile_bytes)(GgmlType t, int64_t n_in, PackFor pf) = nullptr;

  // The matmul for a weight type; nullptr for a type without kernels.
  MatmulFn matmul_for(GgmlType t) const;
};

// The table for the best path `features` allows.
Kernels select_kernels(const CpuFeatures& features);
// select_kernels for the CPU this runs on, chosen on first use and immutable
// after: for code without a model to take its kernels from (sampling).
const Kernels& host_kernels();
// The table for one path (tests: force AVX2 on an AVX-512 machine). Only call
// with a path the CPU supports (CpuFeatures::detect().best_isa() >= isa).
Kernels kernels_for_isa(Isa isa);

}  // namespace tandem
