// Fibers: stacks that a worker thread switches between cooperatively. On x86-64 a switch saves the
// callee-saved registers, the stack pointer and the MXCSR/x87 control words (a few ns); elsewhere it is
// ucontext's swapcontext (which also saves the signal mask: a system call a switch).
#pragma once
#include <cstddef>

// TF_EMU_UCONTEXT forces the portable switch (to test it, or for tools that understand only ucontext).
#if defined(__x86_64__) && !defined(TF_EMU_UCONTEXT)
#define TF_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

namespace emu::detail {

struct FiberContext {
#if defined(TF_EMU_ASM_SWITCH)
  void* sp = nullptr;
#else
  ucontext_t uc;
#endif
};

using FiberEntry = void (*)(void* arg);

// A stack of `stack_bytes` (rounded up to pages) under a guard page, mapped once and reused.
class FiberStack {
 public:
  explicit FiberStack(size_t stack_bytes);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;
  // Sets `context` to start entry(arg) near the top of this stack when switched to; entry never returns.
  // Stacks are mapped at a fixed stride, so `color` (the fiber's index) staggers their tops: otherwise
  // every fiber's hot frames fall into the same cache sets.
  void prepare(FiberContext& context, FiberEntry entry, void* arg, size_t color);

 private:
  char* base_;
  size_t mapped_;
};

// Saves the running context into `from` and resumes `to`.
void switch_fiber(FiberContext& from, FiberContext& to);

}  // namespace emu::detail
