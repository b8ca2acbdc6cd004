#include "tandem/model/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "tandem/tensor/float16.h"

namespace tandem {
namespace {

// Binds a 2-D weight: GGUF shape [n_in, n_out] (n_in contiguous).
Result<WeightView> bind_matrix(const GgufFile& f, const std::string& name, int64_t n_in, int64_t n_out) {
  const GgufTensorInfo* t = f.tensor(name);
  if (!t) return make_error(f.path(), ": tensor '", name, "' is missing");
  if (t->shape.size() != 2 || static_cast<int64_t>(t->shape[0]) != n_in || static_cast<int64_t>(t->shape[1]) != n_out)
    return make_error(f.path(), ": tensor '", name, "' has shape ", t->shape_string(), ", expected [", n_in, ", ", n_out, "]");
  WeightView w{.type = t->type, .data = t->data, .n_in = n_in, .n_out = n_out, .row_stride = 0};
  if (auto st = check_row_shape(t->type, n_in); !st) return make_error(f.path(), ": tensor '", name, "': ", st.error().message);
  w.row_stride = row_bytes(t->type, n_in);
  if (auto st = check_weight(w); !st) return make_error(f.path(), ": tensor '", name, "': ", st.error().message);
  return w;
}

// Binds a 1-D tensor (norm weight, bias) of n floats, converting from its stored type.
Result<std::vector<float>> bind_vector(const GgufFile& f, const std::string& name, int64_t n, bool required = true) {
  const GgufTensorInfo* t = f.tensor(name);
  if (!t) {
    if (!required) return std::vector<float>{};
    return make_error(f.path(), ": tensor '", name, "' is missing");
  }
  if (t->shape.size() != 1 || static_cast<int64_t>(t->shape[0]) != n)
    return make_error(f.path(), ": tensor '", name, "' has shape ", t->shape_string(), ", expected [", n, "]");
  std::vector<float> v(static_cast<size_t>(n));
  if (auto st = check_row_shape(t->type, n); !st) return make_error(f.path(), ": tensor '", name, "': ", st.error().message);
  dequantize_row(t->type, t->data, v.data(), n);
  return v;
}

// The rotation of position pos: cs[2i], cs[2i + 1] = cos, sin of pos * inv_freq[i].
// Computed once per token and shared by every head of every layer (the angles
// depend on the position only), rather than once per head and layer.
void rope_angles(int64_t n_rot, const float* inv_freq, float pos, float* cs) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const float theta = pos * inv_freq[i];
    cs[2 * i] = std::cos(theta);
    cs[2 * i + 1] = std::sin(theta);
  }
}

// The last-level cache of the CPU this runs on, from sysfs (the largest
// cache index of cpu0; sysconf's figure can be the whole package's), or 16 MiB
// when it cannot be read.
size_t last_level_cache_bytes() {
  size_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    std::string v;
    if (!(in >> v) || v.empty()) continue;
    size_t mult = 1;
    if (v.back() == 'K') mult = size_t{1} << 10;
    if (v.back() == 'M') mult = size_t{1} << 20;
    if (mult > 1) v.pop_back();
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (end && *end == '\0') best = std::max(best, static_cast<size_t>(n) * mult);
  }
  return best > 0 ? best : size_t{16} << 20;
}

}  // namespace

Result<std::shared_ptr<const DecoderModel>> DecoderModel::load(const std::string& path, const DecoderLoadOptions& opt) {
  const Isa best = CpuFeatures::detect().best_isa();
  if (opt.isa && *opt.isa > best)
    return make_error("this CPU has no ", isa_name(*opt.isa), " kernels (best: ", isa_name(best), ")");
  auto file = GgufFile::open(path);
  if (!file) return file.error();
  std::shared_ptr<DecoderModel> m(new DecoderModel());
  m->file_ = std::move(*file);
  const GgufFile& f = m->file_;
  auto cfg = ModelConfig::from_gguf(f);
  if (!cfg) return cfg.error();
  m->config_ = *cfg;
  const ModelConfig& c = m->config_;
  auto tok = Tokenizer::from_gguf(f);
  if (!tok) return tok.error();
  if (tok->n_vocab() != c.n_vocab)
    return make_error(path, ": the tokenizer has ", tok->n_vocab(), " tokens but token_embd.weight has ", c.n_vocab, " rows");
  m->tokenizer_ = std::make_unique<Tokenizer>(std::move(*tok));
  m->kernels_ = kernels_for_isa(opt.isa.value_or(best));

  auto emb = bind_matrix(f, "token_embd.weight", c.n_embd, c.n_vocab);
  if (!emb) return emb.error();
  m->token_embd_ = *emb;
  if (!c.tied_output) {
    auto out = bind_matrix(f, "output.weight", c.n_embd, c.n_vocab);
    if (!out) return out.error();
    m->output_ = *out;
  }
  auto on = bind_vector(f, "output_norm.weight", c.n_embd);
  if (!on) return on.error();
  m->output_norm_ = std::move(*on);
  m->weight_bytes_ = m->output().row_stride * static_cast<uint64_t>(m->output().n_out);
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerWeights L;
    struct M {
      WeightView* dst;
      const char* name;
      int64_t n_in, n_out;
    };
    for (M mm : {M{&L.wq, "attn_q.weight", c.n_embd, c.n_embd_q()}, M{&L.wk, "attn_k.weight", c.n_embd, c.n_embd_kv()},
                 M{&L.wv, "attn_v.weight", c.n_embd, c.n_embd_kv()}, M{&L.wo, "attn_output.weight", c.n_embd_q(), c.n_embd},
                 M{&L.ffn_gate, "ffn_gate.weight", c.n_embd, c.n_ff}, M{&L.ffn_up, "ffn_up.weight", c.n_embd, c.n_ff},
                 M{&L.ffn_down, "ffn_down.weight", c.n_ff, c.n_embd}}) {
      auto w = bind_matrix(f, p + mm.name, mm.n_in, mm.n_out);
      if (!w) return w.error();
      *mm.dst = *w;
      m->weight_bytes_ += w->row_stride * static_cast<uint64_t>(w->n_out);
    }
    struct V {
      std::vector<float>* dst;
      const char* name;
      int64_t n;
      bool required;
    };
    for (V vv : {V{&L.attn_norm, "attn_norm.weight", c.n_embd, true}, V{&L.ffn_norm, "ffn_norm.weight", c.n_embd, true},
                 V{&L.bq, "attn_q.bias", c.n_embd_q(), c.attn_bias}, V{&L.bk, "attn_k.bias", c.n_embd_kv(), c.attn_bias},
                 V{&L.bv, "attn_v.bias", c.n_embd_kv(), c.attn_bias}}) {
      auto v = bind_vector(f, p + vv.name, vv.n, vv.required);
      if (!v) return v.error();
      *vv.dst = std::move(*v);
    }
    m->layers_.push_back(std::move(L));
  }
  m->kv_f16_ = opt.kv_f16;
  if (auto st = m->pack_matrices(opt.pack, opt.cache_bytes.value_or(last_level_cache_bytes())); !st)
    return make_error(path, ": ", st.error().message);
  if (auto st = m->copy_matrices(opt.copy); !st) return make_error(path, ": ", st.error().message);
  return std::shared_ptr<const DecoderModel>(std::move(m));
}

std::vector<WeightView*> DecoderModel::token_matrices() {
  std::vector<WeightView*> ws;
  for (LayerWeights& L : layers_)
    for (WeightView* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) ws.push_back(w);
  ws.push_back(config_.tied_output ? &token_embd_ : &output_);
  return ws;
}

namespace {
size_t round_line(size_t n) { return (n + 63) / 64 * 64; }
// Packing and copying take the mapped weights this many bytes at a time, releasing each piece when done.
constexpr size_t kReleaseChunk = size_t{4} << 20;
}  // namespace

Status DecoderModel::pack_matrices(std::optional<bool> want, size_t cache_bytes) {
  if (!kernels_.pack_tile || want == false) return {};
  std::vector<WeightView*> ws = token_matrices();
  auto tiles_bytes = [&](const WeightView& w) { return round_line(packed_matrix_bytes(kernels_, w)); };
  auto total_bytes = [&] {
    size_t n = 0;
    for (const WeightView* w : ws) n += tiles_bytes(*w);
    return n;
  };
  size_t total = total_bytes();
  if (total == 0) return {};
  if (total > cache_bytes) {
    // Streamed from memory: the layout with the fewest bytes, and unless asked
    // for all, only the matrices whose tiles are hardly larger than their rows.
    for (WeightView* w : ws) w->pack_for = PackFor::kStream;
    if (!want)
      std::erase_if(ws, [&](WeightView* w) {
        const double rows = static_cast<double>(w->row_stride * static_cast<size_t>(w->n_out));
        const bool keep = static_cast<double>(tiles_bytes(*w)) <= kPackGrowth * rows;
        if (!keep) w->pack_for = PackFor::kCache;
        return !keep;
      });
    total = total_bytes();
    if (total == 0) return {};
  }
  auto buf = PageBuffer::allocate(total);
  if (!buf) return buf.error();
  packed_ = std::move(*buf);
  size_t at = 0;
  for (WeightView* w : ws) {
    const size_t n = tiles_bytes(*w);
    if (n == 0) continue;
    uint8_t* out = packed_.data() + at;
    // Packed a few MiB at a time, each piece of the mapping released once packed,
    // so that no part of the weights is held twice. A tied output's rows are
    // the embeddings: the few a sequence looks up map in again from the file.
    const int64_t pr = kernels_.pack_rows;
    const size_t tile_rows_bytes = w->row_stride * static_cast<size_t>(pr);
    const int64_t step = pr * std::max<int64_t>(1, static_cast<int64_t>(kReleaseChunk / tile_rows_bytes));
    const size_t tb = packed_tile_bytes(kernels_, w->type, w->n_in, w->pack_for);
    for (int64_t r = 0; r < w->n_out; r += step) {
      WeightView part = *w;
      part.data = w->row(r);
      part.n_out = std::min(step, w->n_out - r);
      pack_weights(kernels_, part, out + static_cast<size_t>(r / pr) * tb);
      file_.release(part.data, w->row_stride * static_cast<size_t>(part.n_out));
    }
    file_.release(w->data, w->row_stride * static_cast<size_t>(w->n_out));  // pages across two pieces
    w->packed = out;
    at += n;
  }
  return {};
}

Status DecoderModel::copy_matrices(std::optional<bool> want) {
  if (want == false || (!want && !transparent_huge_pages_available())) return {};
  std::vector<WeightView*> ws;
  size_t total = 0;
  for (WeightView* w : token_matrices())
    if (!w->packed) {
      ws.push_back(w);
      total += round_line(w->row_stride * static_cast<size_t>(w->n_out));
    }
  if (total == 0) return {};
  auto buf = PageBuffer::allocate(total);
  if (!buf) return buf.error();
  copied_ = std::move(*buf);
  size_t at = 0;
  for (WeightView* w : ws) {
    const size_t n = w->row_stride * static_cast<size_t>(w->n_out);
    uint8_t* out = copied_.data() + at;
    // A few MiB at a time, each released once copied, so that no part of the weights is held twice.
    for (size_t off = 0; off < n; off += kReleaseChunk) {
      const size_t len = std::min(kReleaseChunk, n - off);
      std::memcpy(out + off, w->data + off, len);
      file_.release(w->data + off, len);
    }
    file_.release(w->data, n);  // the pages that straddle two chunks
    w->data = out;
    at += round_line(n);
  }
  return {};
}

Sequence::Sequence(std::shared_ptr<const DecoderModel> model, ThreadPool& pool, SequenceOptions opt)
    : model_(std::move(model)), pool_(pool) {
  const ModelConfig& c = model_->config();
  int64_t n_ctx = opt.n_ctx > 0 ? opt.n_ctx : c.n_ctx_train;
  kv_ = KvCache(c.n_layer, n_ctx, c.n_embd_kv(), model_->kv_f16());
  split_prep_ = c.n_embd >= kSplitPrepWidth;
  rope_inv_freq_ = c.rope_inv_freq();
  scores_.resize(static_cast<size_t>(pool_.size() * (c.n_head / c.n_head_kv) * n_ctx));
}

void Sequence::ensure_scratch(int64_t n) {
  if (n <= scratch_tokens_) return;
  const ModelConfig& c = model_->config();
  auto sz = [n](int64_t w) { return static_cast<size_t>(n * w); };
  x_.resize(sz(c.n_embd));
  xn_.resize(sz(c.n_embd));
  q_.resize(sz(c.n_embd_q()));
  k_.resize(sz(c.n_embd_kv()));
  v_.resize(sz(c.n_embd_kv()));
  att_.resize(sz(c.n_embd_q()));
  gate_.resize(sz(c.n_ff));
  up_.resize(sz(c.n_ff));
  scratch_tokens_ = n;
}

template <class Prep, class Body>
void Sequence::phased(int64_t n_tok, Prep&& prep, Body&& body) {
  if (n_tok < 2 || pool_.size() == 1 || !split_prep_) {
    prep(int64_t{0}, n_tok);
    pool_.run(body);
    return;
  }
  SharedUnits tokens(n_tok);
  pool_.run([&](int ith, int nth) {
    tokens.run_all([&](int64_t t) { prep(t, t + 1); });
    body(ith, nth);
  });
}

// Biases, rope and the cache store of tokens [t0, t1) of the batch (q_, k_, v_).
void Sequence::store_kv(int64_t layer, int64_t pos0, int64_t t0, int64_t t1) {
  const ModelConfig& c = model_->config();
  const LayerWeights& L = model_->layers()[static_cast<size_t>(layer)];
  const int64_t QW = c.n_embd_q(), KW = c.n_embd_kv();
  for (int64_t i = t0; i < t1; ++i) {
    float* q = q_.data() + i * QW;
    float* k = k_.data() + i * KW;
    float* v = v_.data() + i * KW;
    if (!L.bq.empty()) {
      for (int64_t j = 0; j < QW; ++j) q[j] += L.bq[static_cast<size_t>(j)];
      for (int64_t j = 0; j < KW; ++j) k[j] += L.bk[static_cast<size_t>(j)];
      for (int64_t j = 0; j < KW; ++j) v[j] += L.bv[static_cast<size_t>(j)];
    }
    const float* cs = rope_cs_.data() + i * c.n_rot;
    const bool halves = c.rope == RopeStyle::kNeox;
    model_->kernels().rope(q, c.n_head, c.head_dim, c.n_rot, cs, halves);
    model_->kernels().rope(k, c.n_head_kv, c.head_dim, c.n_rot, cs, halves);
    if (kv_.f16()) {
      uint16_t* Kt = kv_.keys16(layer);
      uint16_t* Vc = kv_.values16(layer) + (pos0 + i) * KW;
      for (int64_t j = 0; j < KW; ++j) Kt[KvCache::key_index(pos0 + i, j, KW)] = fp32_to_fp16(k[j]);
      for (int64_t j = 0; j < KW; ++j) Vc[j] = fp32_to_fp16(v[j]);
    } else {
      float* Kt = kv_.keys(layer);
      for (int64_t j = 0; j < KW; ++j) Kt[KvCache::key_index(pos0 + i, j, KW)] = k[j];
      std::memcpy(kv_.values(layer) + (pos0 + i) * KW, v, static_cast<size_t>(KW) * sizeof(float));
    }
  }
}

// Causal attention of the batch's n_tok queries (q_) over every cached position,
// after store_kv has added the batch's own keys and values; result in att_
// (n_tok, n_embd_q). Work is split over (token, KV head) pairs,
// each taking the query heads that share the KV head, or over (token, head)
// pairs where that gives too few parts for the pool; either way each head's
// result is the same (float_kernels.h).
void Sequence::attention(int64_t layer, int64_t n_tok, int64_t pos0) {
  const ModelConfig& c = model_->config();
  const int64_t hd = c.head_dim, group = c.n_head / c.n_head_kv;
  const int64_t kvw = c.n_embd_kv(), qw = c.n_embd_q();
  const int64_t n_ctx = kv_.n_ctx();
  const int64_t per_job = n_tok * c.n_head_kv >= pool_.size() ? group : 1;
  const int64_t heads_per_tok = c.n_head / per_job;
  const AttendFn attend = model_->kernels().attend;
  AttendArgs base;
  base.q_stride = hd;
  base.n_q = per_job;
  base.kt_stride = kv_.key_block_stride();
  base.v_stride = kvw;
  base.hd = hd;
  base.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  base.out_stride = hd;
  auto store = [&](int64_t t0, int64_t t1) { store_kv(layer, pos0, t0, t1); };
  phased(n_tok, store, [&](int ith, int nth) {
    AttendArgs a = base;
    a.scores = scores_.data() + static_cast<size_t>(ith * group * n_ctx);
    for (int64_t job = ith; job < n_tok * heads_per_tok; job += nth) {
      const int64_t t = job / heads_per_tok, h0 = (job % heads_per_tok) * per_job, kvh = h0 / group;
      a.q = q_.data() + t * qw + h0 * hd;
      if (kv_.f16()) {
        a.kt16 = kv_.keys16(layer) + kvh * hd * kKeyBlock;
        a.v16 = kv_.values16(layer) + kvh * hd;
      } else {
        a.kt = kv_.keys(layer) + kvh * hd * kKeyBlock;
        a.v = kv_.values(layer) + kvh * hd;
      }
      a.n_kv = pos0 + t + 1;
      a.out = att_.data() + t * qw + h0 * hd;
      attend(a);
    }
  });
}

template <class Prep>
void Sequence::linear(std::initializer_list<LinearOut> outs, const float* x, int64_t n_tok, Prep&& prep) {
  const Kernels& k = model_->kernels();
  const LinearOut* o = outs.begin();
  const size_t n_out = outs.size();
  const Activations* acts[kMaxFused] = {};
  Activations* own[kMaxFused] = {};  // the activations this call quantizes
  size_t n_own = 0;
  const int64_t tr = k.pack_rows;       // rows per kernel tile
  int64_t tiles[kMaxFused + 1] = {0};  // prefix sums of tiles per output
  for (size_t i = 0; i < n_out; ++i) {
    for (size_t j = 0; j < i && !acts[i]; ++j)
      if (shares_activations(o[j].w->type, o[i].w->type)) acts[i] = acts[j];
    if (!acts[i]) {
      plan_activations(k, o[i].w->type, x, n_tok, o[i].w->n_in, o[i].w->n_in, acts_[i]);
      acts[i] = own[n_own++] = &acts_[i];
    }
    tiles[i + 1] = tiles[i] + (o[i].w->n_out + tr - 1) / tr;
  }
  // The input's tokens are made (prep) and quantized first; then each thread
  // takes a contiguous run of tiles across the outputs; runs are whole kernel
  // tiles (and packed ones start where a packed tile does).
  auto make_input = [&](int64_t t0, int64_t t1) {
    prep(t0, t1);
    for (size_t i = 0; i < n_own; ++i) quantize_activations(k, *own[i], t0, t1);
  };
  phased(n_tok, make_input, [&](int ith, int nth) {
    const int64_t t0 = tiles[n_out] * ith / nth, t1 = tiles[n_out] * (ith + 1) / nth;
    for (size_t i = 0; i < n_out; ++i) {
      const int64_t a = std::max(t0, tiles[i]), b = std::min(t1, tiles[i + 1]);
      if (a >= b) continue;
      const WeightView& w = *o[i].w;
      const int64_t r0 = (a - tiles[i]) * tr, r1 = std::min(w.n_out, (b - tiles[i]) * tr);
      matmul(k, w, *acts[i], o[i].y, w.n_out, r0, r1);
    }
  });
}

Result<std::span<const float>> Sequence::eval(std::span<const int32_t> tokens, Logits which) {
  const auto n = static_cast<int64_t>(tokens.size());
  return eval_tail(tokens, which == Logits::kAll || n == 0 ? 0 : n - 1);
}

Result<std::span<const float>> Sequence::eval_tail(std::span<const int32_t> tokens, int64_t first) {
  const ModelConfig& c = model_->config();
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return make_error("eval: no tokens to evaluate");
  if (first < 0 || first >= n)
    return make_error("eval: logits from token ", first, " of a batch of ", n, " (expected 0..", n - 1, ")");
  const int64_t pos0 = kv_.n_past();
  if (pos0 + n > kv_.n_ctx())
    return make_error("eval: ", n, " tokens after position ", pos0, " exceed the context of ", kv_.n_ctx(), " tokens");
  for (int64_t i = 0; i < n; ++i)
    if (tokens[static_cast<size_t>(i)] < 0 || tokens[static_cast<size_t>(i)] >= c.n_vocab)
      return make_error("eval: token id ", tokens[static_cast<size_t>(i)], " at index ", i, " is outside the vocabulary (0..",
                        c.n_vocab - 1, ")");
  ensure_scratch(n);
  const int64_t E = c.n_embd, FF = c.n_ff;

  for (int64_t i = 0; i < n; ++i)
    dequantize_row(model_->token_embd().type, model_->token_embd().row(tokens[static_cast<size_t>(i)]),
                         x_.data() + i * E, E);

  rope_cs_.resize(static_cast<size_t>(n * c.n_rot));  // per token: (cos, sin) x n_rot / 2
  for (int64_t i = 0; i < n; ++i)
    rope_angles(c.n_rot, rope_inv_freq_.data(), static_cast<float>(pos0 + i), rope_cs_.data() + i * c.n_rot);

  // A layer's residual adds, norms, rope and swiglu run per token, in the phase
  // before the matmul or attention that reads them (phased()). The residual of
  // a feed-forward output is added before the next norm.
  // Row i of x_ (plus row i of xn_, the residual, where add) normed into row i of xn_.
  const RmsNormFn rms_norm = model_->kernels().rms_norm;
  auto norm_rows = [&](const std::vector<float>& weight, bool add, int64_t t0, int64_t t1) {
    for (int64_t i = t0; i < t1; ++i)
      rms_norm(x_.data() + i * E, add ? xn_.data() + i * E : nullptr, weight.data(), xn_.data() + i * E, E, c.rms_eps);
  };
  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& L = model_->layers()[static_cast<size_t>(il)];
    linear({{&L.wq, q_.data()}, {&L.wk, k_.data()}, {&L.wv, v_.data()}}, xn_.data(), n, [&](int64_t t0, int64_t t1) {
      norm_rows(L.attn_norm, il > 0, t0, t1);
    });
    attention(il, n, pos0);
    linear({{&L.wo, xn_.data()}}, att_.data(), n, [](int64_t, int64_t) {});
    linear({{&L.ffn_gate, gate_.data()}, {&L.ffn_up, up_.data()}}, xn_.data(), n, [&](int64_t t0, int64_t t1) {
      norm_rows(L.ffn_norm, true, t0, t1);
    });
    linear({{&L.ffn_down, xn_.data()}}, gate_.data(), n, [&](int64_t t0, int64_t t1) {
      model_->kernels().swiglu(gate_.data() + t0 * FF, up_.data() + t0 * FF, gate_.data() + t0 * FF, (t1 - t0) * FF);
    });
  }
  kv_.advance(n);

  // The last layer's residual, then the output norm of the rows asked for (row
  // i of xn_ for token first + i).
  const int64_t rows = n - first;
  logits_.resize(static_cast<size_t>(rows * c.n_vocab));
  linear({{&model_->output(), logits_.data()}}, xn_.data(), rows, [&](int64_t t0, int64_t t1) {
    for (int64_t i = t0; i < t1; ++i)
      rms_norm(x_.data() + (first + i) * E, xn_.data() + (first + i) * E, model_->output_norm().data(),
               xn_.data() + i * E, E, c.rms_eps);
  });
  return std::span<const float>(logits_.data(), logits_.size());
}

}  // namespace tandem
