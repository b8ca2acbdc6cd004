// Perplexity of a combination of models (proxy-tuning: large base, small tuned,
// small base; contrastive scores too, though they are not a language model's
// distribution) on a token stream: the same chunking and scoring as
// perplexity() (perplexity.h), each model evaluating every chunk, the
// combiner's row softmaxed and scored at the next token. So "the large model's
// perplexity before and after proxy-tuning" is perplexity() against this on
// the same tokens, with the same n_ctx: the numbers are directly comparable.
#pragma once

#include <memory>
#include <vector>

#include "tandem/collab/logit_combine.h"
#include "tandem/eval/perplexity.h"

namespace tandem {

// models.size() must equal combiner.n_models; models[0]'s vocabulary decides the
// BOS of each chunk. Errors: as perplexity(), a model count mismatch, combiner errors.
Result<PerplexityResult> combined_perplexity(const std::vector<std::shared_ptr<const DecoderModel>>& models,
                                             const LogitCombiner& combiner, ThreadPool& pool,
                                             const std::vector<int32_t>& tokens, const PerplexityParams& p,
                                             const ChunkFn& on_chunk = {});

}  // namespace tandem
