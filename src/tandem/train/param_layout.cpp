// Flat parameter layout of the trainer's decoder, and its seeded initialization.
#include "tandem/train/param_layout.h"

#include <cmath>

#include "tandem/sampling/rng.h"

namespace tandem {

int64_t ParamTensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t ParamLayout::add(std::string name, std::vector<int64_t> shape, bool decay) {
  ParamTensor t{std::move(name), total_, std::move(shape), decay};
  total_ += t.size();
  tensors_.push_back(std::move(t));
  return tensors_.back().offset;
}

ParamLayout::ParamLayout(const DecoderConfig& c) {
  const int64_t D = c.dim;
  token_embd_ = add("token_embd.weight", {c.vocab, D}, true);
  for (int64_t il = 0; il < c.n_layers; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerOffsets L{};
    L.attn_norm = add(p + "attn_norm.weight", {D}, false);
    L.wqkv = add(p + "attn_q.weight", {c.q_width(), D}, true);
    add(p + "attn_k.weight", {c.kv_width(), D}, true);
    add(p + "attn_v.weight", {c.kv_width(), D}, true);
    L.wo = add(p + "attn_output.weight", {D, c.q_width()}, true);
    L.ffn_norm = add(p + "ffn_norm.weight", {D}, false);
    L.w_gate_up = add(p + "ffn_gate.weight", {c.ffn, D}, true);
    add(p + "ffn_up.weight", {c.ffn, D}, true);
    L.w_down = add(p + "ffn_down.weight", {D, c.ffn}, true);
    layers_.push_back(L);
  }
  output_norm_ = add("output_norm.weight", {D}, false);
  output_ = c.tied ? token_embd_ : add("output.weight", {c.vocab, D}, true);
}

const ParamTensor* ParamLayout::find(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

template <class Real>
void init_params(const DecoderConfig& c, const ParamLayout& layout, std::span<Real> params, uint64_t seed) {
  Rng rng(seed);
  // Box-Muller from two uniform doubles; the pair's second value is used too, so
  // the stream is a fixed function of the seed and the tensor order.
  bool have_spare = false;
  double spare = 0;
  auto normal = [&]() {
    if (have_spare) {
      have_spare = false;
      return spare;
    }
    double u1 = rng.uniform_double(), u2 = rng.uniform_double();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
    spare = r * std::sin(th);
    have_spare = true;
    return r * std::cos(th);
  };
  const double std_base = 0.02, std_resid = 0.02 / std::sqrt(2.0 * static_cast<double>(c.n_layers));
  for (const ParamTensor& t : layout.tensors()) {
    Real* p = params.data() + t.offset;
    const int64_t n = t.size();
    if (t.shape.size() == 1) {
      for (int64_t i = 0; i < n; ++i) p[i] = Real(1);
      continue;
    }
    const bool resid = t.name.ends_with("attn_output.weight") || t.name.ends_with("ffn_down.weight");
    const double sd = resid ? std_resid : std_base;
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<Real>(static_cast<float>(normal() * sd));
  }
}

template void init_params<float>(const DecoderConfig&, const ParamLayout&, std::span<float>, uint64_t);
template void init_params<double>(const DecoderConfig&, const ParamLayout&, std::span<double>, uint64_t);

}  // namespace tandem
