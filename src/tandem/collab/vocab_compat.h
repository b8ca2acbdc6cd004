// Whether two models may be paired token for token (a draft with its target in
// speculative decoding; later contrastive decoding and proxy-tuning): the ids
// one model produces must mean the same text to the other. Checked before any
// pairing, so a mismatch is one clear error naming the first difference rather
// than a silent collapse of the acceptance rate.
#pragma once

#include <cstdint>

#include "tandem/base/result.h"
#include "tandem/tokenizer/vocab.h"

namespace tandem {

struct VocabCompatParams {
  // Largest allowed difference in vocabulary size. Families pad or append a few
  // tokens (llama.cpp allows 128 for speculative pairs); ids past the common
  // range are simply never proposed to the other model.
  int32_t max_size_difference = 128;
};

// Checks, in this order: the same tokenizer model (llama/gpt2/bert); the same
// special tokens that shape prompts and stopping (BOS, EOS, EOT, EOM and the
// add-BOS/add-EOS flags); sizes within max_size_difference; identical token
// texts at every id both vocabularies hold. llama.cpp skips the first 5 ids in
// the text check; every common id is compared here, because an id whose text
// differs is a token the pair would silently disagree on.
// The error names what differs with both values, e.g.
//   "token 17 differs: target '<0x0E>' vs draft 'abc'".
Status check_vocab_compatible(const Vocab& target, const Vocab& draft, const VocabCompatParams& params = {});

}  // namespace tandem
