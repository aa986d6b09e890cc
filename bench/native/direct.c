/*
 * Baselines the benches compare against, compiled by the bench itself with the addon's flags:
 *   direct gemm <M> <N> <K> <threads> <reps>   best GFLOP/s of cblas_sgemm (M x K) * (K x N), called directly
 *   direct ew <add|relu|exp> <n> <reps> [threads]   best GB/s (bytes read + written) of a plain loop over
 *                                           n floats, split over OpenMP threads (default 1)
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float* randoms(size_t n) {
  float* p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
  return p;
}

static void ew(const char* op, const float* a, const float* b, float* out, long n, int threads) {
  if (!strcmp(op, "add")) {
#pragma omp parallel for num_threads(threads)
    for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
  } else if (!strcmp(op, "relu")) {
#pragma omp parallel for num_threads(threads)
    for (long i = 0; i < n; i++) out[i] = a[i] > 0 ? a[i] : 0;
  } else {
#pragma omp parallel for num_threads(threads)
    for (long i = 0; i < n; i++) out[i] = expf(a[i]);
  }
}

int main(int argc, char** argv) {
  if (argc < 5) return 2;
  if (!strcmp(argv[1], "gemm")) {
    if (argc < 7) return 2;
    int m = atoi(argv[2]), n = atoi(argv[3]), k = atoi(argv[4]), threads = atoi(argv[5]), reps = atoi(argv[6]);
    openblas_set_num_threads(threads);
    float *A = randoms((size_t)m * k), *B = randoms((size_t)k * n), *C = randoms((size_t)m * n);
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
      double t0 = now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, A, k, B, n, 0.0f, C, n);
      double dt = now() - t0;
      if (r > 0 && dt < best) best = dt;
    }
    printf("%.2f\n", 2.0 * m * n * k / best / 1e9);
  } else {
    const char* op = argv[2];
    long n = atol(argv[3]);
    int reps = atoi(argv[4]), threads = argc > 5 ? atoi(argv[5]) : 1;
    float *a = randoms(n), *b = randoms(n), *out = malloc(n * sizeof(float));
    double best = 1e30;
    for (int r = 0; r <= reps; r++) {
      double t0 = now();
      ew(op, a, b, out, n, threads);
      double dt = now() - t0;
      if (r > 0 && dt < best) best = dt;
    }
    double bytes = (strcmp(op, "add") ? 2.0 : 3.0) * n * sizeof(float);
    printf("%.2f %f\n", bytes / best / 1e9, out[n / 2]);
  }
  return 0;
}
