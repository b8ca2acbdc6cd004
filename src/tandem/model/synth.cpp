#include "tandem/model/synth.h"

#include <cctype>
#include <cmath>
#include <random>
#include <vector>

#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

// general.file_type numbering of the reference (LLAMA_FTYPE_*), for the types synth writes.
int file_type_of(GgmlType t, bool k_mix) {
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q5_0: return 8;
    case GgmlType::Q5_1: return 9;
    case GgmlType::Q4_K: return k_mix ? 15 : 14;  // Q4_K_M : Q4_K_S
    case GgmlType::Q5_K: return k_mix ? 17 : 16;  // Q5_K_M : Q5_K_S
    case GgmlType::Q6_K: return 18;
    case GgmlType::BF16: return 32;
    default: return 0;
  }
}

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

// The reference's rule for which layers get more bits in *_K_M files.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

}  // namespace

Status parse_synth_type(const std::string& name, SynthParams& p) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "Q4_K_M" || up == "Q5_K_M") {
    p.type = up == "Q4_K_M" ? GgmlType::Q4_K : GgmlType::Q5_K;
    p.k_mix = true;
    return ok_status();
  }
  auto t = ggml_type_from_name(name);
  if (!t || !is_compute_type(*t))
    return make_error("unknown weight type '", name, "' (expected F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q4_K_M or Q5_K_M)");
  p.type = *t;
  p.k_mix = false;
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
  w.set("general.file_type", GgufValue::u32(static_cast<uint32_t>(file_type_of(p.type, p.k_mix))));
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
    TANDEM_TRY(mat(b + "attn_v.weight", p.dim, kv * hd, use_more_bits(l, p.layers)));
    if (p.arch == "qwen2") {
      TANDEM_TRY(vec(b + "attn_q.bias", fill.normal(p.dim, 0.1f)));
      TANDEM_TRY(vec(b + "attn_k.bias", fill.normal(kv * hd, 0.1f)));
      TANDEM_TRY(vec(b + "attn_v.bias", fill.normal(kv * hd, 0.1f)));
    }
    TANDEM_TRY(mat(b + "attn_output.weight", p.dim, p.dim));
    TANDEM_TRY(vec(b + "ffn_norm.weight", fill.norm_weights(p.dim)));
    TANDEM_TRY(mat(b + "ffn_gate.weight", p.dim, p.ffn));
    TANDEM_TRY(mat(b + "ffn_up.weight", p.dim, p.ffn));
    TANDEM_TRY(mat(b + "ffn_down.weight", p.ffn, p.dim, use_more_bits(l, p.layers)));
  }
  TANDEM_TRY(vec("output_norm.weight", fill.norm_weights(p.dim)));
  if (!p.tied) TANDEM_TRY(mat("output.weight", p.dim, n_vocab, true));
  return w.write_file(path);
}

}  // namespace tandem
