/** Sorting (the paper's complex task): y = x in ascending order, repeats kept. */
import { digitInput, DIGIT_VOCAB_SIZE, PAPER_OOD_LENGTHS, sameLength } from './format';
import type { Task } from './task';

export const sort: Task = {
  name: 'sort',
  label: 'Sorting',
  color: '#9467bd',
  description: 'output the digits sorted ascending, repeats kept',
  why: "the paper's complex task: each output depends on every input (a comparison and a count)",
  vocabSize: DIGIT_VOCAB_SIZE,
  sampleInput: digitInput,
  target: (x) => x.slice().sort((a, b) => a - b),
  answerLength: sameLength,
  oodLengths: PAPER_OOD_LENGTHS,
};
