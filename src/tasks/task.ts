/**
 * What a task is: a name, how its inputs are drawn, the function that maps an input to its target,
 * and the vocabulary and lengths it needs. One file per task in this folder (reverse.ts, sort.ts),
 * listed once in the registry (index.ts); every task list in the project is derived from it.
 */
import type { Rng } from '../base/rng';

export interface Task {
  /** The registry key: `--task`, file names (`<task>_seed<seed>.json`): lower case, digits, '-'. */
  readonly name: string;
  /** How tables and figures name it ('Reversal'). */
  readonly label: string;
  /** Its colour in figures. */
  readonly color: string;
  /** One line: what the model must output. */
  readonly description: string;
  /** One line: why the task is in the project, what it asks of a model (COMPLEXITY.md lists it). */
  readonly why?: string;
  /** Tokens its sequences use (the model's `model.vocabSize` must be at least this). */
  readonly vocabSize: number;
  /** The N input tokens of one sequence of length N. */
  sampleInput(n: number, rng: Rng): number[];
  /** The target for an input: the tokens the model must produce before END. */
  target(x: readonly number[]): number[];
  /**
   * How many tokens the target of a length-n input has (n for the paper's tasks): the sequence
   * layout (format.ts sequenceTokens), the memory rule and the position table's size follow from
   * it, and every drawn example is checked against it.
   */
  answerLength(n: number): number;
  /** Candidate out-of-distribution lengths, in the order the OOD rule tries them. */
  readonly oodLengths: readonly number[];
}
