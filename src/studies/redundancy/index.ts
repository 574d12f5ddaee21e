/** The redundancy study: joint ablation, pairwise interactions, the layer profile and Shapley values: the paper's v3 claims (REDUNDANCY.md). */
import * as path from 'node:path';
import type { Study } from '../../runner/command';
import type { RedundancySettings } from '../../analysis/redundancy';

/** The study's defaults: the 200 null draws; 20 permutations keep the Shapley values of a paper model near 2.5 minutes here (REDUNDANCY.md: cost). */
export const REDUNDANCY_DEFAULTS: RedundancySettings = { nullDraws: 200, permutations: 20 };

export const redundancyStudy: Study = {
  name: 'redundancy',
  summary:
    'components ablated together against the sum of their single effects, every pair, Shapley values, the layer profile: does redundancy explain the gap',
  report: 'REDUNDANCY.md',
  figures: 'figures/redundancy',
  commands: [
    {
      name: 'redundancy',
      doc: `The redundancy study: for each analysed run of a preset, its trained model (its
            checkpoint, or retrained from its record) with the named sets (Heroes, Bloats, each
            layer's heads and components) ablated together, --draws random sets of each one's
            size and layer make-up, every pair, Shapley values by --permutations sampled
            permutations; into <out>/<preset>/ (default out: results/redundancy); start it in
            several terminals to use more cores; --tasks and --seeds pick runs (default: every
            analysed run)`,
      options: ['preset', 'tasks', 'seeds', 'results', 'out', 'draws', 'permutations', 'lock-stale'],
      defaults: {
        seeds: '', // every seed the store holds
        out: path.join('results', 'redundancy'),
        draws: String(REDUNDANCY_DEFAULTS.nullDraws),
        permutations: String(REDUNDANCY_DEFAULTS.permutations),
      },
      load: async () => (await import('./commands')).runRedundancyStudy,
    },
    {
      name: 'redundancy-report',
      doc: `REDUNDANCY.md and figures/redundancy/ from the study's records (--study DIR, default
            results/redundancy) and the layer profile from the results stores of both presets
            (--results DIR, default results)`,
      options: ['results', 'study', 'report', 'fig-dir'],
      defaults: { report: 'REDUNDANCY.md', study: path.join('results', 'redundancy') },
      load: async () => (await import('./commands')).runRedundancyReport,
    },
  ],
  options: {
    draws: {
      type: 'string',
      doc: `  --draws N       redundancy: random sets per size and per make-up, the null (default ${REDUNDANCY_DEFAULTS.nullDraws})`,
    },
    permutations: {
      type: 'string',
      doc: `  --permutations N  redundancy: permutations sampled for the Shapley values (default ${REDUNDANCY_DEFAULTS.permutations})`,
    },
  },
};
