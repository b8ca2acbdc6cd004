#include "tandem/base/thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TANDEM_PAUSE() _mm_pause()
#else
#define TANDEM_PAUSE() ((void)0)
#endif

namespace tandem {
namespace {
// How long an idle worker spins before sleeping: long enough to cover the gap
// between two matmuls of a token, short enough not to burn a core when idle.
constexpr auto kSpin = std::chrono::microseconds(200);
}  // namespace

int ThreadPool::default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : default_threads()) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_release);
  epoch_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::dispatch(Task task, void* ctx) {
  task_ = task;
  ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_release);
  epoch_.notify_all();
  task(ctx, 0, n_threads_);
  while (pending_.load(std::memory_order_acquire) != 0) TANDEM_PAUSE();
}

void ThreadPool::worker(int ith) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t e = epoch_.load(std::memory_order_acquire);
    if (e == seen) {
      auto until = std::chrono::steady_clock::now() + kSpin;
      int spins = 0;
      while ((e = epoch_.load(std::memory_order_acquire)) == seen) {
        TANDEM_PAUSE();
        if (++spins % 256 == 0 && std::chrono::steady_clock::now() > until) {
          epoch_.wait(seen, std::memory_order_acquire);
        }
      }
    }
    seen = e;
    if (stop_.load(std::memory_order_relaxed)) return;
    task_(ctx_, ith, n_threads_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace tandem
