/**
 * Histogram (counting): y_i = how many times x_i occurs in x. The digits come from 1..5 only, so
 * repeats are common (a uniform 1..99 input would make almost every count 1). Output i needs x_i
 * (a lookup, as in copying) and a count over the whole input; the counts (1..N) are digit tokens.
 */
import type { Rng } from '../base/rng';
import { DIGIT_VOCAB_SIZE, PAPER_OOD_LENGTHS, sameLength } from './format';
import type { Task } from './task';

/** Histogram inputs are digits 1..HISTOGRAM_VALUES. */
export const HISTOGRAM_VALUES = 5;

export const histogram: Task = {
  name: 'histogram',
  label: 'Histogram',
  color: '#8c564b',
  description: `output, at each position, how often its digit occurs (digits 1..${HISTOGRAM_VALUES})`,
  why: 'counting: each output needs its own input and a count of it over the whole input',
  vocabSize: DIGIT_VOCAB_SIZE,
  sampleInput: (n: number, rng: Rng) => Array.from({ length: n }, () => rng.int(1, HISTOGRAM_VALUES)),
  target: (x) => x.map((d) => x.filter((e) => e === d).length),
  answerLength: sameLength,
  oodLengths: PAPER_OOD_LENGTHS,
};
