// Training speed of the house-model shape from issue #4: dim 384, 6 layers,
// 6 heads / 2 KV heads, ffn 1024, vocab 4096 (12.6M parameters), batch 8 x 256,
// AdamW, 2 threads. Reports tokens/s per optimizer step (the figure:
// PyTorch 250 tok/s, goal >= 1,000, sgemm bound ~1,850 on the reference
// machine), and the same for a forward+backward without the optimizer, and the
// ~1.6M draft shape. Random tokens: speed does not depend on the data.
//   build/bench/train_bench --benchmark_min_time=1x   (a few steps each)
#include <benchmark/benchmark.h>

#include <ctime>
#include <random>
#include <vector>

#include "tandem/train/trainer.h"

namespace tandem {
namespace {

TrainOptions options_for(int64_t dim, int64_t layers, int64_t heads, int64_t kv, int64_t ffn, int threads) {
  TrainOptions o;
  o.model = {.dim = dim, .n_layers = layers, .n_heads = heads, .n_kv_heads = kv, .ffn = ffn, .vocab = 4096, .ctx = 256};
  o.batch_size = 8;
  o.seq_len = 256;
  o.schedule = {.peak = 3e-4f, .floor = 3e-5f, .warmup_steps = 10, .total_steps = 1000};
  o.threads = threads;
  return o;
}

// CPU seconds used by every thread of the process: on a machine shared with
// other jobs, tokens per CPU-second x threads estimates the uncontended speed.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

InMemoryTokens random_tokens(int64_t n) {
  std::mt19937 g(7);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(g() % 4096);
  return InMemoryTokens(std::move(t));
}

void run_steps(benchmark::State& state, const TrainOptions& o) {
  const InMemoryTokens data = random_tokens(1 << 20);
  auto trainer = Trainer::create(o, data);
  if (!trainer) {
    state.SkipWithError(trainer.error().message.c_str());
    return;
  }
  (void)(*trainer)->step();  // warm: buffers allocated, pages touched
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    auto p = (*trainer)->step();
    if (!p) {
      state.SkipWithError(p.error().message.c_str());
      return;
    }
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(o.tokens_per_step()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params_M"] = static_cast<double>(o.model.n_params()) / 1e6;
  const double cpu = process_cpu_seconds() - cpu0;
  state.counters["tok/s_if_uncontended"] =
      static_cast<double>(o.tokens_per_step()) * static_cast<double>(state.iterations()) / cpu * o.threads;
}

void BM_TrainStep_12M(benchmark::State& state) {
  run_steps(state, options_for(384, 6, 6, 2, 1024, static_cast<int>(state.range(0))));
}
BENCHMARK(BM_TrainStep_12M)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

void BM_TrainStep_1_6M(benchmark::State& state) {
  run_steps(state, options_for(128, 3, 4, 2, 384, static_cast<int>(state.range(0))));
}
BENCHMARK(BM_TrainStep_1_6M)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);

}  // namespace
}  // namespace tandem

BENCHMARK_MAIN();
