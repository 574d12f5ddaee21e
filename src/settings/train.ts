/**
 * Training's settings (Appendix A.1): Adam, batches, the stopping rule (the runner's 90% check:
 * src/runner/training.ts), and the stability study's replicas (src/train/perturb.ts).
 */
import { int, num } from './setting';

export const TRAIN_SETTINGS = {
  lr: num({ min: 0, max: 10, exclusiveMin: true, default: 1e-3, doc: 'Adam learning rate (paper: 1e-3)' }),
  /** tfjs's own default is 1e-7. */
  adamEps: num({ min: 0, max: 1, exclusiveMin: true, default: 1e-8, doc: "Adam epsilon (PyTorch's 1e-8)" }),
  /** Also bounded by the memory a step needs (settings/validate.ts). */
  batchSize: int({ min: 1, max: 65_536, default: 64, doc: 'sequences per step (paper: 64); bounded by memory' }),
  maxSteps: int({ min: 1, max: 10_000_000, default: 15_000, doc: 'hard stop (paper: 15,000)' }),
  targetAcc: num({
    min: 0,
    max: 1,
    exclusiveMin: true,
    default: 0.9,
    doc: 'stop once training-distribution exact match reaches this (paper: 0.9)',
  }),
  evalEvery: int({
    min: 1,
    max: 10_000_000,
    default: 100,
    authors: 500,
    doc: 'steps between stopping checks (authors: 500)',
  }),
  evalSamples: int({
    min: 1,
    max: 1_000_000,
    default: 512,
    authors: 100,
    doc: 'fresh sequences per stopping check (authors: 100)',
  }),
  stopLength: int({ min: 0, max: 99, default: 0, doc: '0: check on every training length; N: only on length N' }),
  initReplica: int({
    min: 0,
    max: 1_000_000,
    default: 0,
    doc: "0: the seed's initial weights; r: the same, each nonzero weight moved one unit in the last place up or down at random (replica r; the stability study)",
  }),
  dataReplica: int({
    min: 0,
    max: 1_000_000,
    default: 0,
    doc: "0: the seed's own training batches; r: batches drawn from replica r's stream, the initial weights unchanged (the stability study)",
  }),
};
