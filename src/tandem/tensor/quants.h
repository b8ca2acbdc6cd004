// Plain scalar reference for every weight type tandem computes with: dequantize,
// quantize (ggml's round-to-nearest reference quantizers, so tandem writes the
// same bytes llama-quantize writes without an importance matrix) and the dot
// product of one weight row with one activation row. The SIMD kernels
// (kernels.h) are tested against these; the model never calls them per token.
//
// Every n is a number of elements and must be a multiple of the type's block
// size (check_row_shape says so with a message); rows are GGUF bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tandem/base/result.h"
#include "tandem/gguf/ggml_type.h"
#include "tandem/tensor/quant_blocks.h"

namespace tandem {

// --- dequantize: n elements -> f32 ---
void dequantize_row_f32(const float* x, float* y, int64_t n);
void dequantize_row_f16(const uint16_t* x, float* y, int64_t n);
void dequantize_row_bf16(const uint16_t* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n);
void dequantize_row_q8a(const BlockQ8A* x, float* y, int64_t n);

// --- quantize: n f32 elements -> blocks (reference round-to-nearest) ---
void quantize_row_f32(const float* x, float* y, int64_t n);
void quantize_row_f16(const float* x, uint16_t* y, int64_t n);
void quantize_row_bf16(const float* x, uint16_t* y, int64_t n);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void quantize_row_q4_k(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q5_k(const float* x, BlockQ5_K* y, int64_t n);
void quantize_row_q6_k(const float* x, BlockQ6_K* y, int64_t n);
// Activations: amax / 127 per 32 elements, round to nearest even, half sums.
void quantize_row_q8a(const float* x, BlockQ8A* y, int64_t n);

// --- dot products of one weight row (n elements) with one activation row ---
// Float weight types take the f32 activations; quantized types take the row
// quantized by quantize_row_q8a. Accumulated in double: this is the truth the
// kernels are measured against, not a fast path.
float vec_dot_f32_f32(int64_t n, const float* w, const float* x);
float vec_dot_f16_f32(int64_t n, const uint16_t* w, const float* x);
float vec_dot_bf16_f32(int64_t n, const uint16_t* w, const float* x);
float vec_dot_q8_0_q8a(int64_t n, const BlockQ8_0* w, const BlockQ8A* a);
float vec_dot_q4_0_q8a(int64_t n, const BlockQ4_0* w, const BlockQ8A* a);
float vec_dot_q4_1_q8a(int64_t n, const BlockQ4_1* w, const BlockQ8A* a);
float vec_dot_q5_0_q8a(int64_t n, const BlockQ5_0* w, const BlockQ8A* a);
float vec_dot_q5_1_q8a(int64_t n, const BlockQ5_1* w, const BlockQ8A* a);
float vec_dot_q4_k_q8a(int64_t n, const BlockQ4_K* w, const BlockQ8A* a);
float vec_dot_q5_k_q8a(int64_t n, const BlockQ5_K* w, const BlockQ8A* a);
float vec_dot_q6_k_q8a(int64_t n, const BlockQ6_K* w, const BlockQ8A* a);

// --- by type id ---
// The weight types above (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K).
bool is_compute_type(GgmlType t);
// Whether weights of type t are dotted with BlockQ8A rows (all but F32/F16/BF16).
bool uses_q8a_activations(GgmlType t);
// Bytes of one row of n elements (n a multiple of the block size).
size_t row_bytes(GgmlType t, int64_t n);
// OK when t is a compute type and n a positive multiple of its block size; else
// an error naming the type, n and the block size.
Status check_row_shape(GgmlType t, int64_t n);
void dequantize_row(GgmlType t, const void* x, float* y, int64_t n);
void quantize_row(GgmlType t, const float* x, void* y, int64_t n);
// x: n f32 activations (used by float types); a: the same row by quantize_row_q8a
// (used by quantized types; may be null for float types).
float vec_dot_row(GgmlType t, int64_t n, const void* w, const float* x, const BlockQ8A* a);

}  // namespace tandem
