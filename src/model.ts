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
 * [out, in] layout is converted on import (`fromTorchStateDict`, src/torch-io.ts), so head h's slice of W_V is
 * columns h*d_head .. (h+1)*d_head here (rows in PyTorch).
 *
 * Components (the paper's S, |S| = L*H + L): heads `L{l}.H{h}` and MLPs `L{l}.MLP`.
 */
import { tf } from './backend';
import { checkInterrupted } from './interrupt';
import type { ModelConfig } from './config';
import { activeKernels, fusedActive } from './native';
import { fusedGelu, fusedLayerNorm } from './fused';
import { Rng } from './rng';

export type ComponentKind = 'head' | 'mlp';
export interface Component {
  id: string; // 'L2.H1' or 'L2.MLP', as in the paper's tables
  layer: number;
  kind: ComponentKind;
  head?: number;
}

/** Components in layer order, heads before the layer's MLP: L0.H0 .. L0.H3, L0.MLP, L1.H0, ... */
export function listComponents(cfg: Pick<ModelConfig, 'nLayers' | 'nHeads'>): Component[] {
  const out: Component[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    for (let h = 0; h < cfg.nHeads; h++) out.push({ id: `L${l}.H${h}`, layer: l, kind: 'head', head: h });
    out.push({ id: `L${l}.MLP`, layer: l, kind: 'mlp' });
  }
  return out;
}

export function parseComponent(id: string, cfg: Pick<ModelConfig, 'nLayers' | 'nHeads'>): Component {
  const c = listComponents(cfg).find((x) => x.id === id);
  if (!c) throw new Error(`unknown component ${JSON.stringify(id)}; allowed: L{0..${cfg.nLayers - 1}}.H{0..${cfg.nHeads - 1}} or L{l}.MLP`);
  return c;
}

/** Hook point names (TransformerLens conventions). */
export const hooks = {
  /** Token (+ position) embedding. [batch, pos, d_model] */
  embed: 'hook_embed',
  /** Residual stream entering block l. [batch, pos, d_model] */
  residPre: (l: number) => `blocks.${l}.hook_resid_pre`,
  /** Attention pattern after softmax. [batch, head, query_pos, key_pos] */
  pattern: (l: number) => `blocks.${l}.attn.hook_pattern`,
  /** Each head's output before W_O: attention-weighted values. [batch, pos, head, d_head] */
  z: (l: number) => `blocks.${l}.attn.hook_z`,
  /** The attention sublayer's output after W_O and b_O. [batch, pos, d_model] */
  attnOut: (l: number) => `blocks.${l}.hook_attn_out`,
  /** The MLP sublayer's output. [batch, pos, d_model] */
  mlpOut: (l: number) => `blocks.${l}.hook_mlp_out`,
  /** Final residual stream before ln_f. [batch, pos, d_model] */
  residFinal: 'hook_resid_final',
};

/** The hook point that carries a component's output (heads: before W_O). */
export function componentHook(c: Component): string {
  return c.kind === 'head' ? hooks.z(c.layer) : hooks.mlpOut(c.layer);
}

/**
 * Replaces (part of) a hook point's value for one forward call.
 * - hook_z with `head`: that head's [batch, pos, d_head] slice.
 * - a d_model hook with `cols: [a, b]`: only those columns (e.g. the authors' head-ablation
 *   variant, which writes a head's mean into a d_head-wide slice *after* W_O).
 * - otherwise the whole value.
 * Several patches at one hook point apply in the order given, each to what the previous made.
 * `value` is either a tensor that broadcasts to the replaced part (a vector such as a mean, or a
 * full tensor such as another run's activation), or a function of the replaced part returning
 * its replacement, as TransformerLens's hooks are (`(a) => tf.mul(a, 0.5)` scales it,
 * `(a) => tf.add(a, d)` adds to it).
 */
export interface Patch {
  hook: string;
  head?: number;
  cols?: [number, number];
  value: tf.Tensor | PatchFn;
}

/** A patch as a function of the activation it replaces (same shape in, same shape out). */
export type PatchFn = (activation: tf.Tensor) => tf.Tensor;

/** One component's output replaced, at its hook, at every position: by a constant (e.g. its mean) or a function of its output. */
export function componentPatch(c: Component, value: tf.Tensor | PatchFn): Patch {
  return c.kind === 'head' ? { hook: hooks.z(c.layer), head: c.head, value } : { hook: hooks.mlpOut(c.layer), value };
}

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
        const native = activeKernels() === 'native'; // CBLAS takes transposes as flags (src/native.ts): no Transpose kernels
        // dW = x^T @ dy; on the stock kernels transposing whichever of x and dy is smaller (Transpose is slow on wasm).
        const dW = !needW ? tf.zerosLike(Ws) : native ? tf.matMul(xs, dy, true) : xs.size <= dy.size ? tf.matMul(tf.transpose(xs), dy) : tf.transpose(tf.matMul(tf.transpose(dy), xs));
        const db = needB ? tf.reshape(tf.matMul(ones, dy), [dy.shape[1] as number]) : tf.zeros([dy.shape[1] as number]);
        return [native ? tf.matMul(dy, Ws, false, true) : tf.matMul(dy, tf.transpose(Ws)), dW, db];
      },
    };
  });
}
const LINEAR = [[linearWithGrads(false, false), linearWithGrads(false, true)], [linearWithGrads(true, false), linearWithGrads(true, true)]];

/** y = x @ W + b (see linearWithGrads); `weightGrads`: the variables whose gradients are wanted (absent: all). */
export function linear(x: tf.Tensor, W: tf.Tensor, b: tf.Tensor, weightGrads?: ReadonlySet<number> | null): tf.Tensor2D {
  const needW = !weightGrads || weightGrads.has(W.id);
  const needB = !weightGrads || weightGrads.has(b.id);
  return LINEAR[Number(needW)][Number(needB)](x, W, b) as tf.Tensor2D;
}

const SQRT1_2 = Math.SQRT1_2;

/** Exact (erf) GELU, as torch.nn.GELU() computes it. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fusedActive()) return fusedGelu(x); // one native call (src/fused.ts)
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))));
}

/** LayerNorm over the last axis; `g` and `b` broadcast against x. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  if (fusedActive()) return fusedLayerNorm(x, g, b, eps); // one native call (src/fused.ts)
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
  static fromArrays(cfg: ModelConfig, arrays: Record<string, { shape: number[]; data: ArrayLike<number> }>): Transformer {
    const params: ParamMap = {};
    for (const s of paramSpecs(cfg)) {
      const a = arrays[s.name];
      if (!a) throw new Error(`weights: parameter ${s.name} is missing`);
      if (a.shape.join() !== s.shape.join()) throw new Error(`weights: ${s.name} has shape [${a.shape}], expected [${s.shape}]`);
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
    for (const [name, v] of Object.entries(this.params)) out[name] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) };
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
    for (let l = 0; l < this.cfg.nLayers; l++) out.push(hooks.residPre(l), hooks.pattern(l), hooks.z(l), hooks.attnOut(l), hooks.mlpOut(l));
    out.push(hooks.residFinal);
    return out;
  }

  /**
   * One forward pass. `tokens` is int32 [batch, pos]. Patches are applied at their hook points
   * for this call only; cached values are the ones the rest of the network saw (after patches).
   * Call inside tf.tidy (or dispose the result).
   */
  forward(tokens: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    checkInterrupted(); // a command stopped by SIGINT/SIGTERM stops here (src/interrupt.ts)
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
      if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new Error(`forward: from.layer must be an integer in [0, ${L - 1}], got ${layer}`);
      if (resid.shape.join() !== [B, T, D].join()) throw new Error(`forward: from.resid has shape [${resid.shape}], expected [${[B, T, D]}]`);
      const blockOf = (h: string) => (h === hooks.embed ? -1 : Number(/^blocks\.(\d+)\./.exec(h)?.[1] ?? L));
      const early = patches.find((p) => blockOf(p.hook) < layer);
      if (early) throw new Error(`forward: patch at ${early.hook} lies before from.layer=${layer}`);
      x = resid;
    } else {
      // Embedding as one-hot @ E: the gather gradient needs a kernel the wasm backend lacks.
      const oneHot = tf.reshape(tf.oneHot(tf.reshape(tokens, [B * T]), this.cfg.vocabSize), [B * T, this.cfg.vocabSize]);
      x = tf.reshape(tf.matMul(oneHot, P['embed.weight']), [B, T, D]); // [batch, pos, d_model]
      if (this.cfg.positions === 'learned') x = tf.add(x, tf.slice(P['pos.weight'], [0, 0], [T, D]));
      x = hook(hooks.embed, x);
    }
    const mask = causalMask(T); // [query_pos, key_pos]
    const lin: Linear = (x, W, b) => linear(x, W, b, opts.weightGrads);

    for (let l = start; l < L; l++) {
      // Block.forward: x = x + attn(ln1(x)); x = x + mlp(ln2(x))
      x = hook(hooks.residPre(l), x);
      x = tf.add(x, hook(hooks.attnOut(l), this.attention(l, this.ln(`blocks.${l}.ln1`, x), mask, hook, lin)));
      x = tf.add(x, hook(hooks.mlpOut(l), this.mlp(l, this.ln(`blocks.${l}.ln2`, x), lin)));
    }
    x = hook(hooks.residFinal, x);
    const logits = tf.reshape(lin(tf.reshape(this.ln('ln_f', x), [B * T, D]), P['out.weight'], P['out.bias']), [B, T, this.cfg.vocabSize]) as tf.Tensor3D;
    return { logits, cache };
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
  private attention(l: number, h: tf.Tensor, mask: tf.Tensor2D, hook: (name: string, x: tf.Tensor) => tf.Tensor, linear: Linear): tf.Tensor {
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

function replaceLastAxis(x: tf.Tensor, p: Patch, width: number): tf.Tensor {
  const [a, b] = p.cols ?? [0, width];
  if (!(Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a < b && b <= width)) {
    throw new Error(`patch ${p.hook}: cols [${p.cols}] must satisfy 0 <= a < b <= ${width}`);
  }
  const lead = x.shape.slice(0, -1);
  const fill = typeof p.value === 'function' ? patchedPart(x, p, p.value, lead, a, b, width) : broadcastValue(p, [...lead, b - a]);
  if (a === 0 && b === width) return fill;
  const parts: tf.Tensor[] = [];
  if (a > 0) parts.push(tf.slice(x, lead.map(() => 0).concat(0), [...lead, a]));
  parts.push(fill);
  if (b < width) parts.push(tf.slice(x, lead.map(() => 0).concat(b), [...lead, width - b]));
  return tf.concat(parts, -1);
}

/** A patch's constant value broadcast to `shape`, as zeros + value (the same numbers as tf.broadcastTo, whose Tile is a slow loop on wasm). */
function broadcastValue(p: Patch, shape: number[]): tf.Tensor {
  const value = p.value as tf.Tensor;
  let fits = false;
  try {
    fits = tf.backend_util.assertAndGetBroadcastShape(shape, value.shape).join() === shape.join();
  } catch {
    /* shapes that do not broadcast at all: the error below */
  }
  if (!fits) throw new Error(`patch ${p.hook}: its value of shape [${value.shape}] does not broadcast to the activation's [${shape}]`);
  return tf.add(tf.zeros(shape), value);
}

/** A function patch's replacement for columns [a, b) of x, checked to keep their shape. */
function patchedPart(x: tf.Tensor, p: Patch, fn: PatchFn, lead: number[], a: number, b: number, width: number): tf.Tensor {
  const part = a === 0 && b === width ? x : tf.slice(x, lead.map(() => 0).concat(a), [...lead, b - a]);
  const out = fn(part);
  if (!(out instanceof tf.Tensor) || out.shape.join() !== part.shape.join()) {
    throw new Error(`patch ${p.hook}: the patch function must return a tensor of the activation's shape [${part.shape}], got ${out instanceof tf.Tensor ? `[${out.shape}]` : typeof out}`);
  }
  return out;
}

/** The patches of one hook point, in the order given (each sees what the previous ones made); consecutive head patches are applied together. */
function applyPatches(x: tf.Tensor, patches: readonly Patch[]): tf.Tensor {
  const width = x.shape[x.rank - 1];
  for (let i = 0; i < patches.length; ) {
    if (patches[i].head === undefined) {
      x = replaceLastAxis(x, patches[i++], width);
      continue;
    }
    if (x.rank !== 4) throw new Error(`patch ${patches[i].hook}: 'head' applies only to hook_z points`);
    const run: Patch[] = [];
    for (; i < patches.length && patches[i].head !== undefined; i++) run.push(patches[i]);
    x = replaceHeads(x, run, width);
  }
  return x;
}

/**
 * Head patches of a hook_z value x [batch, pos, head, d_head], in order: each patched head's new
 * value ([d_head], [pos, d_head] or [batch, pos, d_head], or what a function or a `cols` patch makes
 * of the head's current value), put in by masks over the head axis: x * keep + sum_h new_h * onehot_h.
 * Every element is its old or its new value plus zeros, so the same numbers as replacing the heads
 * one by one, without unstacking the heads (strided slices: ~30 ms for 1,000 sequences on wasm).
 */
function replaceHeads(x: tf.Tensor, patches: readonly Patch[], width: number): tf.Tensor {
  const [B, T, H, dh] = x.shape;
  const fresh = new Map<number, tf.Tensor>(); // head -> its new value, broadcasting against [batch, pos, d_head]
  for (const p of patches) {
    const h = p.head as number;
    if (!(Number.isInteger(h) && h >= 0 && h < H)) throw new Error(`patch ${p.hook}: head ${h} out of range 0..${H - 1}`);
    if (typeof p.value !== 'function' && !p.cols) {
      fresh.set(h, p.value);
      continue;
    }
    const now = fresh.has(h) ? broadcastValue({ ...p, value: fresh.get(h)! }, [B, T, dh]) : tf.reshape(tf.slice(x, [0, 0, h, 0], [B, T, 1, dh]), [B, T, dh]);
    fresh.set(h, replaceLastAxis(now, p, width));
  }
  const column = (one: (h: number) => boolean) => tf.tensor2d(Array.from({ length: H }, (_, h) => (one(h) ? 1 : 0)), [H, 1]); // [head, 1]
  const put = [...fresh].map(([h, v]) => tf.mul(tf.expandDims(v, -2), column((g) => g === h))); // each [..., head, d_head]
  return put.reduce((sum, t) => tf.add(sum, t), tf.mul(x, column((h) => !fresh.has(h))));
}
