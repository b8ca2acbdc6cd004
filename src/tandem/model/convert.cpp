#include "tandem/model/convert.h"

#include <vector>

#include "tandem/base/thread_pool.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"
#include "tandem/model/model_config.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

bool is_k_quant(GgmlType t) { return t == GgmlType::Q4_K || t == GgmlType::Q5_K || t == GgmlType::Q6_K; }
bool is_float(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

bool ends_with(const std::string& s, std::string_view tail) { return std::string_view(s).ends_with(tail); }

// A K-quant type for rows it cannot hold: the reference's fallback.
GgmlType fit_rows(GgmlType t, int64_t n_in) {
  if (check_row_shape(t, n_in)) return t;
  if (is_k_quant(t)) {
    const GgmlType f = t == GgmlType::Q4_K ? GgmlType::Q5_0 : t == GgmlType::Q5_K ? GgmlType::Q5_1 : GgmlType::Q8_0;
    if (check_row_shape(f, n_in)) return f;
  }
  return GgmlType::F16;
}

}  // namespace

GgmlType converted_type(const WeightRecipe& r, const std::string& name, int n_dims, int64_t n_in, GgmlType current,
                        int64_t n_layers, bool tied) {
  if (n_dims < 2 || !ends_with(name, "weight") || ends_with(name, "_norm.weight")) return current;
  GgmlType t = r.type;
  if (!is_float(r.type)) {
    const int64_t layer = tensor_layer(name);
    if (name == "output.weight" || (tied && name == "token_embd.weight")) {
      // The output head: Q6_K, or Q8_0 where its rows are not whole blocks of the recipe's type.
      if (n_in % ggml_traits(r.type).block_size != 0) t = GgmlType::Q8_0;
      else if (t != GgmlType::Q8_0) t = GgmlType::Q6_K;
    } else if (r.k_mix && layer >= 0 && (ends_with(name, ".attn_v.weight") || ends_with(name, ".ffn_down.weight")) &&
               WeightRecipe::more_bits(layer, n_layers)) {
      t = GgmlType::Q6_K;
    }
  }
  return fit_rows(t, n_in);
}

Result<ConvertSummary> convert_model(const std::string& in, const std::string& out, const WeightRecipe& r,
                                     ThreadPool& pool) {
  auto file = GgufFile::open(in);
  if (!file) return file.error();
  const GgufFile& f = *file;
  auto cfg = ModelConfig::from_gguf(f);
  if (!cfg) return cfg.error();
  GgufWriter w;
  w.copy_metadata(f);
  w.set("general.file_type", GgufValue::u32(static_cast<uint32_t>(r.file_type())));
  w.set("general.quantization_version", GgufValue::u32(2));
  ConvertSummary sum;
  for (const GgufTensorInfo& t : f.tensors()) {
    sum.bytes_in += t.n_bytes;
    const int64_t n_in = t.shape.empty() ? 0 : static_cast<int64_t>(t.shape[0]);
    const GgmlType to =
        converted_type(r, t.name, static_cast<int>(t.shape.size()), n_in, t.type, cfg->n_layer, cfg->tied_output);
    ++sum.tensors_by_type[to];
    if (to == t.type) {
      // Copied when the file is written, from the mapping.
      TANDEM_TRY(w.add_tensor_later(t.name, t.type, t.shape, [&t](std::vector<uint8_t>& o) {
        o.assign(t.data, t.data + t.n_bytes);
        return ok_status();
      }));
      sum.bytes_out += t.n_bytes;
      continue;
    }
    if (!is_compute_type(t.type))
      return make_error(in, ": tensor '", t.name, "' is ", ggml_type_name(t.type), ", which tandem cannot read");
    if (auto st = check_row_shape(t.type, n_in); !st) return make_error(in, ": tensor '", t.name, "': ", st.error().message);
    const uint64_t n_rows = t.n_elements() / static_cast<uint64_t>(n_in);
    const size_t rb_in = row_bytes(t.type, n_in), rb_out = row_bytes(to, n_in);
    // Converted when the file is written, so that only one tensor's output is in memory.
    auto convert = [&t, &pool, to, n_in, n_rows, rb_in, rb_out](std::vector<uint8_t>& o) {
      o.assign(rb_out * n_rows, 0);
      pool.parallel_for(static_cast<int64_t>(n_rows), [&](int64_t r0, int64_t r1) {
        std::vector<float> row(static_cast<size_t>(n_in));
        for (auto i = static_cast<uint64_t>(r0); i < static_cast<uint64_t>(r1); ++i) {
          dequantize_row(t.type, t.data + i * rb_in, row.data(), n_in);
          quantize_row(to, row.data(), o.data() + i * rb_out, n_in);
        }
      });
      return ok_status();
    };
    TANDEM_TRY(w.add_tensor_later(t.name, to, t.shape, convert));
    sum.bytes_out += rb_out * n_rows;
    ++sum.converted;
  }
  TANDEM_TRY(w.write_file(out));
  return sum;
}

}  // namespace tandem
