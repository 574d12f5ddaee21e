/**
 * Copying (easier than reversal): y = x. Each output position reads the input at the same offset
 * back (N + 1 tokens), a fixed relative lookup; reversal needs an offset that changes with the
 * position. Without positional embeddings (both presets) the model must still count positions.
 */
import { digitInput, DIGIT_VOCAB_SIZE, PAPER_OOD_LENGTHS, sameLength } from './format';
import type { Task } from './task';

export const copy: Task = {
  name: 'copy',
  label: 'Copying',
  color: '#1f77b4',
  description: 'output the digits unchanged',
  why: 'easier than reversal: each output reads one input at a fixed distance back',
  vocabSize: DIGIT_VOCAB_SIZE,
  sampleInput: digitInput,
  target: (x) => x.slice(),
  answerLength: sameLength,
  oodLengths: PAPER_OOD_LENGTHS,
};
