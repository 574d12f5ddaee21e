/*
 * The model's GELU and LayerNorm, forward and backward, as the stock wasm kernels compute them
 * (issue 42): each one pass here where the composed tfjs ops make 5 (GELU) and ~30 (LayerNorm)
 * kernel calls, rounded operation for operation as those calls round (float32, multiply and add
 * kept apart: -ffp-contract=off), so that they give the stock kernels' bits. The sequences follow
 * src/model/ops.ts's composed gelu and layerNorm and tfjs-core 4.22's gradients of their ops
 * (Mul, Add, Sub, Erf, Square, Mean, Rsqrt; Sum and Mean sum in order from 0, tfjs-backend-wasm's
 * Sum.cc and Mean.cc; Mean divides the sum by the count). Where the composed graph adds several
 * gradients into one tensor (x of LayerNorm gets three, x of GELU two), they are returned apart,
 * and src/kernels/fused.ts hands x to the op once per use, so that tfjs adds them in the composed
 * graph's order. erff and expf run on the matrix product's SIMD path (native/libm_vec.h: the same
 * bits on every width). The one op not redone here is Rsqrt's gradient's pow(v, 1.5), which the caller
 * gets from the stock Pow kernel (musl's powf) and passes in.
 */
#ifndef GCG_STOCK_OPS_H
#define GCG_STOCK_OPS_H
#include <stddef.h>
#include "libm_vec.h"

/*
 * GELU forward: u = x s, c = 1 + erf(u), y = (x * 0.5) c  (s = fround(SQRT1_2)); c kept for the
 * backward pass.
 */
static void stock_gelu(int path, const float *x, float *y, float *c, size_t n, float s) {
  for (size_t i = 0; i < n; i++) c[i] = x[i] * s;
  gcg_erff_n(path, c, c, n);
  for (size_t i = 0; i < n; i++) {
    const float ci = 1.0f + c[i];
    c[i] = ci;
    y[i] = (x[i] * 0.5f) * ci;
  }
}

/*
 * GELU backward, the composed graph's two gradients of x: through erf, dx1 = ((dy a) (exp(-(u u))
 * k)) s with a = x * 0.5, u = x s, k = fround(2 / sqrt(pi)) (Erf's gradient); through x * 0.5,
 * dx2 = (dy c) * 0.5. tfjs adds dx1 first (the later op's gradient comes first).
 */
static void stock_gelu_grad(int path, const float *x, const float *c, const float *dy, float *dx1, float *dx2, size_t n, float s,
                            float k) {
  for (size_t i = 0; i < n; i++) {
    const float u = x[i] * s;
    dx1[i] = -(u * u);
  }
  gcg_expf_n(path, dx1, dx1, n);
  for (size_t i = 0; i < n; i++) {
    const float a = x[i] * 0.5f;
    const float dc = dy[i] * a;
    dx1[i] = (dc * (dx1[i] * k)) * s;
    dx2[i] = (dy[i] * c[i]) * 0.5f;
  }
}

/*
 * LayerNorm forward over rows of D (R rows per group, group g's gain and bias):
 *   mean = sum(x) / D; d = x - mean; var = sum(d d) / D; ve = var + eps; r = 1 / sqrt(ve);
 *   y = ((x - mean) r) gain + bias.
 * mean, ve and r per row kept for the backward pass.
 */
static void stock_layer_norm(const float *x, const float *gain, const float *bias, float *y, float *mean, float *ve, float *r,
                             size_t G, size_t R, size_t D, float eps) {
  const float fD = (float)D;
  for (size_t grp = 0; grp < G; grp++) {
    const float *gg = gain + grp * D, *bb = bias + grp * D;
    for (size_t row = grp * R; row < (grp + 1) * R; row++) {
      const float *xr = x + row * D;
      float *yr = y + row * D;
      float s = 0;
      for (size_t j = 0; j < D; j++) s += xr[j];
      const float m = s / fD;
      float ss = 0;
      for (size_t j = 0; j < D; j++) {
        const float d = xr[j] - m;
        ss += d * d;
      }
      const float v = ss / fD + eps;
      const float rs = 1.0f / sqrtf(v);
      mean[row] = m;
      ve[row] = v;
      r[row] = rs;
      for (size_t j = 0; j < D; j++) yr[j] = ((xr[j] - m) * rs) * gg[j] + bb[j];
    }
  }
}

/*
 * LayerNorm backward, the composed graph's gradients: x's three (dx7 through x - mean in the
 * normalisation, dx2 through x - mean in the variance, dx1 through the mean: tfjs adds them in
 * that order), gain's and bias's (each group's rows summed in order from 0). p = pow(ve, 1.5) per
 * row; dg and db need G * D floats, tmp 2 * D.
 *   dn = dy gain; dxc = dn r; dr = sum(dn xc); dve = -(dr / (p * 2)); dsq = (dve * 1) / D;
 *   dd = dsq (d * 2); dmean = -sum(dxc) + -sum(dd); dx1 = (dmean * 1) / D.
 */
static void stock_layer_norm_grad(const float *x, const float *gain, const float *dy, const float *mean, const float *r,
                                  const float *p, float *dx7, float *dx2, float *dx1, float *dg, float *db, size_t G, size_t R,
                                  size_t D) {
  const float fD = (float)D;
  for (size_t grp = 0; grp < G; grp++) {
    const float *gg = gain + grp * D;
    float *dgg = dg + grp * D, *dbb = db + grp * D;
    for (size_t j = 0; j < D; j++) dgg[j] = 0, dbb[j] = 0;
    for (size_t row = grp * R; row < (grp + 1) * R; row++) {
      const float *xr = x + row * D, *dyr = dy + row * D;
      float *o7 = dx7 + row * D, *o2 = dx2 + row * D, *o1 = dx1 + row * D;
      const float m = mean[row], rs = r[row];
      float dr = 0, sxc = 0;
      for (size_t j = 0; j < D; j++) {
        const float xc = xr[j] - m, n = xc * rs;
        const float dn = dyr[j] * gg[j];
        const float dxc = dn * rs;
        dbb[j] += dyr[j];
        dgg[j] += dyr[j] * n;
        dr += dn * xc;
        o7[j] = dxc;
        sxc += dxc;
      }
      const float dve = -(dr / (p[row] * 2.0f));
      const float dsq = (dve * 1.0f) / fD;
      float sdd = 0;
      for (size_t j = 0; j < D; j++) {
        const float dd = dsq * ((xr[j] - m) * 2.0f);
        o2[j] = dd;
        sdd += dd;
      }
      const float dmean = -sxc + -sdd;
      const float d1 = (dmean * 1.0f) / fD;
      for (size_t j = 0; j < D; j++) o1[j] = d1;
    }
  }
}
#endif
