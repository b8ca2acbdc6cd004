// Checkpoint write and read through the GGUF writer and reader (see checkpoint.h).
#include "tandem/train/checkpoint.h"

#include <cstring>

#include "tandem/gguf/gguf_file.h"
#include "tandem/gguf/gguf_writer.h"

namespace tandem {
namespace {

constexpr uint32_t kCheckpointVersion = 1;

std::vector<uint64_t> gguf_shape(const ParamTensor& t) {
  std::vector<uint64_t> s;  // ggml order: innermost first
  for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) s.push_back(static_cast<uint64_t>(*it));
  return s;
}

template <class Fn>
GgufValue array_of(GgufValueType type, const std::vector<TrainLogPoint>& h, Fn fn) {
  GgufArray a{type, {}};
  a.items.reserve(h.size());
  for (const auto& p : h) a.items.push_back(fn(p));
  return GgufValue::array(std::move(a));
}

// Typed reads of the keys this file wrote; any absence or mismatch is an error
// naming the key.
struct Reader {
  const GgufFile& f;
  Status st = ok_status();

  const GgufValue* need(const std::string& key) {
    const GgufValue* v = f.find(key);
    if (!v && st.ok()) st = make_error(f.path(), ": checkpoint key '", key, "' is missing");
    return v;
  }
  int64_t i64(const std::string& key) {
    const GgufValue* v = need(key);
    if (!v) return 0;
    auto x = v->as_int();
    if (!x && st.ok()) st = make_error(f.path(), ": checkpoint key '", key, "' is not an integer");
    return x.value_or(0);
  }
  uint64_t u64(const std::string& key) {
    const GgufValue* v = need(key);
    if (!v) return 0;
    auto x = v->as_uint();
    if (!x && st.ok()) st = make_error(f.path(), ": checkpoint key '", key, "' is not an unsigned integer");
    return x.value_or(0);
  }
  double f64(const std::string& key) {
    const GgufValue* v = need(key);
    if (!v) return 0;
    auto x = v->as_float();
    if (!x && st.ok()) st = make_error(f.path(), ": checkpoint key '", key, "' is not a number");
    return x.value_or(0);
  }
  bool boolean(const std::string& key) {
    const GgufValue* v = need(key);
    if (!v) return false;
    auto x = v->as_bool();
    if (!x && st.ok()) st = make_error(f.path(), ": checkpoint key '", key, "' is not a bool");
    return x.value_or(false);
  }
  const GgufArray* array(const std::string& key, size_t n) {
    const GgufValue* v = need(key);
    if (!v) return nullptr;
    const GgufArray* a = v->as_array();
    if ((!a || a->items.size() != n) && st.ok()) {
      st = make_error(f.path(), ": checkpoint key '", key, "' is not an array of ", n, " values");
      return nullptr;
    }
    return a;
  }
};

Status read_tensor(const GgufFile& f, const std::string& name, const ParamTensor& t, std::vector<float>& dst) {
  const GgufTensorInfo* info = f.tensor(name);
  if (!info) return make_error(f.path(), ": checkpoint tensor '", name, "' is missing");
  if (info->type != GgmlType::F32 || info->shape != gguf_shape(t))
    return make_error(f.path(), ": checkpoint tensor '", name, "' is ", ggml_type_name(info->type), " ",
                      info->shape_string(), ", expected F32 of ", t.size(), " values");
  std::memcpy(dst.data() + t.offset, info->data, static_cast<size_t>(t.size()) * sizeof(float));
  return ok_status();
}

}  // namespace

Status save_checkpoint(const std::string& path, const CheckpointState& s, std::span<const float> params,
                       std::span<const float> adam_m, std::span<const float> adam_v) {
  const TrainOptions& o = s.options;
  const ParamLayout layout(o.model);
  if (static_cast<int64_t>(params.size()) != layout.total() || adam_m.size() != params.size() ||
      adam_v.size() != params.size())
    return make_error("checkpoint: ", params.size(), " parameters and ", adam_m.size(), "/", adam_v.size(),
                      " moments for a model of ", layout.total());
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("tandem-train-checkpoint"));
  w.set("train.checkpoint_version", GgufValue::u32(kCheckpointVersion));
  const DecoderConfig& m = o.model;
  w.set("train.model.dim", GgufValue::i64(m.dim));
  w.set("train.model.n_layers", GgufValue::i64(m.n_layers));
  w.set("train.model.n_heads", GgufValue::i64(m.n_heads));
  w.set("train.model.n_kv_heads", GgufValue::i64(m.n_kv_heads));
  w.set("train.model.ffn", GgufValue::i64(m.ffn));
  w.set("train.model.vocab", GgufValue::i64(m.vocab));
  w.set("train.model.ctx", GgufValue::i64(m.ctx));
  w.set("train.model.rope_base", GgufValue::f32(m.rope_base));
  w.set("train.model.rms_eps", GgufValue::f32(m.rms_eps));
  w.set("train.model.tied", GgufValue::boolean(m.tied));
  w.set("train.adamw.beta1", GgufValue::f32(o.adamw.beta1));
  w.set("train.adamw.beta2", GgufValue::f32(o.adamw.beta2));
  w.set("train.adamw.eps", GgufValue::f32(o.adamw.eps));
  w.set("train.adamw.weight_decay", GgufValue::f32(o.adamw.weight_decay));
  w.set("train.schedule.peak", GgufValue::f32(o.schedule.peak));
  w.set("train.schedule.floor", GgufValue::f32(o.schedule.floor));
  w.set("train.schedule.warmup_steps", GgufValue::i64(o.schedule.warmup_steps));
  w.set("train.schedule.total_steps", GgufValue::i64(o.schedule.total_steps));
  w.set("train.batch_size", GgufValue::i64(o.batch_size));
  w.set("train.seq_len", GgufValue::i64(o.seq_len));
  w.set("train.grad_accum", GgufValue::i64(o.grad_accum));
  w.set("train.grad_clip", GgufValue::f32(o.grad_clip));
  w.set("train.seed", GgufValue::u64(o.seed));
  w.set("train.threads", GgufValue::i64(o.threads));
  w.set("train.step", GgufValue::i64(s.step));
  GgufArray rng{GgufValueType::UINT64, {}};
  for (uint64_t x : s.sampler.epoch_rng) rng.items.push_back(GgufValue::u64(x));
  w.set("train.sampler.epoch_rng", GgufValue::array(std::move(rng)));
  w.set("train.sampler.epoch", GgufValue::u64(s.sampler.epoch));
  w.set("train.sampler.index", GgufValue::i64(s.sampler.index));
  const auto& h = s.history;
  w.set("train.history.count", GgufValue::u64(h.size()));
  w.set("train.history.step", array_of(GgufValueType::INT64, h, [](auto& p) { return GgufValue::i64(p.step); }));
  w.set("train.history.tokens", array_of(GgufValueType::INT64, h, [](auto& p) { return GgufValue::i64(p.tokens); }));
  w.set("train.history.loss", array_of(GgufValueType::FLOAT64, h, [](auto& p) { return GgufValue::f64(p.loss); }));
  w.set("train.history.lr", array_of(GgufValueType::FLOAT64, h, [](auto& p) { return GgufValue::f64(p.lr); }));
  w.set("train.history.grad_norm",
        array_of(GgufValueType::FLOAT64, h, [](auto& p) { return GgufValue::f64(p.grad_norm); }));
  w.set("train.history.tokens_per_s",
        array_of(GgufValueType::FLOAT64, h, [](auto& p) { return GgufValue::f64(p.tokens_per_s); }));
  w.set("train.history.val_loss",
        array_of(GgufValueType::FLOAT64, h, [](auto& p) { return GgufValue::f64(p.val_loss); }));

  auto add = [&](const std::string& name, const ParamTensor& t, std::span<const float> src) {
    return w.add_tensor_f32(name, gguf_shape(t), src.subspan(static_cast<size_t>(t.offset), static_cast<size_t>(t.size())));
  };
  for (const ParamTensor& t : layout.tensors()) {
    TANDEM_TRY(add(t.name, t, params));
    TANDEM_TRY(add("adam.m." + t.name, t, adam_m));
    TANDEM_TRY(add("adam.v." + t.name, t, adam_v));
  }
  return w.write_file(path);
}

Result<LoadedCheckpoint> load_checkpoint(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return file.error();
  const GgufFile& f = *file;
  auto arch = f.get_string("general.architecture");
  if (!arch || *arch != "tandem-train-checkpoint")
    return make_error(path, ": not a tandem training checkpoint (general.architecture is not 'tandem-train-checkpoint')");
  Reader r{f};
  if (r.u64("train.checkpoint_version") != kCheckpointVersion && r.st.ok())
    return make_error(path, ": checkpoint version ", r.u64("train.checkpoint_version"), ", this build reads version ",
                      kCheckpointVersion);
  LoadedCheckpoint ck;
  TrainOptions& o = ck.state.options;
  DecoderConfig& m = o.model;
  m.dim = r.i64("train.model.dim");
  m.n_layers = r.i64("train.model.n_layers");
  m.n_heads = r.i64("train.model.n_heads");
  m.n_kv_heads = r.i64("train.model.n_kv_heads");
  m.ffn = r.i64("train.model.ffn");
  m.vocab = r.i64("train.model.vocab");
  m.ctx = r.i64("train.model.ctx");
  m.rope_base = static_cast<float>(r.f64("train.model.rope_base"));
  m.rms_eps = static_cast<float>(r.f64("train.model.rms_eps"));
  m.tied = r.boolean("train.model.tied");
  o.adamw.beta1 = static_cast<float>(r.f64("train.adamw.beta1"));
  o.adamw.beta2 = static_cast<float>(r.f64("train.adamw.beta2"));
  o.adamw.eps = static_cast<float>(r.f64("train.adamw.eps"));
  o.adamw.weight_decay = static_cast<float>(r.f64("train.adamw.weight_decay"));
  o.schedule.peak = static_cast<float>(r.f64("train.schedule.peak"));
  o.schedule.floor = static_cast<float>(r.f64("train.schedule.floor"));
  o.schedule.warmup_steps = r.i64("train.schedule.warmup_steps");
  o.schedule.total_steps = r.i64("train.schedule.total_steps");
  o.batch_size = r.i64("train.batch_size");
  o.seq_len = r.i64("train.seq_len");
  o.grad_accum = r.i64("train.grad_accum");
  o.grad_clip = static_cast<float>(r.f64("train.grad_clip"));
  o.seed = r.u64("train.seed");
  o.threads = static_cast<int>(r.i64("train.threads"));
  ck.state.step = r.i64("train.step");
  if (const GgufArray* a = r.array("train.sampler.epoch_rng", 4))
    for (size_t i = 0; i < 4; ++i) ck.state.sampler.epoch_rng[i] = a->items[i].as_uint().value_or(0);
  ck.state.sampler.epoch = r.u64("train.sampler.epoch");
  ck.state.sampler.index = r.i64("train.sampler.index");
  const size_t n_hist = static_cast<size_t>(r.u64("train.history.count"));
  const GgufArray* hs = r.array("train.history.step", n_hist);
  const GgufArray* ht = r.array("train.history.tokens", n_hist);
  const GgufArray* hl = r.array("train.history.loss", n_hist);
  const GgufArray* hr = r.array("train.history.lr", n_hist);
  const GgufArray* hg = r.array("train.history.grad_norm", n_hist);
  const GgufArray* hp = r.array("train.history.tokens_per_s", n_hist);
  const GgufArray* hv = r.array("train.history.val_loss", n_hist);
  if (!r.st.ok()) return r.st.error();
  for (size_t i = 0; i < n_hist; ++i) {
    TrainLogPoint p;
    p.step = hs->items[i].as_int().value_or(0);
    p.tokens = ht->items[i].as_int().value_or(0);
    p.loss = hl->items[i].as_float().value_or(0);
    p.lr = hr->items[i].as_float().value_or(0);
    p.grad_norm = hg->items[i].as_float().value_or(0);
    p.tokens_per_s = hp->items[i].as_float().value_or(0);
    p.val_loss = hv->items[i].as_float().value_or(NAN);
    ck.state.history.push_back(p);
  }
  auto valid = o.validate();
  if (!valid) return make_error(path, ": checkpoint options: ", valid.error().message);

  const ParamLayout layout(m);
  const size_t n = static_cast<size_t>(layout.total());
  ck.params.resize(n);
  ck.adam_m.resize(n);
  ck.adam_v.resize(n);
  for (const ParamTensor& t : layout.tensors()) {
    TANDEM_TRY(read_tensor(f, t.name, t, ck.params));
    TANDEM_TRY(read_tensor(f, "adam.m." + t.name, t, ck.adam_m));
    TANDEM_TRY(read_tensor(f, "adam.v." + t.name, t, ck.adam_v));
  }
  return ck;
}

}  // namespace tandem
