/*
 * Native kernels for the tfjs wasm backend (issue 16): matrix products on the backend's own memory.
 *
 * The wasm backend keeps every tensor in one WebAssembly memory, at a byte offset it records per
 * tensor. sgemm(heap, aOff, bOff, cOff, batchA, batchB, m, n, k, transA, transB) computes, for each
 * of max(batchA, batchB) batches (a batch of size 1 is broadcast), C = op(A) op(B) with a CBLAS
 * sgemm (OpenBLAS on Linux; Accelerate on macOS, written but untested), where op transposes when
 * asked: A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k]), C is [m, n], row-major.
 * Built by scripts/build-native.js during `npm ci`; loaded by src/native.ts.
 *
 * Also: watchSignals() / pendingSignal(), so that a long synchronous computation can be stopped
 * cleanly (src/interrupt.ts). Node runs a JavaScript signal handler only when its event loop is free,
 * which a training loop never is; here SIGINT and SIGTERM only set a flag, which the loops poll
 * (pendingSignal) and turn into an exception that releases locks and removes temporary files.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#ifdef GCG_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

/*
 * Reads a call's arguments: the wasm memory's ArrayBuffer, then `count` numbers into v. On a wrong
 * call it throws a JavaScript error naming `name` and returns 0.
 */
static int read_args(napi_env env, napi_callback_info info, const char *name, size_t count, void **heap, size_t *heapBytes, double *v) {
  napi_value argv[16];
  size_t argc = 16;
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

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  void *heap = NULL;
  size_t heapBytes = 0;
  double v[10];
  if (!read_args(env, info, "sgemm", 10, &heap, &heapBytes, v)) return NULL;
  const size_t aOff = (size_t)v[0], bOff = (size_t)v[1], cOff = (size_t)v[2];
  const int batchA = (int)v[3], batchB = (int)v[4], m = (int)v[5], n = (int)v[6], k = (int)v[7];
  const int transA = (int)v[8], transB = (int)v[9];
  const int batch = batchA > batchB ? batchA : batchB;
  const size_t f = sizeof(float);
  if (aOff + (size_t)batchA * m * k * f > heapBytes || bOff + (size_t)batchB * k * n * f > heapBytes || cOff + (size_t)batch * m * n * f > heapBytes) {
    napi_throw_range_error(env, NULL, "sgemm: an operand lies outside the wasm memory");
    return NULL;
  }
  const float *A = (const float *)((char *)heap + aOff);
  const float *B = (const float *)((char *)heap + bOff);
  float *C = (float *)((char *)heap + cOff);
  for (int i = 0; i < batch; i++) {
    const float *a = A + (size_t)(batchA == 1 ? 0 : i) * m * k;
    const float *b = B + (size_t)(batchB == 1 ? 0 : i) * k * n;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
                transA ? m : k, b, transB ? k : n, 0.0f, C + (size_t)i * m * n, n);
  }
  return NULL;
}

/* unary(heap, xOff, yOff, n, op): y[i] = f(x[i]) for n floats, f = expf (op 0) or erff (op 1). */
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
    for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
  } else if (op == 1) {
    for (size_t i = 0; i < n; i++) y[i] = erff(x[i]);
  } else {
    napi_throw_range_error(env, NULL, "unary: op must be 0 (exp) or 1 (erf)");
  }
  return NULL;
}

#ifndef GCG_ACCELERATE
/* OpenBLAS's own description of itself (weak: another CBLAS without them still links). */
extern char *openblas_get_config(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));
#endif

/*
 * blasInfo(): the BLAS and the kernel family it chose for this CPU ("OpenBLAS 0.3.21 DYNAMIC_ARCH
 * ...; core Haswell"). OpenBLAS picks its kernels per CPU at load time (OPENBLAS_CORETYPE pins
 * them), and the kernels round differently: results record which ran.
 */
static napi_value BlasInfo(napi_env env, napi_callback_info info) {
  char buf[512];
#ifdef GCG_ACCELERATE
  snprintf(buf, sizeof buf, "Accelerate");
#else
  if (openblas_get_config && openblas_get_corename) snprintf(buf, sizeof buf, "%s; core %s", openblas_get_config(), openblas_get_corename());
  else snprintf(buf, sizeof buf, "a CBLAS that does not describe itself");
#endif
  napi_value v;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
  return v;
}

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
  napi_create_function(env, "blasInfo", NAPI_AUTO_LENGTH, BlasInfo, NULL, &fn);
  napi_set_named_property(env, exports, "blasInfo", fn);
  napi_create_function(env, "watchSignals", NAPI_AUTO_LENGTH, WatchSignals, NULL, &fn);
  napi_set_named_property(env, exports, "watchSignals", fn);
  napi_create_function(env, "pendingSignal", NAPI_AUTO_LENGTH, PendingSignal, NULL, &fn);
  napi_set_named_property(env, exports, "pendingSignal", fn);
  napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, Sgemm, NULL, &fn);
  napi_set_named_property(env, exports, "sgemm", fn);
  napi_create_function(env, "unary", NAPI_AUTO_LENGTH, Unary, NULL, &fn);
  napi_set_named_property(env, exports, "unary", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
