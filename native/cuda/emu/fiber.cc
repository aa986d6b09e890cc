#include "cuda/emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace emu::detail {

namespace {
size_t page_size() {
  static const size_t page = size_t(sysconf(_SC_PAGESIZE));
  return page;
}
}  // namespace

FiberStack::FiberStack(size_t stack_bytes) {
  const size_t page = page_size();
  mapped_ = (stack_bytes + page - 1) / page * page + page;
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(p);
  // The lowest page faults on overflow instead of silently corrupting the neighbouring stack.
  mprotect(base_, page, PROT_NONE);
}

FiberStack::~FiberStack() { munmap(base_, mapped_); }

namespace {
size_t color_offset(size_t color) { return color % 64 * 64 + 64; }
}  // namespace

#if defined(TF_EMU_ASM_SWITCH)

extern "C" void tf_emu_swap(void** save_sp, void* load_sp);
extern "C" void tf_emu_fiber_start();

// tf_emu_swap pushes rbp, rbx, r12-r15 and the control words, stores rsp, loads the other rsp and pops the
// same frame; it reloads the control words only when they differ (ldmxcsr stalls the pipeline).
// tf_emu_fiber_start is where a fresh frame "returns" to: it calls r12(rbx).
asm(R"(
  .text
  .globl tf_emu_swap
  .hidden tf_emu_swap
  .type tf_emu_swap, @function
tf_emu_swap:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, %rax
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  movl (%rsp), %ecx
  cmpl (%rax), %ecx
  jne 1f
  movw 4(%rsp), %cx
  cmpw 4(%rax), %cx
  je 2f
1:
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
2:
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size tf_emu_swap, .-tf_emu_swap

  .globl tf_emu_fiber_start
  .hidden tf_emu_fiber_start
  .type tf_emu_fiber_start, @function
tf_emu_fiber_start:
  movq %rbx, %rdi
  callq *%r12
  ud2
  .size tf_emu_fiber_start, .-tf_emu_fiber_start
)");

void FiberStack::prepare(FiberContext& context, FiberEntry entry, void* arg, size_t color) {
  // After the final `ret` of tf_emu_swap rsp is `top`, 16-byte aligned, as the ABI wants before a call.
  auto* top = reinterpret_cast<uint64_t*>(
      (reinterpret_cast<uintptr_t>(base_ + mapped_) - color_offset(color)) & ~uintptr_t(15));
  uint64_t* frame = top - 8;
  uint32_t control[2];
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(control[0]), "=m"(control[1]));
  frame[0] = uint64_t(control[0]) | (uint64_t(control[1] & 0xffff) << 32);
  frame[1] = frame[2] = frame[3] = 0;                    // r15, r14, r13
  frame[4] = reinterpret_cast<uint64_t>(entry);          // r12
  frame[5] = reinterpret_cast<uint64_t>(arg);            // rbx
  frame[6] = 0;                                          // rbp
  frame[7] = reinterpret_cast<uint64_t>(&tf_emu_fiber_start);
  context.sp = frame;
}

void switch_fiber(FiberContext& from, FiberContext& to) { tf_emu_swap(&from.sp, to.sp); }

#else

namespace {
void start_from_ucontext(unsigned entry_hi, unsigned entry_lo, unsigned arg_hi, unsigned arg_lo) {
  const auto entry = reinterpret_cast<FiberEntry>((uintptr_t(entry_hi) << 32) | entry_lo);
  entry(reinterpret_cast<void*>((uintptr_t(arg_hi) << 32) | arg_lo));
  std::abort();
}
}  // namespace

void FiberStack::prepare(FiberContext& context, FiberEntry entry, void* arg, size_t color) {
  getcontext(&context.uc);
  const size_t page = page_size();
  context.uc.uc_stack.ss_sp = base_ + page;
  context.uc.uc_stack.ss_size = mapped_ - page - color_offset(color);
  context.uc.uc_link = nullptr;
  const auto e = reinterpret_cast<uintptr_t>(entry);
  const auto a = reinterpret_cast<uintptr_t>(arg);
  makecontext(&context.uc, reinterpret_cast<void (*)()>(&start_from_ucontext), 4, unsigned(uint64_t(e) >> 32),
              unsigned(e), unsigned(uint64_t(a) >> 32), unsigned(a));
}

void switch_fiber(FiberContext& from, FiberContext& to) { swapcontext(&from.uc, &to.uc); }

#endif

}  // namespace emu::detail
