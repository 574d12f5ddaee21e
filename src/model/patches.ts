/** Patches: a hook point's activation replaced (a constant or a function of the activation), whole or in slices along its last axis; heads by masks over the head axis. */
import { tf } from '../kernels/tf';

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

function replaceLastAxis(x: tf.Tensor, p: Patch, width: number): tf.Tensor {
  const [a, b] = p.cols ?? [0, width];
  if (!(Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a < b && b <= width)) {
    throw new Error(`patch ${p.hook}: cols [${p.cols}] must satisfy 0 <= a < b <= ${width}`);
  }
  const lead = x.shape.slice(0, -1);
  const fill =
    typeof p.value === 'function' ? patchedPart(x, p, p.value, lead, a, b, width) : broadcastValue(p, [...lead, b - a]);
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
  if (!fits)
    throw new Error(
      `patch ${p.hook}: its value of shape [${value.shape}] does not broadcast to the activation's [${shape}]`,
    );
  return tf.add(tf.zeros(shape), value);
}

/** A function patch's replacement for columns [a, b) of x, checked to keep their shape. */
function patchedPart(
  x: tf.Tensor,
  p: Patch,
  fn: PatchFn,
  lead: number[],
  a: number,
  b: number,
  width: number,
): tf.Tensor {
  const part = a === 0 && b === width ? x : tf.slice(x, lead.map(() => 0).concat(a), [...lead, b - a]);
  const out = fn(part);
  if (!(out instanceof tf.Tensor) || out.shape.join() !== part.shape.join()) {
    throw new Error(
      `patch ${p.hook}: the patch function must return a tensor of the activation's shape [${part.shape}], got ${out instanceof tf.Tensor ? `[${out.shape}]` : typeof out}`,
    );
  }
  return out;
}

/** The patches of one hook point, in the order given (each sees what the previous ones made); consecutive head patches are applied together. */
export function applyPatches(x: tf.Tensor, patches: readonly Patch[]): tf.Tensor {
  const width = x.shape[x.rank - 1];
  for (let i = 0; i < patches.length;) {
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
    if (!(Number.isInteger(h) && h >= 0 && h < H))
      throw new Error(`patch ${p.hook}: head ${h} out of range 0..${H - 1}`);
    if (typeof p.value !== 'function' && !p.cols) {
      fresh.set(h, p.value);
      continue;
    }
    const now = fresh.has(h)
      ? broadcastValue({ ...p, value: fresh.get(h)! }, [B, T, dh])
      : tf.reshape(tf.slice(x, [0, 0, h, 0], [B, T, 1, dh]), [B, T, dh]);
    fresh.set(h, replaceLastAxis(now, p, width));
  }
  const column = (one: (h: number) => boolean) =>
    tf.tensor2d(
      Array.from({ length: H }, (_, h) => (one(h) ? 1 : 0)),
      [H, 1],
    ); // [head, 1]
  const put = [...fresh].map(([h, v]) =>
    tf.mul(
      tf.expandDims(v, -2),
      column((g) => g === h),
    ),
  ); // each [..., head, d_head]
  return put.reduce(
    (sum, t) => tf.add(sum, t),
    tf.mul(
      x,
      column((h) => !fresh.has(h)),
    ),
  );
}
