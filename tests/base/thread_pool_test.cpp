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

TEST(ThreadPool, DefaultSizeIsCoresPresent) {
  ThreadPool pool;
  EXPECT_EQ(pool.size(), ThreadPool::default_threads());
  EXPECT_GE(pool.size(), 1);
}

}  // namespace
}  // namespace tandem
