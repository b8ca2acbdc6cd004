// Training the house tokenizer with sentencepiece and writing it as a GGUF
// `llama` tokenizer: see spm_tokenizer_trainer.h for the settings and why.
#include "tandem/data/spm_tokenizer_trainer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdio>
#include <unordered_map>
#include <vector>

#include "tandem/tokenizer/vocab.h"

namespace tandem {
namespace {

// Feeds sentences to the trainer from memory, so the caller decides where text
// comes from (and sentencepiece never opens files by name on our behalf).
class SpanSentenceIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit SpanSentenceIterator(std::span<const std::string> s) : s_(s) { skip_empty(); }
  bool done() const override { return i_ >= s_.size(); }
  void Next() override {
    ++i_;
    skip_empty();
  }
  const std::string& value() const override { return s_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void skip_empty() {
    while (i_ < s_.size() && s_[i_].empty()) ++i_;
  }
  std::span<const std::string> s_;
  size_t i_ = 0;
};

Error spm_error(std::string_view what, const sentencepiece::util::Status& st) {
  return make_error("sentencepiece ", what, ": ", st.ToString());
}

}  // namespace

Result<std::string> train_spm_tokenizer(std::span<const std::string> sentences, const SpmTrainerOptions& opt) {
  size_t n_nonempty = 0;
  for (const std::string& s : sentences) n_nonempty += !s.empty();
  if (n_nonempty == 0) return make_error("tokenizer training: no non-empty sentences in the input");
  if (opt.vocab_size < 1 || opt.max_piece_length < 1)
    return make_error("tokenizer training: vocab_size ", opt.vocab_size, " and max_piece_length ",
                      opt.max_piece_length, " must be positive");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(opt.vocab_size)},
      {"max_sentencepiece_length", std::to_string(opt.max_piece_length)},
      {"byte_fallback", "true"},
      {"character_coverage", "1.0"},
      {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "true"},
      {"remove_extra_whitespaces", "false"},
      {"split_by_whitespace", "true"},
      {"split_digits", "false"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      // All sentences, none sampled: with sampling the model would depend on a random draw.
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      // Sentencepiece silently skips longer sentences; a line of the corpus should never be dropped.
      {"max_sentence_length", "1048576"},
      {"num_threads", "1"},
      {"minloglevel", opt.log ? "0" : "1"},
  };
  SpanSentenceIterator it(sentences);
  std::string proto;
  if (auto st = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto); !st.ok())
    return spm_error("training", st);
  if (proto.empty()) return make_error("sentencepiece training returned an empty model");
  return proto;
}

Result<GgufWriter> spm_tokenizer_gguf(std::string_view model_proto, const std::string& name) {
  sentencepiece::SentencePieceProcessor sp;
  if (auto st = sp.LoadFromSerializedProto(model_proto); !st.ok()) return spm_error("model", st);
  const int n = sp.GetPieceSize();
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<size_t>(n));
  scores.reserve(static_cast<size_t>(n));
  types.reserve(static_cast<size_t>(n));
  for (int id = 0; id < n; ++id) {
    tokens.push_back(sp.IdToPiece(id));
    scores.push_back(sp.GetScore(id));
    // The order of llama.cpp's convert script: a piece that is several of these
    // (never the case for a trained model) takes the first.
    TokenType t = TokenType::kNormal;
    if (sp.IsUnknown(id))
      t = TokenType::kUnknown;
    else if (sp.IsControl(id))
      t = TokenType::kControl;
    else if (sp.IsUnused(id))
      t = TokenType::kUnused;
    else if (sp.IsByte(id))
      t = TokenType::kByte;
    types.push_back(static_cast<int32_t>(t));
  }
  // A byte-fallback model without all 256 byte pieces would turn unseen text into <unk>.
  for (int b = 0; b < 256; ++b) {
    char piece[8];
    std::snprintf(piece, sizeof piece, "<0x%02X>", b);
    const int id = sp.PieceToId(piece);
    if (id == sp.unk_id() || !sp.IsByte(id))
      return make_error("sentencepiece model: byte piece ", piece, " is missing (train with byte_fallback=true)");
  }
  if (sp.unk_id() < 0 || sp.bos_id() < 0 || sp.eos_id() < 0)
    return make_error("sentencepiece model: <unk>, <s> and </s> must all exist (ids ", sp.unk_id(), ", ",
                      sp.bos_id(), ", ", sp.eos_id(), ")");

  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("general.name", GgufValue::string(name));
  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(sp.bos_id())));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(sp.eos_id())));
  w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(static_cast<uint32_t>(sp.unk_id())));
  if (sp.pad_id() >= 0) w.set("tokenizer.ggml.padding_token_id", GgufValue::u32(static_cast<uint32_t>(sp.pad_id())));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
  // The training settings above; written explicitly so no reader has to rely on a default.
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(true));
  w.set("tokenizer.ggml.remove_extra_whitespaces", GgufValue::boolean(false));
  return w;
}

}  // namespace tandem
