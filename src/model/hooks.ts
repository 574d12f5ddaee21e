/** The paper's components (heads L{l}.H{h} and MLPs L{l}.MLP) and the model's hook points, named as TransformerLens names them (blocks.{l}.attn.hook_z: head outputs before W_O). */
import { tf } from '../kernels/tf';
import type { ModelConfig } from '../settings/config';
import { Patch, PatchFn } from './patches';

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
  if (!c)
    throw new Error(
      `unknown component ${JSON.stringify(id)}; allowed: L{0..${cfg.nLayers - 1}}.H{0..${cfg.nHeads - 1}} or L{l}.MLP`,
    );
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

/** One component's output replaced, at its hook, at every position: by a constant (e.g. its mean) or a function of its output. */
export function componentPatch(c: Component, value: tf.Tensor | PatchFn): Patch {
  return c.kind === 'head' ? { hook: hooks.z(c.layer), head: c.head, value } : { hook: hooks.mlpOut(c.layer), value };
}
