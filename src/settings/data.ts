/** The training data's settings: sequence lengths and how a batch of mixed lengths is padded (src/tasks/format.ts BatchLayout). */
import { choice, int } from './setting';

export const DATA_SETTINGS = {
  minLen: int({ min: 1, max: 99, default: 3, doc: 'shortest training sequence N (paper: 3)' }),
  maxLen: int({ min: 1, max: 99, default: 7, doc: 'longest training sequence N (paper: 7)' }),
  layout: choice({
    values: ['contiguous', 'separate'],
    default: 'contiguous',
    authors: 'separate',
    doc: "training batch padding: contiguous, or separate (the authors': PAD between SEP and y)",
  }),
};
