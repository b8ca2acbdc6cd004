// Pre-tokenizers of byte-level BPE: before merging, text is cut into pieces
// (words, number groups, punctuation runs, whitespace) by the regular
// expressions of the model family named in tokenizer.ggml.pre. Merges never
// cross a piece boundary, so these cuts decide the token ids as much as the
// merges do.
//
// Each family reproduces the reference tokenizer (llama.cpp) exactly: its list
// of regexes is applied in sequence, each regex to every piece the previous one
// produced, and text a regex does not match stays a piece of its own. The
// regexes are hand-written matchers over Unicode categories (no std::regex: it
// is slow and does not know Unicode), written to give the very match the
// reference's ECMAScript engine gives, backtracking order included.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"

namespace tandem {

// One regex list of the reference; several tokenizer.ggml.pre names share one.
enum class PreTokenizerFamily : uint8_t {
  kDefault,        // missing/unknown-to-the-converter pre: punctuation, GPT-2, numbers, digit triples
  kGpt2,           // GPT-2 regex alone (gpt-2, mpt, olmo, jais, phi-2, jina-*, roberta-bpe, gigachat)
  kLlama3,         // Llama 3 regex, digits in groups of 3 (llama-bpe, llama3, dbrx, smaug-bpe, chatglm-bpe, falcon3)
  kQwen2,          // Llama 3 regex with single digits (qwen2, stablelm2, megrez, deepseek-r1-qwen)
  kDeepseekLlm,    // DeepSeek LLM: newlines, cased letters, punctuation, trailing space, CJK, numbers
  kDeepseekCoder,  // DeepSeek Coder: newlines, letters, punctuation, CJK, single digits
  kDeepseek3,      // DeepSeek V3: digit triples, CJK/kana, then a Llama-3-like regex
  kFalcon,         // Falcon: punctuation runs, GPT-2, digit triples
  kStarcoder,      // single digits, then GPT-2 (starcoder, refact, command-r, smollm, codeshell, exaone, minerva-7b)
  kBloom,          // BLOOM: words with an optional leading space (bloom, poro-chat, gpt3-finnish)
  kViking,         // Viking: BLOOM's regex, then single digits
  kChameleon,      // Chameleon: sentinel and image tokens, tabs/spaces, digits, punctuation, GPT-2
  kTekken,         // Mistral Tekken: camel-case-aware words, single digits
};

class PreTokenizer {
 public:
  // The pre-tokenizer the reference uses for tokenizer.ggml.pre = `pre` (an empty
  // name means the key was absent: the default family). An unknown name is an
  // error naming it, as in the reference.
  static Result<PreTokenizer> from_name(std::string_view pre);

  PreTokenizerFamily family() const { return family_; }
  const std::string& name() const { return name_; }
  // The reference looks a whole piece up in the vocabulary before merging it
  // for these names (Llama 3, Tekken): a piece that is a token stays one.
  bool ignore_merges() const { return ignore_merges_; }

  // Splits code points (as unicode::utf8_decode gives them) into pieces and
  // appends the end index (exclusive) of each piece to `ends`, in order; the
  // last end is cps.size(). Empty input gives no pieces.
  void split(std::span<const uint32_t> cps, std::vector<uint32_t>& ends) const;
  // The pieces as UTF-8, for tests and tools (invalid input decoded as the reference does).
  std::vector<std::string> split_text(std::string_view text) const;

 private:
  PreTokenizer(PreTokenizerFamily family, std::string name, bool ignore_merges)
      : family_(family), name_(std::move(name)), ignore_merges_(ignore_merges) {}

  PreTokenizerFamily family_ = PreTokenizerFamily::kDefault;
  std::string name_;
  bool ignore_merges_ = false;
};

}  // namespace tandem
