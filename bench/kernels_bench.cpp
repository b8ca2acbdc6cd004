// Matmul kernel throughput per weight type, one thread, on a llama-125M FFN
// shape: W (2048 rows x 768), y = x W^T.
//   gen_cold/TYPE/PATH   one token, cycling through >= 128 MB of weight copies so
//                        every byte comes from DRAM (the generation case)
//   gen_hot/TYPE/PATH    one token, the same matrix every time (from cache: the
//                        kernel's own speed limit)
//   batch5/TYPE/PATH     5 tokens (verifying 4 drafted tokens), from cache
//   prefill128/TYPE/PATH 128 tokens (prompt processing), activation
//                        quantization included
//   packed1, packed5/TYPE/PATH  1 and 5 tokens against the matrix decoded at
//                        load into the path's tile layout (Kernels::pack_tile),
//                        as cache-resident models run: the ratio of the two is
//                        what verifying 4 drafted tokens costs there
//   stream1/TYPE/PATH    one token against tiles packed for streaming
//                        (PackFor::kStream), cycling through copies as gen_cold
//                        does: how models that do not fit the cache run
// bytes_per_second is weight bytes read per second (for prefill: the matrix
// size per call / time, i.e. how fast the matrix is "consumed"); the counters
// add tokens/s and GMAC/s. PATH is avx512 / avx2 (forced) where the CPU has it.
//   attend/N_KV/PATH     attention of the 3 query heads of one KV head (head
//                        size 64) over N_KV cached positions; GFLOP/s counts
//                        the two products (scores and the weighted values)
#include <benchmark/benchmark.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tandem/tensor/kernels.h"
#include "tandem/tensor/matmul.h"
#include "tandem/tensor/quants.h"

namespace tandem {
namespace {

constexpr int64_t kRows = 2048, kCols = 768;
constexpr size_t kColdBytes = size_t{128} << 20;

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = dist(rng);
  return x;
}

// `copies` identical quantized matrices laid end to end.
std::vector<uint8_t> weight_pool(GgmlType t, int copies, size_t& matrix_bytes) {
  const size_t rb = row_bytes(t, kCols);
  matrix_bytes = rb * kRows;
  std::vector<uint8_t> pool(matrix_bytes * copies);
  const auto w = gaussian(static_cast<size_t>(kRows * kCols), 1);
  for (int64_t r = 0; r < kRows; ++r) quantize_row(t, w.data() + r * kCols, pool.data() + r * rb, kCols);
  for (int c = 1; c < copies; ++c) std::memcpy(pool.data() + c * matrix_bytes, pool.data(), matrix_bytes);
  return pool;
}

void run(benchmark::State& st, GgmlType t, Isa isa, int64_t n_tokens, bool cold,
         std::optional<PackFor> packed = std::nullopt) {
  const Kernels k = kernels_for_isa(isa);
  size_t mb = 0;
  int copies = 1;
  if (cold) copies = static_cast<int>(kColdBytes / row_bytes(t, kCols) / kRows) + 1;
  const auto pool = weight_pool(t, copies, mb);
  std::vector<Activations::Line> tiles;
  size_t tile_lines = 0;  // per copy
  if (packed) {
    WeightView w{t, pool.data(), kCols, kRows, row_bytes(t, kCols)};
    w.pack_for = *packed;
    tile_lines = packed_matrix_bytes(k, w) / 64 + 1;
    tiles.resize(tile_lines * static_cast<size_t>(copies));
    for (int c = 0; c < copies; ++c) {
      w.data = pool.data() + static_cast<size_t>(c) * mb;
      pack_weights(k, w, tiles[static_cast<size_t>(c) * tile_lines].b);
    }
  }
  const auto x = gaussian(static_cast<size_t>(kCols * n_tokens), 2);
  std::vector<float> y(static_cast<size_t>(kRows * n_tokens));
  Activations acts;
  int c = 0;
  for (auto _ : st) {
    WeightView w{t, pool.data() + c * mb, kCols, kRows, row_bytes(t, kCols)};
    if (packed) {
      w.packed = tiles[static_cast<size_t>(c) * tile_lines].b;
      w.pack_for = *packed;
    }
    prepare_activations(k, t, x.data(), n_tokens, kCols, kCols, acts);
    matmul(k, w, acts, y.data(), kRows, 0, kRows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
    if (++c == copies) c = 0;
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(mb));
  st.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n_tokens), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GMAC/s"] = benchmark::Counter(1e-9 * double(kRows * kCols) * double(n_tokens),
                                             benchmark::Counter::kIsIterationInvariantRate);
}

void run_attend(benchmark::State& st, Isa isa, int64_t n_kv) {
  const Kernels k = kernels_for_isa(isa);
  constexpr int64_t hd = 64, n_q = 3;
  const auto q = gaussian(static_cast<size_t>(n_q * hd), 3);
  const auto kt = gaussian(static_cast<size_t>(hd * ((n_kv + kKeyBlock - 1) / kKeyBlock * kKeyBlock)), 4);
  const auto v = gaussian(static_cast<size_t>(n_kv * hd), 5);
  std::vector<float> out(static_cast<size_t>(n_q * hd)), scores(static_cast<size_t>(n_q * n_kv));
  AttendArgs a;
  a.q = q.data();
  a.q_stride = hd;
  a.n_q = n_q;
  a.kt = kt.data();
  a.kt_stride = hd * kKeyBlock;
  a.v = v.data();
  a.v_stride = hd;
  a.n_kv = n_kv;
  a.hd = hd;
  a.scale = 0.125f;
  a.out = out.data();
  a.out_stride = hd;
  a.scores = scores.data();
  for (auto _ : st) {
    k.attend(a);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  st.counters["GFLOP/s"] = benchmark::Counter(1e-9 * 4.0 * double(n_q * n_kv * hd), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace
}  // namespace tandem

int main(int argc, char** argv) {
  using namespace tandem;
  const Isa best = CpuFeatures::detect().best_isa();
  std::vector<Isa> paths;
  if (best >= Isa::Avx512) paths.push_back(Isa::Avx512);
  if (best >= Isa::Avx2) paths.push_back(Isa::Avx2);
  if (paths.empty()) paths.push_back(Isa::Scalar);
  const GgmlType types[] = {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                            GgmlType::Q5_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                            GgmlType::F16,  GgmlType::BF16, GgmlType::F32};
  for (Isa isa : paths) {
    for (GgmlType t : types) {
      const std::string suffix = std::string(ggml_type_name(t)) + "/" + std::string(isa_name(isa));
      benchmark::RegisterBenchmark(("gen_cold/" + suffix).c_str(),
                                   [=](benchmark::State& st) { run(st, t, isa, 1, true); })
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("gen_hot/" + suffix).c_str(),
                                   [=](benchmark::State& st) { run(st, t, isa, 1, false); })
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("batch5/" + suffix).c_str(),
                                   [=](benchmark::State& st) { run(st, t, isa, 5, false); })
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("prefill128/" + suffix).c_str(),
                                   [=](benchmark::State& st) { run(st, t, isa, 128, false); })
          ->Unit(benchmark::kMillisecond);
      if (kernels_for_isa(isa).pack_tile != nullptr && uses_q8a_activations(t))
      {
        for (int64_t n : {1, 5})
          benchmark::RegisterBenchmark(("packed" + std::to_string(n) + "/" + suffix).c_str(),
                                       [=](benchmark::State& st) { run(st, t, isa, n, false, PackFor::kCache); })
              ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("stream1/" + suffix).c_str(),
                                     [=](benchmark::State& st) { run(st, t, isa, 1, true, PackFor::kStream); })
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  for (Isa isa : paths)
    for (int64_t n_kv : {128, 1024}) {
      const std::string name = "attend/" + std::to_string(n_kv) + "/" + std::string(isa_name(isa));
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) { run_attend(st, isa, n_kv); })
          ->Unit(benchmark::kMicrosecond);
    }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
