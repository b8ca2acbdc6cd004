// Loading a llama-family GGUF into the trainer's parameter layout (see gguf_import.h).
#include "tandem/train/gguf_import.h"

#include "tandem/gguf/gguf_file.h"
#include "tandem/model/model_config.h"
#include "tandem/tensor/quants.h"
#include "tandem/train/param_layout.h"

namespace tandem {

Result<ImportedModel> import_gguf(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return file.error();
  const GgufFile& f = *file;
  auto mc = ModelConfig::from_gguf(f);
  if (!mc) return mc.error();
  const ModelConfig& m = *mc;
  if (m.rope != RopeStyle::kNorm || m.attn_bias)
    return make_error(path, ": architecture '", m.arch, "' (NEOX rope or q/k/v biases) cannot be trained here");
  if (m.head_dim * m.n_head != m.n_embd || m.n_rot != m.head_dim || m.rope_freq_scale != 1.0f ||
      !m.rope_freq_factors.empty())
    return make_error(path, ": head size ", m.head_dim, " x ", m.n_head, " heads != dim ", m.n_embd, ", or rope over ",
                      m.n_rot, " of ", m.head_dim,
                      " dimensions, or rope scaling or frequency factors: not supported by the trainer");
  ImportedModel out;
  DecoderConfig& c = out.config;
  c.dim = m.n_embd;
  c.n_layers = m.n_layer;
  c.n_heads = m.n_head;
  c.n_kv_heads = m.n_head_kv;
  c.ffn = m.n_ff;
  c.vocab = m.n_vocab;
  c.ctx = m.n_ctx_train;
  c.rope_base = m.rope_freq_base;
  c.rms_eps = m.rms_eps;
  c.tied = m.tied_output;
  auto valid = c.validate();
  if (!valid) return make_error(path, ": ", valid.error().message);

  const ParamLayout layout(c);
  out.params.resize(static_cast<size_t>(layout.total()));
  for (const ParamTensor& t : layout.tensors()) {
    const GgufTensorInfo* info = f.tensor(t.name);
    if (!info) return make_error(path, ": tensor '", t.name, "' is missing");
    std::vector<uint64_t> want;  // ggml order
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) want.push_back(static_cast<uint64_t>(*it));
    if (info->shape != want)
      return make_error(path, ": tensor '", t.name, "' has shape ", info->shape_string(), ", expected ",
                        t.shape.size() == 1 ? "[" + std::to_string(t.shape[0]) + "]"
                                            : "[" + std::to_string(t.shape[1]) + ", " + std::to_string(t.shape[0]) + "]");
    const int64_t row = static_cast<int64_t>(info->shape[0]);
    auto st = check_row_shape(info->type, row);
    if (!st) return make_error(path, ": tensor '", t.name, "': ", st.error().message);
    const size_t rb = row_bytes(info->type, row);
    float* dst = out.params.data() + t.offset;
    for (int64_t r = 0; r < t.size() / row; ++r)
      dequantize_row(info->type, info->data + rb * static_cast<size_t>(r), dst + r * row, row);
  }
  out.tokenizer = tokenizer_metadata(f);
  auto name = f.get_string("general.name");
  if (name) out.name = *name;
  return out;
}

}  // namespace tandem
