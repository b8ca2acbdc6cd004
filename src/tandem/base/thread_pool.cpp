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
// How long a thread spins before sleeping on a futex: long enough to cover the
// gap between two matmuls of a token, short enough that an oversubscribed
// machine (more runnable threads than cores) does not lose its time slices to
// spinning.
constexpr auto kSpin = std::chrono::microseconds(50);

// Spins on `a` while it equals `old`, then sleeps until it changes. Returns the new value.
template <class T>
T wait_change(const std::atomic<T>& a, T old) {
  T v;
  auto until = std::chrono::steady_clock::now() + kSpin;
  int spins = 0;
  while ((v = a.load(std::memory_order_acquire)) == old) {
    TANDEM_PAUSE();
    if (++spins % 64 == 0 && std::chrono::steady_clock::now() > until) {
      a.wait(old, std::memory_order_acquire);
    }
  }
  return v;
}
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
  for (int left = pending_.load(std::memory_order_acquire); left != 0;) left = wait_change(pending_, left);
}

void ThreadPool::worker(int ith) {
  uint32_t seen = 0;
  for (;;) {
    seen = wait_change(epoch_, seen);
    if (stop_.load(std::memory_order_relaxed)) return;
    task_(ctx_, ith, n_threads_);
    // The last one to finish wakes the caller if it went to sleep (cheap otherwise:
    // notify makes no system call when nobody waits).
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace tandem
