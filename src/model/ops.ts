/** The model's operations with their gradients: linear layers that compute only the weight gradients asked for, exact GELU, LayerNorm (one native call each where the native kernels run), the causal mask. */
import { nativeActive, tf } from '../kernels/tf';
import { stockGelu, stockLayerNorm } from '../kernels/fused';

/** The ids of `vars`: what ForwardOptions.weightGrads takes (weight gradients for these only). */
export function weightGradsFor(vars: readonly tf.Variable[]): ReadonlySet<number> {
  return new Set(vars.map((v) => v.id));
}

/**
 * y = x @ W + b for x [rows, in], W [in, out], b [out], with a hand-written gradient: the stock
 * one reduces db with a Sum over axis 0, which the wasm backend does by transposing first (slow:
 * ~16% of a training step), and would take dW through a transposed matMul. Here
 * dx = dy @ W^T, dW = x^T @ dy (explicit transposes, of the smaller operand) and db = 1^T @ dy.
 * Same values as the plain ops; a test compares the two. `needW` / `needB` false: that gradient
 * is not computed (zeros the engine then discards), which is what makes Eq. 1 cheaper than a
 * training step.
 */
function linearWithGrads(needW: boolean, needB: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, W, b] = args as tf.Tensor2D[];
    const save = args[3] as tf.GradSaveFunc;
    save([x, W]);
    return {
      value: tf.add(tf.matMul(x, W), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, Ws] = saved;
        const ones = tf.ones([1, dy.shape[0] as number]);
        // The native kernels take the transposes as flags, in the plain product's order (the same bits).
        const seq = nativeActive();
        // dW = x^T @ dy; else transposing whichever of x and dy is smaller (Transpose is slow on wasm).
        const dW = !needW
          ? tf.zerosLike(Ws)
          : seq
            ? matMulSeq(xs, dy, true, false)
            : xs.size <= dy.size
              ? tf.matMul(tf.transpose(xs), dy)
              : tf.transpose(tf.matMul(tf.transpose(dy), xs));
        const db = needB ? tf.reshape(tf.matMul(ones, dy), [dy.shape[1] as number]) : tf.zeros([dy.shape[1] as number]);
        const dx = seq ? matMulSeq(dy, Ws, false, true) : tf.matMul(dy, tf.transpose(Ws));
        return [dx, dW, db];
      },
    };
  });
}
/** A 2-D product with transpose flags in a plain stock product's order (src/kernels/wasm-kernels.ts GcgMatMulSeq). */
const matMulSeq = (a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean) =>
  tf.engine().runKernel('GcgMatMulSeq', { a, b }, { transposeA, transposeB }) as tf.Tensor2D;

const LINEAR = [
  [linearWithGrads(false, false), linearWithGrads(false, true)],
  [linearWithGrads(true, false), linearWithGrads(true, true)],
];

/** y = x @ W + b (see linearWithGrads); `weightGrads`: the variables whose gradients are wanted (absent: all). */
export function linear(
  x: tf.Tensor,
  W: tf.Tensor,
  b: tf.Tensor,
  weightGrads?: ReadonlySet<number> | null,
): tf.Tensor2D {
  const needW = !weightGrads || weightGrads.has(W.id);
  const needB = !weightGrads || weightGrads.has(b.id);
  return LINEAR[Number(needW)][Number(needB)](x, W, b) as tf.Tensor2D;
}

const SQRT1_2 = Math.SQRT1_2;

/** Exact (erf) GELU, as torch.nn.GELU() computes it. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (nativeActive()) return stockGelu(x); // one native call with the composed ops' bits (src/kernels/fused.ts)
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
}

/** LayerNorm over the last axis; `g` and `b` broadcast against x. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  if (nativeActive()) return stockLayerNorm(x, g, b, eps); // one native call with the composed ops' bits
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
}

const maskData = new Map<number, Float32Array>();

/** Additive causal mask [query_pos, key_pos]: -1e9 above the diagonal (a fresh tensor per call, so nothing outlives a tidy). */
export function causalMask(T: number): tf.Tensor2D {
  let data = maskData.get(T);
  if (!data) {
    data = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -1e9;
    maskData.set(T, data);
  }
  return tf.tensor2d(data, [T, T]);
}
