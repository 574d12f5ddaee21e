/**
 * The two algorithmic tasks and their token format (../shared/PROTOCOL.md, "Tasks and tokens").
 *
 * A sequence of N digits x1..xN (integers 1..99, uniform, with replacement) is shown as
 * `START x1..xN SEP`; the model must continue with `y1..yN END`, where y is x reversed (reverse)
 * or x sorted ascending (sort). The decoder input is the input followed by the target without
 * its last token, so position p is trained to predict token p+1.
 */
import type { BatchLayout, TaskName } from './config';
import { Rng } from './rng';

export const PAD = 100;
export const START = 101;
export const SEP = 102;
export const END = 103;
export const VOCAB_SIZE = 104;
export const MIN_DIGIT = 1;
export const MAX_DIGIT = 99;
/** Marks a position that carries no loss and no accuracy check. */
export const IGNORE = -1;
/** The lengths the paper evaluates out of distribution. */
export const OOD_LENGTHS: readonly number[] = [8, 9, 10, 11];

export interface Example {
  x: number[]; // the N input digits
  y: number[]; // the N target digits (END not included)
}

/** y for a given x. */
export function solve(task: TaskName, x: readonly number[]): number[] {
  if (task === 'reverse') return x.slice().reverse();
  return x.slice().sort((a, b) => a - b);
}

export function sampleExample(task: TaskName, n: number, rng: Rng): Example {
  const x = Array.from({ length: n }, () => rng.int(MIN_DIGIT, MAX_DIGIT));
  return { x, y: solve(task, x) };
}

/**
 * `count` examples; each one's length is `length` if given as a number, else uniform in
 * [minLen, maxLen] per sequence (the authors' code draws each sequence's N independently).
 */
export function sampleExamples(
  task: TaskName,
  count: number,
  rng: Rng,
  length: number | { minLen: number; maxLen: number },
): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < count; i++) {
    const n = typeof length === 'number' ? length : rng.int(length.minLen, length.maxLen);
    out.push(sampleExample(task, n, rng));
  }
  return out;
}

/** `START x SEP` — what greedy decoding starts from. */
export function promptTokens(ex: Example): number[] {
  return [START, ...ex.x, SEP];
}

/** `y END` — what greedy decoding must produce exactly. */
export function answerTokens(ex: Example): number[] {
  return [...ex.y, END];
}

/** A padded batch, row-major typed arrays ready to become tensors. */
export interface Batch {
  B: number;
  T: number;
  tokens: Int32Array; // [B, T] decoder input
  targets: Int32Array; // [B, T] token each position must predict, IGNORE where none
  lengths: number[]; // N of each row
  layout: BatchLayout;
}

/**
 * Pads a list of examples into one batch.
 * contiguous: row = START x SEP y, then PAD; targets at positions N+1 .. 2N+1.
 * separate (authors' code): input `START x SEP` padded to the longest input, then the target
 *   `y END` padded to the longest target, minus its last token; targets at positions
 *   (maxN+1) .. (maxN+1)+N, so for a shorter row y1 is predicted from a PAD position.
 * When every row has the same N the two layouts are identical.
 */
export function makeBatch(examples: readonly Example[], layout: BatchLayout = 'contiguous'): Batch {
  if (examples.length === 0) throw new Error('makeBatch: no examples');
  const B = examples.length;
  const maxN = Math.max(...examples.map((e) => e.x.length));
  const T = 2 * maxN + 2;
  const tokens = new Int32Array(B * T).fill(PAD);
  const targets = new Int32Array(B * T).fill(IGNORE);
  examples.forEach((ex, b) => {
    const n = ex.x.length;
    const row = b * T;
    const prompt = promptTokens(ex);
    const answer = answerTokens(ex); // length n + 1
    prompt.forEach((t, i) => (tokens[row + i] = t));
    // Where the answer starts in the decoder input: right after SEP, or after the padded input.
    const answerStart = layout === 'contiguous' ? n + 2 : maxN + 2;
    for (let j = 0; j < n; j++) tokens[row + answerStart + j] = answer[j];
    for (let j = 0; j <= n; j++) targets[row + answerStart - 1 + j] = answer[j];
  });
  return { B, T, tokens, targets, lengths: examples.map((e) => e.x.length), layout };
}

/** A reproducible stream of training batches for one (task, seed); its state can be saved. */
export class BatchStream {
  readonly rng: Rng;
  constructor(
    readonly task: TaskName,
    readonly opts: { minLen: number; maxLen: number; batchSize: number; layout: BatchLayout },
    rng: Rng,
  ) {
    this.rng = rng;
  }

  next(): Batch {
    const ex = sampleExamples(this.task, this.opts.batchSize, this.rng, this.opts);
    return makeBatch(ex, this.opts.layout);
  }
}
