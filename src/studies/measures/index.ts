/** The measures study: every registered cheap and causal measure on the same trained models, each pair's rho and classes (MEASURES.md). */
import * as path from 'node:path';
import type { Study } from '../../runner/command';

export const measuresStudy: Study = {
  name: 'measures',
  summary:
    'every cheap (gradient) and causal (ablation) measure on the same trained models: which pair agrees, on which task',
  report: 'MEASURES.md',
  figures: 'figures/measures',
  commands: [
    {
      name: 'measures',
      doc: `The measures study: every cheap and causal measure on the trained model of each
            analysed run of a preset (its checkpoint, or retrained from its record) into
            <out>/<preset>/ (default out: results/measures); start it in several terminals to
            use more cores; --list names the measures`,
      options: ['preset', 'results', 'out', 'measures', 'no-retrain', 'list', 'lock-stale'],
      defaults: { out: path.join('results', 'measures') },
      load: async () => (await import('./commands')).runMeasures,
    },
    {
      name: 'measures-report',
      doc: "MEASURES.md and figures/measures/ from the study's records (--study DIR)",
      options: ['preset', 'study', 'report', 'fig-dir'],
      defaults: { report: 'MEASURES.md', study: path.join('results', 'measures') },
      load: async () => (await import('./commands')).runMeasuresReport,
    },
  ],
  options: {
    measures: {
      type: 'string',
      doc: '  --measures A,B  measures: which measures besides G and C    (default all but G-layerWV)',
    },
    'no-retrain': {
      type: 'boolean',
      doc: '  --no-retrain    measures: leave runs whose checkpoint is missing (default: retrain them)',
    },
    study: {
      type: 'string',
      doc: `  --study DIR     measures-report: the study's store      (default results/measures);
                  stability-report: default results/stability`,
    },
  },
};
