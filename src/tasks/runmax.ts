/**
 * Running maximum (a prefix operation): y_i = max(x_1..x_i). Output i needs the largest of the
 * first i inputs: a lookup of where the prefix ends (as in copying) and a comparison over it (as in
 * sorting, but over a prefix only and without counting repeats).
 */
import { digitInput, DIGIT_VOCAB_SIZE, PAPER_OOD_LENGTHS, sameLength } from './format';
import type { Task } from './task';

export const runmax: Task = {
  name: 'runmax',
  label: 'Running max',
  color: '#ff7f0e',
  description: 'output the largest digit so far at each position',
  why: 'a prefix operation: a comparison over the inputs up to a position (between reversal and sorting)',
  vocabSize: DIGIT_VOCAB_SIZE,
  sampleInput: digitInput,
  target: (x) => {
    let m = -Infinity;
    return x.map((d) => (m = Math.max(m, d)));
  },
  answerLength: sameLength,
  oodLengths: PAPER_OOD_LENGTHS,
};
