/** The paper study: the paper's tables, figures and claims beside ours under both presets (REPRODUCTION.md). */
import type { Study } from '../../runner/command';

export const paperStudy: Study = {
  name: 'paper',
  summary: "the paper's Tables 1-6, Figures 1-4 and claims beside ours, under the paper's text and the authors' code",
  report: 'REPRODUCTION.md',
  figures: 'figures/<preset>',
  commands: [
    {
      name: 'tables',
      doc: 'Tables 1-6 from the results store (--results DIR, --preset P); --csv DIR writes CSVs',
      options: ['preset', 'results', 'csv'],
      load: async () => (await import('./commands')).runTables,
    },
    {
      name: 'figures',
      doc: `Figures 1-4 and training curves from the results store, as HTML, SVG, PNG and PDF
            (--fig-dir DIR, default figures/<preset>; SVG/PNG/PDF need Chromium, see environment.md)`,
      options: ['preset', 'results', 'fig-dir'],
      load: async () => (await import('./commands')).runFigures,
    },
    {
      name: 'reproduction',
      doc: `REPRODUCTION.md: the paper's tables, figures and claims beside ours under both
            presets, with bootstrap intervals and verdicts (--results DIR, --report FILE)`,
      options: ['results', 'report'],
      defaults: { report: 'REPRODUCTION.md' },
      load: async () => (await import('./commands')).runReproduction,
    },
  ],
  options: {
    csv: { type: 'string', doc: '  --csv DIR       tables: also write table1.csv .. table6.csv there' },
  },
};
