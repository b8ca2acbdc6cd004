#include "tandem/tokenizer/vocab.h"

#include "tandem/gguf/gguf_file.h"

namespace tandem {
namespace {

Status read_id(const GgufFile& f, const char* key, int32_t n_tokens, int32_t& out) {
  auto v = f.get_int(key, -1);
  if (!v) return v.error();
  if (*v < -1 || *v >= n_tokens)
    return make_error(f.path(), ": metadata '", key, "' is ", *v, ", outside the vocabulary of ", n_tokens, " tokens");
  out = static_cast<int32_t>(*v);
  return ok_status();
}

}  // namespace

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
  v.token_to_id.reserve(items.size());
  for (int32_t i = 0; i < n; ++i) {
    v.tokens.push_back(*items[static_cast<size_t>(i)].as_string());
    // The first id of a duplicated text wins, as in the reference.
    v.token_to_id.emplace(v.tokens.back(), i);
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
      if (!k || *k < 0 || *k > 6)
        return make_error(f.path(), ": tokenizer.ggml.token_type holds ", t.to_string(), " (expected integers 0..6)");
      v.types.push_back(static_cast<TokenType>(*k));
    }
  } else {
    v.types.assign(items.size(), TokenType::kNormal);
  }

  auto merges = f.get_array("tokenizer.ggml.merges", GgufValueType::STRING);
  if (!merges) return merges.error();
  if (*merges) {
    v.merges.reserve((*merges)->items.size());
    for (const auto& m : (*merges)->items) v.merges.push_back(*m.as_string());
  }
  if (v.model == TokenizerModel::kBpe && v.merges.empty())
    return make_error(f.path(), ": gpt2 tokenizer without 'tokenizer.ggml.merges'");

  // Model-specific defaults, as the reference sets them before reading the flags.
  if (v.model == TokenizerModel::kSpm) {
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_bos = true, v.add_space_prefix = true;
  } else if (v.model == TokenizerModel::kBpe) {
    v.bos = 11, v.eos = 11;
    v.add_bos = false, v.add_space_prefix = false;
  } else {
    v.bos = 101, v.eos = -1, v.unk = 100, v.sep = 102, v.pad = 0, v.cls = 101, v.mask = 103;
    v.add_bos = true, v.add_eos = true, v.add_space_prefix = false;
  }
  auto clamp_default = [n](int32_t& id) {
    if (id >= n) id = -1;
  };
  for (int32_t* id : {&v.bos, &v.eos, &v.unk, &v.sep, &v.pad, &v.cls, &v.mask}) clamp_default(*id);

  struct IdKey {
    const char* key;
    int32_t* id;
  };
  for (IdKey k : {IdKey{"tokenizer.ggml.bos_token_id", &v.bos}, IdKey{"tokenizer.ggml.eos_token_id", &v.eos},
                  IdKey{"tokenizer.ggml.unknown_token_id", &v.unk}, IdKey{"tokenizer.ggml.seperator_token_id", &v.sep},
                  IdKey{"tokenizer.ggml.padding_token_id", &v.pad}, IdKey{"tokenizer.ggml.cls_token_id", &v.cls},
                  IdKey{"tokenizer.ggml.mask_token_id", &v.mask}, IdKey{"tokenizer.ggml.eot_token_id", &v.eot}}) {
    if (f.find(k.key)) TANDEM_TRY(read_id(f, k.key, n, *k.id));
  }
  struct FlagKey {
    const char* key;
    bool* flag;
  };
  for (FlagKey k : {FlagKey{"tokenizer.ggml.add_bos_token", &v.add_bos}, FlagKey{"tokenizer.ggml.add_eos_token", &v.add_eos},
                    FlagKey{"tokenizer.ggml.add_space_prefix", &v.add_space_prefix},
                    FlagKey{"tokenizer.ggml.remove_extra_whitespaces", &v.remove_extra_whitespaces}}) {
    auto b = f.get_bool(k.key, *k.flag);
    if (!b) return b.error();
    *k.flag = *b;
  }
  return v;
}

}  // namespace tandem
