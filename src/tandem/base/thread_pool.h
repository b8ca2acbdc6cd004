// A fork-join thread pool for the forward pass. Small models spend most of a
// token on synchronisation, so threads spin briefly before sleeping
// (std::atomic::wait, a futex), and the caller takes part in the work: a
// dispatch costs well under a microsecond while the pool is hot.
//
// A task is split into parts fn(i, n), i in [0, n), n = size(). Threads claim
// parts from a shared counter, so a worker that the OS has not scheduled (more
// runnable threads than cores) does not stall the others: whoever is running
// takes the parts it has not claimed. Each part runs exactly once, on one
// thread; callers may key scratch space by i, never by the thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
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

  // Runs fn(i, n) for every part i of n = size() and returns when all are done.
  // fn must not call run() on the same pool.
  template <class Fn>
  void run(Fn&& fn) {
    if (n_threads_ == 1) {
      fn(0, 1);
      return;
    }
    dispatch(&invoke<std::remove_reference_t<Fn>>, &fn);
  }

  // Splits [0, n) into contiguous chunks, one per part: fn(begin, end).
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
  // Claims and runs parts of the dispatch tagged `tag` until none is left.
  void work(uint64_t tag);
  void worker();

  int n_threads_;
  std::vector<std::thread> workers_;
  // Written by the caller before a dispatch is published; read by a thread only
  // after it has claimed a part of that dispatch, which the caller waits for.
  Task task_ = nullptr;
  void* ctx_ = nullptr;
  // The current dispatch: (tag << 32) | next unclaimed part. A claim is a CAS
  // that succeeds only while the tag is current, so a late thread can never
  // claim a part of a later dispatch believing it belongs to an earlier one.
  alignas(64) std::atomic<uint64_t> claim_{0};
  alignas(64) std::atomic<uint32_t> epoch_{0};  // bumped per dispatch; 32-bit so waits map onto a futex
  alignas(64) std::atomic<int> done_{0};        // parts finished in the current dispatch
  alignas(64) std::atomic<bool> stop_{false};
};

// Units of work [0, n) shared by the parts of one ThreadPool::run, which all
// need every unit done before they go on: run_all(fn) calls fn(i) on each unit
// this thread claims and returns once all n are done. A thread waits only for
// units that running threads have claimed, never for a thread that has not
// started: one the OS has not scheduled leaves its share to the others, as
// with run()'s parts.
class SharedUnits {
 public:
  explicit SharedUnits(int64_t n) : n_(n) {}

  template <class Fn>
  void run_all(Fn&& fn) {
    for (int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < n_;) {
      fn(i);
      done_.fetch_add(1, std::memory_order_release);
    }
    wait_all();
  }

 private:
  void wait_all();
  const int64_t n_;
  alignas(64) std::atomic<int64_t> next_{0};
  alignas(64) std::atomic<int64_t> done_{0};
};

}  // namespace tandem
