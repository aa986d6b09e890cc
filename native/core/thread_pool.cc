#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace tf {
namespace {

thread_local bool tls_in_parallel = false;
thread_local int tls_threads = 0;  // this thread's setting; 0: the default

int default_threads() {
  static const int n = std::max(1, std::min<int>(8, int(std::thread::hardware_concurrency())));
  return n;
}

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

int64_t chunk_begin(int64_t n, int64_t chunk, int64_t chunks) { return n * chunk / chunks; }

// Marks this thread as inside a parallel_for for its lifetime.
class InParallel {
 public:
  InParallel() : outer_(tls_in_parallel) { tls_in_parallel = true; }
  ~InParallel() { tls_in_parallel = outer_; }
  InParallel(const InParallel&) = delete;
  InParallel& operator=(const InParallel&) = delete;

 private:
  bool outer_;
};

// One job at a time; a caller that finds the pool busy runs its chunks itself. The pool grows to the largest
// count any JS thread has run a job with and never shrinks; a job wakes only the workers it has chunks for
// (the others go back to sleep), so a thread's small setting does not pay for another's large one.
class Pool {
 public:
  bool run(int64_t n, int64_t chunks, const std::function<void(int64_t, int64_t)>& fn) {
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::try_to_lock);
    if (!job_lock.owns_lock()) return false;
    grow(int(chunks - 1));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      helpers_ = int(chunks - 1);
      threads_ = num_threads();
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
  // Starts workers until there are `helpers`; called under job_mutex_.
  void grow(int helpers) {
    for (int index = workers_; index < helpers; ++index) std::thread([this, index] { loop(index); }).detach();
    workers_ = std::max(workers_, helpers);
  }

  // Claims chunks until none are left; shared by the caller and the workers. A worker takes on the caller's
  // thread setting, so that what a chunk computes does not depend on which thread runs it.
  void work() {
    const InParallel inside;
    for (;;) {
      const int64_t c = next_chunk_.fetch_add(1);
      if (c >= chunks_) break;
      tls_threads = threads_;
      try {
        (*fn_)(chunk_begin(n_, c, chunks_), chunk_begin(n_, c + 1, chunks_));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under it: no lost wake-up
        done_.notify_one();
      }
    }
  }

  // Polls for the next job after one it helped with (training runs jobs back to back); after one it had no
  // chunk of, it sleeps until the next.
  void loop(int index) {
    uint64_t seen = 0;
    bool helped = false;
    for (;;) {
      if (helped) poll_for(kWorkerPoll, [&] { return generation_.load() != seen; });
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen && fn_ != nullptr; });
        seen = generation_;
        helped = index < helpers_;
      }
      if (helped) work();
    }
  }

  std::mutex job_mutex_;  // one job at a time
  int workers_ = 0;       // under job_mutex_
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  int helpers_ = 0, threads_ = 1;
  std::atomic<int64_t> next_chunk_{0}, pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: its detached workers run until the process exits
  return *p;
}

}  // namespace

int num_threads() { return tls_threads > 0 ? tls_threads : default_threads(); }
void set_num_threads(int n) { tls_threads = std::max(1, n); }
bool in_parallel_for() { return tls_in_parallel; }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t chunks = tls_in_parallel ? 1 : std::min<int64_t>(num_threads(), n / std::max<int64_t>(1, grain));
  if (chunks < 2) return fn(0, n);
  if (pool().run(n, chunks, fn)) return;
  const InParallel inside;
  for (int64_t c = 0; c < chunks; ++c) fn(chunk_begin(n, c, chunks), chunk_begin(n, c + 1, chunks));
}

}  // namespace tf
