// Kernel execution: blocks spread over worker threads, a block's threads as fibers on one worker, barriers
// and warp collectives that release when every participant has arrived, and the diagnosis of the ways a
// block can stop making progress (divergent barriers, bad masks, deadlock) as kernel errors.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cuda/emu/fiber.h"
#include "cuda/emu/internal.h"

namespace emu::detail {

__thread ThreadView* tls_thread = nullptr;

namespace {

// Kernels keep small frames; a guard page below each stack turns an overflow into a fault, not corruption.
constexpr size_t kStackBytes = 128 * 1024;
constexpr unsigned kWarpSize = 32;
constexpr unsigned kMaxWarps = kMaxThreadsPerBlock / kWarpSize;

enum class State : uint8_t { kReady, kBarrier, kCollective, kActiveMask, kExited, kFaulted };

struct Block;
struct Thread;

// A cp.async copy issued and not yet performed; `group` is the commit group it belongs to (the thread's
// open_group while it is uncommitted).
struct AsyncCopy {
  void* dst;
  const void* src;
  unsigned bytes, src_bytes, group;
  const char* file;
  int line;
};

// A stack that runs threads: one from its start until it exits, then, without a switch, the next thread
// that has not started yet. A block without barriers therefore runs all its threads on one fiber.
struct Fiber {
  FiberContext context;
  std::unique_ptr<FiberStack> stack;
  size_t index = 0;
  Thread* thread = nullptr;  // the thread it runs, null while idle
};

struct Thread : ThreadView {
  unsigned linear = 0;
  Block* block = nullptr;
  State state = State::kReady;
  Fiber* fiber = nullptr;  // from its start until it exits
  // Where and how it waits (barrier, collective or __activemask), and what the wait returns.
  const char* file = nullptr;
  int line = 0;
  Collective op = Collective::kSyncWarp;
  unsigned mask = 0;
  int arg = 0;
  int width = 0;
  uint64_t value = 0;
  uint64_t result = 0;
  // kExchange: the instruction's name and what completes it.
  const char* exchange_name = nullptr;
  ExchangeFn exchange = nullptr;
  // cp.async copies in issue order (so in group order), and the group that a commit closes next.
  std::vector<AsyncCopy> copies;
  unsigned open_group = 0;
};

struct SharedVar {
  const char* file;
  int line;
  const char* name;
  size_t offset, bytes;
};

struct Block {
  const Kernel* kernel = nullptr;
  uint3 idx{};
  unsigned n = 0;
  Thread* threads = nullptr;
  FiberContext* scheduler = nullptr;
  std::vector<Fiber*> idle;  // fibers without a thread
  // Runnable threads, in the order they became runnable (a ring: each thread is in it at most once).
  unsigned* ready = nullptr;
  unsigned ready_head = 0, ready_count = 0;
  unsigned exited = 0, at_barrier = 0;
  const char* barrier_file = nullptr;
  int barrier_line = 0;
  // Per warp: lanes waiting at a collective, at __activemask, and lanes that have exited.
  unsigned collective_lanes[kMaxWarps] = {};
  unsigned activemask_lanes[kMaxWarps] = {};
  unsigned exited_lanes[kMaxWarps] = {};
  bool failed = false;
  KernelError error;
  char* shared = nullptr;
  size_t shared_used = 0;
  std::vector<SharedVar> shared_vars;

  void push(Thread& t) {
    t.state = State::kReady;
    unsigned slot = ready_head + ready_count++;
    if (slot >= n) slot -= n;
    ready[slot] = t.linear;
  }
  Thread& pop() {
    Thread& t = threads[ready[ready_head]];
    if (++ready_head == n) ready_head = 0;
    --ready_count;
    return t;
  }
  void fail(cudaError_t code, const std::string& what) {
    if (failed) return;
    failed = true;
    error.code = code;
    error.message = "kernel '" + kernel->name + "' block (" + std::to_string(idx.x) + "," + std::to_string(idx.y) +
                    "," + std::to_string(idx.z) + "): " + what;
  }
};

bool same_site(const char* file_a, int line_a, const char* file_b, int line_b) {
  return line_a == line_b && (file_a == file_b || std::strcmp(file_a, file_b) == 0);
}

std::string site(const char* file, int line) { return std::string(file) + ":" + std::to_string(line); }

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

std::string thread_name(const Thread& t) {
  return "thread (" + std::to_string(t.thread_idx.x) + "," + std::to_string(t.thread_idx.y) + "," +
         std::to_string(t.thread_idx.z) + ")";
}

// "thread (3,0,0)" or "threads 16..31, 40" (linear ids x + y*blockDim.x + z*blockDim.x*blockDim.y).
std::string thread_names(const Block& b, const std::vector<unsigned>& ids) {
  if (ids.size() == 1) return thread_name(b.threads[ids[0]]);
  std::string out = "threads ";
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (i > 0) out += ", ";
    out += std::to_string(ids[i]);
    if (j > i) out += ".." + std::to_string(ids[j]);
    i = j + 1;
  }
  if (b.kernel->block.y * b.kernel->block.z > 1) out += " (linear ids)";
  return out;
}

template <class Pred>
std::vector<unsigned> threads_where(const Block& b, Pred pred) {
  std::vector<unsigned> ids;
  for (unsigned i = 0; i < b.n; ++i)
    if (pred(b.threads[i])) ids.push_back(i);
  return ids;
}

const char* collective_name(Collective op) {
  switch (op) {
    case Collective::kSyncWarp: return "__syncwarp";
    case Collective::kShflIdx: return "__shfl_sync";
    case Collective::kShflUp: return "__shfl_up_sync";
    case Collective::kShflDown: return "__shfl_down_sync";
    case Collective::kShflXor: return "__shfl_xor_sync";
    case Collective::kBallot: return "__ballot_sync";
    case Collective::kAny: return "__any_sync";
    case Collective::kAll: return "__all_sync";
    case Collective::kExchange: return "a fragment exchange";
  }
  return "?";
}

const char* collective_name(const Thread& t) {
  return t.op == Collective::kExchange ? t.exchange_name : collective_name(t.op);
}

std::string describe_wait(const Thread& t) {
  switch (t.state) {
    case State::kBarrier: return "waits at __syncthreads() at " + site(t.file, t.line);
    case State::kCollective:
      return std::string("waits at ") + collective_name(t) + "(mask " + hex(t.mask) + ") at " + site(t.file, t.line);
    case State::kActiveMask: return "waits at __activemask() at " + site(t.file, t.line);
    case State::kExited: return "has exited";
    case State::kFaulted: return "has faulted";
    case State::kReady: return "is runnable";
  }
  return "?";
}

Thread& current(const char* what) {
  auto* t = static_cast<Thread*>(tls_thread);
  if (t == nullptr) {
    std::fprintf(stderr, "tensorforge emulated CUDA: %s called outside a kernel\n", what);
    std::abort();
  }
  return *t;
}

// Switches from `from` to the next runnable thread when it is suspended (a direct switch, half the cost of
// going through the scheduler), else to the scheduler.
void switch_away(FiberContext& from, Block& b) {
  if (!b.failed && b.ready_count > 0 && b.threads[b.ready[b.ready_head]].fiber != nullptr) {
    Thread& next = b.pop();
    tls_thread = &next;
    switch_fiber(from, next.fiber->context);
  } else {
    switch_fiber(from, *b.scheduler);
  }
}

// Suspends the calling thread until a barrier or collective releases it; whoever resumes it sets tls_thread.
void wait(Thread& t) { switch_away(t.fiber->context, *t.block); }

// Records the error and abandons the block: the calling fiber is never resumed.
[[noreturn]] void fault(Thread& t, cudaError_t code, const std::string& what) {
  t.block->fail(code, thread_name(t) + ": " + what);
  t.state = State::kFaulted;
  wait(t);
  __builtin_unreachable();
}

void on_exit(Block& b, Thread& t);

std::string unwaited_copies(const Thread& t) {
  const AsyncCopy& first = t.copies.front();
  const bool committed = first.group < t.open_group;
  return thread_name(t) + " exited with " + std::to_string(t.copies.size()) +
         " cp.async copies never performed (the first issued at " + site(first.file, first.line) + ", " +
         (committed ? "committed but not covered by a cp.async.wait_group" : "never committed") +
         "): their data was never waited for";
}

[[noreturn]] void fiber_main(void* arg) {
  Fiber& f = *static_cast<Fiber*>(arg);
  for (;;) {
    Thread* t = f.thread;
    Block& b = *t->block;
    for (;;) {
      try {
        b.kernel->body();
        if (t->copies.empty()) {
          t->state = State::kExited;
          t->fiber = nullptr;
          on_exit(b, *t);
        } else {
          b.fail(cudaErrorLaunchFailure, unwaited_copies(*t));
          t->state = State::kFaulted;
        }
      } catch (const std::exception& e) {
        b.fail(cudaErrorLaunchFailure, thread_name(*t) + ": threw " + e.what());
        t->state = State::kFaulted;
      } catch (...) {
        b.fail(cudaErrorLaunchFailure, thread_name(*t) + ": threw an exception");
        t->state = State::kFaulted;
      }
      if (b.failed || b.ready_count == 0 || b.threads[b.ready[b.ready_head]].fiber != nullptr) break;
      t = &b.pop();
      t->fiber = &f;
      f.thread = t;
      tls_thread = t;
    }
    if (!b.failed) {
      f.thread = nullptr;
      b.idle.push_back(&f);
    }
    switch_away(f.context, b);
  }
}

// The lane whose value a shuffle reads (PTX shfl.sync), or -1 when it lies outside the lane's segment of
// `width` lanes, in which case the lane keeps its own value.
int source_lane(Collective op, int lane, int arg, int width) {
  const int first = lane & ~(width - 1), last = first + width - 1;
  switch (op) {
    case Collective::kShflIdx: return first + (arg & (width - 1));
    case Collective::kShflUp: return lane - arg < first ? -1 : lane - arg;
    case Collective::kShflDown: return lane + arg > last ? -1 : lane + arg;
    case Collective::kShflXor: return (lane ^ arg) > last ? -1 : (lane ^ arg);
    default: return -1;
  }
}

// Every lane of `mask` has arrived at the same collective: computes each one's result and wakes them.
void complete_collective(Block& b, Thread& caller, unsigned base, unsigned mask) {
  Thread* warp = b.threads + base;
  if (caller.op == Collective::kExchange) {
    void* lanes[kWarpSize] = {};
    for (unsigned m = mask; m; m &= m - 1)
      lanes[__builtin_ctz(m)] = reinterpret_cast<void*>(warp[__builtin_ctz(m)].value);
    caller.exchange(lanes, mask);
  }
  unsigned votes = 0;
  for (unsigned m = mask; m; m &= m - 1) {
    const int lane = __builtin_ctz(m);
    if (warp[lane].value) votes |= 1u << lane;
  }
  for (unsigned m = mask; m; m &= m - 1) {
    const int lane = __builtin_ctz(m);
    Thread& t = warp[lane];
    switch (t.op) {
      case Collective::kSyncWarp:
      case Collective::kExchange: t.result = 0; break;
      case Collective::kBallot: t.result = votes; break;
      case Collective::kAny: t.result = votes != 0; break;
      case Collective::kAll: t.result = votes == mask; break;
      default: {
        const int src = source_lane(t.op, lane, t.arg, t.width);
        t.result = (src >= 0 && (mask >> src & 1)) ? warp[src].value : t.value;
      }
    }
    if (&t == &caller)
      t.state = State::kReady;
    else
      b.push(t);
  }
  b.collective_lanes[base / kWarpSize] &= ~mask;
}

void release_barrier(Block& b, Thread& caller) {
  unsigned count = 0;
  for (unsigned i = 0; i < b.n; ++i) count += unsigned(b.threads[i].value != 0);
  for (unsigned i = 0; i < b.n; ++i) {
    Thread& t = b.threads[i];
    t.result = count;
    if (&t == &caller)
      t.state = State::kReady;
    else
      b.push(t);
  }
  b.at_barrier = 0;
}

void on_exit(Block& b, Thread& t) {
  ++b.exited;
  const unsigned warp = t.linear / kWarpSize, lane = t.linear % kWarpSize;
  b.exited_lanes[warp] |= 1u << lane;
  for (unsigned m = b.collective_lanes[warp]; m; m &= m - 1) {
    const Thread& waiter = b.threads[warp * kWarpSize + __builtin_ctz(m)];
    if (waiter.mask >> lane & 1)
      return b.fail(cudaErrorLaunchFailure, thread_name(t) + " exited while " + thread_name(waiter) + " " +
                                                describe_wait(waiter) + ", whose mask names it");
  }
}

// No thread is runnable and some have not exited: release __activemask groups, else report why the block
// cannot go on.
void resolve_stall(Block& b) {
  bool released = false;
  for (unsigned w = 0; w * kWarpSize < b.n; ++w) {
    while (unsigned waiting = b.activemask_lanes[w]) {
      const Thread& first = b.threads[w * kWarpSize + __builtin_ctz(waiting)];
      unsigned group = 0;
      for (unsigned m = waiting; m; m &= m - 1) {
        const Thread& t = b.threads[w * kWarpSize + __builtin_ctz(m)];
        if (same_site(t.file, t.line, first.file, first.line)) group |= 1u << __builtin_ctz(m);
      }
      for (unsigned m = group; m; m &= m - 1) {
        Thread& t = b.threads[w * kWarpSize + __builtin_ctz(m)];
        t.result = group;
        b.push(t);
      }
      b.activemask_lanes[w] &= ~group;
      released = true;
    }
  }
  if (released) return;
  const auto at_barrier = [](const Thread& t) { return t.state == State::kBarrier; };
  if (b.at_barrier > 0 && b.at_barrier + b.exited == b.n)
    return b.fail(cudaErrorLaunchFailure,
                  "divergent __syncthreads(): " +
                      thread_names(b, threads_where(b, [](const Thread& t) { return t.state == State::kExited; })) +
                      " exited while " + thread_names(b, threads_where(b, at_barrier)) +
                      " wait at __syncthreads() at " + site(b.barrier_file, b.barrier_line));
  for (unsigned i = 0; i < b.n; ++i) {
    const Thread& t = b.threads[i];
    if (t.state != State::kCollective) continue;
    const unsigned base = i - i % kWarpSize;
    for (unsigned m = t.mask; m; m &= m - 1) {
      const Thread& other = b.threads[base + __builtin_ctz(m)];
      if (other.state != State::kCollective || other.mask != t.mask ||
          !same_site(other.file, other.line, t.file, t.line))
        return b.fail(cudaErrorLaunchFailure, "divergent warp: " + thread_name(t) + " " + describe_wait(t) +
                                                  ", but " + thread_name(other) + ", named in the mask, " +
                                                  describe_wait(other));
    }
  }
  std::string waits;
  for (unsigned i = 0; i < b.n; ++i) {
    const Thread& t = b.threads[i];
    if (t.state == State::kExited) continue;
    if (!waits.empty()) waits += "; ";
    waits += thread_name(t) + " " + describe_wait(t);
  }
  b.fail(cudaErrorLaunchFailure, "deadlock, no thread can proceed: " + waits);
}

// Runs the blocks of kernels on one OS thread: its fibers, stacks and shared memory are reused by every
// block it runs.
class Executor {
 public:
  Executor() : threads_(new Thread[kMaxThreadsPerBlock]), ready_(new unsigned[kMaxThreadsPerBlock]) {
    block_.threads = threads_.get();
    block_.ready = ready_.get();
    block_.scheduler = &scheduler_;
    block_.shared = shared_;
  }

  KernelError run_block(const Kernel& kernel, uint3 idx) {
    const dim3 dim = kernel.block;
    const unsigned n = dim.x * dim.y * dim.z;
    Block& b = block_;
    b.kernel = &kernel;
    b.idx = idx;
    b.n = n;
    b.ready_head = 0;
    b.ready_count = 0;
    b.exited = b.at_barrier = 0;
    std::fill_n(b.collective_lanes, kMaxWarps, 0u);
    std::fill_n(b.activemask_lanes, kMaxWarps, 0u);
    std::fill_n(b.exited_lanes, kMaxWarps, 0u);
    b.failed = false;
    b.error = KernelError{};
    b.shared_vars.clear();
    b.shared_used = (kernel.shared_bytes + 15) & ~size_t(15);
    // Shared memory starts undefined on a GPU; NaN bytes make a read before the first write visible.
    if (config().checked) std::memset(b.shared, 0xff, kernel.shared_bytes);
    // Coordinates cost three divisions a thread: computed again only when the block's shape changes.
    const bool same_shape = dim.x == shape_.x && dim.y == shape_.y && dim.z == shape_.z;
    shape_ = dim;
    for (unsigned i = 0; i < n; ++i) {
      Thread& t = threads_[i];
      if (!same_shape) t.thread_idx = uint3{i % dim.x, i / dim.x % dim.y, i / (dim.x * dim.y)};
      t.block_idx = idx;
      t.block_dim = dim;
      t.grid_dim = kernel.grid;
      t.linear = i;
      t.block = &b;
      t.fiber = nullptr;
      t.value = 0;
      t.copies.clear();
      t.open_group = 0;
      b.push(t);
    }
    while (!b.failed) {
      while (b.ready_count > 0 && !b.failed) {
        Thread& t = b.pop();
        if (t.fiber == nullptr) {
          t.fiber = idle_fiber();
          t.fiber->thread = &t;
        }
        tls_thread = &t;
        switch_fiber(scheduler_, t.fiber->context);
        tls_thread = nullptr;
      }
      if (b.failed || b.exited == n) break;
      resolve_stall(b);
    }
    if (b.failed) {
      // The abandoned threads' frames are dropped: their fibers start afresh.
      for (auto& f : fibers_) {
        if (f->thread == nullptr) continue;
        f->thread->fiber = nullptr;
        f->thread = nullptr;
        f->stack->prepare(f->context, &fiber_main, f.get(), f->index);
        b.idle.push_back(f.get());
      }
    }
    return std::move(b.error);
  }

 private:
  std::unique_ptr<Thread[]> threads_;
  std::unique_ptr<unsigned[]> ready_;
  Fiber* idle_fiber() {
    if (block_.idle.empty()) {
      auto f = std::make_unique<Fiber>();
      f->stack = std::make_unique<FiberStack>(kStackBytes);
      f->index = fibers_.size();
      f->stack->prepare(f->context, &fiber_main, f.get(), f->index);
      block_.idle.push_back(f.get());
      fibers_.push_back(std::move(f));
    }
    Fiber* f = block_.idle.back();
    block_.idle.pop_back();
    return f;
  }

  std::vector<std::unique_ptr<Fiber>> fibers_;
  FiberContext scheduler_;
  dim3 shape_{0, 0, 0};  // of the last block run
  Block block_;
  alignas(64) char shared_[kMaxSharedBytes];
};

Executor& executor() {
  thread_local std::unique_ptr<Executor> instance;
  if (!instance) instance = std::make_unique<Executor>();
  return *instance;
}

struct Job {
  const Kernel* kernel = nullptr;
  uint64_t total = 0;
  std::atomic<uint64_t> next{0};
  std::mutex m;
  std::condition_variable idle;
  int active = 0;  // pool workers inside work()
  KernelError error;
};

uint3 block_index(uint64_t linear, dim3 grid) {
  return uint3{unsigned(linear % grid.x), unsigned(linear / grid.x % grid.y),
               unsigned(linear / (uint64_t(grid.x) * grid.y))};
}

// Runs blocks of `job` until none is left; the first error stops the blocks not yet started.
void work(Job& job) {
  Executor& ex = executor();
  for (;;) {
    const uint64_t b = job.next.fetch_add(1);
    if (b >= job.total) return;
    KernelError e = ex.run_block(*job.kernel, block_index(b, job.kernel->grid));
    if (e.code != cudaSuccess) {
      std::lock_guard<std::mutex> lock(job.m);
      if (job.error.code == cudaSuccess) job.error = std::move(e);
      job.next.store(job.total);
    }
  }
}

// Worker threads that help run the blocks of whichever kernels are running.
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) std::thread([this] { loop(); }).detach();
    size_ = workers;
  }
  int size() const { return size_; }

  void publish(const std::shared_ptr<Job>& job) {
    {
      std::lock_guard<std::mutex> lock(m_);
      jobs_.push_back(job);
    }
    cv_.notify_all();
  }
  void retire(const Job* job) {
    std::lock_guard<std::mutex> lock(m_);
    jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), [job](const auto& j) { return j.get() == job; }),
                jobs_.end());
  }

 private:
  void loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [this] { return !jobs_.empty(); });
        job = jobs_.front();
        // Kernels of several streams share the workers in turn.
        std::rotate(jobs_.begin(), jobs_.begin() + 1, jobs_.end());
      }
      {
        std::lock_guard<std::mutex> lock(job->m);
        ++job->active;
      }
      work(*job);
      {
        std::lock_guard<std::mutex> lock(job->m);
        if (--job->active == 0) job->idle.notify_all();
      }
      retire(job.get());
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Job>> jobs_;
  int size_ = 0;
};

Pool& pool() {
  // The caller of run_kernel is one worker; the pool's threads live as long as the process.
  static Pool& instance = *new Pool(std::max(0, config().workers - 1));
  return instance;
}

void arrive(Thread& t, State state, const char* file, int line) {
  t.state = state;
  t.file = file;
  t.line = line;
}

}  // namespace

KernelError run_kernel(const Kernel& kernel) {
  auto job = std::make_shared<Job>();
  job->kernel = &kernel;
  job->total = uint64_t(kernel.grid.x) * kernel.grid.y * kernel.grid.z;
  Pool& workers = pool();
  if (job->total == 1 || workers.size() == 0) {
    work(*job);
    return std::move(job->error);
  }
  workers.publish(job);
  work(*job);
  workers.retire(job.get());
  std::unique_lock<std::mutex> lock(job->m);
  job->idle.wait(lock, [&] { return job->active == 0; });
  return std::move(job->error);
}

int syncthreads(int predicate, const char* file, int line) {
  Thread& t = current("__syncthreads()");
  Block& b = *t.block;
  if (b.at_barrier > 0 && !same_site(b.barrier_file, b.barrier_line, file, line))
    fault(t, cudaErrorLaunchFailure,
          "divergent __syncthreads(): it waits at " + site(file, line) + " while " +
              thread_names(b, threads_where(b, [](const Thread& o) { return o.state == State::kBarrier; })) +
              " wait at " + site(b.barrier_file, b.barrier_line));
  arrive(t, State::kBarrier, file, line);
  t.value = predicate != 0;
  if (b.at_barrier++ == 0) {
    b.barrier_file = file;
    b.barrier_line = line;
  }
  if (b.at_barrier == b.n)
    release_barrier(b, t);
  else
    wait(t);
  return int(t.result);
}

namespace {

uint64_t collect(Collective op, const char* name, ExchangeFn exchange, unsigned mask, uint64_t value, int arg,
                 int width, const char* file, int line) {
  Thread& t = current(name);
  Block& b = *t.block;
  const unsigned lane = t.linear % kWarpSize, warp = t.linear / kWarpSize, base = t.linear - lane;
  const unsigned lanes = std::min(kWarpSize, b.n - base);
  const unsigned present = lanes == kWarpSize ? ~0u : (1u << lanes) - 1;
  const auto misuse = [&](const std::string& what) {
    fault(t, cudaErrorLaunchFailure,
          std::string(name) + "(mask " + hex(mask) + ") at " + site(file, line) + ": " + what);
  };
  if (!(mask >> lane & 1)) misuse("the calling lane " + std::to_string(lane) + " is not in the mask");
  if (mask & ~present)
    misuse("the mask names lanes " + hex(mask & ~present) + " that do not exist (this warp has " +
           std::to_string(lanes) + " lanes)");
  if (mask & b.exited_lanes[warp]) misuse("the mask names lanes " + hex(mask & b.exited_lanes[warp]) + " that have exited");
  if (width < 1 || width > int(kWarpSize) || (width & (width - 1)))
    misuse("width " + std::to_string(width) + " is not a power of 2 in [1, 32]");
  arrive(t, State::kCollective, file, line);
  t.op = op;
  t.mask = mask;
  t.value = value;
  t.arg = arg;
  t.width = width;
  t.exchange_name = name;
  t.exchange = exchange;
  b.collective_lanes[warp] |= 1u << lane;
  if ((b.collective_lanes[warp] & mask) == mask) {
    bool together = true;
    for (unsigned m = mask; m && together; m &= m - 1) {
      const Thread& other = b.threads[base + __builtin_ctz(m)];
      together = other.mask == mask && other.op == op && same_site(other.file, other.line, file, line);
    }
    if (together) {
      complete_collective(b, t, base, mask);
      return t.result;
    }
  }
  wait(t);
  return t.result;
}

}  // namespace

uint64_t warp_collective(Collective op, unsigned mask, uint64_t value, int arg, int width, const char* file,
                         int line) {
  return collect(op, collective_name(op), nullptr, mask, value, arg, width, file, line);
}

void warp_exchange(const char* name, unsigned mask, void* lane_data, ExchangeFn complete, const char* file,
                   int line) {
  collect(Collective::kExchange, name, complete, mask, reinterpret_cast<uint64_t>(lane_data), 0, int(kWarpSize),
          file, line);
}

unsigned lane_id() { return current("a lane's index").linear % kWarpSize; }

bool in_shared(const void* p, size_t bytes) {
  const Block& b = *current("a shared-memory access").block;
  const auto at = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(b.shared);
  return at >= base && at + bytes <= base + b.shared_used;
}

void cp_async(void* dst, const void* src, unsigned bytes, unsigned src_bytes, const char* file, int line) {
  Thread& t = current("cp.async");
  const auto misuse = [&](const std::string& what) {
    fault(t, cudaErrorIllegalAddress, "cp.async at " + site(file, line) + ": " + what);
  };
  const auto address = [](const void* p) {
    char text[32];
    std::snprintf(text, sizeof text, "%p", p);
    return std::string(text);
  };
  if (bytes != 4 && bytes != 8 && bytes != 16) misuse("cp-size must be 4, 8 or 16 bytes, got " + std::to_string(bytes));
  if (src_bytes > bytes)
    misuse("src-size " + std::to_string(src_bytes) + " exceeds cp-size " + std::to_string(bytes));
  if (reinterpret_cast<uintptr_t>(dst) % bytes != 0 || reinterpret_cast<uintptr_t>(src) % bytes != 0)
    misuse("addresses must be aligned to the cp-size " + std::to_string(bytes) + ", got dst " + address(dst) +
           " and src " + address(src));
  if (!in_shared(dst, bytes)) misuse("destination " + address(dst) + " is not in the block's shared memory");
  if (config().checked) {
    const char* first = static_cast<const char*>(src);
    if (src_bytes > 0 && !(check_pointer(first) && check_pointer(first + src_bytes - 1)))
      misuse("source [" + address(first) + ", +" + std::to_string(src_bytes) +
             ") is not inside a live device allocation");
    // Until the wait that covers it, the destination holds nothing a reader may rely on.
    std::memset(dst, 0xff, bytes);
  }
  t.copies.push_back(AsyncCopy{dst, src, bytes, src_bytes, t.open_group, file, line});
}

void cp_async_commit() { ++current("cp.async.commit_group").open_group; }

void cp_async_wait(int n, const char* file, int line) {
  Thread& t = current("cp.async.wait_group");
  if (n < 0) fault(t, cudaErrorLaunchFailure, "cp.async.wait_group at " + site(file, line) + ": negative count");
  // Groups [0, open_group) are committed; the newest n of them may stay in flight.
  const unsigned oldest_pending = t.open_group > unsigned(n) ? t.open_group - unsigned(n) : 0;
  size_t done = 0;
  for (; done < t.copies.size() && t.copies[done].group < oldest_pending; ++done) {
    const AsyncCopy& c = t.copies[done];
    std::memcpy(c.dst, c.src, c.src_bytes);
    std::memset(static_cast<char*>(c.dst) + c.src_bytes, 0, c.bytes - c.src_bytes);
  }
  t.copies.erase(t.copies.begin(), t.copies.begin() + std::ptrdiff_t(done));
}

unsigned activemask(const char* file, int line) {
  Thread& t = current("__activemask()");
  arrive(t, State::kActiveMask, file, line);
  Block& b = *t.block;
  const unsigned lane = t.linear % kWarpSize, warp = t.linear / kWarpSize, base = t.linear - lane;
  const unsigned lanes = std::min(kWarpSize, b.n - base);
  const unsigned live = (lanes == kWarpSize ? ~0u : (1u << lanes) - 1) & ~b.exited_lanes[warp];
  b.activemask_lanes[warp] |= 1u << lane;
  // Fast path: the whole warp is here together; otherwise the stall resolution groups the lanes that came.
  if (b.activemask_lanes[warp] == live) {
    bool together = true;
    for (unsigned m = live; m && together; m &= m - 1) {
      const Thread& other = b.threads[base + __builtin_ctz(m)];
      together = same_site(other.file, other.line, file, line);
    }
    if (together) {
      for (unsigned m = live & ~(1u << lane); m; m &= m - 1) {
        Thread& other = b.threads[base + __builtin_ctz(m)];
        other.result = live;
        b.push(other);
      }
      b.activemask_lanes[warp] = 0;
      t.state = State::kReady;
      return live;
    }
  }
  wait(t);
  return unsigned(t.result);
}

void kernel_fault(const std::string& what) { fault(current("__trap()"), cudaErrorLaunchFailure, what); }

SharedSpan static_shared(size_t bytes, size_t align, const char* name, const char* file, int line) {
  Thread& t = current("TF_SHARED");
  Block& b = *t.block;
  for (const SharedVar& v : b.shared_vars)
    if (v.line == line && v.name == name && v.file == file) return SharedSpan{b.shared + v.offset, v.bytes};
  const size_t a = std::max<size_t>(align, 16);
  const size_t offset = (b.shared_used + a - 1) / a * a;
  if (offset + bytes > kMaxSharedBytes)
    fault(t, cudaErrorLaunchOutOfResources,
          std::string("TF_SHARED '") + name + "' at " + site(file, line) + " needs " + std::to_string(bytes) +
              " bytes, but the block already uses " + std::to_string(b.shared_used) + " (" +
              std::to_string(b.kernel->shared_bytes) + " dynamic) of " + std::to_string(kMaxSharedBytes));
  b.shared_vars.push_back(SharedVar{file, line, name, offset, bytes});
  b.shared_used = offset + bytes;
  if (config().checked) std::memset(b.shared + offset, 0xff, bytes);
  return SharedSpan{b.shared + offset, bytes};
}

SharedSpan dynamic_shared() {
  Thread& t = current("TF_DYNAMIC_SHARED");
  return SharedSpan{t.block->shared, t.block->kernel->shared_bytes};
}

void shared_out_of_bounds(const char* name, long long index, size_t count) {
  fault(current("a shared array"), cudaErrorIllegalAddress,
        std::string("shared array '") + name + "' index " + std::to_string(index) + " is out of bounds [0, " +
            std::to_string(count) + ")");
}

}  // namespace emu::detail
