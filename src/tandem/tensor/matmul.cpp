// prepare_activations / matmul: dispatch on the weight type into the kernel table.
#include "tandem/tensor/matmul.h"

#include <algorithm>
#include <vector>

#include "tandem/tensor/affine.h"
#include "tandem/tensor/quants.h"
#include "tandem/tensor/tile.h"

namespace tandem {

Status check_weight(const WeightView& w) {
  TANDEM_TRY(check_row_shape(w.type, w.n_in));
  if (w.n_out <= 0) return make_error("weight matrix has ", w.n_out, " rows");
  if (w.data == nullptr) return make_error("weight matrix has no data");
  if (w.row_stride < row_bytes(w.type, w.n_in))
    return make_error("weight row stride ", w.row_stride, " bytes is shorter than a ", ggml_type_name(w.type),
                      " row of ", w.n_in, " elements (", row_bytes(w.type, w.n_in), " bytes)");
  return ok_status();
}

bool shares_activations(GgmlType a, GgmlType b) {
  if (!uses_q8a_activations(a) || !uses_q8a_activations(b)) return !uses_q8a_activations(a) && !uses_q8a_activations(b);
  return affine_block_size(a) == affine_block_size(b);
}

void plan_activations(const Kernels& k, GgmlType wtype, const float* x, int64_t n_tokens, int64_t n_in, int64_t ldx,
                      Activations& out) {
  out.wtype = wtype;
  out.isa = static_cast<int>(k.isa);
  out.n_tokens = n_tokens;
  out.n_in = n_in;
  out.x = x;
  out.ldx = ldx;
  if (!uses_q8a_activations(wtype)) {
    out.token_bytes = 0;
    return;
  }
  out.token_bytes = k.act_token_bytes(n_in, affine_block_size(wtype));
  const size_t lines = (out.token_bytes * static_cast<size_t>(n_tokens) + 63) / 64 + 1;
  if (out.buf.size() < lines) out.buf.resize(lines);
}

void quantize_activations(const Kernels& k, Activations& out, int64_t t0, int64_t t1) {
  if (out.token_bytes == 0 || t1 <= t0) return;
  k.quantize_acts(out.x + t0 * out.ldx, t1 - t0, out.n_in, out.ldx, affine_block_size(out.wtype), out.token(t0),
                  out.token_bytes);
}

void prepare_activations(const Kernels& k, GgmlType wtype, const float* x, int64_t n_tokens, int64_t n_in,
                         int64_t ldx, Activations& out) {
  plan_activations(k, wtype, x, n_tokens, n_in, ldx, out);
  quantize_activations(k, out, 0, n_tokens);
}

size_t packed_tile_bytes(const Kernels& k, GgmlType t, int64_t n_in, PackFor pf) {
  return k.tile_bytes ? k.tile_bytes(t, n_in, pf) : tile::packed_tile_bytes(t, n_in);
}

size_t packed_matrix_bytes(const Kernels& k, const WeightView& w) {
  return packed_tile_bytes(k, w.type, w.n_in, w.pack_for) * static_cast<size_t>((w.n_out + k.pack_rows - 1) / k.pack_rows);
}

void pack_weights(const Kernels& k, const WeightView& w, uint8_t* out) {
  const size_t tb = packed_tile_bytes(k, w.type, w.n_in, w.pack_for);
  const int pr = k.pack_rows;
  std::vector<const uint8_t*> rows(static_cast<size_t>(pr));
  for (int64_t rt = 0; rt < w.n_out; rt += pr) {
    for (int r = 0; r < pr; ++r) rows[static_cast<size_t>(r)] = w.row(std::min<int64_t>(rt + r, w.n_out - 1));  // past the end: repeat the last
    k.pack_tile(w.type, rows.data(), w.n_in, w.pack_for, out + static_cast<size_t>(rt / pr) * tb);
  }
}

void matmul(const Kernels& k, const WeightView& w, const Activations& a, float* y, int64_t ldy, int64_t r0,
            int64_t r1) {
  if (r1 <= r0 || a.n_tokens <= 0) return;
  k.matmul_for(w.type)(w, a, y, ldy, r0, r1);
}

void matmul(const Kernels& k, const WeightView& w, const float* x, int64_t n_tokens, float* y,
            Activations& scratch) {
  prepare_activations(k, w.type, x, n_tokens, w.n_in, w.n_in, scratch);
  matmul(k, w, scratch, y, w.n_out, 0, w.n_out);
}

}  // namespace tandem
