/** The findings: each claim of the paper (v1 and the v3 abstract) in one row, from every study's records (docs/findings.md). */
import * as path from 'node:path';
import type { Study } from '../../runner/command';

export const findingsStudy: Study = {
  name: 'findings',
  summary:
    "each claim of the paper in one row: the paper's number, ours with its interval, runs, verdict, report section",
  report: 'docs/findings.md',
  figures: '(none: the reports it links hold them)',
  commands: [
    {
      name: 'findings',
      doc: `docs/findings.md: every claim of the paper (v1 and the v3 abstract) beside ours, from
            the results stores of both presets (--results DIR, default results), the stability
            study (<results>/stability) and the redundancy study (--study DIR, default
            results/redundancy), computed as each report computes it (--report FILE)`,
      options: ['results', 'study', 'report'],
      defaults: { report: path.join('docs', 'findings.md'), study: path.join('results', 'redundancy') },
      load: async () => (await import('./commands')).runFindings,
    },
  ],
};
