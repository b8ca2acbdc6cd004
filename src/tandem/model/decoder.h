// Decoder-only transformers of the llama family (llama, mistral, qwen2) from
// GGUF: RMSNorm, RoPE, grouped-query attention, SwiGLU feed-forward, tied or
// untied output head, optional q/k/v biases. The model (config, tokenizer,
// weights mapped from the file) is immutable and shared; a Sequence holds what
// belongs to one stream of tokens: KV cache, scratch buffers, position.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tandem/base/page_buffer.h"
#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/model/kv_cache.h"
#include "tandem/model/model_config.h"
#include "tandem/tensor/matmul.h"
#include "tandem/tensor/quants.h"
#include "tandem/tokenizer/tokenizer.h"

namespace tandem {

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;  // (n_embd)
  std::vector<float> bq, bk, bv;           // biases (qwen2), empty otherwise
  WeightView wq, wk, wv, wo;             // wq: n_out n_embd_q, wk/wv: n_embd_kv, wo: n_embd
  WeightView ffn_gate, ffn_up, ffn_down; // gate/up: n_out n_ff, down: n_out n_embd
};

// Measured with `tandem bench --pack on|off` on 125M Q8_0, 2 threads: AVX-512
// (tiles 1.06x the rows) tg 290-309 -> 334-349 t/s, AVX2 (1.18x) 200-201 ->
// 290-296. Q4_0's tiles take twice its rows: 641-660 -> 332-335 on AVX-512.
inline constexpr double kPackGrowth = 1.2;

struct DecoderLoadOptions {
  // The kernel path (tensor/kernels.h); unset: the best this CPU offers. A path
  // the CPU lacks is an error (tests and benchmarks force each path this way).
  std::optional<Isa> isa;
  // Keep the quantized matrices decoded in the kernels' tile layout (where the
  // path has one, Kernels::pack_tile). Unset: all of them when the packed
  // matrices fit in the last-level cache (a model that stays in cache spends
  // most of a token decoding weights), and otherwise each matrix whose tiles
  // take at most kPackGrowth times its GGUF bytes (a model that streams from
  // memory reads its tiles at about the same rate as its rows, and then skips
  // the decoding). Packed matrices of a model that does not fit the cache take
  // the layout with the fewest bytes (PackFor::kStream). The packed copy is private memory; the mapped pages of a
  // packed matrix are released, so that it is not held twice (a tied output's
  // rows, the embeddings, map in again as tokens look them up).
  std::optional<bool> pack;
  // The last-level cache size that `pack` plans for; unset: this CPU's (sysfs).
  std::optional<size_t> cache_bytes;
  // Keys and values of this model's sequences in fp16 instead of float: half
  // the KV memory and the bytes attention reads per token, at a rounding of
  // every cached element (the reference fixtures use a float cache).
  bool kv_f16 = false;
  // Copy the matrices that are not packed out of the mapping into private
  // memory advised for huge pages (base/page_buffer.h), releasing their mapped
  // pages as each is copied. Streaming weights from huge pages is faster
  // (bench/memory_bench.cpp); the price is a copy at load and that processes
  // no longer share the file's pages. Unset: when the kernel offers
  // transparent huge pages.
  std::optional<bool> copy;
};

class DecoderModel {
 public:
  static Result<std::shared_ptr<const DecoderModel>> load(const std::string& path, const DecoderLoadOptions& opt = {});

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const GgufFile& file() const { return file_; }
  const Kernels& kernels() const { return kernels_; }
  // Bytes of weights one token's forward pass reads (all matrices and the head).
  uint64_t weight_bytes() const { return weight_bytes_; }
  // Bytes of the matrices kept packed (DecoderLoadOptions::pack); 0: none.
  uint64_t packed_bytes() const { return packed_.size(); }
  // Bytes of the matrices copied out of the mapping (DecoderLoadOptions::copy); 0: none.
  uint64_t copied_bytes() const { return copied_.size(); }
  bool kv_f16() const { return kv_f16_; }
  // Bytes of the packed and copied matrices that huge pages back now.
  uint64_t huge_page_bytes() const { return packed_.huge_bytes() + copied_.huge_bytes(); }

  const WeightView& token_embd() const { return token_embd_; }
  const WeightView& output() const { return config_.tied_output ? token_embd_ : output_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }

 private:
  DecoderModel() = default;
  // The matrices one token reads in full: every layer's, then the output head.
  std::vector<WeightView*> token_matrices();
  // Packs the quantized matrices (DecoderLoadOptions::pack) and points their views at the copies.
  Status pack_matrices(std::optional<bool> want, size_t cache_bytes);
  // Copies the matrices left unpacked (DecoderLoadOptions::copy) and points their views at the copies.
  Status copy_matrices(std::optional<bool> want);
  GgufFile file_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Kernels kernels_;
  WeightView token_embd_, output_;
  std::vector<float> output_norm_;
  std::vector<LayerWeights> layers_;
  uint64_t weight_bytes_ = 0;
  bool kv_f16_ = false;
  PageBuffer packed_;  // the packed matrices, back to back (each 64-byte aligned)
  PageBuffer copied_;  // the copied matrices, likewise
};

enum class Logits { kLast, kAll };

struct SequenceOptions {
  int64_t n_ctx = 0;  // 0: the model's training context
};

class Sequence {
 public:
  // The narrowest model whose batches share their per-token work between
  // threads by default. Narrower rows cost less to make than the hand-off:
  // house-small (128 wide) T(2) 32.7 -> 35.2 us when shared, the 1.6M bench
  // shape 26.5 -> 27.7, while house-large (384 wide) gains, T(2) 157 -> 150
  // and T(5) 297 -> 286 (2 threads, one process, alternating).
  static constexpr int64_t kSplitPrepWidth = 256;

  Sequence(std::shared_ptr<const DecoderModel> model, ThreadPool& pool, SequenceOptions opt = {});

  // Evaluates `tokens` after the current position. Returns the logits of the last
  // token (n_vocab floats) or of every token (n_tokens x n_vocab, row-major); the
  // view is valid until the next eval. Errors: token ids outside the vocabulary,
  // or more tokens than the context has room for.
  Result<std::span<const float>> eval(std::span<const int32_t> tokens, Logits which = Logits::kLast);
  // The same, returning the logits of tokens [first, n) only ((n - first) x
  // n_vocab): the output layer skips the rows before first (a perplexity chunk
  // scores its second half only). Error: first outside [0, n).
  Result<std::span<const float>> eval_tail(std::span<const int32_t> tokens, int64_t first);

  int64_t n_past() const { return kv_.n_past(); }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  // Rolls back to an earlier position (drops everything from n on).
  Status rollback(int64_t n) { return kv_.truncate(n); }
  const DecoderModel& model() const { return *model_; }
  // Whether a batch's per-token work between matmuls (norms, rope, quantizing
  // activations) is shared among the pool's threads; by default for models at
  // least kSplitPrepWidth wide, where it pays.
  void set_split_prep(bool on) { split_prep_ = on; }
  size_t kv_bytes() const { return kv_.bytes(); }

 private:
  // Runs prep(t0, t1) over the batch's tokens, then body(ith, nth) on every part
  // of one pool.run. With split_prep_, several tokens are shared out among the
  // threads of that run (SharedUnits, one token at a time); otherwise this
  // thread makes them all first.
  template <class Prep, class Body>
  void phased(int64_t n_tok, Prep&& prep, Body&& body);
  void store_kv(int64_t layer, int64_t pos0, int64_t t0, int64_t t1);
  void attention(int64_t layer, int64_t n_tok, int64_t pos0);
  void ensure_scratch(int64_t n_tok);
  // Several products of one input: y_i (n_tok, W_i.n_out) = x (n_tok, n_in) * W_i^T,
  // in one dispatch (activations quantized once per compatible weight type, the rows of all
  // outputs split evenly over the pool). At most kMaxFused outputs.
  struct LinearOut {
    const WeightView* w;
    float* y;
  };
  static constexpr size_t kMaxFused = 3;
  // prep(t0, t1) makes tokens [t0, t1) of x first (phased()).
  template <class Prep>
  void linear(std::initializer_list<LinearOut> outs, const float* x, int64_t n_tok, Prep&& prep);

  std::shared_ptr<const DecoderModel> model_;
  ThreadPool& pool_;
  KvCache kv_;
  std::vector<float> rope_inv_freq_;  // (n_rot / 2)
  std::vector<float> rope_cs_;        // (n_tok, n_rot): cos, sin per rotated pair of each token
  // Scratch, grown to the largest batch seen: x, norm (n_tok, n_embd); q (n_tok, n_embd_q);
  // k, v (n_tok, n_embd_kv); att (n_tok, n_embd_q); gate, up (n_tok, n_ff); logits.
  std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_, logits_;
  std::vector<float> scores_;  // (threads, query heads per KV head, n_ctx)
  Activations acts_[kMaxFused];
  int64_t scratch_tokens_ = 0;
  bool split_prep_ = false;  // set_split_prep
};

}  // namespace tandem
