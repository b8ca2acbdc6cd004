// A fork-join thread pool for the forward pass. Small models spend most of a
// token on synchronisation, so workers spin briefly on an atomic epoch before
// sleeping (std::atomic::wait, a futex), and the caller takes part in the work:
// a dispatch costs well under a microsecond while the pool is hot.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace tandem {

class ThreadPool {
 public:
  // n_threads includes the calling thread; 0 means the cores present.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(ith, nth) on every thread of the pool (ith = 0 is the caller) and
  // returns when all are done. fn must not call run() on the same pool.
  template <class Fn>
  void run(Fn&& fn) {
    if (n_threads_ == 1) {
      fn(0, 1);
      return;
    }
    dispatch(&invoke<std::remove_reference_t<Fn>>, &fn);
  }

  // Splits [0, n) into contiguous chunks, one per thread: fn(begin, end).
  template <class Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    run([&](int ith, int nth) {
      int64_t b = n * ith / nth, e = n * (ith + 1) / nth;
      if (b < e) fn(b, e);
    });
  }

  static int default_threads();

 private:
  using Task = void (*)(void* ctx, int ith, int nth);
  template <class Fn>
  static void invoke(void* ctx, int ith, int nth) {
    (*static_cast<Fn*>(ctx))(ith, nth);
  }
  void dispatch(Task task, void* ctx);
  void worker(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  // Written by the caller before the epoch is bumped; read by workers after they see it.
  Task task_ = nullptr;
  void* ctx_ = nullptr;
  alignas(64) std::atomic<uint32_t> epoch_{0};  // 32-bit: waits map directly onto a futex
  alignas(64) std::atomic<int> pending_{0};
  alignas(64) std::atomic<bool> stop_{false};
};

}  // namespace tandem
