/**
 * Fused LayerNorm, GELU and Adam (issue 29): one native call each forward and one backward (Adam:
 * one per parameter), where the composed tfjs ops make 5-12 calls and as many passes over memory.
 * Used by the model (model/ops.ts's layerNorm and gelu) and the optimizer (train.ts's makeOptimizer)
 * only while the native kernels run (src/kernels/native.ts fusedActive); on the stock kernels the composed
 * ops run as before, so committed results regenerate bit for bit. The fused GELU forward and Adam
 * round step by step as the composed ops do (the same bits); LayerNorm sums in double; the
 * gradients are the analytic ones (test/native.test.ts checks all against the composed ops).
 */
import { tf } from './tf';

/** The fields of tfjs's AdamOptimizer that hold its settings and state (private in its typings; stable across tfjs 4.x). */
export interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  incrementIterations(): void;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  iterations_: number;
}

/** GELU(x) = x Phi(x), exact (erf), one call each way. */
export const fusedGelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const [y, phi] = tf.engine().runKernel('GcgGelu', { x }) as tf.Tensor[];
  (args[1] as tf.GradSaveFunc)([x, phi]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.engine().runKernel('GcgGeluGrad', { x: saved[0], phi: saved[1], dy }) as tf.Tensor,
  };
}) as (x: tf.Tensor) => tf.Tensor;

const layerNorms = new Map<number, (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

/** LayerNorm of x [G, R, D] with group g's gain and bias ([G, D]), eps inside the square root. */
function layerNormOp(eps: number) {
  let op = layerNorms.get(eps);
  if (!op) {
    op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, gain, bias] = args as tf.Tensor[];
      const [y, mean, rstd] = tf.engine().runKernel('GcgLayerNorm', { x, gain, bias }, { eps }) as tf.Tensor[];
      (args[3] as tf.GradSaveFunc)([x, gain, mean, rstd]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, gs, ms, rs] = saved;
          return tf.engine().runKernel('GcgLayerNormGrad', { x: xs, gain: gs, dy, mean: ms, rstd: rs }) as tf.Tensor[];
        },
      };
    }) as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    layerNorms.set(eps, op);
  }
  return op;
}

/**
 * LayerNorm over x's last axis (width D); g and b hold G gains and biases of width D ([D] for one
 * model, [K, 1, 1, D] for a stacked one), each for its share of x's leading rows.
 */
export function fusedLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const D = x.shape[x.rank - 1];
  const G = g.size / D;
  const y = layerNormOp(eps)(tf.reshape(x, [G, -1, D]), tf.reshape(g, [G, D]), tf.reshape(b, [G, D]));
  return tf.reshape(y, x.shape);
}

/**
 * tfjs's AdamOptimizer.applyGradients with each parameter's update in one native call (GcgAdam),
 * the optimizer's own state kept where tfjs keeps it (moments created alike, in the same order), so
 * that checkpoints, resumes and the stock path read and write it unchanged.
 */
export function fusedAdamApply(
  optimizer: tf.Optimizer,
  grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[],
): void {
  const o = optimizer as unknown as AdamInternals;
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const accBeta1 = o.accBeta1.dataSync()[0];
  const accBeta2 = o.accBeta2.dataSync()[0];
  const attrs = { beta1: o.beta1, beta2: o.beta2, accBeta1, accBeta2, eps: o.epsilon, lr: o.learningRate };
  tf.tidy(() => {
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      o.accumulatedFirstMoment[i] ??= {
        originalName: `${name}/m`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      o.accumulatedSecondMoment[i] ??= {
        originalName: `${name}/v`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      const grad = Array.isArray(grads) ? grads[i].tensor : grads[name];
      if (grad == null) return;
      const m = o.accumulatedFirstMoment[i].variable;
      const v = o.accumulatedSecondMoment[i].variable;
      const [value2, m2, v2] = tf.engine().runKernel('GcgAdam', { value, m, v, grad }, attrs) as tf.Tensor[];
      m.assign(m2);
      v.assign(v2);
      value.assign(value2);
    });
    o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1));
    o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2));
  });
  o.incrementIterations();
}
