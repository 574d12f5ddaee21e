/** Sequence reversal (the paper's simple task): y = x read backwards. */
import { digitInput, DIGIT_VOCAB_SIZE, PAPER_OOD_LENGTHS, sameLength } from './format';
import type { Task } from './task';

export const reverse: Task = {
  name: 'reverse',
  label: 'Reversal',
  color: '#2ca02c',
  description: 'output the digits in reverse order',
  why: "the paper's simple task: each output reads one input at a position that moves with the output's",
  vocabSize: DIGIT_VOCAB_SIZE,
  sampleInput: digitInput,
  target: (x) => x.slice().reverse(),
  answerLength: sameLength,
  oodLengths: PAPER_OOD_LENGTHS,
};
