/** The mean output of each component over OOD sequences: what mean ablation (Eq. 2) puts in its place. */
import { checkInterrupted } from '../base/stop';
import { tf } from '../kernels/tf';
import { makeBatch, sampleExamples, TaskName } from '../tasks';
import { tokensTensor } from '../model/eval';
import { Transformer } from '../model/model';
import { Component, componentHook } from '../model/hooks';
import { Rng } from '../base/rng';

/**
 * Mean of each component's output over `batches` batches of OOD sequences of one length: over batch
 * and positions (heads: [d_head]; MLPs: [d_model]), or with `perPosition` over the batch only, one
 * vector per position (heads: [pos, d_head]; MLPs: [pos, d_model], flattened row by row).
 */
export function componentMeans(
  model: Transformer,
  opts: {
    task: TaskName;
    /** The sequence length N of every batch. */
    length: number;
    batches: number;
    batchSize: number;
    rng: Rng;
    /** Default: every component of the model. */
    components?: readonly Component[];
    /** One mean vector per position instead of one over positions. */
    perPosition?: boolean;
  },
): Record<string, Float32Array> {
  const { task, length, batches, batchSize, rng, components = model.components(), perPosition = false } = opts;
  const hookNames = [...new Set(components.map(componentHook))];
  const sums: Record<string, Float64Array> = {};
  let count = 0;
  let T = -1;
  for (let b = 0; b < batches; b++) {
    checkInterrupted(); // a command stopped by SIGINT/SIGTERM stops between batches (src/io/interrupt.ts)
    const batch = makeBatch(sampleExamples(task, batchSize, rng, length));
    if (T >= 0 && batch.T !== T)
      throw new Error(
        `componentMeans: batches of ${T} and ${batch.T} positions; per-position means need one sequence length`,
      );
    T = batch.T;
    const perHook = tf.tidy(() => {
      const { cache } = model.forward(tokensTensor(batch), { cache: hookNames });
      // sum over batch and positions: heads [head, d_head], MLPs [d_model]; per position: [pos, head, d_head], [pos, d_model]
      return hookNames.map((h) => tf.sum(cache[h], perPosition ? [0] : [0, 1]));
    });
    hookNames.forEach((h, i) => {
      const v = perHook[i].dataSync();
      sums[h] ??= new Float64Array(v.length);
      for (let j = 0; j < v.length; j++) sums[h][j] += v[j];
      perHook[i].dispose();
    });
    count += perPosition ? batch.B : batch.B * batch.T;
  }
  const out: Record<string, Float32Array> = {};
  const { nHeads: H } = model.cfg;
  const dh = model.dHead;
  for (const c of components) {
    const s = sums[componentHook(c)];
    if (c.kind !== 'head') out[c.id] = Float32Array.from(s, (x) => x / count);
    else if (!perPosition)
      out[c.id] = Float32Array.from(s.subarray(c.head! * dh, (c.head! + 1) * dh), (x) => x / count);
    else
      out[c.id] = Float32Array.from(
        { length: T * dh },
        (_, i) => s[Math.floor(i / dh) * H * dh + c.head! * dh + (i % dh)] / count,
      );
  }
  return out;
}
