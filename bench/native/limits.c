/*
 * The machine's measured limits, compiled by the bench (bench/util.ts) without -march so that the ISA
 * is picked at run time:
 *   limits <reps>   one JSON line: {"isa", "cores", "peakPerCore", "peakAllCores" (GFLOP/s fp32),
 *                   "copyOneThread", "copyAllThreads" (GB/s, bytes read + written)}
 *
 * Peak: the fastest of AVX-512, AVX2+FMA and scalar code (by CPU detection), each as independent chains of a = a * b + c in registers (enough chains to cover the FMA latency on
 * every FMA port), 2 flops per lane per FMA, on one thread and on one thread per core at once.
 * Bandwidth: memcpy of a 256 MiB buffer (8x any L3 here), split across the threads.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ITERS 20000000L

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 24 of the 32 zmm registers as accumulators: 2 FMA ports x latency 4 needs >= 8; more hides jitter. */
__attribute__((target("avx512f"))) static double fma_avx512(long iters) {
  enum { CHAINS = 24 };
  __m512 acc[CHAINS];
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_set1_ps((float)k);
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 32
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_fmadd_ps(acc[k], b, c);
  float sum = 0;
  for (int k = 0; k < CHAINS; k++) sum += _mm512_reduce_add_ps(acc[k]);
  if (sum == 12345.f) puts("");  /* keeps the chains alive */
  return (double)iters * CHAINS * 16 * 2;
}

/* 12 of the 16 ymm registers, leaving room for b and c. */
__attribute__((target("avx2,fma"))) static double fma_avx2(long iters) {
  enum { CHAINS = 12 };
  __m256 acc[CHAINS];
  for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_set1_ps((float)k);
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 32
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_fmadd_ps(acc[k], b, c);
  float lanes[8], sum = 0;
  for (int k = 0; k < CHAINS; k++) {
    _mm256_storeu_ps(lanes, acc[k]);
    for (int j = 0; j < 8; j++) sum += lanes[j];
  }
  if (sum == 12345.f) puts("");
  return (double)iters * CHAINS * 8 * 2;
}

static double fma_scalar(long iters) {
  enum { CHAINS = 8 };
  volatile float seed = 0.999f;
  float acc[CHAINS], b = seed, c = 1e-3f, sum = 0;
  for (int k = 0; k < CHAINS; k++) acc[k] = (float)k;
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 32
    for (int k = 0; k < CHAINS; k++) acc[k] = acc[k] * b + c;
  for (int k = 0; k < CHAINS; k++) sum += acc[k];
  if (sum == 12345.f) puts("");
  return (double)iters * CHAINS * 2;
}

typedef double (*fma_fn)(long);
static fma_fn kernel;
static long kernel_iters;

static void* fma_thread(void* flops) {
  *(double*)flops = kernel(kernel_iters);
  return NULL;
}

/* Best GFLOP/s of `threads` threads running the kernel at once. */
static double peak(int threads, int reps) {
  pthread_t ids[256];
  double flops[256], best = 0;
  for (int r = 0; r <= reps; r++) {
    double t0 = now(), total = 0;
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, fma_thread, &flops[t]);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL), total += flops[t];
    double rate = total / (now() - t0) / 1e9;
    if (r > 0 && rate > best) best = rate;
  }
  return best;
}

struct copy_part { char *dst, *src; size_t bytes; };

static void* copy_thread(void* arg) {
  struct copy_part* p = arg;
  memcpy(p->dst, p->src, p->bytes);
  return NULL;
}

/* Best GB/s (read + write) of a memcpy of `bytes`, split over `threads`. */
static double copy_rate(char* dst, char* src, size_t bytes, int threads, int reps) {
  pthread_t ids[256];
  struct copy_part parts[256];
  double best = 0;
  for (int r = 0; r <= reps; r++) {
    double t0 = now();
    for (int t = 0; t < threads; t++) {
      parts[t] = (struct copy_part){dst + bytes / threads * t, src + bytes / threads * t, bytes / threads};
      pthread_create(&ids[t], NULL, copy_thread, &parts[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    double rate = 2.0 * bytes / (now() - t0) / 1e9;
    if (r > 0 && rate > best) best = rate;
  }
  return best;
}

int main(int argc, char** argv) {
  if (argc < 3 || strcmp(argv[1], "limits")) return 2;
  int reps = atoi(argv[2]);
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 256) cores = 256;
  /* Every supported ISA on one thread; the fastest sets the limit (wider is not always faster). */
  __builtin_cpu_init();
  struct { const char* name; fma_fn fn; long iters; int ok; } isas[] = {
    {"avx512", fma_avx512, ITERS / 2, __builtin_cpu_supports("avx512f")},
    {"avx2", fma_avx2, ITERS, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
    {"scalar", fma_scalar, ITERS / 4, 1},
  };
  const char* isa = "scalar";
  double perCore = 0;
  for (int i = 0; i < 3; i++) {
    if (!isas[i].ok) continue;
    kernel = isas[i].fn, kernel_iters = isas[i].iters;
    double rate = peak(1, reps);
    if (rate > perCore) perCore = rate, isa = isas[i].name;
  }
  for (int i = 0; i < 3; i++)
    if (!strcmp(isas[i].name, isa)) kernel = isas[i].fn, kernel_iters = isas[i].iters;
  double allCores = peak(cores, reps);

  size_t bytes = (size_t)256 << 20;
  char *src = malloc(bytes), *dst = malloc(bytes);
  for (size_t i = 0; i < bytes; i++) src[i] = (char)(i * 131), dst[i] = (char)i;
  double copyOne = copy_rate(dst, src, bytes, 1, reps), copyAll = copy_rate(dst, src, bytes, cores, reps);
  printf("{\"isa\":\"%s\",\"cores\":%d,\"peakPerCore\":%.2f,\"peakAllCores\":%.2f,\"copyOneThread\":%.2f,\"copyAllThreads\":%.2f}\n",
         isa, cores, perCore, allCores, copyOne, copyAll);
  return 0;
}
