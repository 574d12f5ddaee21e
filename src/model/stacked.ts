/**
 * K models of one configuration as one: every parameter stacked on a leading seed axis
 * ([K, ...] for a parameter of shape [...]), so that one forward and backward pass trains all K
 * (issue 29: a sweep's seeds share each kernel call; per-call overhead, not arithmetic, dominates a
 * step of the paper's model).
 *
 * The stacked forward repeats Transformer.forward (src/model/model.ts) op for op with the seed axis in
 * front: every matrix product becomes a batched one whose per-seed slices are the same products
 * (one CBLAS call each on the native kernels), every elementwise op and every reduction over the
 * last axis sees the same values in the same order, and the loss is summed per seed. So each seed's
 * loss and gradients equal its single-model ones bit for bit (test/stacked.test.ts proves it on the
 * stock and the native kernels), and training K seeds stacked gives each seed the weights it gets
 * alone. Training only: no hook points and no patches (the analysis runs on single models).
 *
 *   x = onehot(tokens) @ E                              // [K, batch*pos, d_model]
 *   for each block l: x = x + attn(ln1 x); x = x + mlp(ln2 x)
 *   logits = ln_f(x) @ W_out + b_out                    // [K, batch, pos, vocab]
 */
import { nativeActive, tf } from '../kernels/tf';
import type { ModelConfig } from '../settings/config';
import { lossWeights } from './eval';
import { ParamMap, paramSpecs, Transformer } from './model';
import { causalMask, gelu, layerNorm } from './ops';
import type { Batch } from '../tasks';

/**
 * Per-seed matrix products a[k] @ b[k] for a [K, m, k], b [K, k, n] (tfjs's transpose flags): one
 * 2-D product per seed, since tfjs's stock wasm kernel multiplies a 2-D pair (XNNPACK) and a batch
 * (its own loop) with different rounding, and the other backends may too; on the native kernels
 * plain products are one call (perSeedPlain) with those bits.
 */
function perSeedMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  // (float32 operands, as tf.matMul makes them: the embedding's one-hot rows are int32)
  const f32 = (t: tf.Tensor3D) => (t.dtype === 'float32' ? t : (tf.cast(t, 'float32') as tf.Tensor3D));
  if (nativeActive() && !transposeA && !transposeB) return perSeedPlain(f32(a), f32(b));
  // (tfjs's gradient of unstack fails for a single piece: a reshape then)
  const split = (t: tf.Tensor3D) =>
    (t.shape[0] === 1 ? [tf.reshape(t, [t.shape[1], t.shape[2]])] : tf.unstack(t)) as tf.Tensor2D[];
  const bs = split(b);
  const products = split(a).map((x, k) => tf.matMul(x, bs[k], transposeA, transposeB));
  return (products.length === 1 ? tf.expandDims(products[0]) : tf.stack(products)) as tf.Tensor3D;
}

/**
 * On the native kernels: K 2-D products in one call, each in the order of a
 * plain stock product (the flags read as explicit transposes: src/kernels/wasm-kernels.ts
 * GcgMatMulSeq), so the bits of the per-seed products above without their Unpack and Pack.
 */
const perSeedSeq = (a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false) =>
  tf.engine().runKernel('GcgMatMulSeq', { a, b }, { transposeA, transposeB }) as tf.Tensor3D;

/** perSeedSeq of plain products, with the gradient the per-seed 2-D products get (src/kernels/tf.ts: explicit transposes, plain products). */
const perSeedPlain = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b] = args as tf.Tensor3D[];
  (args[2] as tf.GradSaveFunc)([a, b]);
  return {
    value: perSeedSeq(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as tf.Tensor3D[];
      return [perSeedSeq(dy as tf.Tensor3D, bs, false, true), perSeedSeq(as, dy as tf.Tensor3D, true, false)];
    },
  };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * y = x @ W + b per seed, for x [K, rows, in], W [K, in, out], b [K, out], with ops.ts's
 * linearWithGrads gradient per seed: dx = dy @ W^T, dW = x^T @ dy, db = 1^T @ dy (with the same
 * explicit transposes of the smaller operand, or their flags on the native kernels).
 */
const stackedLinear = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, W, b] = args as tf.Tensor3D[];
  const save = args[3] as tf.GradSaveFunc;
  save([x, W]);
  const [K, , out] = W.shape;
  return {
    value: tf.add(perSeedMatMul(x, W), tf.reshape(b, [K, 1, out])),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, Ws] = saved as tf.Tensor3D[];
      const g = dy as tf.Tensor3D;
      const ones = tf.ones([K, 1, g.shape[1]]) as tf.Tensor3D;
      if (nativeActive()) {
        // The transposes as flags, in the plain products' order: the same bits as the explicit ones below.
        const db = tf.reshape(perSeedSeq(ones, g), [K, out]);
        return [perSeedSeq(g, Ws, false, true), perSeedSeq(xs, g, true, false), db];
      }
      const t = (a: tf.Tensor3D) => tf.transpose(a, [0, 2, 1]) as tf.Tensor3D;
      const dW = xs.size <= g.size ? perSeedMatMul(t(xs), g) : t(perSeedMatMul(t(g), xs));
      const db = tf.reshape(perSeedMatMul(ones, g), [K, out]);
      return [perSeedMatMul(g, t(Ws)), dW, db];
    },
  };
});

/** The stacked parameters, in paramSpecs order (a list: tf.grads takes tensors by position). */
export type StackedParams = tf.Tensor[];

export class StackedModel {
  readonly cfg: ModelConfig;
  readonly names: string[];
  /** One variable per parameter, [K, ...shape]. */
  vars: tf.Variable[];

  constructor(cfg: ModelConfig, vars: tf.Variable[]) {
    this.cfg = { ...cfg };
    this.names = paramSpecs(cfg).map((s) => s.name);
    if (vars.length !== this.names.length)
      throw new Error(`stacked model: ${vars.length} parameters, expected ${this.names.length}`);
    this.vars = vars;
  }

  /** The models' weights stacked in the given order (the models are left as they are). */
  static stack(models: readonly Transformer[]): StackedModel {
    if (!models.length) throw new Error('stacked model: no models');
    const cfg = models[0].cfg;
    const names = paramSpecs(cfg).map((s) => s.name);
    const vars = names.map((n) => tf.tidy(() => tf.variable(tf.stack(models.map((m) => m.params[n])), true)));
    return new StackedModel(cfg, vars);
  }

  /** Seeds stacked. */
  get size(): number {
    return this.vars[0].shape[0];
  }

  /** Model k's weights as a Transformer of its own (copies). */
  unstack(k: number): Transformer {
    const params: ParamMap = {};
    this.names.forEach((n, i) => {
      params[n] = tf.tidy(() => {
        const v = this.vars[i];
        return tf.variable(tf.reshape(tf.slice(v, [k], [1]), v.shape.slice(1)), true);
      });
    });
    return new Transformer(this.cfg, params);
  }

  /** Keeps only the models at `keep` (their positions, ascending), dropping the rest's weights. */
  keep(keep: readonly number[]): void {
    const next = this.vars.map((v) => tf.tidy(() => tf.variable(tf.gather(v, keep), true)));
    for (const v of this.vars) v.dispose();
    this.vars = next;
  }

  /**
   * Logits of every model on its own batch: `tokens` int32 [K, batch, pos] (model k reads row k),
   * `params` the stacked parameters (this.vars, or a selection of their rows). [K, batch, pos, vocab]
   */
  forward(params: StackedParams, tokens: tf.Tensor3D): tf.Tensor4D {
    const { nLayers: L, dModel: D, nHeads: H, vocabSize: V } = this.cfg;
    const dh = D / H;
    const [K, B, T] = tokens.shape;
    const P: Record<string, tf.Tensor> = {};
    this.names.forEach((n, i) => (P[n] = params[i]));
    const ln = (name: string, x: tf.Tensor) =>
      layerNorm(
        x,
        tf.reshape(P[`${name}.weight`], [K, 1, 1, D]),
        tf.reshape(P[`${name}.bias`], [K, 1, 1, D]),
        this.cfg.lnEps,
      );
    const lin = (x: tf.Tensor, name: string) => {
      const W = P[`${name}.weight`]; // [K, in, out]
      return stackedLinear(tf.reshape(x, [K, B * T, W.shape[1] as number]), W, P[`${name}.bias`]) as tf.Tensor3D; // [K, batch*pos, out]
    };
    const oneHot = tf.reshape(tf.oneHot(tf.reshape(tokens, [K * B * T]), V), [K, B * T, V]);
    let x: tf.Tensor = tf.reshape(perSeedMatMul(oneHot as tf.Tensor3D, P['embed.weight'] as tf.Tensor3D), [K, B, T, D]); // [K, batch, pos, d_model]
    if (this.cfg.positions === 'learned')
      x = tf.add(x, tf.reshape(tf.slice(P['pos.weight'], [0, 0, 0], [K, T, D]), [K, 1, T, D]));
    const mask = causalMask(T); // [query_pos, key_pos]
    for (let l = 0; l < L; l++) {
      const p = `blocks.${l}.attn`;
      const h = ln(`blocks.${l}.ln1`, x);
      const heads = (w: string, perm: number[]) =>
        tf.transpose(tf.reshape(lin(h, `${p}.${w}`), [K * B, T, H, dh]), perm);
      const q = heads('W_q', [0, 2, 1, 3]); // [K*batch, head, pos, d_head]
      const kT = heads('W_k', [0, 2, 3, 1]); // [K*batch, head, d_head, pos]
      const v = heads('W_v', [0, 2, 1, 3]);
      const pattern = tf.softmax(tf.add(tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(dh)), mask)); // [K*batch, head, query_pos, key_pos]
      const z = tf.transpose(tf.matMul(pattern, v), [0, 2, 1, 3]); // [K*batch, pos, head, d_head]
      x = tf.add(x, tf.reshape(lin(z, `${p}.W_o`), [K, B, T, D]));
      const hidden = gelu(lin(ln(`blocks.${l}.ln2`, x), `blocks.${l}.mlp.0`)); // [K, batch*pos, d_ff]
      x = tf.add(x, tf.reshape(lin(hidden, `blocks.${l}.mlp.2`), [K, B, T, D]));
    }
    return tf.reshape(lin(ln('ln_f', x), 'out'), [K, B, T, V]) as tf.Tensor4D;
  }

  /** Each model's mean cross-entropy on its batch ([K]; eval.ts's lossFromLogits per model). */
  losses(params: StackedParams, tokens: tf.Tensor3D, weights: tf.Tensor4D): tf.Tensor1D {
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(this.forward(params, tokens)), weights), [1, 2, 3])) as tf.Tensor1D;
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
  }
}

/** Tokens [K, batch, pos] and cross-entropy weights [K, batch, pos, vocab] of K batches of one length. */
export function stackBatches(
  batches: readonly Batch[],
  vocabSize: number,
): { tokens: tf.Tensor3D; weights: tf.Tensor4D } {
  const { B, T } = batches[0];
  if (batches.some((b) => b.B !== B || b.T !== T)) throw new Error('stackBatches: the batches differ in shape');
  const tokens = new Int32Array(batches.length * B * T);
  const weights = new Float32Array(batches.length * B * T * vocabSize);
  batches.forEach((b, k) => {
    tokens.set(b.tokens, k * B * T);
    weights.set(lossWeights(b, vocabSize), k * B * T * vocabSize);
  });
  return {
    tokens: tf.tensor3d(tokens, [batches.length, B, T], 'int32'),
    weights: tf.tensor4d(weights, [batches.length, B, T, vocabSize]),
  };
}
