/*
 * native/libm_vec.h against native/libm.h on all 2^32 floats, on each SIMD path this CPU runs:
 * the vector erff and expf give the scalar functions' bits (NaNs: any NaN). Built and run by
 * scripts/check-libm.ts (npm run check:libm); prints one line a path, exits 1 on any difference.
 */
#include <stdio.h>
#include <stdlib.h>
#include "matmul.h"
#include "libm_vec.h"

int main(void) {
  const size_t N = (size_t)1 << 24;
  float *in = malloc(4 * N), *out = malloc(4 * N);
  int bad = 0;
  if (!in || !out) return 2;
  for (int path = 0; path < GCG_MM_SCALAR; path++) {
    if (!gcg_mm_path_runs(path)) continue;
    unsigned long long de = 0, dx = 0;
    for (uint64_t base = 0; base < ((uint64_t)1 << 32); base += N) {
      for (size_t i = 0; i < N; i++) in[i] = gcg_asfloat((uint32_t)(base + i));
      gcg_erff_n(path, in, out, N);
      for (size_t i = 0; i < N; i++) {
        const float r = gcg_erff(in[i]);
        if (gcg_asuint(r) != gcg_asuint(out[i]) && !(r != r && out[i] != out[i])) de++;
      }
      gcg_expf_n(path, in, out, N);
      for (size_t i = 0; i < N; i++) {
        const float r = gcg_expf(in[i]);
        if (gcg_asuint(r) != gcg_asuint(out[i]) && !(r != r && out[i] != out[i])) dx++;
      }
    }
    printf("vector %s against scalar, all 2^32 floats: erff %llu differ, expf %llu differ\n", gcg_mm_path_names[path], de, dx);
    bad |= de || dx;
  }
  free(in);
  free(out);
  return bad;
}
