// Perplexity of a model on a token stream, computed as the reference does
// (llama.cpp's perplexity tool): the stream is cut into chunks of n_ctx tokens,
// each chunk is evaluated from scratch (first token replaced by BOS when the
// vocabulary adds one), and only the second half of each chunk is scored, so
// every scored token sees at least n_ctx/2 tokens of context.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/base/thread_pool.h"
#include "tandem/model/decoder.h"

namespace tandem {

struct PerplexityParams {
  int64_t n_ctx = 512;
  int64_t max_chunks = 0;  // 0: all
};

struct PerplexityResult {
  double ppl = 0;
  double ppl_stderr = 0;  // first-order error of ppl from the per-token NLL spread
  double mean_nll = 0;
  int64_t n_scored = 0;
  int64_t n_chunks = 0;
  double seconds = 0;
};

// Called after each chunk with (chunk index, running perplexity).
using ChunkFn = std::function<void(int64_t chunk, double ppl)>;

Result<PerplexityResult> perplexity(const std::shared_ptr<const DecoderModel>& model, ThreadPool& pool,
                                    const std::vector<int32_t>& tokens, const PerplexityParams& p,
                                    const ChunkFn& on_chunk = {});

// What the chunked scoring reads: eval() runs one chunk of n_ctx tokens from an
// empty context, then row(j), j >= first, is the logit row predicting token j +
// 1 of it (rows before first are never read, so need not be computed).
// perplexity() serves it from one sequence, combined_perplexity() from several
// models whose rows are combined.
class ChunkRows {
 public:
  virtual ~ChunkRows() = default;
  virtual Status eval(std::span<const int32_t> chunk, int64_t first) = 0;
  virtual Result<std::span<const float>> row(int64_t j) = 0;
};

// The chunking and scoring described above, over any ChunkRows; `vocab` gives BOS.
Result<PerplexityResult> chunked_perplexity(ChunkRows& rows, const Vocab& vocab, const std::vector<int32_t>& tokens,
                                            const PerplexityParams& p, const ChunkFn& on_chunk = {});

}  // namespace tandem
