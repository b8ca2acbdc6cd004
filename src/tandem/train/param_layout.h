// Where each trainable tensor lives in one flat buffer. Parameters, gradients
// and both AdamW moments are each a single contiguous array with this layout, so
// the optimizer, gradient clipping and checkpoints walk one span, and each layer
// finds its weights by offset. Tensor names are the GGUF names the engine binds
// (token_embd.weight, blk.N.attn_q.weight, ...); matrices are stored (n_out, n_in)
// row-major, which is GGUF's [n_in, n_out], so export copies rows as they are.
//
// Within a block, attn_q/attn_k/attn_v are adjacent (one (q+2kv, dim) matrix for a
// single fused GEMM) and so are ffn_gate/ffn_up (one (2*ffn, dim) matrix).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tandem/train/decoder_config.h"

namespace tandem {

struct ParamTensor {
  std::string name;            // GGUF tensor name
  int64_t offset = 0;          // elements from the start of the flat buffer
  std::vector<int64_t> shape;  // row-major: {n_out, n_in} for matrices, {n} for vectors
  bool decay = false;          // AdamW weight decay applies (matrices yes, norm gains no)

  int64_t size() const;
};

struct LayerOffsets {
  int64_t attn_norm;  // (dim)
  int64_t wqkv;       // (q_width + 2 kv_width, dim): attn_q rows, then attn_k, then attn_v
  int64_t wo;         // (dim, q_width)
  int64_t ffn_norm;   // (dim)
  int64_t w_gate_up;  // (2 ffn, dim): ffn_gate rows, then ffn_up
  int64_t w_down;     // (dim, ffn)
};

class ParamLayout {
 public:
  ParamLayout() = default;
  explicit ParamLayout(const DecoderConfig& c);

  const std::vector<ParamTensor>& tensors() const { return tensors_; }
  const ParamTensor* find(const std::string& name) const;
  int64_t total() const { return total_; }

  int64_t token_embd() const { return token_embd_; }      // (vocab, dim)
  int64_t output_norm() const { return output_norm_; }    // (dim)
  int64_t output() const { return output_; }              // (vocab, dim); == token_embd() when tied
  const LayerOffsets& layer(int64_t i) const { return layers_[static_cast<size_t>(i)]; }

 private:
  int64_t add(std::string name, std::vector<int64_t> shape, bool decay);
  std::vector<ParamTensor> tensors_;
  std::vector<LayerOffsets> layers_;
  int64_t token_embd_ = 0, output_norm_ = 0, output_ = 0, total_ = 0;
};

// Initial weights, reproducible for a seed: norm gains 1; matrices N(0, 0.02^2);
// the two projections that write into the residual stream (attn_output,
// ffn_down) N(0, (0.02 / sqrt(2 n_layers))^2) so the residual's variance does
// not grow with depth (GPT-2, Radford et al. 2019, section 2.3).
template <class Real>
void init_params(const DecoderConfig& c, const ParamLayout& layout, std::span<Real> params, uint64_t seed);

}  // namespace tandem
