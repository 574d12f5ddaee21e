/**
 * The token format of the digit tasks (PROTOCOL.md, "Tasks and tokens") and batching.
 *
 * A sequence of N digits x1..xN (integers 1..99, uniform, with replacement) is shown as
 * `START x1..xN SEP`; the model must continue with `y1..yM END`, where y is the task's target for
 * x (reverse.ts, sort.ts, ...) and M its answerLength(N) (N for the paper's tasks). The decoder
 * input is the input followed by the target without its last token, so position p is trained to
 * predict token p+1.
 */
import type { Rng } from '../base/rng';

/**
 * How a batch of mixed-length training sequences is laid out.
 * `contiguous`: each row is `START x SEP y` then PAD at the end (a row is exactly the sequence
 *   the model sees when decoding it alone).
 * `separate`: the authors' code pads inputs and targets separately, so a shorter row is
 *   `START x SEP PAD.. y ..`: PAD sits between SEP and y1, visible to attention.
 */
export type BatchLayout = 'contiguous' | 'separate';

export const PAD = 100;
export const START = 101;
export const SEP = 102;
export const END = 103;
/** Tokens of the digit tasks: the digits 1..99 (and an unused 0), PAD, START, SEP, END. */
export const DIGIT_VOCAB_SIZE = 104;
export const MIN_DIGIT = 1;
export const MAX_DIGIT = 99;
/** Marks a position that carries no loss and no accuracy check. */
export const IGNORE = -1;
/** The lengths the paper evaluates out of distribution. */
export const PAPER_OOD_LENGTHS: readonly number[] = [8, 9, 10, 11];

export interface Example {
  x: number[]; // the N input digits
  y: number[]; // the target digits (END not included): the task's answerLength(N) of them
}

/** The paper's tasks answer with as many tokens as they are given. */
export const sameLength = (n: number): number => n;

/**
 * Positions of one sequence of n input and m answer tokens as the model sees it:
 * `START x1..xn SEP y1..ym`, each position predicting the next token (the last one END).
 */
export function sequenceTokens(n: number, m: number): number {
  return n + m + 2;
}

/** N digits drawn uniformly from 1..99 with replacement (the paper's input distribution). */
export function digitInput(n: number, rng: Rng): number[] {
  return Array.from({ length: n }, () => rng.int(MIN_DIGIT, MAX_DIGIT));
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
 * contiguous: row = START x SEP y, then PAD; targets at positions N+1 .. N+M+1 (M answer tokens).
 * separate (authors' code): input `START x SEP` padded to the longest input, then the target
 *   `y END` padded to the longest target, minus its last token; targets at positions
 *   (maxN+1) .. (maxN+1)+M, so for a shorter row y1 is predicted from a PAD position.
 * When every row has the same N the two layouts are identical.
 */
export function makeBatch(examples: readonly Example[], layout: BatchLayout = 'contiguous'): Batch {
  if (examples.length === 0) throw new Error('makeBatch: no examples');
  const B = examples.length;
  const maxN = Math.max(...examples.map((e) => e.x.length));
  const maxM = Math.max(...examples.map((e) => e.y.length));
  // contiguous: the longest row; separate: the padded input, then the padded answer.
  const T =
    layout === 'contiguous'
      ? Math.max(...examples.map((e) => sequenceTokens(e.x.length, e.y.length)))
      : sequenceTokens(maxN, maxM);
  const tokens = new Int32Array(B * T).fill(PAD);
  const targets = new Int32Array(B * T).fill(IGNORE);
  examples.forEach((ex, b) => {
    const n = ex.x.length;
    const m = ex.y.length;
    const row = b * T;
    const prompt = promptTokens(ex);
    const answer = answerTokens(ex); // length m + 1
    prompt.forEach((t, i) => (tokens[row + i] = t));
    // Where the answer starts in the decoder input: right after SEP, or after the padded input.
    const answerStart = layout === 'contiguous' ? n + 2 : maxN + 2;
    for (let j = 0; j < m; j++) tokens[row + answerStart + j] = answer[j];
    for (let j = 0; j <= m; j++) targets[row + answerStart - 1 + j] = answer[j];
  });
  return { B, T, tokens, targets, lengths: examples.map((e) => e.x.length), layout };
}
