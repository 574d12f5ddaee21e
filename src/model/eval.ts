/**
 * Loss and exact-match accuracy.
 *
 * Exact match: a sequence counts when the whole target `y1..yN END` is reproduced. For a causal
 * model, greedy decoding reproduces the target exactly iff the teacher-forced argmax is right at
 * every target position (each greedy step then sees exactly the teacher-forced prefix), so one
 * batched teacher-forced pass gives the same exact-match accuracy as decoding sequence by
 * sequence. Evaluation batches use the contiguous layout, where each row is exactly the sequence
 * a lone greedy decode would see. (`greedyDecode` is here too, and a test proves the equivalence.)
 */
import { tf } from '../kernels/tf';
import type { TaskName } from '../tasks';
import { ForwardOptions, Transformer } from './model';
import { Patch } from './patches';
import { hooks } from './hooks';
import type { Rng } from '../base/rng';
import { answerTokens, Batch, Example, IGNORE, makeBatch, promptTokens, sampleExamples } from '../tasks';

export function tokensTensor(batch: Batch): tf.Tensor2D {
  return tf.tensor2d(batch.tokens, [batch.B, batch.T], 'int32');
}

/**
 * Cross-entropy weights [batch, pos, vocab]: 1/(number of target positions) at each target
 * token, 0 elsewhere, so that -sum(w * log_softmax(logits)) is the mean cross-entropy over all
 * target positions of the batch (PyTorch's cross_entropy with ignore_index and mean reduction).
 */
export function targetWeights(batch: Batch, vocabSize: number): tf.Tensor3D {
  return tf.tensor3d(lossWeights(batch, vocabSize), [batch.B, batch.T, vocabSize]);
}

/** targetWeights' values as a plain array. */
export function lossWeights(batch: Batch, vocabSize: number): Float32Array {
  const { B, T, targets } = batch;
  let count = 0;
  for (const t of targets) if (t !== IGNORE) count++;
  if (count === 0) throw new Error('batch has no target positions');
  const w = new Float32Array(B * T * vocabSize);
  for (let i = 0; i < B * T; i++) if (targets[i] !== IGNORE) w[i * vocabSize + targets[i]] = 1 / count;
  return w;
}

/** Mean cross-entropy over target positions, given logits [batch, pos, vocab]. */
export function lossFromLogits(logits: tf.Tensor3D, weights: tf.Tensor3D): tf.Scalar {
  return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), weights))) as tf.Scalar;
}

/** The batch's loss as a scalar tensor (inside tf.tidy or a gradient function); `from`: start at that block (ForwardOptions). */
export function batchLoss(
  model: Transformer,
  batch: Batch,
  patches?: readonly Patch[],
  weightGrads?: ReadonlySet<number> | null,
  from?: ForwardOptions['from'],
): tf.Scalar {
  const { logits } = model.forward(tokensTensor(batch), { patches, weightGrads, from });
  return lossFromLogits(logits, targetWeights(batch, model.cfg.vocabSize));
}

/** Per-row exact match from logits: every target position's argmax equals its target. */
export function exactMatchFromLogits(logits: tf.Tensor3D, batch: Batch): boolean[] {
  const predT = tf.argMax(logits, -1);
  const pred = predT.dataSync();
  predT.dispose();
  const { B, T, targets } = batch;
  const out: boolean[] = [];
  for (let b = 0; b < B; b++) {
    let ok = true;
    for (let t = 0; t < T && ok; t++) {
      const y = targets[b * T + t];
      if (y !== IGNORE && pred[b * T + t] !== y) ok = false;
    }
    out.push(ok);
  }
  return out;
}

/** Each sequence's score: exact match and its cross-entropy (mean over its own target positions). */
export interface SequenceScores {
  correct: boolean[];
  loss: Float64Array;
}

/**
 * Per-row exact match and cross-entropy from logits [batch, pos, vocab]: a row's loss is the mean
 * of -log p(target) over its target positions (the batch loss of that row alone).
 */
export function sequenceScoresFromLogits(logits: tf.Tensor3D, batch: Batch): SequenceScores {
  const correct = exactMatchFromLogits(logits, batch);
  const logpT = tf.logSoftmax(logits);
  const logp = logpT.dataSync();
  logpT.dispose();
  const { B, T, targets } = batch;
  const V = logits.shape[2];
  const loss = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    let n = 0;
    for (let t = 0; t < T; t++) {
      const y = targets[b * T + t];
      if (y === IGNORE) continue;
      s -= logp[(b * T + t) * V + y];
      n++;
    }
    loss[b] = n ? s / n : NaN;
  }
  return { correct, loss };
}

/** Exact match of each example, in batched teacher-forced passes (contiguous layout). */
export function exactMatch(
  model: Transformer,
  examples: readonly Example[],
  opts: { patches?: readonly Patch[]; batchSize?: number } = {},
): boolean[] {
  const bs = opts.batchSize ?? 256;
  const out: boolean[] = [];
  for (let i = 0; i < examples.length; i += bs) {
    const batch = makeBatch(examples.slice(i, i + bs), 'contiguous');
    const logits = tf.tidy(() => model.forward(tokensTensor(batch), { patches: opts.patches }).logits);
    out.push(...exactMatchFromLogits(logits, batch));
    logits.dispose();
  }
  return out;
}

/**
 * The residual stream entering every block for a fixed list of examples, in exactMatch's batches,
 * computed once without patches. An evaluation that patches only block l or later starts there
 * (`exactMatchFrom`) and gets exactly what a full pass would give, skipping blocks 0..l-1: mean
 * ablation scores 20 components on one evaluation set, so this saves over a third of C's passes.
 * Holds tensors: call dispose().
 */
export class ResidCache {
  private batches: { batch: Batch; resid: tf.Tensor[] }[] | null = null;

  constructor(
    readonly model: Transformer,
    readonly examples: readonly Example[],
    readonly batchSize = 256,
  ) {}

  private build(): { batch: Batch; resid: tf.Tensor[] }[] {
    if (this.batches) return this.batches;
    const names = Array.from({ length: this.model.cfg.nLayers }, (_, l) => hooks.residPre(l));
    this.batches = [];
    for (let i = 0; i < this.examples.length; i += this.batchSize) {
      const batch = makeBatch(this.examples.slice(i, i + this.batchSize), 'contiguous');
      const resid = tf.tidy(() => {
        const { cache } = this.model.forward(tokensTensor(batch), { cache: names });
        return names.map((n) => cache[n]); // each [batch, pos, d_model]
      });
      this.batches.push({ batch, resid });
    }
    return this.batches;
  }

  /** Exact match of each example with `patches`, all at block `fromLayer` or later. */
  exactMatchFrom(fromLayer: number, patches: readonly Patch[] = []): boolean[] {
    const out: boolean[] = [];
    this.eachPass(
      fromLayer,
      () => patches,
      (logits, batch) => out.push(...exactMatchFromLogits(logits, batch)),
    );
    return out;
  }

  /**
   * Exact match and cross-entropy of each example with patches at block `fromLayer` or later:
   * `patches` is a list, or a function of the batch (index k covers examples k*batchSize onwards)
   * for patches that differ by batch (another sequence's activations).
   */
  scoresFrom(
    fromLayer: number,
    patches: readonly Patch[] | ((k: number, batch: Batch) => readonly Patch[]) = [],
  ): SequenceScores {
    const correct: boolean[] = [];
    const loss: number[] = [];
    this.eachPass(fromLayer, typeof patches === 'function' ? patches : () => patches, (logits, batch) => {
      const s = sequenceScoresFromLogits(logits, batch);
      correct.push(...s.correct);
      loss.push(...s.loss);
    });
    return { correct, loss: Float64Array.from(loss) };
  }

  /** The unpatched residual stream entering block `layer` for evaluation batch k ([batch, pos, d_model]; owned by the cache). */
  residual(k: number, layer: number): tf.Tensor {
    const b = this.build()[k];
    if (!b || !b.resid[layer]) throw new Error(`residual: no batch ${k} or block ${layer} in this cache`);
    return b.resid[layer];
  }

  /** The batches the examples are evaluated in (contiguous layout, batchSize each). */
  batchList(): Batch[] {
    return this.build().map((b) => b.batch);
  }

  private eachPass(
    fromLayer: number,
    patchesOf: (k: number, batch: Batch) => readonly Patch[],
    use: (logits: tf.Tensor3D, batch: Batch) => void,
  ): void {
    this.build().forEach(({ batch, resid }, k) => {
      const logits = tf.tidy(
        () =>
          this.model.forward(tokensTensor(batch), {
            patches: patchesOf(k, batch),
            from: { layer: fromLayer, resid: resid[fromLayer] },
          }).logits,
      );
      try {
        use(logits, batch);
      } finally {
        logits.dispose();
      }
    });
  }

  dispose(): void {
    for (const b of this.batches ?? []) for (const t of b.resid) t.dispose();
    this.batches = null;
  }
}

export function accuracy(correct: readonly boolean[]): number {
  return correct.length ? correct.filter(Boolean).length / correct.length : NaN;
}

/** Exact-match accuracy on `count` fresh sequences of the given length (or length range). */
export function sampleAccuracy(
  model: Transformer,
  task: TaskName,
  rng: Rng,
  count: number,
  length: number | { minLen: number; maxLen: number },
  opts: { patches?: readonly Patch[]; batchSize?: number } = {},
): number {
  return accuracy(exactMatch(model, sampleExamples(task, count, rng, length), opts));
}

/** Greedy decoding of one sequence, one token at a time (the authors' evaluation). */
export function greedyDecode(
  model: Transformer,
  prompt: readonly number[],
  maxNew: number,
  patches?: readonly Patch[],
): number[] {
  const seq = prompt.slice();
  const out: number[] = [];
  for (let i = 0; i < maxNew; i++) {
    const next = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([seq], [1, seq.length], 'int32'), { patches });
      return tf.argMax(tf.slice(logits, [0, seq.length - 1, 0], [1, 1, model.cfg.vocabSize]), -1).dataSync()[0];
    });
    out.push(next);
    seq.push(next);
  }
  return out;
}

/** Exact match by greedy decoding: the N+1 decoded tokens equal `y END`. */
export function greedyExactMatch(model: Transformer, ex: Example, patches?: readonly Patch[]): boolean {
  const want = answerTokens(ex);
  const got = greedyDecode(model, promptTokens(ex), want.length, patches);
  return got.every((t, i) => t === want[i]);
}
