// The house tokenizer: a SentencePiece BPE model trained with Debian's
// sentencepiece library, and its conversion to GGUF metadata as a `llama`
// tokenizer (what llama.cpp's convert script writes for a SentencePiece model),
// so that tandem's llama.cpp-exact tokenizer encodes exactly as sentencepiece's
// own encoder does.
//
// Training settings, fixed because agreement with the llama tokenizer depends
// on them:
// - model_type=bpe: llama.cpp's "llama" tokenizer merges by piece score,
//   which is SentencePiece BPE's encoding rule (a unigram model would need
//   Viterbi decoding instead);
// - normalization_rule_name=identity: llama.cpp applies no Unicode
//   normalization, so neither may sentencepiece (nmt_nfkc would fold e.g.
//   full-width letters and ligatures that the llama tokenizer keeps);
// - add_dummy_prefix=true, remove_extra_whitespaces=false: the llama
//   tokenizer prepends one space and keeps runs of spaces;
// - split_by_whitespace=true: no piece spans a word boundary;
// - byte_fallback=true and character_coverage=1: every character of the
//   training text is a piece, any other becomes UTF-8 byte pieces <0xXX>,
//   never <unk>;
// - input_sentence_size=0 (all sentences, no random sampling) and one thread.
//   With these, training is a pure function of the sentences and options: the
//   same input gives a byte-identical model (tested).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tandem/base/result.h"
#include "tandem/gguf/gguf_writer.h"

namespace tandem {

struct SpmTrainerOptions {
  int32_t vocab_size = 4096;     // including <unk>, <s>, </s> and the 256 byte pieces
  int32_t max_piece_length = 16; // characters, sentencepiece's default
  // Sentencepiece's own progress log (INFO lines on stderr). Sentencepiece keeps
  // its log level process-wide, so this sets it for later calls too.
  bool log = false;
};

// Trains a model on `sentences` (one per element; empty ones are skipped) and
// returns it serialized: the bytes of a sentencepiece .model file.
Result<std::string> train_spm_tokenizer(std::span<const std::string> sentences, const SpmTrainerOptions& opt = {});

// The tokenizer.ggml.* metadata (and general.architecture/name, as in a
// vocab-only file) of a model from train_spm_tokenizer, as llama.cpp's convert
// script maps it: pieces, scores, token types (UNKNOWN=2, CONTROL=3, UNUSED=5,
// BYTE=6, all else NORMAL=1), the <s>/</s>/<unk> (and <pad>, if any) ids,
// add_bos_token=true, add_eos_token=false, add_space_prefix=true.
Result<GgufWriter> spm_tokenizer_gguf(std::string_view model_proto, const std::string& name);

}  // namespace tandem
