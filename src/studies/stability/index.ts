/** The stability study: how much of rho and of each component's class is the seed's, and how much training chaos (STABILITY.md). */
import * as path from 'node:path';
import { sweepOptions } from '../../runner/sweep-options';
import type { Study } from '../../runner/command';
import { PAPER_SEEDS } from '../../settings/config';

/** The stability study's default seeds: the paper's first five. */
const STABILITY_SEEDS = PAPER_SEEDS.slice(0, 5);

export const stabilityStudy: Study = {
  name: 'stability',
  summary:
    "replicas of each seed that differ at the last bit of the initial weights or in the batches: which Heroes and Bloats are the seed's",
  report: 'STABILITY.md',
  figures: 'figures/stability',
  commands: [
    {
      name: 'stability',
      doc: `The stability study: for each task and seed, replicas that differ only by the initial
            weights moved at the last bit (init1..R) or the training batches redrawn (data1..R),
            beside the seed's own run (base); each into <results>/<replica>/<preset>/ (default
            results/stability); G, C and the per-position C; takes sweep's options and --replicas R`,
      options: sweepOptions('replicas'),
      defaults: { results: path.join('results', 'stability'), seeds: STABILITY_SEEDS.join(','), replicas: '4' },
      load: async () => (await import('./commands')).runStability,
    },
    {
      name: 'stability-report',
      doc: `STABILITY.md and figures/stability/ from the stability study's records (--study DIR,
            default results/stability) and, for the kernels, the same seeds on the other kernel
            family (--kernels DIR, default results/measures: the committed stock-trained models; '' for none)`,
      options: ['preset', 'study', 'kernels', 'report', 'fig-dir'],
      defaults: {
        report: 'STABILITY.md',
        study: path.join('results', 'stability'),
        kernels: path.join('results', 'measures'),
      },
      load: async () => (await import('./commands')).runStabilityReport,
    },
  ],
  options: {
    replicas: {
      type: 'string',
      doc: '  --replicas R    stability: perturbed replicas of each kind per seed (default 4)',
    },
    kernels: {
      type: 'string',
      doc: '  --kernels DIR   stability-report: a store of the same seeds trained on the other kernel family (default results/measures)',
    },
  },
};
