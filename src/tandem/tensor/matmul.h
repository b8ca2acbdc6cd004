// The matrix product the model's forward pass calls for every linear layer:
//   y(n_tokens, n_out) = x(n_tokens, n_in) * W^T,   W: n_out rows of n_in (any compute type)
// in two steps so a thread pool can share the work:
//   prepare_activations(k, W.type, x, ...)  once per call (quantizes x for integer kernels)
//   matmul(k, W, acts, y, ldy, r0, r1)       per thread, on its own output rows [r0, r1)
// Row ranges that are multiples of 4 keep every thread on whole tiles. Kernels
// walk 4 weight rows at a time against all tokens (weights decoded once, reused
// from cache across tokens), so prefill of many tokens costs little more weight
// traffic than one token. A token's outputs are bit-identical whatever the
// number of tokens in the call and whatever the row split.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"
#include "tandem/tensor/kernels.h"

namespace tandem {

// Checks W's type and shape for the kernels (message names the type and sizes).
Status check_weight(const WeightView& w);

// x: n_tokens rows of n_in floats, row t at x + t * ldx.
// (With the same x, one prepared object serves every weight type for which
// shares_activations(its type, that type) holds.)
void prepare_activations(const Kernels& k, GgmlType wtype, const float* x, int64_t n_tokens, int64_t n_in,
                         int64_t ldx, Activations& out);

// prepare_activations in two steps, so that threads can quantize tokens in
// parallel: plan_activations lays `out` out for x without reading it, and
// quantize_activations then quantizes tokens [t0, t1) of it (each token once).
void plan_activations(const Kernels& k, GgmlType wtype, const float* x, int64_t n_tokens, int64_t n_in, int64_t ldx,
                      Activations& out);
void quantize_activations(const Kernels& k, Activations& out, int64_t t0, int64_t t1);

// Bytes of one packed tile (k.pack_rows rows) of n_in elements, and of all of
// w's rows packed (the last tile whole) in the layout for w.pack_for; 0 for
// types without a tile layout.
size_t packed_tile_bytes(const Kernels& k, GgmlType t, int64_t n_in, PackFor pf);
size_t packed_matrix_bytes(const Kernels& k, const WeightView& w);
// Packs all of w's rows into k's tile layout for w.pack_for (k.pack_tile must
// be set; out holds packed_matrix_bytes). Point a view's `packed` at the result
// (keeping pack_for) to have the kernels read it instead of the rows.
void pack_weights(const Kernels& k, const WeightView& w, uint8_t* out);

// Whether activations prepared for weight type a also serve weight type b: both
// float types, or both quantized with the same affine block size (every
// quantized type but Q6_K uses 32), e.g. the Q4_K and Q5_K tensors of one layer.
bool shares_activations(GgmlType a, GgmlType b);

// y row t at y + t * ldy; writes y(t, r) for r in [r0, r1) and all tokens of a.
// Preconditions: check_weight(w) passed, a prepared for w.type and w.n_in with k,
// 0 <= r0 <= r1 <= w.n_out.
void matmul(const Kernels& k, const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0,
            int64_t r1);

// Both steps, all rows, one thread: y (n_tokens, w.n_out).
void matmul(const Kernels& k, const WeightView& w, const float* x, int64_t n_tokens, float* y,
            Activations& scratch);

}  // namespace tandem
