// How fast this machine streams memory: the ceiling generation runs into once
// a model's weights do not fit in cache. Reads a buffer of SIZE MiB with THREADS
// threads (each its own contiguous part, 64-byte vector loads, ThreadPool as the
// engine uses it), repeatedly; bytes_per_second is the buffer size per pass.
// HUGE 0: ordinary heap memory (small pages, as a mapped file has); 1: a
// PageBuffer, advised for transparent huge pages (as the engine holds weights).
//   memory_read/SIZE/THREADS/HUGE
// Compare `tandem bench`'s "GB/s of weights" with memory_read/<model MiB>/<threads>/1.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "tandem/base/page_buffer.h"
#include "tandem/base/thread_pool.h"

namespace tandem {
namespace {

// XOR-folds n bytes (a multiple of 64) so the loads cannot be dropped.
uint64_t fold(const uint64_t* p, size_t n) {
  uint64_t a[8] = {};
  for (size_t i = 0; i < n / 8; i += 8)
    for (int k = 0; k < 8; ++k) a[k] ^= p[i + static_cast<size_t>(k)];
  uint64_t r = 0;
  for (uint64_t v : a) r ^= v;
  return r;
}

void memory_read(benchmark::State& st) {
  const size_t bytes = static_cast<size_t>(st.range(0)) << 20;
  ThreadPool pool(static_cast<int>(st.range(1)));
  std::unique_ptr<uint64_t[]> heap;
  PageBuffer pages;
  uint64_t* buf = nullptr;
  if (st.range(2) == 0) {
    heap.reset(new uint64_t[bytes / 8]);
    buf = heap.get();
  } else {
    auto b = PageBuffer::allocate(bytes);
    if (!b) {
      st.SkipWithError(b.error().message.c_str());
      return;
    }
    pages = std::move(*b);
    buf = reinterpret_cast<uint64_t*>(pages.data());
  }
  std::memset(buf, 1, bytes);
  uint64_t sink[64] = {};
  for (auto _ : st) {
    pool.run([&](int ith, int nth) {
      const size_t per = bytes / 64 / static_cast<size_t>(nth) * 64;
      sink[ith] ^= fold(buf + per / 8 * static_cast<size_t>(ith), per);
    });
    benchmark::DoNotOptimize(sink);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * bytes));
}

}  // namespace
}  // namespace tandem

BENCHMARK(tandem::memory_read)->ArgsProduct({{16, 128, 512}, {1, 2}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
