/**
 * The task registry: every task the project knows, one file each (reverse.ts, sort.ts, copy.ts, ...). `--task`,
 * sweeps, results file names, tables, figures and reports all take their task lists from here; a
 * new task is a file and one line below. Sampling and batching are task-independent.
 */
import type { Rng } from '../base/rng';
import { BatchLayout, Example, makeBatch, Batch, sequenceTokens } from './format';
import { reverse } from './reverse';
import { sort } from './sort';
import { copy } from './copy';
import { runmax } from './runmax';
import { histogram } from './histogram';
import type { Task } from './task';

export * from './format';
export type { Task } from './task';

/** The registered tasks, by name: the paper's two, then the ones added to span complexity (COMPLEXITY.md). */
export const TASK_REGISTRY = { reverse, sort, copy, runmax, histogram } as const satisfies Record<string, Task>;

export type TaskName = keyof typeof TASK_REGISTRY;

/** Every registered task's name, in registry order. */
export const TASKS: readonly TaskName[] = Object.keys(TASK_REGISTRY) as TaskName[];

/** The paper's two tasks: what a bare `gcg sweep` (and the reproduction) runs. */
export const PAPER_TASKS: readonly TaskName[] = ['reverse', 'sort'];

/** The registered task of that name; an unknown name is an error listing the registered ones. */
export function getTask(name: string): Task {
  if (!Object.prototype.hasOwnProperty.call(TASK_REGISTRY, name)) {
    throw new Error(`unknown task ${JSON.stringify(name)}; registered: ${TASKS.join(', ')}`);
  }
  return TASK_REGISTRY[name as TaskName];
}

/** y for a given x. */
export function solve(task: TaskName, x: readonly number[]): number[] {
  return getTask(task).target(x);
}

export function sampleExample(task: TaskName, n: number, rng: Rng): Example {
  const t = getTask(task);
  const x = t.sampleInput(n, rng);
  return checkExample(t, { x, y: t.target(x) });
}

/** An example as its task states it: n input tokens and answerLength(n) answer tokens (else an error naming the task). */
export function checkExample(t: Task, ex: Example): Example {
  const n = ex.x.length;
  if (ex.y.length !== t.answerLength(n)) {
    throw new Error(
      `task ${t.name}: its target for a length-${n} input has ${ex.y.length} tokens, but its answerLength(${n}) says ${t.answerLength(n)}; the sequence layout follows answerLength: make the two agree`,
    );
  }
  return ex;
}

/** The longest candidate OOD length of any registered task (what the evaluation and the analysis must hold). */
export function longestEvalLength(): number {
  return Math.max(...TASKS.map((t) => Math.max(...getTask(t).oodLengths)));
}

/** Positions of the longest sequence of input length n over the registered tasks (2n + 2 for the paper's). */
export function longestSequence(n: number): number {
  return Math.max(...TASKS.map((t) => sequenceTokens(n, getTask(t).answerLength(n))));
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
