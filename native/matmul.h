/*
 * Matrix products in the stock wasm kernels' exact order (issue 42), at native speed.
 *
 * tfjs-backend-wasm 4.22 (src/cc/batch_mat_mul_impl.cc) multiplies in one of two orders:
 * - a plain product (no transpose, one matrix each side) goes to XNNPACK's fully connected
 *   operator, whose every output is one float sum over k in order from 0, each product rounded
 *   before it is added (wasm has no FMA): order GCG_MM_SEQUENTIAL;
 * - anything else (a transpose flag, or a batch of matrices) goes to its own loop, which sums each
 *   block of 48 k in order into a float from 0 and adds the block's sum to the output's running
 *   float total (itself from 0): order GCG_MM_BLOCKED (block 48).
 * A sequential sum is the blocked one with a single block (0 + s = s: a sum started at +0 is never
 * -0), so one kernel does both: blocks of `kb` k (48, or all of k).
 *
 * Each output's sum runs on its own, so the kernel vectorises across output columns (16 lanes on
 * AVX-512, 8 on AVX2, 4 in portable vectors: SSE2 on x86-64, NEON on arm64; 1 in scalar C) and
 * gives the same bits on every width, with multiply and add as separate instructions
 * (scripts/build-native.js compiles with -ffp-contract=off). Operands are packed first (which only
 * moves floats): B into panels of NR columns [k][NR], A into tiles of MR rows [k][MR], zero padded.
 */
#ifndef GCG_MATMUL_H
#define GCG_MATMUL_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define GCG_MM_BLOCK 48 /* tfjs-backend-wasm's kBlockSize */

/* The widest tile: MR rows x NR columns, for the edge buffer. */
#define GCG_MM_MAX_TILE (12 * 32)

/*
 * One tile: c[MR][NR] (row stride ldc) = blocked sum of a[k][MR] * b[k][NR] over k < K, in blocks of
 * kb (c's running total starts at +0 and each block's own sum at +0).
 */
#define GCG_MM_KERNEL(NAME, TARGET, VT, W, MR, NV)                                                   \
  TARGET static void NAME(size_t K, size_t kb, const float *a, const float *b, float *c, size_t ldc) { \
    typedef float vec __attribute__((vector_size(4 * W)));                                          \
    typedef float uvec __attribute__((vector_size(4 * W), aligned(4)));                             \
    for (size_t k0 = 0; k0 < K; k0 += kb) {                                                         \
      const size_t k1 = k0 + kb < K ? k0 + kb : K;                                                  \
      vec acc[MR][NV];                                                                              \
      _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                         \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[r][v] = (vec){0};                                          \
      for (size_t k = k0; k < k1; k++) {                                                            \
        vec bv[NV];                                                                                 \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = *(const uvec *)(b + k * (NV * W) + v * W);            \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                                     \
          const float av = a[k * MR + r];                                                           \
          _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) {                                    \
            const vec p = bv[v] * av;                                                               \
            acc[r][v] = acc[r][v] + p;                                                              \
          }                                                                                         \
        }                                                                                           \
      }                                                                                             \
      for (int r = 0; r < MR; r++)                                                                  \
        for (int v = 0; v < NV; v++) {                                                              \
          uvec *out = (uvec *)(c + r * ldc + v * W);                                                \
          *out = k0 == 0 ? (vec){0} + acc[r][v] : *out + acc[r][v];                                 \
        }                                                                                           \
    }                                                                                               \
    if (K == 0)                                                                                     \
      for (int r = 0; r < MR; r++) memset(c + r * ldc, 0, sizeof(float) * NV * W);                  \
  }

#if defined(__x86_64__) || defined(__i386__)
#define GCG_T_AVX512 __attribute__((target("avx512f")))
#define GCG_T_AVX2 __attribute__((target("avx2")))
GCG_MM_KERNEL(gcg_mm_avx512, GCG_T_AVX512, float, 16, 12, 2)
GCG_MM_KERNEL(gcg_mm_avx2, GCG_T_AVX2, float, 8, 6, 2)
/* Small products (attention's per-head matrices of 16 or 32): tiles that fit them, wasting no rows or columns. */
GCG_MM_KERNEL(gcg_mm_avx512_8x32, GCG_T_AVX512, float, 16, 8, 2)
GCG_MM_KERNEL(gcg_mm_avx512_8x16, GCG_T_AVX512, float, 16, 8, 1)
GCG_MM_KERNEL(gcg_mm_avx2_8x8, GCG_T_AVX2, float, 8, 8, 1)
/* One row, for products of a single row (a bias's gradient: 1^T dy): a wide tile would waste its rows. */
GCG_MM_KERNEL(gcg_mm_avx512_row, GCG_T_AVX512, float, 16, 1, 4)
GCG_MM_KERNEL(gcg_mm_avx2_row, GCG_T_AVX2, float, 8, 1, 4)
#endif
GCG_MM_KERNEL(gcg_mm_vec4, , float, 4, 4, 2)
GCG_MM_KERNEL(gcg_mm_scalar, __attribute__((optimize("no-tree-vectorize"))), float, 1, 4, 4)
GCG_MM_KERNEL(gcg_mm_vec4_row, , float, 4, 1, 4)
GCG_MM_KERNEL(gcg_mm_scalar_row, __attribute__((optimize("no-tree-vectorize"))), float, 1, 1, 4)

/* The kernel paths, widest first; gcg_mm_path picks one (or the widest this CPU runs). */
enum { GCG_MM_AVX512, GCG_MM_AVX2, GCG_MM_VEC4, GCG_MM_SCALAR, GCG_MM_PATHS };
static const char *const gcg_mm_path_names[GCG_MM_PATHS] = {"avx512", "avx2", "vec4", "scalar"};
typedef void (*gcg_mm_kernel)(size_t, size_t, const float *, const float *, float *, size_t);
static const struct {
  gcg_mm_kernel kernel;
  int mr, nr;
  gcg_mm_kernel row; /* its one-row kernel, of row_nr columns */
  int row_nr;
} gcg_mm_paths[GCG_MM_PATHS] = {
#if defined(__x86_64__) || defined(__i386__)
  {gcg_mm_avx512, 12, 32, gcg_mm_avx512_row, 64},
  {gcg_mm_avx2, 6, 16, gcg_mm_avx2_row, 32},
#else
  {NULL, 0, 0, NULL, 0},
  {NULL, 0, 0, NULL, 0},
#endif
  {gcg_mm_vec4, 4, 8, gcg_mm_vec4_row, 16},
  {gcg_mm_scalar, 4, 4, gcg_mm_scalar_row, 4},
};

/* Whether this CPU runs a path. */
static int gcg_mm_path_runs(int path) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (path == GCG_MM_AVX512) return __builtin_cpu_supports("avx512f");
  if (path == GCG_MM_AVX2) return __builtin_cpu_supports("avx2");
#else
  if (path == GCG_MM_AVX512 || path == GCG_MM_AVX2) return 0;
#endif
  return path >= 0 && path < GCG_MM_PATHS;
}

/* The widest path this CPU runs. */
static int gcg_mm_best_path(void) {
  for (int p = 0; p < GCG_MM_PATHS; p++)
    if (gcg_mm_path_runs(p)) return p;
  return GCG_MM_SCALAR;
}

/*
 * C[b] (m x n) = op(A[b]) (m x k) op(B[b]) (k x n) for b < max(batchA, batchB) (a batch of 1 is
 * broadcast), row-major; op transposes when asked (A is then [k, m], B [n, k]). blocked: the
 * blocked order (48), else the sequential one. Returns 0, or -1 when out of memory.
 */
static int gcg_matmul(int path, const float *A, const float *B, float *C, size_t batchA, size_t batchB, size_t m,
                      size_t n, size_t k, int transA, int transB, int blocked) {
  int MR = gcg_mm_paths[path].mr, NR = gcg_mm_paths[path].nr;
  gcg_mm_kernel kernel = gcg_mm_paths[path].kernel;
  if (m == 1) { /* a single row: the one-row kernel */
    MR = 1, NR = gcg_mm_paths[path].row_nr, kernel = gcg_mm_paths[path].row;
  }
#if defined(__x86_64__) || defined(__i386__)
  else if (path == GCG_MM_AVX512 && m % 8 == 0 && m <= 64 && n <= 16)
    MR = 8, NR = 16, kernel = gcg_mm_avx512_8x16;
  else if (path == GCG_MM_AVX512 && m % 8 == 0 && m <= 64 && n % 32 == 0)
    MR = 8, NR = 32, kernel = gcg_mm_avx512_8x32;
  else if (path == GCG_MM_AVX2 && m % 8 == 0 && m <= 64 && n <= 8)
    MR = 8, NR = 8, kernel = gcg_mm_avx2_8x8;
#endif
  const size_t kb = blocked ? GCG_MM_BLOCK : (k ? k : 1);
  const size_t np = (n + NR - 1) / NR, MC = 16 * (size_t)MR;
  float *bp = (float *)malloc(sizeof(float) * (k ? k : 1) * np * NR);
  float *ap = (float *)malloc(sizeof(float) * (k ? k : 1) * MC);
  float edge[GCG_MM_MAX_TILE];
  if (!bp || !ap) {
    free(bp);
    free(ap);
    return -1;
  }
  const size_t batch = batchA > batchB ? batchA : batchB;
  for (size_t bi = 0; bi < batch; bi++) {
    const float *a = A + (batchA == 1 ? 0 : bi) * m * k, *b = B + (batchB == 1 ? 0 : bi) * k * n;
    float *c = C + bi * m * n;
    if (bi == 0 || batchB != 1) /* B packed into panels [np][k][NR], zero padded */
      for (size_t p = 0; p < np; p++)
        for (size_t kk = 0; kk < k; kk++) {
          float *dst = bp + (p * k + kk) * NR;
          for (int j = 0; j < NR; j++) {
            const size_t col = p * NR + j;
            dst[j] = col < n ? (transB ? b[col * k + kk] : b[kk * n + col]) : 0.0f;
          }
        }
    for (size_t i0 = 0; i0 < m; i0 += MC) {
      const size_t mc = m - i0 < MC ? m - i0 : MC, tiles = (mc + MR - 1) / MR;
      for (size_t t = 0; t < tiles; t++) /* A's rows packed into tiles [tiles][k][MR], zero padded */
        for (size_t kk = 0; kk < k; kk++) {
          float *dst = ap + (t * k + kk) * MR;
          for (int r = 0; r < MR; r++) {
            const size_t row = i0 + t * MR + r;
            dst[r] = row < m ? (transA ? a[kk * m + row] : a[row * k + kk]) : 0.0f;
          }
        }
      for (size_t p = 0; p < np; p++)
        for (size_t t = 0; t < tiles; t++) {
          const size_t row = i0 + t * MR, col = p * NR;
          const size_t rows = m - row < (size_t)MR ? m - row : (size_t)MR, cols = n - col < (size_t)NR ? n - col : (size_t)NR;
          if (rows == (size_t)MR && cols == (size_t)NR) {
            kernel(k, kb, ap + t * k * MR, bp + p * k * NR, c + row * n + col, n);
          } else {
            kernel(k, kb, ap + t * k * MR, bp + p * k * NR, edge, NR);
            for (size_t r = 0; r < rows; r++) memcpy(c + (row + r) * n + col, edge + r * NR, sizeof(float) * cols);
          }
        }
    }
  }
  free(bp);
  free(ap);
  return 0;
}
#endif
