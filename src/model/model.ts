/**
 * The paper's decoder-only transformer, written out op by op (in the spirit of nanoGPT's
 * model.py) with TransformerLens-style named hook points.
 *
 *   x = embed(tokens) [+ pos]                           // [batch, pos, d_model]
 *   for each block l:
 *     z   = attention heads of ln1(x)                    // blocks.{l}.attn.hook_z   [batch, pos, head, d_head]
 *     a   = concat_h(z) @ W_O + b_O                      // blocks.{l}.hook_attn_out [batch, pos, d_model]
 *     x   = x + a
 *     m   = W2 gelu(W1 ln2(x) + b1) + b2                 // blocks.{l}.hook_mlp_out  [batch, pos, d_model]
 *     x   = x + m
 *   logits = ln_f(x) @ W_out + b_out                     // [batch, pos, vocab]
 *
 * Pre-LayerNorm, exact-erf GELU, biases on every linear map, final LayerNorm, causal mask only
 * (as in the authors' code, no padding mask). Weights are stored [in, out] (x @ W); PyTorch's
 * [out, in] layout is converted on import (`fromTorchStateDict`, src/model/torch-io.ts), so head h's slice of W_V is
 * columns h*d_head .. (h+1)*d_head here (rows in PyTorch).
 *
 * Components (the paper's S, |S| = L*H + L): heads `L{l}.H{h}` and MLPs `L{l}.MLP`.
 */
import { tf } from '../kernels/tf';
import type { ModelConfig } from '../settings/config';
import { Rng } from '../base/rng';
import { causalMask, gelu, layerNorm, linear } from './ops';
import { Patch, applyPatches } from './patches';
import { Component, hooks, listComponents } from './hooks';
export interface ForwardOptions {
  /** Interventions, active for this call only. */
  patches?: readonly Patch[];
  /** Hook points whose values to return (after any patch), or 'all'. */
  cache?: readonly string[] | 'all';
  /**
   * Start at block `layer` from a residual stream computed earlier (its `blocks.{layer}.hook_resid_pre`
   * value for the same tokens): the blocks before it are skipped. Exact when nothing before that
   * block is patched, since they would compute the same values again.
   */
  from?: { layer: number; resid: tf.Tensor };
  /**
   * Compute weight gradients only for the variables with these ids (weightGradsFor(vars); absent:
   * all): a differentiation that wants a few weights' gradients (Eq. 1) or none (gradients w.r.t.
   * activations) skips the others.
   */
  weightGrads?: ReadonlySet<number> | null;
}

/** One step of a forward pass (Transformer.step): block `layer`'s attention or MLP half, or the unembedding. */
export type ForwardStep = { layer: number; part: 'attn' | 'mlp' } | { layer?: undefined; part: 'unembed' };

/** Applies a forward pass's patches (and caching) at one hook point. */
type HookFn = (name: string, x: tf.Tensor) => tf.Tensor;

export interface ForwardResult {
  logits: tf.Tensor3D; // [batch, pos, vocab]
  cache: Record<string, tf.Tensor>;
}

export type ParamMap = Record<string, tf.Variable>;

interface ParamSpec {
  name: string;
  shape: number[];
  kind: 'embed' | 'linW' | 'linB' | 'lnW' | 'lnB';
  fanIn?: number;
}

/** Every parameter, in a fixed order (the order initial values are drawn in). */
export function paramSpecs(cfg: ModelConfig): ParamSpec[] {
  const { dModel: D, dFF: F, nLayers: L } = cfg;
  const V = cfg.vocabSize;
  const specs: ParamSpec[] = [{ name: 'embed.weight', shape: [V, D], kind: 'embed' }];
  if (cfg.positions === 'learned') specs.push({ name: 'pos.weight', shape: [cfg.maxPositions, D], kind: 'embed' });
  const linear = (name: string, inDim: number, outDim: number) => {
    specs.push({ name: `${name}.weight`, shape: [inDim, outDim], kind: 'linW', fanIn: inDim });
    specs.push({ name: `${name}.bias`, shape: [outDim], kind: 'linB', fanIn: inDim });
  };
  const ln = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [D], kind: 'lnW' });
    specs.push({ name: `${name}.bias`, shape: [D], kind: 'lnB' });
  };
  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}`;
    ln(`${p}.ln1`);
    for (const w of ['W_q', 'W_k', 'W_v', 'W_o']) linear(`${p}.attn.${w}`, D, D);
    ln(`${p}.ln2`);
    linear(`${p}.mlp.0`, D, F);
    linear(`${p}.mlp.2`, F, D);
  }
  ln('ln_f');
  linear('out', D, V);
  return specs;
}

function initValues(spec: ParamSpec, scheme: ModelConfig['init'], rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const fill = (f: () => number) => {
    for (let i = 0; i < n; i++) out[i] = f();
  };
  switch (spec.kind) {
    case 'lnW':
      out.fill(1);
      break;
    case 'lnB':
      break;
    case 'embed':
      fill(scheme === 'pytorch' ? () => rng.normal() : () => 0.02 * rng.normal());
      break;
    case 'linW':
    case 'linB': {
      if (scheme === 'pytorch') {
        // nn.Linear: kaiming_uniform(a=sqrt(5)) for W and U(+-1/sqrt(fan_in)) for b: both bound 1/sqrt(fan_in).
        const bound = 1 / Math.sqrt(spec.fanIn!);
        fill(() => rng.uniform(-bound, bound));
      } else if (spec.kind === 'linW') {
        fill(() => 0.02 * rng.normal());
      }
      break;
    }
  }
  return out;
}

/** A trainable variable holding `data` (the temporary initial tensor is released). */
function makeVariable(data: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(data, shape);
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/** A linear layer as forward passes it down (the weight gradients it wants fixed). */
type Linear = (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

export class Transformer {
  readonly cfg: ModelConfig;
  readonly params: ParamMap;
  readonly dHead: number;

  constructor(cfg: ModelConfig, params: ParamMap) {
    this.cfg = { ...cfg };
    this.dHead = cfg.dModel / cfg.nHeads;
    for (const s of paramSpecs(cfg)) {
      const p = params[s.name];
      if (!p) throw new Error(`model parameter ${s.name} is missing`);
      if (p.shape.join() !== s.shape.join()) {
        throw new Error(`model parameter ${s.name} has shape [${p.shape}], expected [${s.shape}]`);
      }
    }
    this.params = params;
  }

  /** Fresh weights for `cfg`, drawn from the seed's 'init' stream (same seed, same weights). */
  static init(cfg: ModelConfig, seed: number): Transformer {
    const rng = new Rng(seed, 'init');
    const params: ParamMap = {};
    for (const s of paramSpecs(cfg)) params[s.name] = makeVariable(initValues(s, cfg.init, rng), s.shape);
    return new Transformer(cfg, params);
  }

  /** Builds a model from plain arrays in this project's layout ([in, out] linear weights). */
  static fromArrays(
    cfg: ModelConfig,
    arrays: Record<string, { shape: number[]; data: ArrayLike<number> }>,
  ): Transformer {
    const params: ParamMap = {};
    for (const s of paramSpecs(cfg)) {
      const a = arrays[s.name];
      if (!a) throw new Error(`weights: parameter ${s.name} is missing`);
      if (a.shape.join() !== s.shape.join())
        throw new Error(`weights: ${s.name} has shape [${a.shape}], expected [${s.shape}]`);
      params[s.name] = makeVariable(Float32Array.from(a.data), s.shape);
    }
    const extra = Object.keys(arrays).filter((k) => !(k in params));
    if (extra.length) throw new Error(`weights: unexpected parameters ${extra.join(', ')} for this config`);
    return new Transformer(cfg, params);
  }

  /** Current weights as plain arrays (a copy). */
  /**
   * Every weight as a plain array, copied: on the tensorflow and cpu backends dataSync() hands out
   * the tensor's own storage, so writing into it would edit the live model.
   */
  toArrays(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, v] of Object.entries(this.params))
      out[name] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) };
    return out;
  }

  paramCount(): number {
    return Object.values(this.params).reduce((a, v) => a + v.size, 0);
  }

  components(): Component[] {
    return listComponents(this.cfg);
  }

  /** Every hook point, in the order a forward pass reaches them. */
  hookPoints(): string[] {
    const out = [hooks.embed];
    for (let l = 0; l < this.cfg.nLayers; l++)
      out.push(hooks.residPre(l), hooks.pattern(l), hooks.z(l), hooks.attnOut(l), hooks.mlpOut(l));
    out.push(hooks.residFinal);
    return out;
  }

  /**
   * One forward pass. `tokens` is int32 [batch, pos]. Patches are applied at their hook points
   * for this call only; cached values are the ones the rest of the network saw (after patches).
   * Call inside tf.tidy (or dispose the result).
   */
  forward(tokens: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    const { nLayers: L, dModel: D } = this.cfg;
    const [B, T] = tokens.shape;
    if (this.cfg.positions === 'learned' && T > this.cfg.maxPositions) {
      throw new Error(`sequence of ${T} tokens exceeds model.maxPositions=${this.cfg.maxPositions}`);
    }
    const P = this.params;
    const cache: Record<string, tf.Tensor> = {};
    const patches = opts.patches ?? [];
    const wantAll = opts.cache === 'all';
    const wanted = new Set(wantAll ? [] : (opts.cache ?? []));
    const knownHooks = new Set(this.hookPoints());
    for (const p of patches) if (!knownHooks.has(p.hook)) throw new Error(`patch: unknown hook point ${p.hook}`);
    for (const h of wanted) if (!knownHooks.has(h)) throw new Error(`cache: unknown hook point ${h}`);

    // Applies the patches registered for `name`, then caches the value if asked.
    const hook = (name: string, x: tf.Tensor): tf.Tensor => {
      const mine = patches.filter((p) => p.hook === name);
      if (mine.length) x = applyPatches(x, mine);
      if (wantAll || wanted.has(name)) cache[name] = x;
      return x;
    };

    const start = opts.from?.layer ?? 0;
    let x: tf.Tensor;
    if (opts.from) {
      const { layer, resid } = opts.from;
      if (!Number.isInteger(layer) || layer < 0 || layer >= L)
        throw new Error(`forward: from.layer must be an integer in [0, ${L - 1}], got ${layer}`);
      if (resid.shape.join() !== [B, T, D].join())
        throw new Error(`forward: from.resid has shape [${resid.shape}], expected [${[B, T, D]}]`);
      const blockOf = (h: string) => (h === hooks.embed ? -1 : Number(/^blocks\.(\d+)\./.exec(h)?.[1] ?? L));
      const early = patches.find((p) => blockOf(p.hook) < layer);
      if (early) throw new Error(`forward: patch at ${early.hook} lies before from.layer=${layer}`);
      x = resid;
    } else {
      // Embedding as one-hot @ E: the gather gradient needs a kernel the wasm backend lacks.
      const oneHot = tf.reshape(tf.oneHot(tf.reshape(tokens, [B * T]), this.cfg.vocabSize), [
        B * T,
        this.cfg.vocabSize,
      ]);
      x = tf.reshape(tf.matMul(oneHot, P['embed.weight']), [B, T, D]); // [batch, pos, d_model]
      if (this.cfg.positions === 'learned') x = tf.add(x, tf.slice(P['pos.weight'], [0, 0], [T, D]));
      x = hook(hooks.embed, x);
    }
    const mask = causalMask(T); // [query_pos, key_pos]
    const lin: Linear = (x, W, b) => linear(x, W, b, opts.weightGrads);

    // Block.forward: x = x + attn(ln1(x)); x = x + mlp(ln2(x))
    for (let l = start; l < L; l++) x = this.mlpHalf(l, this.attnHalf(l, x, mask, hook, lin), hook, lin);
    return { logits: this.unembedFrom(x, hook, lin), cache };
  }

  /** Block l's first half on the residual x: x + attn(ln1(x)) (hook_resid_pre, the pattern, hook_z, hook_attn_out). */
  private attnHalf(l: number, x: tf.Tensor, mask: tf.Tensor2D, hook: HookFn, lin: Linear): tf.Tensor {
    x = hook(hooks.residPre(l), x);
    return tf.add(x, hook(hooks.attnOut(l), this.attention(l, this.ln(`blocks.${l}.ln1`, x), mask, hook, lin)));
  }

  /** Block l's second half on the residual x: x + mlp(ln2(x)) (hook_mlp_out). */
  private mlpHalf(l: number, x: tf.Tensor, hook: HookFn, lin: Linear): tf.Tensor {
    return tf.add(x, hook(hooks.mlpOut(l), this.mlp(l, this.ln(`blocks.${l}.ln2`, x), lin)));
  }

  /** The final residual stream to logits: ln_f(x) @ W_out + b_out (hook_resid_final). [batch, pos, d_model] -> [batch, pos, vocab] */
  private unembedFrom(x: tf.Tensor, hook: HookFn, lin: Linear): tf.Tensor3D {
    const [B, T, D] = x.shape;
    x = hook(hooks.residFinal, x);
    const P = this.params;
    return tf.reshape(lin(tf.reshape(this.ln('ln_f', x), [B * T, D]), P['out.weight'], P['out.bias']), [
      B,
      T,
      this.cfg.vocabSize,
    ]) as tf.Tensor3D;
  }

  /**
   * One step of the forward pass on a residual stream x [batch, pos, d_model] computed earlier:
   * block l's `attn` half (x + attn(ln1(x))), its `mlp` half (x + mlp(ln2(x))), or `unembed` (the
   * logits, [batch, pos, vocab]), with `patches` at that step's hook points (a patch elsewhere is
   * refused). The same ops as forward's, so stepping through every half of every block and
   * unembedding gives forward's numbers bit for bit (test/joint.test.ts). Call inside tf.tidy.
   */
  step(step: ForwardStep, x: tf.Tensor, patches: readonly Patch[] = []): tf.Tensor {
    const l = step.layer ?? -1;
    const allowed = new Set(
      step.part === 'unembed'
        ? [hooks.residFinal]
        : step.part === 'attn'
          ? [hooks.residPre(l), hooks.pattern(l), hooks.z(l), hooks.attnOut(l)]
          : [hooks.mlpOut(l)],
    );
    const stray = patches.find((p) => !allowed.has(p.hook));
    if (stray)
      throw new Error(`step ${JSON.stringify(step)}: patch at ${stray.hook}; allowed: ${[...allowed].join(', ')}`);
    if (step.part !== 'unembed' && !(Number.isInteger(step.layer) && step.layer >= 0 && step.layer < this.cfg.nLayers))
      throw new Error(`step: layer must be an integer in [0, ${this.cfg.nLayers - 1}], got ${step.layer}`);
    const hook: HookFn = (name, v) => {
      const mine = patches.filter((p) => p.hook === name);
      return mine.length ? applyPatches(v, mine) : v;
    };
    const lin: Linear = (a, W, b) => linear(a, W, b);
    if (step.part === 'unembed') return this.unembedFrom(x, hook, lin);
    if (step.part === 'mlp') return this.mlpHalf(l, x, hook, lin);
    return this.attnHalf(l, x, causalMask(x.shape[1] as number), hook, lin);
  }

  /** LayerNorm `name` (its .weight and .bias) over the last axis. [batch, pos, d_model] -> same */
  private ln(name: string, x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.params[`${name}.weight`], this.params[`${name}.bias`], this.cfg.lnEps);
  }

  /**
   * Causal multi-head self-attention of block l on its normalised input h: the heads' outputs z
   * (hook_z), concatenated and projected by W_O. `hook` applies patches and caching at
   * hook_pattern and hook_z. [batch, pos, d_model] -> [batch, pos, d_model]
   */
  private attention(l: number, h: tf.Tensor, mask: tf.Tensor2D, hook: HookFn, linear: Linear): tf.Tensor {
    const { nHeads: H, dModel: D } = this.cfg;
    const dh = this.dHead;
    const [B, T] = h.shape;
    const P = this.params;
    const p = `blocks.${l}.attn`;
    const h1 = tf.reshape(h, [B * T, D]);
    const proj = (w: string) => linear(h1, P[`${p}.${w}.weight`], P[`${p}.${w}.bias`]); // [batch*pos, d_model]
    const q = tf.transpose(tf.reshape(proj('W_q'), [B, T, H, dh]), [0, 2, 1, 3]); // [batch, head, pos, d_head]
    const kT = tf.transpose(tf.reshape(proj('W_k'), [B, T, H, dh]), [0, 2, 3, 1]); // [batch, head, d_head, pos]
    const v = tf.transpose(tf.reshape(proj('W_v'), [B, T, H, dh]), [0, 2, 1, 3]); // [batch, head, pos, d_head]
    const scores = tf.add(tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(dh)), mask); // [batch, head, query_pos, key_pos]
    const pattern = hook(hooks.pattern(l), tf.softmax(scores));
    const z = hook(hooks.z(l), tf.transpose(tf.matMul(pattern, v), [0, 2, 1, 3])); // [batch, pos, head, d_head]
    return tf.reshape(linear(tf.reshape(z, [B * T, D]), P[`${p}.W_o.weight`], P[`${p}.W_o.bias`]), [B, T, D]);
  }

  /** The MLP of block l on its normalised input h: W2 gelu(W1 h + b1) + b2. [batch, pos, d_model] -> [batch, pos, d_model] */
  private mlp(l: number, h: tf.Tensor, linear: Linear): tf.Tensor {
    const D = this.cfg.dModel;
    const [B, T] = h.shape;
    const P = this.params;
    const hidden = gelu(linear(tf.reshape(h, [B * T, D]), P[`blocks.${l}.mlp.0.weight`], P[`blocks.${l}.mlp.0.bias`])); // [batch*pos, d_ff]
    return tf.reshape(linear(hidden, P[`blocks.${l}.mlp.2.weight`], P[`blocks.${l}.mlp.2.bias`]), [B, T, D]);
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}
