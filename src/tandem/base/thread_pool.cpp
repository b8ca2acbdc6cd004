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
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_release);
  epoch_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(uint64_t tag) {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((c >> 32) != tag || static_cast<int>(c & 0xffffffffu) >= n_threads_) return;
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    task_(ctx_, static_cast<int>(c & 0xffffffffu), n_threads_);
    // The part that completes the dispatch wakes the caller if it went to sleep
    // (notify makes no system call when nobody waits).
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_threads_) done_.notify_one();
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::dispatch(Task task, void* ctx) {
  task_ = task;
  ctx_ = ctx;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t e = epoch_.load(std::memory_order_relaxed) + 1;
  claim_.store(static_cast<uint64_t>(e) << 32, std::memory_order_release);
  epoch_.store(e, std::memory_order_release);
  epoch_.notify_all();
  work(e);
  for (int d = done_.load(std::memory_order_acquire); d != n_threads_;) d = wait_change(done_, d);
}

void ThreadPool::worker() {
  uint32_t seen = 0;
  for (;;) {
    seen = wait_change(epoch_, seen);
    if (stop_.load(std::memory_order_relaxed)) return;
    work(seen);
  }
}

void SharedUnits::wait_all() {
  // The units left are being run by threads that have claimed them: spin, and
  // past kSpin give the core away in case one of them waits for it.
  auto until = std::chrono::steady_clock::now() + kSpin;
  int spins = 0;
  while (done_.load(std::memory_order_acquire) < n_) {
    TANDEM_PAUSE();
    if (++spins % 64 == 0 && std::chrono::steady_clock::now() > until) std::this_thread::yield();
  }
}

}  // namespace tandem
