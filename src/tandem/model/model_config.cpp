#include "tandem/model/model_config.h"

#include <cmath>
#include <string_view>

#include "tandem/gguf/gguf_file.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

// Families the engine runs, with the few ways they differ.
struct ArchRules {
  std::string_view name;
  RopeStyle rope;
  bool attn_bias;
};
constexpr ArchRules kArchs[] = {
    {"llama", RopeStyle::kNorm, false},
    {"mistral", RopeStyle::kNorm, false},
    {"qwen2", RopeStyle::kNeox, true},
};

}  // namespace

Result<ModelConfig> ModelConfig::from_gguf(const GgufFile& f) {
  ModelConfig c;
  // Checked first: the later parts of a split model may carry no other metadata.
  auto split = f.get_int("split.count", 1);
  if (!split) return split.error();
  if (*split > 1)
    return make_error(f.path(), ": one part of a split model (split.count = ", *split,
                      "); merge the parts into one file first (llama-gguf-split --merge)");
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  if (arch->empty()) return make_error(f.path(), ": metadata 'general.architecture' is missing");
  const ArchRules* rules = nullptr;
  for (const auto& r : kArchs)
    if (r.name == *arch) rules = &r;
  if (!rules)
    return make_error(f.path(), ": unsupported architecture '", *arch, "' (supported: llama, mistral, qwen2)");
  c.arch = *arch;
  c.rope = rules->rope;
  c.attn_bias = rules->attn_bias;
  const std::string p = c.arch + ".";

  auto need = [&](const char* key, int64_t& out) -> Status {
    auto v = f.get_int(p + key, -1);
    if (!v) return v.error();
    if (*v <= 0) return make_error(f.path(), ": metadata '", p, key, "' is missing or not positive");
    out = *v;
    return ok_status();
  };
  TANDEM_TRY(need("embedding_length", c.n_embd));
  TANDEM_TRY(need("block_count", c.n_layer));
  TANDEM_TRY(need("feed_forward_length", c.n_ff));
  TANDEM_TRY(need("attention.head_count", c.n_head));
  TANDEM_TRY(need("context_length", c.n_ctx_train));
  // Mixtral-style files say "llama" too; their feed-forward is a set of experts.
  auto experts = f.get_int(p + "expert_count", 0);
  if (!experts) return experts.error();
  if (*experts > 0)
    return make_error(f.path(), ": a mixture of experts (", p, "expert_count = ", *experts,
                      ") is not supported; tandem runs dense llama and qwen2 models");

  auto kv = f.get_int(p + "attention.head_count_kv", c.n_head);
  if (!kv) return kv.error();
  c.n_head_kv = *kv;
  if (c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0)
    return make_error(f.path(), ": ", p, "attention.head_count_kv = ", c.n_head_kv, " must divide head_count = ", c.n_head);
  if (c.n_embd % c.n_head != 0 && !f.find(p + "attention.key_length"))
    return make_error(f.path(), ": embedding_length ", c.n_embd, " is not a multiple of head_count ", c.n_head);
  auto kl = f.get_int(p + "attention.key_length", c.n_embd / c.n_head);
  auto vl = f.get_int(p + "attention.value_length", c.n_embd / c.n_head);
  if (!kl) return kl.error();
  if (!vl) return vl.error();
  if (*kl != *vl || *kl <= 0)
    return make_error(f.path(), ": attention key_length ", *kl, " and value_length ", *vl, " must be equal and positive");
  c.head_dim = *kl;
  auto rot = f.get_int(p + "rope.dimension_count", c.head_dim);
  if (!rot) return rot.error();
  c.n_rot = *rot;
  if (c.n_rot <= 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return make_error(f.path(), ": ", p, "rope.dimension_count = ", c.n_rot, " (expected an even number <= head size ",
                      c.head_dim, ")");
  auto base = f.get_float(p + "rope.freq_base", 10000.0);
  if (!base) return base.error();
  c.rope_freq_base = static_cast<float>(*base);
  auto scale_type = f.get_string(p + "rope.scaling.type", "none");
  if (!scale_type) return scale_type.error();
  if (*scale_type == "linear") {
    auto factor = f.get_float(p + "rope.scaling.factor", 1.0);
    if (!factor) return factor.error();
    if (*factor > 0) c.rope_freq_scale = static_cast<float>(1.0 / *factor);
  } else if (*scale_type != "none") {
    return make_error(f.path(), ": unsupported ", p, "rope.scaling.type '", *scale_type, "' (supported: none, linear)");
  }
  auto fs = f.get_float(p + "rope.scale_linear", 0.0);
  if (!fs) return fs.error();
  if (*fs > 0) c.rope_freq_scale = static_cast<float>(1.0 / *fs);
  auto eps = f.get_float(p + "attention.layer_norm_rms_epsilon", 1e-5);
  if (!eps) return eps.error();
  c.rms_eps = static_cast<float>(*eps);

  const GgufTensorInfo* emb = f.tensor("token_embd.weight");
  if (!emb) return make_error(f.path(), ": tensor 'token_embd.weight' is missing");
  if (emb->shape.size() != 2)
    return make_error(f.path(), ": tensor 'token_embd.weight' has shape ", emb->shape_string(), ", expected [",
                      c.n_embd, ", n_vocab]");
  c.n_vocab = static_cast<int64_t>(emb->shape[1]);
  auto nv = f.get_int(p + "vocab_size", c.n_vocab);
  if (!nv) return nv.error();
  if (*nv != c.n_vocab)
    return make_error(f.path(), ": ", p, "vocab_size = ", *nv, " but token_embd.weight has ", c.n_vocab, " rows");
  c.tied_output = f.tensor("output.weight") == nullptr;

  if (const GgufTensorInfo* ff = f.tensor("rope_freqs.weight")) {
    const int64_t half = c.n_rot / 2;
    if (ff->shape.size() != 1 || static_cast<int64_t>(ff->shape[0]) != half)
      return make_error(f.path(), ": tensor 'rope_freqs.weight' has shape ", ff->shape_string(), ", expected [", half,
                        "] (half of rope.dimension_count ", c.n_rot, ")");
    if (auto st = check_row_shape(ff->type, half); !st)
      return make_error(f.path(), ": tensor 'rope_freqs.weight': ", st.error().message);
    c.rope_freq_factors.resize(static_cast<size_t>(half));
    dequantize_row(ff->type, ff->data, c.rope_freq_factors.data(), half);
    for (int64_t i = 0; i < half; ++i) {
      const float v = c.rope_freq_factors[static_cast<size_t>(i)];
      if (!std::isfinite(v) || v <= 0)
        return make_error(f.path(), ": tensor 'rope_freqs.weight' holds ", v, " at ", i, " (factors must be positive)");
    }
  }
  return c;
}

std::vector<float> ModelConfig::rope_inv_freq() const {
  const int64_t half = n_rot / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    const double e = -2.0 * static_cast<double>(i) / static_cast<double>(n_rot);
    double v = rope_freq_scale * std::pow(static_cast<double>(rope_freq_base), e);
    if (!rope_freq_factors.empty()) v /= rope_freq_factors[static_cast<size_t>(i)];
    inv[static_cast<size_t>(i)] = static_cast<float>(v);
  }
  return inv;
}

}  // namespace tandem
