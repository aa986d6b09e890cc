#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tf {
namespace {

thread_local bool tls_in_parallel = false;

// How long a worker keeps polling for the next job before it sleeps, and how long the caller polls for the
// workers to finish before it sleeps. Waking a sleeping thread costs 50-100 us on this VM kind, more than
// many kernels take (relu on 1M floats: 157 us on 1 thread, 210 on 2 with sleeping workers); training runs
// kernels back to back, so a short poll finds the workers awake. Bounded, so an idle process stops spinning.
constexpr std::chrono::microseconds kWorkerPoll{100}, kCallerPoll{500};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` until it holds or `limit` has passed; returns whether it holds.
template <class F>
bool poll_for(std::chrono::microseconds limit, F&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 64 == 63 && std::chrono::steady_clock::now() > deadline) return ready();
  }
}

class Pool {
 public:
  Pool() : wanted_(std::max(1, std::min<int>(8, int(std::thread::hardware_concurrency())))) {}
  ~Pool() { stop(); }

  int threads() const { return wanted_.load(); }
  void set_threads(int n) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);
    stop();
    wanted_ = std::max(1, n);
  }

  bool run(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t)>& fn) {
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::try_to_lock);
    if (!job_lock.owns_lock()) return false;
    ensure_started();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      next_chunk_ = 0;
      pending_ = chunks;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work();
    poll_for(kCallerPoll, [&] { return pending_.load() == 0; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_.load() == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void ensure_started() {
    const int extra = wanted_ - 1;
    if (int(workers_.size()) == extra) return;
    stopping_ = false;
    for (int i = 0; i < extra; ++i) workers_.emplace_back([this] { loop(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Claims chunks until none are left; shared by the caller and the workers.
  void work() {
    tls_in_parallel = true;
    for (;;) {
      int64_t c = next_chunk_.fetch_add(1);
      if (c >= chunks_) break;
      const int64_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under it: no lost wake-up
        done_.notify_one();
      }
    }
    tls_in_parallel = false;
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      poll_for(kWorkerPoll, [&] { return generation_.load() != seen || stopping_.load(); });
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && fn_ != nullptr); });
        if (stopping_) return;
        seen = generation_;
      }
      work();
    }
  }

  std::atomic<int> wanted_;
  std::vector<std::thread> workers_;
  std::mutex job_mutex_;  // one job at a time; other callers run inline
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  std::atomic<int64_t> next_chunk_{0}, pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: workers may outlive static destruction order at exit
  return *p;
}

}  // namespace

int num_threads() { return pool().threads(); }
void set_num_threads(int n) { pool().set_threads(n); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int threads = num_threads();
  const int64_t chunks = std::min<int64_t>(threads, n / grain);
  if (chunks < 2 || tls_in_parallel || !pool().run(n, chunks, fn)) fn(0, n);
}

}  // namespace tf
