/** The complexity study: rho against task complexity, depth and width, with trend tests (COMPLEXITY.md). Its runs are sweeps over sizes (sweep --sizes). */
import * as path from 'node:path';
import type { Study } from '../../runner/command';

export const complexityStudy: Study = {
  name: 'complexity',
  summary: 'rho against task complexity (five tasks), depth and width, with trend tests',
  report: 'COMPLEXITY.md',
  figures: 'figures/complexity',
  commands: [
    {
      name: 'complexity-report',
      doc: `COMPLEXITY.md and figures/complexity/: rho against task complexity, depth
            and width, with trend tests, from the records in --results (comma-separated stores; each
            <store>/<preset>/ and <store>/<size>/<preset>/; default results/complexity); every model
            trained on one kernel family (a mix is refused)`,
      options: ['preset', 'results', 'report', 'fig-dir'],
      defaults: { report: 'COMPLEXITY.md', results: path.join('results', 'complexity') },
      load: async () => (await import('./commands')).runComplexityReport,
    },
  ],
};
