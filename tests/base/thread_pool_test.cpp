// Thread pool: every thread runs each task exactly once, parallel_for covers the
// range without overlap, and many back-to-back dispatches (the forward pass
// pattern) neither lose nor duplicate work.
#include "tandem/base/thread_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(ThreadPool, RunsEveryThreadOnce) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.run([&](int ith, int nth) {
      EXPECT_EQ(nth, n);
      hits[static_cast<size_t>(ith)].fetch_add(1);
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, ParallelForCoversRange) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
  }
}

TEST(ThreadPool, ManyDispatchesInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int r = 0; r < 20000; ++r) pool.run([&](int ith, int) { total.fetch_add(ith + 1); });
  EXPECT_EQ(total.load(), 20000 * 3);
}

TEST(ThreadPool, OversubscribedPoolsFinishEveryPartOnce) {
  // More runnable threads than cores: parts a descheduled worker has not claimed
  // are taken by whoever runs, and still run exactly once.
  std::vector<std::thread> clients;
  std::atomic<int64_t> bad{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      ThreadPool pool(3);
      for (int r = 0; r < 3000; ++r) {
        std::atomic<int> parts[3] = {0, 0, 0};
        pool.run([&](int ith, int) { parts[ith].fetch_add(1); });
        for (auto& p : parts)
          if (p.load() != 1) bad.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// SharedUnits in one run: every unit runs exactly once, and when run_all
// returns on any thread, what every unit wrote (plain writes) is visible there,
// also with more threads than cores and more or fewer units than threads.
TEST(SharedUnits, EveryUnitOnceAndAllVisibleAfter) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    int64_t bad = 0;
    const int reps = n > 2 ? 300 : 2000;
    for (int rep = 0; rep < reps; ++rep) {
      const int64_t units = 1 + rep % 7;
      std::vector<int64_t> slots(static_cast<size_t>(units), -1);
      std::vector<std::atomic<int>> runs(static_cast<size_t>(units));
      std::vector<int64_t> part_bad(static_cast<size_t>(n), 0);
      SharedUnits shared(units);
      pool.run([&](int ith, int) {
        shared.run_all([&](int64_t i) {
          runs[static_cast<size_t>(i)].fetch_add(1, std::memory_order_relaxed);
          slots[static_cast<size_t>(i)] = rep * 16 + i;
        });
        for (int64_t i = 0; i < units; ++i)
          if (slots[static_cast<size_t>(i)] != rep * 16 + i) ++part_bad[static_cast<size_t>(ith)];
      });
      for (int64_t b : part_bad) bad += b;
      for (auto& r : runs) bad += r.load() != 1;
    }
    EXPECT_EQ(bad, 0) << n << " threads";
  }
}

TEST(ThreadPool, DefaultSizeIsCoresPresent) {
  ThreadPool pool;
  EXPECT_EQ(pool.size(), ThreadPool::default_threads());
  EXPECT_GE(pool.size(), 1);
}

}  // namespace
}  // namespace tandem
