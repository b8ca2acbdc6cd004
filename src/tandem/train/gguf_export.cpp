// GGUF export of trained weights with the fixtures' llama conventions (see gguf_export.h).
#include "tandem/train/gguf_export.h"

#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"
#include "tandem/tensor/quants.h"
#include "tandem/train/param_layout.h"

namespace tandem {
namespace {

// general.file_type values (llama.cpp's LLAMA_FTYPE_*) of the types we write.
uint32_t file_type(GgmlType t) {
  switch (t) {
    case GgmlType::F16: return 1;
    case GgmlType::Q8_0: return 7;
    default: return 0;
  }
}

}  // namespace

GgufMetadata tokenizer_metadata(const GgufFile& f) {
  GgufMetadata out;
  for (const auto& [k, v] : f.metadata())
    if (k.starts_with("tokenizer.")) out.emplace_back(k, v);
  return out;
}

Status export_gguf(const std::string& path, const DecoderConfig& c, std::span<const float> params,
                   const ExportOptions& opt) {
  TANDEM_TRY(c.validate());
  if (opt.type != GgmlType::F32 && opt.type != GgmlType::F16 && opt.type != GgmlType::Q8_0)
    return make_error("export: type ", ggml_type_name(opt.type), " is not supported (F32, F16, Q8_0)");
  const ParamLayout layout(c);
  if (static_cast<int64_t>(params.size()) != layout.total())
    return make_error("export: ", params.size(), " parameters for a model of ", layout.total());
  const GgufValue* tokens = nullptr;
  for (const auto& [k, v] : opt.tokenizer)
    if (k == "tokenizer.ggml.tokens") tokens = &v;
  if (!tokens || !tokens->as_array())
    return make_error("export: no tokenizer.ggml.tokens in the tokenizer metadata (the engine needs a tokenizer)");
  if (static_cast<int64_t>(tokens->as_array()->items.size()) != c.vocab)
    return make_error("export: the tokenizer has ", tokens->as_array()->items.size(), " tokens but the model's vocab is ",
                      c.vocab);

  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("general.name", GgufValue::string(opt.name));
  for (const auto& [k, v] : opt.tokenizer) w.set(k, v);
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  w.set("llama.context_length", u32(c.ctx));
  w.set("llama.embedding_length", u32(c.dim));
  w.set("llama.block_count", u32(c.n_layers));
  w.set("llama.feed_forward_length", u32(c.ffn));
  w.set("llama.attention.head_count", u32(c.n_heads));
  w.set("llama.attention.head_count_kv", u32(c.n_kv_heads));
  w.set("llama.rope.dimension_count", u32(c.head_dim()));
  w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(c.rms_eps));
  w.set("llama.rope.freq_base", GgufValue::f32(c.rope_base));
  w.set("general.file_type", GgufValue::u32(file_type(opt.type)));
  if (opt.type == GgmlType::Q8_0) w.set("general.quantization_version", GgufValue::u32(2));

  std::vector<uint8_t> bytes;
  for (const ParamTensor& t : layout.tensors()) {
    const float* src = params.data() + t.offset;
    if (t.shape.size() == 1) {
      TANDEM_TRY(w.add_tensor_f32(t.name, {static_cast<uint64_t>(t.shape[0])},
                                  std::span<const float>(src, static_cast<size_t>(t.size()))));
      continue;
    }
    const int64_t n_out = t.shape[0], n_in = t.shape[1];
    GgmlType type = opt.type;
    if (type == GgmlType::Q8_0 && !check_row_shape(type, n_in).ok()) type = GgmlType::F16;
    const size_t rb = row_bytes(type, n_in);
    bytes.resize(rb * static_cast<size_t>(n_out));
    for (int64_t r = 0; r < n_out; ++r) quantize_row(type, src + r * n_in, bytes.data() + rb * static_cast<size_t>(r), n_in);
    TANDEM_TRY(w.add_tensor(t.name, type, {static_cast<uint64_t>(n_in), static_cast<uint64_t>(n_out)}, bytes));
  }
  return w.write_file(path);
}

}  // namespace tandem
