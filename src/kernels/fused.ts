/**
 * One-call LayerNorm, GELU and Adam (issues 29, 42): one native call each forward and one backward
 * (Adam: one per parameter), where the composed tfjs ops make 5-12 calls and as many passes over
 * memory, each with the composed stock ops' bits (native/stock_ops.h; test/stock-native.test.ts
 * checks them bit for bit). Used by the model (model/ops.ts's layerNorm and gelu) and the optimizer
 * (train/adam.ts's makeOptimizer) while the wasm backend's kernels are computed natively
 * (kernels/tf.ts nativeActive); with tfjs's own wasm code and on other backends the composed ops
 * run: the same numbers either way.
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

/** fround(2 / sqrt(pi)): Erf's gradient's constant as tfjs makes it (a JavaScript number in a float32 tensor). */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The composed stock GELU, (x * 0.5) (1 + erf(x s)), in one call each way with its bits (native/
 * stock_ops.h). x comes twice: the composed graph gives x two gradients (through erf, then through
 * x * 0.5), and tfjs adds them into x's in that order, after any gradient x already has.
 */
const stockGeluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const [y, c] = tf.engine().runKernel('GcgStockGelu', { x }, { s: Math.SQRT1_2 }) as tf.Tensor[];
  (args[2] as tf.GradSaveFunc)([x, c]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf
        .engine()
        .runKernel(
          'GcgStockGeluGrad',
          { x: saved[0], c: saved[1], dy },
          { s: Math.SQRT1_2, k: TWO_OVER_SQRT_PI },
        ) as tf.Tensor[],
  };
}) as (x: tf.Tensor, again: tf.Tensor) => tf.Tensor;

/** GELU(x) as the composed stock ops compute it, forward and backward, one native call each. */
export const stockGelu = (x: tf.Tensor): tf.Tensor => stockGeluOp(x, x);

const stockLayerNorms = new Map<number, (...xs: tf.Tensor[]) => tf.Tensor>();

/**
 * The composed stock LayerNorm (tf.moments, then ((x - mean) rsqrt(var + eps)) g + b) in one call
 * each way with its bits (native/stock_ops.h). x comes three times: the composed graph gives x three
 * gradients, added in this order; the backward's pow(var + eps, 1.5) is the stock Pow kernel's.
 * g and b ([D], or a stack's [K, 1, 1, D]) hold one gain row per group of x's rows.
 */
export function stockLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  let op = stockLayerNorms.get(eps);
  if (!op) {
    op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x0, , , gain, bias] = args as tf.Tensor[];
      const [y, mean, ve, r] = tf
        .engine()
        .runKernel('GcgStockLayerNorm', { x: x0, gain, bias }, { eps }) as tf.Tensor[];
      (args[5] as tf.GradSaveFunc)([x0, gain, mean, ve, r]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, gs, ms, vs, rs] = saved;
          const p = tf.pow(vs, 1.5);
          const grads = tf
            .engine()
            .runKernel('GcgStockLayerNormGrad', { x: xs, gain: gs, dy, mean: ms, r: rs, p }) as tf.Tensor[];
          p.dispose();
          return grads;
        },
      };
    }) as (...xs: tf.Tensor[]) => tf.Tensor;
    stockLayerNorms.set(eps, op);
  }
  return op(x, x, x, g, b);
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
