/*
 * expf and erff as the stock wasm kernels compute them (issue 42): tfjs-backend-wasm's Exp and Erf
 * call std::exp and std::erff of the wasm build's C library, emscripten's musl. These are musl's
 * own (src/math/expf.c, exp2f_data.c: Arm's, MIT; src/math/erff.c: FreeBSD's s_erff.c, Sun's
 * notice kept below), as musl's generic build compiles them (no rounding intrinsics), so that with
 * multiply and add kept apart (-ffp-contract=off: wasm has no FMA) they give the wasm build's bits
 * on any CPU, whatever this machine's libm is.
 *
 * expf: Copyright (c) 2017-2018, Arm Limited. SPDX-License-Identifier: MIT.
 * erff: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunPro, a Sun
 * Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software is
 * freely granted, provided that this notice is preserved. Conversion to float by Ian Lance Taylor,
 * Cygnus Support.
 */
#ifndef GCG_LIBM_H
#define GCG_LIBM_H
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t gcg_asuint(float f) { uint32_t i; memcpy(&i, &f, 4); return i; }
static inline float gcg_asfloat(uint32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline uint64_t gcg_asuint64(double f) { uint64_t i; memcpy(&i, &f, 8); return i; }
static inline double gcg_asdouble(uint64_t i) { double f; memcpy(&f, &i, 8); return f; }

/* musl's __exp2f_data (EXP2F_TABLE_BITS 5): tab[i] = uint(2^(i/32)) - (i << 47). */
static const uint64_t gcg_exp2f_tab[32] = {
  0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
  0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
  0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
  0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
  0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
  0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
  0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
  0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/* musl's expf: e^x, ULP error 0.502 (not correctly rounded: the wasm build's exact bits). */
static inline float gcg_expf(float x) {
  const double InvLn2N = 0x1.71547652b82fep+0 * 32, SHIFT = 0x1.8p+52;
  const double C0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32, C1 = 0x1.ebfce50fac4f3p-3 / 32 / 32, C2 = 0x1.62e42ff0c52d6p-1 / 32;
  const double xd = (double)x;
  const uint32_t abstop = (gcg_asuint(x) >> 20) & 0x7ff;
  if (abstop >= (gcg_asuint(88.0f) >> 20)) {
    if (gcg_asuint(x) == gcg_asuint(-INFINITY)) return 0.0f;
    if (abstop >= (gcg_asuint(INFINITY) >> 20)) return x + x;
    if (x > 0x1.62e42ep6f) return INFINITY;   /* musl: __math_oflowf(0) = 0x1p97f * 0x1p97f */
    if (x < -0x1.9fe368p6f) return 0.0f;      /* musl: __math_uflowf(0) = 0x1p-95f * 0x1p-95f */
  }
  double z = InvLn2N * xd;
  double kd = z + SHIFT;
  const uint64_t ki = gcg_asuint64(kd);
  kd -= SHIFT;
  const double r = z - kd;
  uint64_t t = gcg_exp2f_tab[ki % 32];
  t += ki << (52 - 5);
  const double s = gcg_asdouble(t);
  z = C0 * r + C1;
  const double r2 = r * r;
  double y = C2 * r + 1;
  y = z * r2 + y;
  y = y * s;
  return (float)y;
}

static inline float gcg_erfc1(float x) {
  const float erx = 8.4506291151e-01f;
  const float pa0 = -2.3621185683e-03f, pa1 = 4.1485610604e-01f, pa2 = -3.7220788002e-01f, pa3 = 3.1834661961e-01f,
              pa4 = -1.1089469492e-01f, pa5 = 3.5478305072e-02f, pa6 = -2.1663755178e-03f;
  const float qa1 = 1.0642088205e-01f, qa2 = 5.4039794207e-01f, qa3 = 7.1828655899e-02f, qa4 = 1.2617121637e-01f,
              qa5 = 1.3637083583e-02f, qa6 = 1.1984500103e-02f;
  const float s = fabsf(x) - 1;
  const float P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
  const float Q = 1 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
  return 1 - erx - P / Q;
}

static inline float gcg_erfc2(uint32_t ix, float x) {
  const float ra0 = -9.8649440333e-03f, ra1 = -6.9385856390e-01f, ra2 = -1.0558626175e+01f, ra3 = -6.2375331879e+01f,
              ra4 = -1.6239666748e+02f, ra5 = -1.8460508728e+02f, ra6 = -8.1287437439e+01f, ra7 = -9.8143291473e+00f;
  const float sa1 = 1.9651271820e+01f, sa2 = 1.3765776062e+02f, sa3 = 4.3456588745e+02f, sa4 = 6.4538726807e+02f,
              sa5 = 4.2900814819e+02f, sa6 = 1.0863500214e+02f, sa7 = 6.5702495575e+00f, sa8 = -6.0424413532e-02f;
  const float rb0 = -9.8649431020e-03f, rb1 = -7.9928326607e-01f, rb2 = -1.7757955551e+01f, rb3 = -1.6063638306e+02f,
              rb4 = -6.3756646729e+02f, rb5 = -1.0250950928e+03f, rb6 = -4.8351919556e+02f;
  const float sb1 = 3.0338060379e+01f, sb2 = 3.2579251099e+02f, sb3 = 1.5367296143e+03f, sb4 = 3.1998581543e+03f,
              sb5 = 2.5530502930e+03f, sb6 = 4.7452853394e+02f, sb7 = -2.2440952301e+01f;
  float s, R, S;
  if (ix < 0x3fa00000) return gcg_erfc1(x); /* |x| < 1.25 */
  x = fabsf(x);
  s = 1 / (x * x);
  if (ix < 0x4036db6d) { /* |x| < 1/0.35 */
    R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
    S = 1.0f + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
  } else { /* |x| >= 1/0.35 */
    R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
    S = 1.0f + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
  }
  const float z = gcg_asfloat(gcg_asuint(x) & 0xffffe000);
  return gcg_expf(-z * z - 0.5625f) * gcg_expf((z - x) * (z + x) + R / S) / x;
}

/* musl's erff. */
static inline float gcg_erff(float x) {
  const float efx8 = 1.0270333290e+00f, pp0 = 1.2837916613e-01f, pp1 = -3.2504209876e-01f, pp2 = -2.8481749818e-02f,
              pp3 = -5.7702702470e-03f, pp4 = -2.3763017452e-05f, qq1 = 3.9791721106e-01f, qq2 = 6.5022252500e-02f,
              qq3 = 5.0813062117e-03f, qq4 = 1.3249473704e-04f, qq5 = -3.9602282413e-06f;
  float r, s, z, y;
  uint32_t ix = gcg_asuint(x);
  const int sign = ix >> 31;
  ix &= 0x7fffffff;
  if (ix >= 0x7f800000) return 1 - 2 * sign + 1 / x; /* erf(nan)=nan, erf(+-inf)=+-1 */
  if (ix < 0x3f580000) {                              /* |x| < 0.84375 */
    if (ix < 0x31800000) return 0.125f * (8 * x + efx8 * x); /* |x| < 2**-28 */
    z = x * x;
    r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
    s = 1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
    y = r / s;
    return x + x * y;
  }
  if (ix < 0x40c00000) y = 1 - gcg_erfc2(ix, x); /* |x| < 6 */
  else y = 1 - 0x1p-120f;
  return sign ? -y : y;
}
#endif
