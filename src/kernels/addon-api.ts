/** The native addon's functions as the kernels call them (native/gcg_native.c), and the tfjs-backend-wasm internals they read. */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackendInternals {
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

export interface Addon {
  /**
   * The stock wasm kernels' matrix product in their order (native/matmul.h): blocked 1 for their own
   * loop's blocks of 48 over k, 0 for XNNPACK's sequential sum; path -1: the widest SIMD here.
   */
  matmul(
    heap: ArrayBufferLike,
    aOff: number,
    bOff: number,
    cOff: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    blocked: number,
    path: number,
  ): void;
  /** The SIMD paths of matmul this CPU runs, widest first. */
  mmPaths(): { name: string; path: number }[];
  /** y = x with its axes permuted (rank <= 6: dims and perm of that length, then unused): a copy of 4-byte values. */
  transpose(heap: ArrayBufferLike, xOff: number, yOff: number, rank: number, ...dimsThenPerm: number[]): void;
  /** y = f(x) elementwise over n floats: op 0 expf, 1 erff, musl's (native/libm.h: the stock wasm kernels'). */
  unary(heap: ArrayBufferLike, xOff: number, yOff: number, n: number, op: number): void;
  /** native/stock_ops.h: the composed GELU and LayerNorm as the stock kernels round them, forward and backward. */
  stockGelu(heap: ArrayBufferLike, xOff: number, yOff: number, cOff: number, n: number, s: number, path: number): void;
  stockGeluGrad(
    heap: ArrayBufferLike,
    xOff: number,
    cOff: number,
    dyOff: number,
    dx1Off: number,
    dx2Off: number,
    n: number,
    s: number,
    k: number,
    path: number,
  ): void;
  stockLayerNorm(heap: ArrayBufferLike, ...offsetsGRDEps: number[]): void;
  stockLayerNormGrad(heap: ArrayBufferLike, ...offsetsGRD: number[]): void;
  /** One Adam update of one parameter (value, m, v, gradient -> new value, m, v), as tfjs's AdamOptimizer rounds it. */
  adam(
    heap: ArrayBufferLike,
    valueOff: number,
    mOff: number,
    vOff: number,
    gOff: number,
    newValueOff: number,
    newMOff: number,
    newVOff: number,
    n: number,
    beta1: number,
    beta2: number,
    accBeta1: number,
    accBeta2: number,
    eps: number,
    lr: number,
  ): void;
}
