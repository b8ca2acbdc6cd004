// Forward and backward pass of a llama-style decoder for training: token
// embedding, n_layers blocks of (RMSNorm -> fused QKV -> RoPE -> causal GQA
// attention -> output projection -> residual; RMSNorm -> fused gate/up ->
// SwiGLU -> down projection -> residual), final RMSNorm, output head (tied or
// not). The forward pass computes what the engine (model/decoder.h) computes, in
// the same order where it matters for rounding, so an exported model's logits
// match within float noise.
//
// Templated on the scalar: float for training, double for the gradient checks
// against finite differences (same code, same GEMM calls through dgemm).
// Matrix products are batched over all B*T tokens; elementwise work and
// attention are split over the thread pool with fixed partitions, so a run is a
// deterministic function of its inputs and the thread count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/train/attention.h"
#include "tandem/train/decoder_config.h"
#include "tandem/train/param_layout.h"
#include "tandem/train/rope.h"

namespace tandem {

template <class Real>
class TrainDecoder {
 public:
  // Parameters start at zero: call init_params() or copy weights in. The pool
  // must outlive the decoder.
  TrainDecoder(const DecoderConfig& config, ThreadPool& pool);

  const DecoderConfig& config() const { return config_; }
  const ParamLayout& layout() const { return layout_; }
  std::span<Real> params() { return params_; }
  std::span<const Real> params() const { return params_; }
  std::span<Real> grads() { return grads_; }
  std::span<const Real> grads() const { return grads_; }
  void zero_grads();

  // tokens: (batch, seq) row-major ids, seq <= config().ctx. Keeps every
  // activation the backward pass needs. Errors: bad sizes, ids outside the vocab.
  Status forward(std::span<const int32_t> tokens, int64_t batch, int64_t seq);

  // The last forward's logits, (batch * seq, vocab) row-major. A loss overwrites
  // them with dLoss/dlogits before backward().
  std::span<Real> logits() { return {logits_.data(), static_cast<size_t>(n_tok_ * config_.vocab)}; }
  int64_t n_tokens() const { return n_tok_; }

  // Adds to grads() the gradient of the loss whose derivative with respect to
  // the logits is in logits() — or, with accumulate = false, overwrites grads()
  // with it (the first micro-batch of a step: no separate zeroing pass over the
  // whole gradient). Uses the activations of the last forward().
  void backward(bool accumulate = true);

  // Bytes held by activations and scratch (for reporting).
  size_t activation_bytes() const;

 private:
  struct LayerActs {
    std::vector<Real> x;       // (N, D) block input (residual stream)
    std::vector<Real> xn;      // (N, D) attn_norm(x)
    std::vector<Real> rstd1;   // (N)
    std::vector<Real> qkv;     // (N, QKV) after RoPE on q and k
    std::vector<Real> probs;   // (B, H, T, T) attention probabilities
    std::vector<Real> att;     // (N, QW) attention output before attn_output
    std::vector<Real> xmid;    // (N, D) x + attention
    std::vector<Real> xn2;     // (N, D) ffn_norm(xmid)
    std::vector<Real> rstd2;   // (N)
    std::vector<Real> gu;      // (N, 2F) gate | up
    std::vector<Real> a;       // (N, F) silu(gate) * up
  };
  void ensure_buffers(int64_t batch, int64_t seq);

  DecoderConfig config_;
  ParamLayout layout_;
  ThreadPool& pool_;
  RopeTable rope_;
  std::vector<Real> params_, grads_;

  int64_t batch_ = 0, seq_ = 0, n_tok_ = 0;
  std::vector<int32_t> tokens_;  // (N) of the last forward
  std::vector<LayerActs> acts_;
  std::vector<Real> x_final_;    // (N, D) last block's output
  std::vector<Real> xn_final_;   // (N, D) output_norm(x_final)
  std::vector<Real> rstd_final_; // (N)
  std::vector<Real> logits_;     // (N, V)
  // Backward scratch.
  std::vector<Real> dres_, dh_;  // (N, D) residual gradient, gradient of a norm's output
  std::vector<Real> dqkv_;       // (N, QKV)
  std::vector<Real> datt_;       // (N, QW)
  std::vector<Real> da_;         // (N, F)
  std::vector<Real> dgu_;        // (N, 2F)
  std::vector<Real> attn_scratch_;  // (threads, T, T)
};

extern template class TrainDecoder<float>;
extern template class TrainDecoder<double>;

}  // namespace tandem
