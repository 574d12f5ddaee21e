/*
 * Native kernels for the tfjs wasm backend (issues 16, 42): the stock wasm kernels' own operations,
 * in their order, on the backend's own memory, so that they give tfjs-backend-wasm 4.22's bits at
 * native speed on every CPU: the matrix product (matmul: any SIMD width, native/matmul.h),
 * Transpose, Exp and Erf (musl's expf and erff, as the wasm build has them: native/libm.h), the
 * composed LayerNorm and GELU forward and backward rounding for rounding (native/stock_ops.h), and
 * tfjs's Adam update. The wasm backend keeps every tensor in one WebAssembly memory, at a byte
 * offset it records per tensor; each call gets that memory and the offsets. Built by
 * scripts/build-native.js during `npm ci` (a C compiler is all it needs); loaded by
 * src/kernels/native.ts.
 *
 * Also: watchSignals() / pendingSignal(), so that a long synchronous computation can be stopped
 * cleanly (src/io/interrupt.ts). Node runs a JavaScript signal handler only when its event loop is free,
 * which a training loop never is; here SIGINT and SIGTERM only set a flag, which the loops poll
 * (pendingSignal) and turn into an exception that releases locks and removes temporary files.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "libm.h"
#include "matmul.h"
#include "stock_ops.h"

/*
 * Reads a call's arguments: the wasm memory's ArrayBuffer, then `count` numbers into v. On a wrong
 * call it throws a JavaScript error naming `name` and returns 0.
 */
static int read_args(napi_env env, napi_callback_info info, const char *name, size_t count, void **heap, size_t *heapBytes, double *v) {
  napi_value argv[24];
  size_t argc = 24;
  char msg[128];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count + 1) {
    snprintf(msg, sizeof msg, "%s: expected %zu arguments", name, count + 1);
    napi_throw_error(env, NULL, msg);
    return 0;
  }
  if (napi_get_arraybuffer_info(env, argv[0], heap, heapBytes) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: the first argument must be the wasm memory's ArrayBuffer", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_double(env, argv[i + 1], &v[i]) != napi_ok) {
      snprintf(msg, sizeof msg, "%s: arguments 2..%zu must be numbers", name, count + 1);
      napi_throw_type_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

/* A SIMD path argument: -1 for the widest this CPU runs; a path it lacks throws (returns -1). */
static int simd_path(napi_env env, const char *name, double v) {
  int path = (int)v;
  if (path < 0) path = gcg_mm_best_path();
  if (path >= GCG_MM_PATHS || !gcg_mm_path_runs(path)) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: this CPU does not run that SIMD path (mmPaths() lists those it runs)", name);
    napi_throw_range_error(env, NULL, msg);
    return -1;
  }
  return path;
}

/*
 * matmul(heap, aOff, bOff, cOff, batchA, batchB, m, n, k, transA, transB, blocked, path): the stock
 * wasm kernels' matrix product, in their order (native/matmul.h): blocked 1 for their own loop's
 * blocks of 48, 0 for XNNPACK's sequential sum; path -1 for the widest SIMD this CPU runs, else
 * one of mmPaths() (a path this CPU lacks throws).
 */
static napi_value Matmul(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[12];
  if (!read_args(env, info, "matmul", 12, &heap, &heapBytes, v)) return NULL;
  const size_t aOff = (size_t)v[0], bOff = (size_t)v[1], cOff = (size_t)v[2];
  const size_t batchA = (size_t)v[3], batchB = (size_t)v[4], m = (size_t)v[5], n = (size_t)v[6], k = (size_t)v[7];
  const int transA = (int)v[8], transB = (int)v[9], blocked = (int)v[10];
  const int path = simd_path(env, "matmul", v[11]);
  if (path < 0) return NULL;
  const size_t batch = batchA > batchB ? batchA : batchB, f = sizeof(float);
  if (aOff + batchA * m * k * f > heapBytes || bOff + batchB * k * n * f > heapBytes || cOff + batch * m * n * f > heapBytes) {
    napi_throw_range_error(env, NULL, "matmul: an operand lies outside the wasm memory");
    return NULL;
  }
  if (gcg_matmul(path, (const float *)((char *)heap + aOff), (const float *)((char *)heap + bOff), (float *)((char *)heap + cOff),
                 batchA, batchB, m, n, k, transA, transB, blocked) != 0)
    napi_throw_error(env, NULL, "matmul: out of memory");
  return NULL;
}

/* mmPaths(): the SIMD paths of matmul this CPU runs, widest first (index = the path argument). */
static napi_value MmPaths(napi_env env, napi_callback_info info) {
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t j = 0;
  for (int p = 0; p < GCG_MM_PATHS; p++) {
    if (!gcg_mm_path_runs(p)) continue;
    napi_value obj, name, idx;
    napi_create_object(env, &obj);
    napi_create_string_utf8(env, gcg_mm_path_names[p], NAPI_AUTO_LENGTH, &name);
    napi_create_int32(env, p, &idx);
    napi_set_named_property(env, obj, "name", name);
    napi_set_named_property(env, obj, "path", idx);
    napi_set_element(env, arr, j++, obj);
  }
  return arr;
}

/*
 * transpose(heap, xOff, yOff, rank, d0..d5, p0..p5): y = x with its axes permuted (y's axis i is
 * x's axis p_i), x of shape d (rank <= 6; unused entries 1 and i): tfjs's Transpose, a copy.
 */
static napi_value Transpose(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[15];
  if (!read_args(env, info, "transpose", 15, &heap, &heapBytes, v)) return NULL;
  const size_t xOff = (size_t)v[0], yOff = (size_t)v[1];
  const int rank = (int)v[2];
  size_t d[6], p[6], n = 1;
  if (rank < 1 || rank > 6) {
    napi_throw_range_error(env, NULL, "transpose: rank must be 1..6");
    return NULL;
  }
  for (int i = 0; i < 6; i++) {
    d[i] = i < rank ? (size_t)v[3 + i] : 1;
    p[i] = i < rank ? (size_t)v[9 + i] : (size_t)i;
    n *= d[i];
  }
  if (xOff + n * sizeof(float) > heapBytes || yOff + n * sizeof(float) > heapBytes) {
    napi_throw_range_error(env, NULL, "transpose: an operand lies outside the wasm memory");
    return NULL;
  }
  size_t xs[6], ys[6], od[6];
  xs[5] = 1;
  for (int i = 4; i >= 0; i--) xs[i] = xs[i + 1] * d[i + 1];
  for (int i = 0; i < 6; i++) od[i] = d[p[i]], ys[i] = xs[p[i]]; /* y's axis i walks x's stride of axis p_i */
  const float *x = (const float *)((char *)heap + xOff);
  float *y = (float *)((char *)heap + yOff);
  size_t o = 0;
  for (size_t i0 = 0; i0 < od[0]; i0++)
    for (size_t i1 = 0; i1 < od[1]; i1++)
      for (size_t i2 = 0; i2 < od[2]; i2++)
        for (size_t i3 = 0; i3 < od[3]; i3++)
          for (size_t i4 = 0; i4 < od[4]; i4++) {
            const float *src = x + i0 * ys[0] + i1 * ys[1] + i2 * ys[2] + i3 * ys[3] + i4 * ys[4];
            const size_t s5 = ys[5];
            for (size_t i5 = 0; i5 < od[5]; i5++) y[o++] = src[i5 * s5];
          }
  return NULL;
}

/*
 * unary(heap, xOff, yOff, n, op): y[i] = f(x[i]) for n floats: f = the stock wasm kernels' own
 * expf (op 0) or erff (op 1), musl's (native/libm.h): the same bits on every machine.
 */
static napi_value Unary(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[4];
  if (!read_args(env, info, "unary", 4, &heap, &heapBytes, v)) return NULL;
  const size_t xOff = (size_t)v[0], yOff = (size_t)v[1], n = (size_t)v[2];
  const int op = (int)v[3];
  if (xOff + n * sizeof(float) > heapBytes || yOff + n * sizeof(float) > heapBytes) {
    napi_throw_range_error(env, NULL, "unary: an operand lies outside the wasm memory");
    return NULL;
  }
  const float *x = (const float *)((char *)heap + xOff);
  float *y = (float *)((char *)heap + yOff);
  if (op == 0) {
    for (size_t i = 0; i < n; i++) y[i] = gcg_expf(x[i]);
  } else if (op == 1) {
    for (size_t i = 0; i < n; i++) y[i] = gcg_erff(x[i]);
  } else {
    napi_throw_range_error(env, NULL, "unary: op must be 0 (exp) or 1 (erf)");
  }
  return NULL;
}

/*
 * adam(heap, valueOff, mOff, vOff, gOff, newValueOff, newMOff, newVOff, n, beta1, beta2, accBeta1,
 * accBeta2, eps, lr): one Adam update of one parameter in one pass, operation for operation as
 * tfjs's AdamOptimizer.applyGradients computes it in float32 (the same roundings, hence the same
 * bits): m' = m b1 + g (1 - b1); v' = v b2 + g^2 (1 - b2); value' = (m' / (1 - b1^t)) /
 * (sqrt(v' / (1 - b2^t)) + eps) * (-lr) + value. accBeta1 and accBeta2 are b1^t and b2^t as the
 * optimizer holds them (float32 values).
 */
static napi_value Adam(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[14];
  if (!read_args(env, info, "adam", 14, &heap, &heapBytes, v)) return NULL;
  const size_t n = (size_t)v[7], bytes = n * sizeof(float);
  for (int i = 0; i < 7; i++) {
    if ((size_t)v[i] + bytes > heapBytes) {
      napi_throw_range_error(env, NULL, "adam: an operand lies outside the wasm memory");
      return NULL;
    }
  }
  const float *value = (const float *)((char *)heap + (size_t)v[0]), *m = (const float *)((char *)heap + (size_t)v[1]);
  const float *s = (const float *)((char *)heap + (size_t)v[2]), *g = (const float *)((char *)heap + (size_t)v[3]);
  float *value2 = (float *)((char *)heap + (size_t)v[4]), *m2 = (float *)((char *)heap + (size_t)v[5]), *s2 = (float *)((char *)heap + (size_t)v[6]);
  // The scalars as tfjs makes them: JavaScript numbers (doubles) rounded to float32 tensors.
  const float b1 = (float)v[8], b2 = (float)v[9], omb1 = (float)(1.0 - v[8]), omb2 = (float)(1.0 - v[9]);
  const float oneMinusAcc1 = 1.0f - (float)v[10], oneMinusAcc2 = 1.0f - (float)v[11];
  const float eps = (float)v[12], negLr = (float)(-v[13]);
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * omb1;
    const float si = s[i] * b2 + (gi * gi) * omb2;
    m2[i] = mi;
    s2[i] = si;
    value2[i] = ((mi / oneMinusAcc1) / (sqrtf(si / oneMinusAcc2) + eps)) * negLr + value[i];
  }
  return NULL;
}

/* Whether each of the n operands (offset, float count) lies inside the wasm memory; throws naming the op if not. */
static int operands_fit(napi_env env, const char *name, size_t heapBytes, size_t n, const size_t *off, const size_t *count) {
  for (size_t i = 0; i < n; i++) {
    if (off[i] + count[i] * sizeof(float) > heapBytes) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s: an operand lies outside the wasm memory", name);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}
#define F(heap, off) ((float *)((char *)(heap) + (off)))

/* stockGelu(heap, xOff, yOff, cOff, n, s, path): the composed GELU's bits in one pass (native/stock_ops.h). */
static napi_value StockGelu(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[6];
  if (!read_args(env, info, "stockGelu", 6, &heap, &heapBytes, v)) return NULL;
  const size_t n = (size_t)v[3], off[3] = {(size_t)v[0], (size_t)v[1], (size_t)v[2]}, cnt[3] = {n, n, n};
  const int path = simd_path(env, "stockGelu", v[5]);
  if (path < 0 || !operands_fit(env, "stockGelu", heapBytes, 3, off, cnt)) return NULL;
  stock_gelu(path, F(heap, off[0]), F(heap, off[1]), F(heap, off[2]), n, (float)v[4]);
  return NULL;
}

/* stockGeluGrad(heap, xOff, cOff, dyOff, dx1Off, dx2Off, n, s, k, path): its gradient's two parts. */
static napi_value StockGeluGrad(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[9];
  if (!read_args(env, info, "stockGeluGrad", 9, &heap, &heapBytes, v)) return NULL;
  const size_t n = (size_t)v[5];
  const size_t off[5] = {(size_t)v[0], (size_t)v[1], (size_t)v[2], (size_t)v[3], (size_t)v[4]}, cnt[5] = {n, n, n, n, n};
  const int path = simd_path(env, "stockGeluGrad", v[8]);
  if (path < 0 || !operands_fit(env, "stockGeluGrad", heapBytes, 5, off, cnt)) return NULL;
  stock_gelu_grad(path, F(heap, off[0]), F(heap, off[1]), F(heap, off[2]), F(heap, off[3]), F(heap, off[4]), n, (float)v[6],
                  (float)v[7]);
  return NULL;
}

/* stockLayerNorm(heap, xOff, gOff, bOff, yOff, meanOff, veOff, rOff, G, R, D, eps): the composed LayerNorm's bits. */
static napi_value StockLayerNorm(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[11];
  if (!read_args(env, info, "stockLayerNorm", 11, &heap, &heapBytes, v)) return NULL;
  const size_t G = (size_t)v[7], R = (size_t)v[8], D = (size_t)v[9];
  size_t off[7], cnt[7] = {G * R * D, G * D, G * D, G * R * D, G * R, G * R, G * R};
  for (int i = 0; i < 7; i++) off[i] = (size_t)v[i];
  if (!operands_fit(env, "stockLayerNorm", heapBytes, 7, off, cnt)) return NULL;
  stock_layer_norm(F(heap, off[0]), F(heap, off[1]), F(heap, off[2]), F(heap, off[3]), F(heap, off[4]), F(heap, off[5]), F(heap, off[6]), G,
                   R, D, (float)v[10]);
  return NULL;
}

/* stockLayerNormGrad(heap, xOff, gOff, dyOff, meanOff, rOff, pOff, dx7Off, dx2Off, dx1Off, dgOff, dbOff, G, R, D): its gradients. */
static napi_value StockLayerNormGrad(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[14];
  if (!read_args(env, info, "stockLayerNormGrad", 14, &heap, &heapBytes, v)) return NULL;
  const size_t G = (size_t)v[11], R = (size_t)v[12], D = (size_t)v[13], X = G * R * D;
  size_t off[11], cnt[11] = {X, G * D, X, G * R, G * R, G * R, X, X, X, G * D, G * D};
  for (int i = 0; i < 11; i++) off[i] = (size_t)v[i];
  if (!operands_fit(env, "stockLayerNormGrad", heapBytes, 11, off, cnt)) return NULL;
  stock_layer_norm_grad(F(heap, off[0]), F(heap, off[1]), F(heap, off[2]), F(heap, off[3]), F(heap, off[4]), F(heap, off[5]), F(heap, off[6]),
                        F(heap, off[7]), F(heap, off[8]), F(heap, off[9]), F(heap, off[10]), G, R, D);
  return NULL;
}
#undef F

static volatile sig_atomic_t pending_signal = 0;

static void on_signal(int sig) {
  if (!pending_signal) pending_signal = sig;
}

/* watchSignals(): SIGINT and SIGTERM set the flag instead of ending the process. */
static napi_value WatchSignals(napi_env env, napi_callback_info info) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
    napi_throw_error(env, NULL, "watchSignals: sigaction failed");
  }
  return NULL;
}

/* pendingSignal(): the number of the first SIGINT/SIGTERM received since watchSignals(), or 0. */
static napi_value PendingSignal(napi_env env, napi_callback_info info) {
  napi_value v;
  napi_create_int32(env, (int32_t)pending_signal, &v);
  return v;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "watchSignals", NAPI_AUTO_LENGTH, WatchSignals, NULL, &fn);
  napi_set_named_property(env, exports, "watchSignals", fn);
  napi_create_function(env, "pendingSignal", NAPI_AUTO_LENGTH, PendingSignal, NULL, &fn);
  napi_set_named_property(env, exports, "pendingSignal", fn);
  napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, Matmul, NULL, &fn);
  napi_set_named_property(env, exports, "matmul", fn);
  napi_create_function(env, "mmPaths", NAPI_AUTO_LENGTH, MmPaths, NULL, &fn);
  napi_set_named_property(env, exports, "mmPaths", fn);
  napi_create_function(env, "transpose", NAPI_AUTO_LENGTH, Transpose, NULL, &fn);
  napi_set_named_property(env, exports, "transpose", fn);
  napi_create_function(env, "unary", NAPI_AUTO_LENGTH, Unary, NULL, &fn);
  napi_set_named_property(env, exports, "unary", fn);
  napi_create_function(env, "adam", NAPI_AUTO_LENGTH, Adam, NULL, &fn);
  napi_set_named_property(env, exports, "adam", fn);
  napi_create_function(env, "stockGelu", NAPI_AUTO_LENGTH, StockGelu, NULL, &fn);
  napi_set_named_property(env, exports, "stockGelu", fn);
  napi_create_function(env, "stockGeluGrad", NAPI_AUTO_LENGTH, StockGeluGrad, NULL, &fn);
  napi_set_named_property(env, exports, "stockGeluGrad", fn);
  napi_create_function(env, "stockLayerNorm", NAPI_AUTO_LENGTH, StockLayerNorm, NULL, &fn);
  napi_set_named_property(env, exports, "stockLayerNorm", fn);
  napi_create_function(env, "stockLayerNormGrad", NAPI_AUTO_LENGTH, StockLayerNormGrad, NULL, &fn);
  napi_set_named_property(env, exports, "stockLayerNormGrad", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
