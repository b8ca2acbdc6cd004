// Loads tokenizer.ggml.* into a Vocab, applying what the reference (llama.cpp at
// c392e509) applies while loading: per-model default special ids and flags,
// per-pre-tokenizer BPE flags, control-type fix-ups of end-of-turn/FIM tokens
// found by their text, and the Phi-3 / Jina strip attributes. Token ids depend
// on all of these, so they live here, next to the metadata they complete.
#include "tandem/tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <initializer_list>
#include <string_view>

#include "tandem/gguf/gguf_file.h"

namespace tandem {
namespace {

// A special id from metadata. As in the reference, a value outside the
// vocabulary keeps the default (a warning there), so files the reference loads
// load here too.
Status read_id(const GgufFile& f, const char* key, int32_t n_tokens, int32_t& out) {
  if (!f.find(key)) return ok_status();
  auto v = f.get_int(key, -1);
  if (!v) return v.error();
  if (*v >= 0 && *v < n_tokens) out = static_cast<int32_t>(*v);
  return ok_status();
}

Status read_flag(const GgufFile& f, const char* key, bool& out) {
  auto b = f.get_bool(key, out);
  if (!b) return b.error();
  out = *b;
  return ok_status();
}

bool contains_any(std::string_view s, std::initializer_list<std::string_view> parts) {
  for (auto p : parts)
    if (s.find(p) != std::string_view::npos) return true;
  return false;
}

// Defaults the reference sets per tokenizer model before reading metadata.
void set_model_defaults(Vocab& v) {
  v.unk = v.sep = v.pad = v.cls = v.mask = -1;
  switch (v.model) {
    case TokenizerModel::kSpm:
      v.bos = 1, v.eos = 2, v.unk = 0;
      v.add_space_prefix = true, v.clean_spaces = false, v.add_bos = true, v.add_eos = false;
      break;
    case TokenizerModel::kWordPiece:
      // BERT: [CLS]=101 doubles as BOS, [SEP]=102 closes the sequence.
      v.bos = 101, v.eos = -1, v.unk = 100, v.sep = 102, v.pad = 0, v.cls = 101, v.mask = 103;
      v.add_space_prefix = false, v.clean_spaces = true, v.add_bos = true, v.add_eos = false;
      break;
    case TokenizerModel::kBpe:
      v.bos = 11, v.eos = 11;
      v.add_space_prefix = false, v.clean_spaces = true, v.add_bos = false, v.add_eos = false;
      // Flags that depend on the pre-tokenizer (the regexes themselves belong to BpeEncoder).
      const std::string& p = v.pre;
      if (p == "llama3" || p == "llama-v3" || p == "llama-bpe" || p == "falcon3") {
        v.ignore_merges = true, v.add_bos = true;
      } else if (p == "tekken") {
        v.clean_spaces = false, v.ignore_merges = true, v.add_bos = true;
      } else if (p == "chameleon") {
        v.clean_spaces = false, v.add_bos = true;
      } else if (p == "chatglm-bpe") {
        v.bos = -1;
      } else if (p == "deepseek-llm" || p == "deepseek-coder" || p == "deepseek-v3" || p == "command-r" ||
                 p == "qwen2" || p == "poro-chat" || p == "viking" || p == "smollm") {
        v.clean_spaces = false;
      }
      break;
  }
}

// The reference finds end-of-turn and fill-in-the-middle tokens by their text
// when metadata does not name them, and forces them to control type, which
// changes how input text containing them is split. Among several candidates
// the reference takes whichever its hash map yields first; here the first in
// list order that exists.
void detect_special_by_text(Vocab& v) {
  auto force_control = [&v](int32_t id) { v.types[static_cast<size_t>(id)] = TokenType::kControl; };
  struct Rule {
    int32_t* id;
    std::initializer_list<std::string_view> texts;
  };
  const Rule rules[] = {
      {&v.eot,
       {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"}},
      {&v.eom, {"<|eom_id|>"}},
      {&v.fim_pre, {"<|fim_prefix|>", "<fim-prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>"}},
      {&v.fim_suf, {"<|fim_suffix|>", "<fim-suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>"}},
      {&v.fim_mid, {"<|fim_middle|>", "<fim-middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>"}},
      {&v.fim_pad, {"<|fim_pad|>", "<fim-pad>", "<PAD>"}},
      {&v.fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"}},
      {&v.fim_sep, {"<|file_sep|>"}},
  };
  for (const Rule& r : rules) {
    if (*r.id != -1) continue;
    for (auto text : r.texts) {
      int32_t id = v.find(std::string(text));
      if (id < 0) continue;
      *r.id = id;
      force_control(id);
      break;
    }
  }
  // Every end-of-generation token is control type, whatever the metadata says.
  for (std::string_view text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                "<|eom_id|>", "<EOT>"}) {
    int32_t id = v.find(std::string(text));
    if (id >= 0) force_control(id);
  }
}

// Per-token strip attributes the reference sets by model or pre-tokenizer name.
void set_strip_attributes(Vocab& v, std::string model_name) {
  std::transform(model_name.begin(), model_name.end(), model_name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto set = [&v](int32_t id, uint8_t bit, bool on) {
    if (id < 0) return;
    if (v.strip.empty()) v.strip.assign(v.tokens.size(), kStripNone);
    uint8_t& s = v.strip[static_cast<size_t>(id)];
    s = on ? static_cast<uint8_t>(s | bit) : static_cast<uint8_t>(s & ~bit);
  };
  if (contains_any(v.pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"})) {
    set(v.find("<mask>"), kStripLeft, true);
  } else if (contains_any(model_name, {"phi-3", "phi3"})) {
    // Phi-3's special tokens swallow the whitespace after them.
    for (int32_t id = 0; id < v.size(); ++id) {
      TokenType t = v.type(id);
      if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown)
        set(id, kStripRight, true);
    }
    set(v.find("</s>"), kStripRight, true);
    for (const char* text : {"<unk>", "<s>", "<|endoftext|>"}) set(v.find(text), kStripRight, false);
  }
}

}  // namespace

Status Vocab::build_index() {
  if (scores.empty()) scores.assign(tokens.size(), 0.0f);
  if (types.empty()) types.assign(tokens.size(), TokenType::kNormal);
  if (scores.size() != tokens.size() || types.size() != tokens.size() ||
      (!strip.empty() && strip.size() != tokens.size()))
    return make_error("vocabulary arrays differ in length: ", tokens.size(), " tokens, ", scores.size(), " scores, ",
                      types.size(), " types");
  if (tokens.size() > static_cast<size_t>(INT32_MAX)) return make_error("vocabulary has too many tokens");
  token_to_id.clear();
  token_to_id.reserve(tokens.size());
  for (int32_t i = 0; i < size(); ++i) {
    auto [it, inserted] = token_to_id.emplace(tokens[static_cast<size_t>(i)], i);
    // The reference aborts on a repeated text (its map would lose an id).
    if (!inserted) return make_error("token text '", it->first, "' appears twice (ids ", it->second, " and ", i, ")");
  }
  return ok_status();
}

Result<Vocab> Vocab::from_gguf(const GgufFile& f) {
  Vocab v;
  auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return model.error();
  if (model->empty()) return make_error(f.path(), ": no tokenizer: metadata 'tokenizer.ggml.model' is missing");
  v.model_name = *model;
  if (*model == "llama") {
    v.model = TokenizerModel::kSpm;
  } else if (*model == "gpt2") {
    v.model = TokenizerModel::kBpe;
  } else if (*model == "bert") {
    v.model = TokenizerModel::kWordPiece;
  } else {
    return make_error(f.path(), ": unsupported tokenizer.ggml.model '", *model, "' (expected llama, gpt2 or bert)");
  }
  auto pre = f.get_string("tokenizer.ggml.pre");
  if (!pre) return pre.error();
  v.pre = *pre;

  auto tokens = f.get_array("tokenizer.ggml.tokens", GgufValueType::STRING);
  if (!tokens) return tokens.error();
  if (!*tokens || (*tokens)->items.empty())
    return make_error(f.path(), ": metadata 'tokenizer.ggml.tokens' is missing or empty");
  const auto& items = (*tokens)->items;
  if (items.size() > static_cast<size_t>(INT32_MAX))
    return make_error(f.path(), ": tokenizer.ggml.tokens has ", items.size(), " entries (too many)");
  const int32_t n = static_cast<int32_t>(items.size());
  v.tokens.reserve(items.size());
  for (int32_t i = 0; i < n; ++i) {
    v.tokens.push_back(*items[static_cast<size_t>(i)].as_string());
    // An empty text would match everywhere; the reference renames it the same way.
    if (v.tokens.back().empty()) v.tokens.back() = "[EMPTY_" + std::to_string(i) + "]";
  }

  auto scores = f.get_array("tokenizer.ggml.scores", GgufValueType::FLOAT32);
  if (!scores) return scores.error();
  if (*scores) {
    if ((*scores)->items.size() != items.size())
      return make_error(f.path(), ": tokenizer.ggml.scores has ", (*scores)->items.size(), " entries, expected ", n);
    v.scores.reserve(items.size());
    for (const auto& s : (*scores)->items) v.scores.push_back(static_cast<float>(*s.as_float()));
  }

  auto types = f.get_array("tokenizer.ggml.token_type", GgufValueType::ARRAY);
  if (!types) return types.error();
  if (*types) {
    if ((*types)->items.size() != items.size())
      return make_error(f.path(), ": tokenizer.ggml.token_type has ", (*types)->items.size(), " entries, expected ", n);
    v.types.reserve(items.size());
    for (const auto& t : (*types)->items) {
      auto k = t.as_int();
      if (!k) return make_error(f.path(), ": tokenizer.ggml.token_type holds ", t.to_string(), " (expected integers)");
      // Values outside llama.cpp's enum read as undefined there too.
      v.types.push_back(*k >= 0 && *k <= 6 ? static_cast<TokenType>(*k) : TokenType::kUndefined);
    }
  }
  if (auto st = v.build_index(); !st) return make_error(f.path(), ": ", st.error().message);

  auto merges = f.get_array("tokenizer.ggml.merges", GgufValueType::STRING);
  if (!merges) return merges.error();
  if (*merges) {
    v.merges.reserve((*merges)->items.size());
    for (const auto& m : (*merges)->items) v.merges.push_back(*m.as_string());
  }
  if (v.model == TokenizerModel::kBpe && v.merges.empty())
    return make_error(f.path(), ": gpt2 tokenizer without 'tokenizer.ggml.merges'");

  set_model_defaults(v);
  // A default beyond a small vocabulary names no token.
  for (int32_t* id : {&v.bos, &v.eos, &v.unk, &v.sep, &v.pad, &v.cls, &v.mask})
    if (*id >= n) *id = -1;

  TANDEM_TRY(read_flag(f, "tokenizer.ggml.add_space_prefix", v.add_space_prefix));
  TANDEM_TRY(read_flag(f, "tokenizer.ggml.remove_extra_whitespaces", v.remove_extra_whitespaces));
  struct IdKey {
    const char* key;
    int32_t* id;
  };
  // The misspelt "seperator" is the key llama.cpp writes and reads; the last
  // three are deprecated spellings of the FIM keys, read after the new ones.
  for (IdKey k : {IdKey{"tokenizer.ggml.bos_token_id", &v.bos}, IdKey{"tokenizer.ggml.eos_token_id", &v.eos},
                  IdKey{"tokenizer.ggml.eot_token_id", &v.eot}, IdKey{"tokenizer.ggml.eom_token_id", &v.eom},
                  IdKey{"tokenizer.ggml.unknown_token_id", &v.unk}, IdKey{"tokenizer.ggml.seperator_token_id", &v.sep},
                  IdKey{"tokenizer.ggml.padding_token_id", &v.pad}, IdKey{"tokenizer.ggml.cls_token_id", &v.cls},
                  IdKey{"tokenizer.ggml.mask_token_id", &v.mask}, IdKey{"tokenizer.ggml.fim_pre_token_id", &v.fim_pre},
                  IdKey{"tokenizer.ggml.fim_suf_token_id", &v.fim_suf}, IdKey{"tokenizer.ggml.fim_mid_token_id", &v.fim_mid},
                  IdKey{"tokenizer.ggml.fim_pad_token_id", &v.fim_pad}, IdKey{"tokenizer.ggml.fim_rep_token_id", &v.fim_rep},
                  IdKey{"tokenizer.ggml.fim_sep_token_id", &v.fim_sep}, IdKey{"tokenizer.ggml.prefix_token_id", &v.fim_pre},
                  IdKey{"tokenizer.ggml.suffix_token_id", &v.fim_suf}, IdKey{"tokenizer.ggml.middle_token_id", &v.fim_mid}}) {
    TANDEM_TRY(read_id(f, k.key, n, *k.id));
  }
  TANDEM_TRY(read_flag(f, "tokenizer.ggml.add_bos_token", v.add_bos));
  TANDEM_TRY(read_flag(f, "tokenizer.ggml.add_eos_token", v.add_eos));

  detect_special_by_text(v);
  auto name = f.get_string("general.name");
  if (!name) return name.error();
  set_strip_attributes(v, *name);
  return v;
}

}  // namespace tandem
