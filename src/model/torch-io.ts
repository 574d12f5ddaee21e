/**
 * PyTorch state dicts in and out: the parity fixture's format (`embed.weight`,
 * `blocks.{l}.attn.W_q.weight` [out, in], `blocks.{l}.mlp.0.weight`, `out.weight`, ...), so a model
 * trained with the authors' PyTorch code can be analysed here and ours checked there.
 */
import type { ModelConfig } from '../settings/config';
import { Transformer } from './model';

/** Names of PyTorch Linear weights, which are stored [out, in] there and [in, out] here. */
function isLinearWeight(name: string): boolean {
  return /(\.attn\.W_[qkvo]|\.mlp\.[02]|^out)\.weight$/.test(name);
}

function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

export type TorchStateDict = Record<string, { shape: number[]; data: ArrayLike<number> }>;

/**
 * Loads weights in PyTorch's layout and naming (the parity fixture's format: `embed.weight`,
 * `blocks.{l}.attn.W_q.weight` [out, in], `blocks.{l}.mlp.0.weight`, `out.weight`, ...), e.g. a
 * model trained in PyTorch, for analysis here.
 */
export function fromTorchStateDict(cfg: ModelConfig, state: TorchStateDict): Transformer {
  const arrays: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
  for (const [name, t] of Object.entries(state)) {
    if (isLinearWeight(name)) {
      if (t.shape.length !== 2) throw new Error(`weights: ${name} should be 2-D, has shape [${t.shape}]`);
      const [outDim, inDim] = t.shape;
      arrays[name] = { shape: [inDim, outDim], data: transpose2d(t.data, outDim, inDim) };
    } else {
      arrays[name] = t;
    }
  }
  return Transformer.fromArrays(cfg, arrays);
}

/** The inverse of fromTorchStateDict: weights in PyTorch's layout. */
export function toTorchStateDict(model: Transformer): Record<string, { shape: number[]; data: number[] }> {
  const out: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [name, a] of Object.entries(model.toArrays())) {
    if (isLinearWeight(name)) {
      const [inDim, outDim] = a.shape;
      out[name] = { shape: [outDim, inDim], data: Array.from(transpose2d(a.data, inDim, outDim)) };
    } else {
      out[name] = { shape: a.shape, data: Array.from(a.data) };
    }
  }
  return out;
}
