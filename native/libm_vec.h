/*
 * native/libm.h's erff and expf on W lanes at once, for the GELU of native/stock_ops.h (issue 42):
 * the same operations in the same order on each lane (IEEE multiply, add, divide and conversions
 * give each lane the scalar code's result), so the same bits; lanes in a range the vector code does
 * not cover are recomputed by the scalar functions (erff: |x| >= 1.25, which needs two expf, and
 * |x| < 2^-28 or not finite; expf: |x| >= 88 or not finite). Checked against the scalar functions
 * on all 2^32 floats (test/stock-native.test.ts checks them on the model's kernels).
 */
#ifndef GCG_LIBM_VEC_H
#define GCG_LIBM_VEC_H
#include "libm.h"

/*
 * GCG_ERF_VEC(NAME, TARGET, W) defines NAME(const float *in, float *out, size_t n): out = erff(in).
 * GCG_EXP_VEC(NAME, TARGET, W) defines NAME(const float *in, float *out, size_t n): out = expf(in).
 * out may be in.
 */
#define GCG_ERF_VEC(NAME, TARGET, W)                                                                        \
  TARGET static void NAME(const float *in, float *out, size_t n) {                                          \
    typedef float vf __attribute__((vector_size(4 * W)));                                                   \
    typedef int32_t vi __attribute__((vector_size(4 * W)));                                                 \
    typedef float uvf __attribute__((vector_size(4 * W), aligned(4)));                                      \
    const float pp0 = 1.2837916613e-01f, pp1 = -3.2504209876e-01f, pp2 = -2.8481749818e-02f,                \
                pp3 = -5.7702702470e-03f, pp4 = -2.3763017452e-05f, qq1 = 3.9791721106e-01f,                \
                qq2 = 6.5022252500e-02f, qq3 = 5.0813062117e-03f, qq4 = 1.3249473704e-04f,                  \
                qq5 = -3.9602282413e-06f;                                                                   \
    const float erx = 8.4506291151e-01f, pa0 = -2.3621185683e-03f, pa1 = 4.1485610604e-01f,                 \
                pa2 = -3.7220788002e-01f, pa3 = 3.1834661961e-01f, pa4 = -1.1089469492e-01f,                \
                pa5 = 3.5478305072e-02f, pa6 = -2.1663755178e-03f, qa1 = 1.0642088205e-01f,                 \
                qa2 = 5.4039794207e-01f, qa3 = 7.1828655899e-02f, qa4 = 1.2617121637e-01f,                  \
                qa5 = 1.3637083583e-02f, qa6 = 1.1984500103e-02f;                                           \
    const float one_minus_erx = 1 - erx;                                                                    \
    const size_t nv = n - n % W;                                                                            \
    for (size_t i = 0; i < nv; i += W) {                                                                    \
      const vf x = *(const uvf *)(in + i);                                                                  \
      const vi bits = (vi)x, ix = bits & 0x7fffffff, sign = bits & (int32_t)0x80000000;                     \
      /* |x| < 0.84375: x + x * (r / s) */                                                                  \
      const vf z = x * x;                                                                                   \
      const vf r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));                                       \
      const vf s = 1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));                             \
      const vf near = x + x * (r / s);                                                                      \
      /* 0.84375 <= |x| < 1.25: +-(1 - ((1 - erx) - P / Q)), s = |x| - 1 */                                 \
      const vf t = (vf)ix - 1;                                                                              \
      const vf P = pa0 + t * (pa1 + t * (pa2 + t * (pa3 + t * (pa4 + t * (pa5 + t * pa6)))));               \
      const vf Q = 1 + t * (qa1 + t * (qa2 + t * (qa3 + t * (qa4 + t * (qa5 + t * qa6)))));                 \
      const vf mid = (vf)((vi)(1 - (one_minus_erx - P / Q)) ^ sign);                                        \
      const vi isNear = ix < 0x3f580000;                                                                    \
      *(uvf *)(out + i) = (vf)(((vi)near & isNear) | ((vi)mid & ~isNear));                                  \
      const vi other = (ix >= 0x3fa00000) | (ix < 0x31800000);                                              \
      for (int j = 0; j < W; j++)                                                                           \
        if (other[j]) out[i + j] = gcg_erff(x[j]);                                                     \
    }                                                                                                       \
    for (size_t i = nv; i < n; i++) out[i] = gcg_erff(in[i]);                                                            \
  }

#define GCG_EXP_VEC(NAME, TARGET, W)                                                                        \
  TARGET static void NAME(const float *in, float *out, size_t n) {                                          \
    typedef float vf __attribute__((vector_size(4 * W)));                                                   \
    typedef int32_t vi __attribute__((vector_size(4 * W)));                                                 \
    typedef double vd __attribute__((vector_size(8 * W)));                                                  \
    typedef uint64_t vu __attribute__((vector_size(8 * W)));                                                \
    typedef float uvf __attribute__((vector_size(4 * W), aligned(4)));                                      \
    const double InvLn2N = 0x1.71547652b82fep+0 * 32, SHIFT = 0x1.8p+52;                                    \
    const double C0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32, C1 = 0x1.ebfce50fac4f3p-3 / 32 / 32,             \
                 C2 = 0x1.62e42ff0c52d6p-1 / 32;                                                            \
    const int32_t top88 = (int32_t)(gcg_asuint(88.0f) >> 20);                                               \
    const size_t nv = n - n % W;                                                                            \
    for (size_t i = 0; i < nv; i += W) {                                                                    \
      const vf x = *(const uvf *)(in + i);                                                                  \
      const vd xd = __builtin_convertvector(x, vd);                                                         \
      vd z = InvLn2N * xd;                                                                                  \
      vd kd = z + SHIFT;                                                                                    \
      const vu ki = (vu)kd;                                                                                 \
      kd -= SHIFT;                                                                                          \
      const vd r = z - kd;                                                                                  \
      vu tt;                                                                                                \
      for (int j = 0; j < W; j++) tt[j] = gcg_exp2f_tab[ki[j] % 32];                                        \
      tt += ki << (52 - 5);                                                                                 \
      const vd sd = (vd)tt;                                                                                 \
      z = C0 * r + C1;                                                                                      \
      const vd r2 = r * r;                                                                                  \
      vd y = C2 * r + 1;                                                                                    \
      y = z * r2 + y;                                                                                       \
      y = y * sd;                                                                                           \
      *(uvf *)(out + i) = __builtin_convertvector(y, vf);                                                   \
      const vi big = (((vi)x >> 20) & 0x7ff) >= top88;                                                      \
      for (int j = 0; j < W; j++)                                                                           \
        if (big[j]) out[i + j] = gcg_expf(x[j]);                                                       \
    }                                                                                                       \
    for (size_t i = nv; i < n; i++) out[i] = gcg_expf(in[i]);                                                            \
  }

#if defined(__x86_64__) || defined(__i386__)
GCG_ERF_VEC(gcg_erff_avx512, __attribute__((target("avx512f,avx512dq"))), 16)
GCG_ERF_VEC(gcg_erff_avx2, __attribute__((target("avx2"))), 8)
GCG_EXP_VEC(gcg_expf_avx512, __attribute__((target("avx512f,avx512dq"))), 16)
GCG_EXP_VEC(gcg_expf_avx2, __attribute__((target("avx2"))), 8)
#endif
GCG_ERF_VEC(gcg_erff_vec4, , 4)
GCG_EXP_VEC(gcg_expf_vec4, , 4)

/* erff / expf of n floats on a matmul path's width (native/matmul.h's GCG_MM_*; scalar: one at a time). */
static void gcg_erff_n(int path, const float *in, float *out, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
  if (path == 0) return gcg_erff_avx512(in, out, n);
  if (path == 1) return gcg_erff_avx2(in, out, n);
#endif
  if (path <= 2) return gcg_erff_vec4(in, out, n);
  for (size_t i = 0; i < n; i++) out[i] = gcg_erff(in[i]);
}
static void gcg_expf_n(int path, const float *in, float *out, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
  if (path == 0) return gcg_expf_avx512(in, out, n);
  if (path == 1) return gcg_expf_avx2(in, out, n);
#endif
  if (path <= 2) return gcg_expf_vec4(in, out, n);
  for (size_t i = 0; i < n; i++) out[i] = gcg_expf(in[i]);
}
#endif
