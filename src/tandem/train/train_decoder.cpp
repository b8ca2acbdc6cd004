// Forward and backward of the trainer's llama-style decoder (see train_decoder.h).
#include "tandem/train/train_decoder.h"

#include <algorithm>
#include <cstring>

#include "tandem/train/gemm.h"
#include "tandem/train/rms_norm.h"
#include "tandem/train/swiglu.h"

namespace tandem {
namespace {

template <class Real>
void grow(std::vector<Real>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

template <class Real>
TrainDecoder<Real>::TrainDecoder(const DecoderConfig& config, ThreadPool& pool)
    : config_(config),
      layout_(config),
      pool_(pool),
      rope_(config.ctx, config.head_dim(), config.rope_base),
      params_(static_cast<size_t>(layout_.total())),
      grads_(static_cast<size_t>(layout_.total())) {
  acts_.resize(static_cast<size_t>(config.n_layers));
}

template <class Real>
void TrainDecoder<Real>::zero_grads() {
  pool_.parallel_for(static_cast<int64_t>(grads_.size()), [&](int64_t b, int64_t e) {
    std::fill(grads_.begin() + b, grads_.begin() + e, Real(0));
  });
}

template <class Real>
void TrainDecoder<Real>::ensure_buffers(int64_t batch, int64_t seq) {
  const DecoderConfig& c = config_;
  const int64_t N = batch * seq, D = c.dim, F = c.ffn;
  for (LayerActs& A : acts_) {
    grow(A.x, N * D);
    grow(A.xn, N * D);
    grow(A.rstd1, N);
    grow(A.qkv, N * c.qkv_width());
    grow(A.probs, batch * c.n_heads * seq * seq);
    grow(A.att, N * c.q_width());
    grow(A.xmid, N * D);
    grow(A.xn2, N * D);
    grow(A.rstd2, N);
    grow(A.gu, N * 2 * F);
    grow(A.a, N * F);
  }
  grow(x_final_, N * D);
  grow(xn_final_, N * D);
  grow(rstd_final_, N);
  grow(logits_, N * c.vocab);
  grow(dres_, N * D);
  grow(dh_, N * D);
  grow(dqkv_, N * c.qkv_width());
  grow(datt_, N * c.q_width());
  grow(da_, N * F);
  grow(dgu_, N * 2 * F);
  grow(attn_scratch_, static_cast<int64_t>(pool_.size()) * seq * seq);
}

template <class Real>
Status TrainDecoder<Real>::forward(std::span<const int32_t> tokens, int64_t batch, int64_t seq) {
  const DecoderConfig& c = config_;
  if (batch <= 0 || seq <= 0 || seq > c.ctx)
    return make_error("train forward: batch ", batch, " x seq ", seq, " (seq must be in 1..", c.ctx, ")");
  if (static_cast<int64_t>(tokens.size()) != batch * seq)
    return make_error("train forward: ", tokens.size(), " tokens given for batch ", batch, " x seq ", seq);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= c.vocab)
      return make_error("train forward: token id ", tokens[i], " at index ", i, " is outside the vocabulary (0..",
                        c.vocab - 1, ")");
  ensure_buffers(batch, seq);
  batch_ = batch;
  seq_ = seq;
  n_tok_ = batch * seq;
  tokens_.assign(tokens.begin(), tokens.end());

  const int64_t N = n_tok_, D = c.dim, F = c.ffn, QW = c.q_width(), QKV = c.qkv_width(), V = c.vocab;
  const Real* P = params_.data();
  const AttentionDims dims{batch, seq, c.n_heads, c.n_kv_heads, c.head_dim()};
  ThreadPool& pool = pool_;

  // Embedding lookup into the first block's input.
  {
    Real* x0 = acts_[0].x.data();
    const Real* emb = P + layout_.token_embd();
    pool.parallel_for(N, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::memcpy(x0 + i * D, emb + tokens_[i] * D, sizeof(Real) * D);
    });
  }

  for (int64_t il = 0; il < c.n_layers; ++il) {
    LayerActs& A = acts_[static_cast<size_t>(il)];
    const LayerOffsets& L = layout_.layer(il);
    rms_norm_forward(pool, A.x.data(), P + L.attn_norm, A.xn.data(), A.rstd1.data(), N, D, c.rms_eps);
    // qkv (N, QKV) = xn (N, D) * Wqkv^T
    gemm_parallel(pool, false, true, N, QKV, D, Real(1), A.xn.data(), D, P + L.wqkv, D, Real(0), A.qkv.data(), QKV);
    rope_apply(pool, rope_, A.qkv.data(), QKV, N, seq, c.n_heads, c.head_dim(), false);
    rope_apply(pool, rope_, A.qkv.data() + QW, QKV, N, seq, c.n_kv_heads, c.head_dim(), false);
    attention_forward(pool, dims, A.qkv.data(), QKV, A.probs.data(), A.att.data(), QW);
    // xmid (N, D) = x + att (N, QW) * Wo^T: the residual add rides on GEMM's beta.
    std::memcpy(A.xmid.data(), A.x.data(), sizeof(Real) * N * D);
    gemm_parallel(pool, false, true, N, D, QW, Real(1), A.att.data(), QW, P + L.wo, QW, Real(1), A.xmid.data(), D);
    rms_norm_forward(pool, A.xmid.data(), P + L.ffn_norm, A.xn2.data(), A.rstd2.data(), N, D, c.rms_eps);
    // gu (N, 2F) = xn2 * [Wgate; Wup]^T
    gemm_parallel(pool, false, true, N, 2 * F, D, Real(1), A.xn2.data(), D, P + L.w_gate_up, D, Real(0), A.gu.data(),
                  2 * F);
    swiglu_forward(pool, A.gu.data(), A.a.data(), N, F);
    // next block input (N, D) = xmid + a (N, F) * Wdown^T
    Real* next = il + 1 < c.n_layers ? acts_[static_cast<size_t>(il + 1)].x.data() : x_final_.data();
    std::memcpy(next, A.xmid.data(), sizeof(Real) * N * D);
    gemm_parallel(pool, false, true, N, D, F, Real(1), A.a.data(), F, P + L.w_down, F, Real(1), next, D);
  }
  rms_norm_forward(pool, x_final_.data(), P + layout_.output_norm(), xn_final_.data(), rstd_final_.data(), N, D,
                   c.rms_eps);
  // logits (N, V) = xn_final * Wout^T
  gemm_parallel(pool, false, true, N, V, D, Real(1), xn_final_.data(), D, P + layout_.output(), D, Real(0),
                logits_.data(), V);
  return ok_status();
}

template <class Real>
void TrainDecoder<Real>::backward(bool accumulate) {
  const DecoderConfig& c = config_;
  const int64_t N = n_tok_, D = c.dim, F = c.ffn, QW = c.q_width(), QKV = c.qkv_width(), V = c.vocab;
  const Real* P = params_.data();
  Real* G = grads_.data();
  const AttentionDims dims{batch_, seq_, c.n_heads, c.n_kv_heads, c.head_dim()};
  ThreadPool& pool = pool_;
  Real* dres = dres_.data();
  Real* dh = dh_.data();
  const Real* dlogits = logits_.data();
  const Real beta = accumulate ? Real(1) : Real(0);  // weight gradients: add or overwrite
  if (!accumulate && !c.tied) {
    // The embedding's gradient is only scattered into: clear it. (Tied, the head's
    // GEMM below overwrites it first.)
    Real* demb = G + layout_.token_embd();
    pool.parallel_for(c.vocab * D, [&](int64_t b, int64_t e) { std::fill(demb + b, demb + e, Real(0)); });
  }

  // Output head: dWout (V, D) += dlogits^T xn_final; d xn_final (N, D) = dlogits Wout.
  gemm_parallel(pool, true, false, V, D, N, Real(1), dlogits, V, xn_final_.data(), D, beta, G + layout_.output(), D);
  gemm_parallel(pool, false, false, N, D, V, Real(1), dlogits, V, P + layout_.output(), D, Real(0), dh, D);
  std::fill(dres, dres + N * D, Real(0));
  rms_norm_backward(pool, dh, x_final_.data(), P + layout_.output_norm(), rstd_final_.data(), dres,
                    G + layout_.output_norm(), N, D, accumulate);

  for (int64_t il = c.n_layers - 1; il >= 0; --il) {
    LayerActs& A = acts_[static_cast<size_t>(il)];
    const LayerOffsets& L = layout_.layer(il);
    // Feed-forward: out = xmid + a Wdown^T.
    gemm_parallel(pool, true, false, D, F, N, Real(1), dres, D, A.a.data(), F, beta, G + L.w_down, F);
    gemm_parallel(pool, false, false, N, F, D, Real(1), dres, D, P + L.w_down, F, Real(0), da_.data(), F);
    swiglu_backward(pool, A.gu.data(), da_.data(), dgu_.data(), N, F);
    gemm_parallel(pool, true, false, 2 * F, D, N, Real(1), dgu_.data(), 2 * F, A.xn2.data(), D, beta, G + L.w_gate_up,
                  D);
    gemm_parallel(pool, false, false, N, D, 2 * F, Real(1), dgu_.data(), 2 * F, P + L.w_gate_up, D, Real(0), dh, D);
    rms_norm_backward(pool, dh, A.xmid.data(), P + L.ffn_norm, A.rstd2.data(), dres, G + L.ffn_norm, N, D, accumulate);
    // Attention: xmid = x + att Wo^T.
    gemm_parallel(pool, true, false, D, QW, N, Real(1), dres, D, A.att.data(), QW, beta, G + L.wo, QW);
    gemm_parallel(pool, false, false, N, QW, D, Real(1), dres, D, P + L.wo, QW, Real(0), datt_.data(), QW);
    attention_backward(pool, dims, A.qkv.data(), QKV, A.probs.data(), datt_.data(), QW, dqkv_.data(),
                       attn_scratch_.data());
    rope_apply(pool, rope_, dqkv_.data(), QKV, N, seq_, c.n_heads, c.head_dim(), true);
    rope_apply(pool, rope_, dqkv_.data() + QW, QKV, N, seq_, c.n_kv_heads, c.head_dim(), true);
    gemm_parallel(pool, true, false, QKV, D, N, Real(1), dqkv_.data(), QKV, A.xn.data(), D, beta, G + L.wqkv, D);
    gemm_parallel(pool, false, false, N, D, QKV, Real(1), dqkv_.data(), QKV, P + L.wqkv, D, Real(0), dh, D);
    rms_norm_backward(pool, dh, A.x.data(), P + L.attn_norm, A.rstd1.data(), dres, G + L.attn_norm, N, D, accumulate);
  }

  // Embedding rows: columns split over threads, tokens added in order.
  Real* demb = G + layout_.token_embd();
  pool.parallel_for(D, [&](int64_t b, int64_t e) {
    for (int64_t i = 0; i < N; ++i) {
      Real* dst = demb + tokens_[static_cast<size_t>(i)] * D;
      const Real* src = dres + i * D;
      for (int64_t j = b; j < e; ++j) dst[j] += src[j];
    }
  });
}

template <class Real>
size_t TrainDecoder<Real>::activation_bytes() const {
  size_t n = 0;
  for (const LayerActs& A : acts_)
    n += A.x.size() + A.xn.size() + A.rstd1.size() + A.qkv.size() + A.probs.size() + A.att.size() + A.xmid.size() +
         A.xn2.size() + A.rstd2.size() + A.gu.size() + A.a.size();
  n += x_final_.size() + xn_final_.size() + rstd_final_.size() + logits_.size() + dres_.size() + dh_.size() +
       dqkv_.size() + datt_.size() + da_.size() + dgu_.size() + attn_scratch_.size();
  return n * sizeof(Real);
}

template class TrainDecoder<float>;
template class TrainDecoder<double>;

}  // namespace tandem
