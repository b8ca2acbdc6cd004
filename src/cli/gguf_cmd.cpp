// `tandem gguf info FILE`: the metadata and the tensor table of a GGUF file.
// `tandem gguf synth ...`: a model with random weights.
// `tandem gguf convert IN -o OUT --type T`: a model's weights in another type.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "tandem/base/thread_pool.h"
#include "tandem/gguf/gguf_file.h"
#include "tandem/model/convert.h"
#include "tandem/model/synth.h"

namespace tandem::cli {
namespace {

struct InfoOptions {
  std::string path;
  size_t max_items = 8;
};

int run_info(const InfoOptions& o) {
  auto f = GgufFile::open(o.path);
  if (!f) return fail(f.error());
  std::printf("file: %s\n", o.path.c_str());
  std::printf("version: %u, alignment: %u, data offset: %llu, size: %llu bytes\n", f->version(), f->alignment(),
              static_cast<unsigned long long>(f->data_offset()), static_cast<unsigned long long>(f->file_size()));
  std::printf("\nmetadata (%zu):\n", f->metadata().size());
  for (const auto& [k, v] : f->metadata()) {
    std::string type(gguf_value_type_name(v.type()));
    if (const auto* a = v.as_array()) type += "[" + std::string(gguf_value_type_name(a->elem_type)) + "]";
    std::printf("  %-44s %-9s %s\n", k.c_str(), type.c_str(), v.to_string(o.max_items).c_str());
  }
  std::printf("\ntensors (%zu):\n", f->tensors().size());
  std::printf("  %-36s %-7s %-22s %12s %12s\n", "name", "type", "shape", "bytes", "offset");
  unsigned long long total = 0;
  for (const auto& t : f->tensors()) {
    std::printf("  %-36s %-7s %-22s %12llu %12llu\n", t.name.c_str(), std::string(ggml_type_name(t.type)).c_str(),
                t.shape_string().c_str(), static_cast<unsigned long long>(t.n_bytes),
                static_cast<unsigned long long>(t.offset));
    total += t.n_bytes;
  }
  std::printf("  total: %llu bytes of tensor data\n", total);
  return 0;
}

struct SynthOptions {
  SynthParams p;
  std::string type = "F32";
  std::string out;
};

int run_synth(SynthOptions o) {
  if (auto st = parse_synth_type(o.type, o.p); !st) return fail(st.error());
  if (auto st = synth_model(o.p, o.out); !st) return fail(st.error());
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

struct ConvertOptions {
  std::string in, out, type;
  int threads = 0;
};

int run_convert(const ConvertOptions& o) {
  auto r = parse_weight_recipe(o.type);
  if (!r) return fail(r.error());
  if (o.threads < 0)
    return fail(make_error("--threads is ", o.threads, " (expected 0 for the cores present, or more)"));
  ThreadPool pool(o.threads);
  auto sum = convert_model(o.in, o.out, *r, pool);
  if (!sum) return fail(sum.error());
  std::string types;
  for (const auto& [t, n] : sum->tensors_by_type)
    types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(ggml_type_name(t));
  std::printf("wrote %s: %d tensors converted; %s; tensor data %.2f -> %.2f MB\n", o.out.c_str(), sum->converted,
              types.c_str(), static_cast<double>(sum->bytes_in) / 1e6, static_cast<double>(sum->bytes_out) / 1e6);
  return 0;
}

}  // namespace

void add_gguf_command(CLI::App& app, int& rc) {
  auto* gguf = app.add_subcommand("gguf", "Inspect and write GGUF files");
  gguf->require_subcommand(1);
  auto opts = std::make_shared<InfoOptions>();
  auto* info = gguf->add_subcommand("info", "Print metadata (long arrays abbreviated) and the tensor table");
  info->add_option("file", opts->path, "GGUF file")->required();
  info->add_option("--max-items", opts->max_items, "Array items shown before abbreviating")->capture_default_str();
  info->callback([opts, &rc] { rc = run_info(*opts); });

  auto so = std::make_shared<SynthOptions>();
  auto* synth = gguf->add_subcommand("synth", "Write a model with random weights and a real tokenizer");
  synth->add_option("--arch", so->p.arch, "llama or qwen2")->capture_default_str();
  synth->add_option("--dim", so->p.dim, "Embedding size")->capture_default_str();
  synth->add_option("--layers", so->p.layers, "Layers")->capture_default_str();
  synth->add_option("--heads", so->p.heads, "Attention heads")->capture_default_str();
  synth->add_option("--kv-heads", so->p.kv_heads, "Key/value heads (default: heads)");
  synth->add_option("--ffn", so->p.ffn, "Feed-forward size")->capture_default_str();
  synth->add_option("--ctx", so->p.ctx, "Training context length written to the metadata")->capture_default_str();
  synth->add_option("--rope-base", so->p.rope_base, "RoPE frequency base")->capture_default_str();
  synth->add_flag("--tied", so->p.tied, "Tie the output head to the token embedding");
  synth->add_option("--vocab-from", so->p.vocab_from, "GGUF whose tokenizer is copied")->required();
  synth->add_option("--type", so->type, "Weight type: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K Q4_K_M Q5_K_M")
      ->capture_default_str();
  synth->add_option("-o,--output", so->out, "Output GGUF")->required();
  synth->add_option("--seed", so->p.seed, "Random seed")->capture_default_str();
  synth->callback([so, &rc] { rc = run_synth(*so); });

  auto co = std::make_shared<ConvertOptions>();
  auto* conv = gguf->add_subcommand(
      "convert", "Write a model's weights in another type (dequantized, then quantized as the reference quantizer does)");
  conv->add_option("input", co->in, "GGUF model to read")->required();
  conv->add_option("-o,--output", co->out, "Output GGUF")->required();
  conv->add_option("--type", co->type, "Weight type: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K Q4_K_M Q5_K_M")
      ->required();
  conv->add_option("-t,--threads", co->threads, "Threads quantizing each tensor's rows (0: the cores present)")
      ->capture_default_str();
  conv->callback([co, &rc] { rc = run_convert(*co); });
}

}  // namespace tandem::cli
