#include "tandem/model/synth.h"

#include <cmath>
#include <random>
#include <vector>

#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"
#include "tandem/model/weight_recipe.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

class Filler {
 public:
  explicit Filler(uint64_t seed) : rng_(seed) {}
  std::vector<float> normal(int64_t n, float stddev) {
    std::normal_distribution<float> d(0.0f, stddev);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = d(rng_);
    return v;
  }
  std::vector<float> norm_weights(int64_t n) {
    auto v = normal(n, 0.1f);
    for (float& x : v) x += 1.0f;
    return v;
  }

 private:
  std::mt19937_64 rng_;
};

Status add_matrix(GgufWriter& w, const std::string& name, GgmlType type, int64_t n_in, int64_t n_out,
                  const std::vector<float>& data) {
  std::vector<uint8_t> bytes(row_bytes(type, n_in) * static_cast<size_t>(n_out));
  const size_t rb = row_bytes(type, n_in);
  for (int64_t r = 0; r < n_out; ++r)
    quantize_row(type, data.data() + r * n_in, bytes.data() + static_cast<size_t>(r) * rb, n_in);
  return w.add_tensor(name, type, {static_cast<uint64_t>(n_in), static_cast<uint64_t>(n_out)}, bytes);
}

}  // namespace

Status parse_synth_type(const std::string& name, SynthParams& p) {
  auto r = parse_weight_recipe(name);
  if (!r) return r.error();
  p.type = r->type;
  p.k_mix = r->k_mix;
  return ok_status();
}

Status synth_model(const SynthParams& p, const std::string& path) {
  if (p.arch != "llama" && p.arch != "qwen2") return make_error("synth: --arch must be llama or qwen2, got '", p.arch, "'");
  const int64_t kv = p.kv_heads > 0 ? p.kv_heads : p.heads;
  if (p.dim <= 0 || p.layers <= 0 || p.heads <= 0 || p.ffn <= 0 || p.ctx <= 0)
    return make_error("synth: dim, layers, heads, ffn and ctx must be positive");
  if (p.dim % p.heads != 0) return make_error("synth: dim ", p.dim, " is not a multiple of heads ", p.heads);
  if (p.heads % kv != 0) return make_error("synth: kv-heads ", kv, " must divide heads ", p.heads);
  if ((p.dim / p.heads) % 2 != 0) return make_error("synth: head size ", p.dim / p.heads, " must be even (rope)");
  TANDEM_TRY(check_row_shape(p.type, p.dim));
  TANDEM_TRY(check_row_shape(p.type, p.ffn));
  if (p.vocab_from.empty()) return make_error("synth: a vocabulary GGUF is required (--vocab-from)");
  auto vf = GgufFile::open(p.vocab_from);
  if (!vf) return vf.error();
  auto toks = vf->get_array("tokenizer.ggml.tokens", GgufValueType::STRING);
  if (!toks) return toks.error();
  if (!*toks) return make_error(p.vocab_from, ": no tokenizer.ggml.tokens to copy");
  const int64_t n_vocab = static_cast<int64_t>((*toks)->items.size());

  GgufWriter w;
  const std::string a = p.arch + ".";
  const int64_t hd = p.dim / p.heads;
  w.set("general.architecture", GgufValue::string(p.arch));
  w.set("general.name", GgufValue::string("tandem-synth"));
  w.set("general.file_type", GgufValue::u32(static_cast<uint32_t>(WeightRecipe{p.type, p.k_mix}.file_type())));
  w.set(a + "context_length", GgufValue::u32(static_cast<uint32_t>(p.ctx)));
  w.set(a + "embedding_length", GgufValue::u32(static_cast<uint32_t>(p.dim)));
  w.set(a + "block_count", GgufValue::u32(static_cast<uint32_t>(p.layers)));
  w.set(a + "feed_forward_length", GgufValue::u32(static_cast<uint32_t>(p.ffn)));
  w.set(a + "attention.head_count", GgufValue::u32(static_cast<uint32_t>(p.heads)));
  w.set(a + "attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(kv)));
  w.set(a + "rope.dimension_count", GgufValue::u32(static_cast<uint32_t>(hd)));
  w.set(a + "rope.freq_base", GgufValue::f32(p.rope_base));
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(p.rms_eps));
  for (const auto& [k, v] : vf->metadata())
    if (k.rfind("tokenizer.", 0) == 0) w.set(k, v);

  Filler fill(p.seed);
  auto mat = [&](const std::string& name, int64_t n_in, int64_t n_out, bool more_bits = false) {
    const GgmlType t = p.k_mix && more_bits ? GgmlType::Q6_K : p.type;
    return add_matrix(w, name, t, n_in, n_out, fill.normal(n_in * n_out, 1.0f / std::sqrt(static_cast<float>(n_in))));
  };
  auto vec = [&](const std::string& name, std::vector<float> v) {
    return w.add_tensor_f32(name, {static_cast<uint64_t>(v.size())}, v);
  };
  TANDEM_TRY(add_matrix(w, "token_embd.weight", p.type, p.dim, n_vocab, fill.normal(p.dim * n_vocab, 0.2f)));
  for (int64_t l = 0; l < p.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    TANDEM_TRY(vec(b + "attn_norm.weight", fill.norm_weights(p.dim)));
    TANDEM_TRY(mat(b + "attn_q.weight", p.dim, p.dim));
    TANDEM_TRY(mat(b + "attn_k.weight", p.dim, kv * hd));
    TANDEM_TRY(mat(b + "attn_v.weight", p.dim, kv * hd, WeightRecipe::more_bits(l, p.layers)));
    if (p.arch == "qwen2") {
      TANDEM_TRY(vec(b + "attn_q.bias", fill.normal(p.dim, 0.1f)));
      TANDEM_TRY(vec(b + "attn_k.bias", fill.normal(kv * hd, 0.1f)));
      TANDEM_TRY(vec(b + "attn_v.bias", fill.normal(kv * hd, 0.1f)));
    }
    TANDEM_TRY(mat(b + "attn_output.weight", p.dim, p.dim));
    TANDEM_TRY(vec(b + "ffn_norm.weight", fill.norm_weights(p.dim)));
    TANDEM_TRY(mat(b + "ffn_gate.weight", p.dim, p.ffn));
    TANDEM_TRY(mat(b + "ffn_up.weight", p.dim, p.ffn));
    TANDEM_TRY(mat(b + "ffn_down.weight", p.ffn, p.dim, WeightRecipe::more_bits(l, p.layers)));
  }
  TANDEM_TRY(vec("output_norm.weight", fill.norm_weights(p.dim)));
  if (!p.tied) TANDEM_TRY(mat("output.weight", p.dim, n_vocab, true));
  return w.write_file(path);
}

}  // namespace tandem
