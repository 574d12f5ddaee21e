/**
 * The commands of the core (training, running, sweeping, analysing, checking), declared as every
 * study declares its own (src/runner/command.ts Command); their work is src/faces/commands.ts (and
 * the sweep's src/runner/sweep-command.ts), loaded only when one runs.
 */
import { sweepOptions } from '../runner/sweep-options';
import type { Command } from '../runner/command';

/** Listed before the studies' commands in the help. */
export const RUN_COMMANDS: readonly Command[] = [
  {
    name: 'train',
    doc: `Train one (task, seed) to a checkpoint and a JSON record`,
    options: ['task', 'seed', 'preset', 'set', 'out', 'replace'],
    load: async () => (await import('./commands')).runTrainCommand,
  },
  {
    name: 'demo',
    doc: `The main job: one seed (default: reversal, seed 42) trained and analysed the paper's
            way; prints G and C per component, rho, the Hidden Heroes and Gradient Bloats, and
            writes that seed's Figure 1 (<out>/demo/); says how long it will take before it starts`,
    options: ['task', 'seed', 'preset', 'set', 'out', 'ood-lengths', 'allow-id-lengths', 'replace'],
    defaults: { task: 'reverse' },
    load: async () => (await import('./commands')).runDemoCommand,
  },
  {
    name: 'run',
    doc: `Train + analyse one (task, seed) into <results>/<preset>/<task>_seed<seed>.json;
            --seeds A,B,C trains those seeds stacked in one pass, then analyses each`,
    options: [
      'task',
      'seed',
      'seeds',
      'preset',
      'set',
      'results',
      'ood-lengths',
      'allow-id-lengths',
      'replace',
      'lock-stale',
    ],
    defaults: { seeds: '' }, // run takes --seed; --seeds only when given
    load: async () => (await import('./commands')).runRun,
  },
  {
    name: 'sweep',
    doc: `run over tasks x seeds (x --sizes); skips finished runs, redoes unfinished ones;
            --list numbers the grid's jobs, --index I runs job I (one Slurm array task:
            scripts/slurm/sweep.sbatch); --seeds-per-job K trains K seeds per job stacked`,
    options: sweepOptions('sizes'),
    load: async () => (await import('../runner/sweep-command')).runSweep,
  },
  {
    name: 'analyze',
    doc: `Re-run the analysis on trained models, no retraining: every checkpoint of a preset
            in the results store (rewrites its results files), or one --checkpoint FILE (prints)`,
    options: ['preset', 'set', 'results', 'checkpoint', 'ood-lengths', 'allow-id-lengths', 'lock-stale'],
    load: async () => (await import('./commands')).runAnalyze,
  },
];

/** Listed after the studies' commands in the help. */
export const CHECK_COMMANDS: readonly Command[] = [
  {
    name: 'verify',
    doc: `Check every results file and checkpoint under --results (default results) as every
            reader does: name, folder, shape, Eq. 3 recomputed, seal, checkpoint identity;
            --seal adds the seal to valid records written before seals (exit 1 on any problem)`,
    options: ['results', 'seal'],
    load: async () => (await import('./commands')).runVerify,
  },
  {
    name: 'config',
    doc: `Print the resolved configuration of a preset (with --set overrides) as JSON`,
    options: ['preset', 'set'],
    load: async () => (await import('./commands')).runConfig,
  },
  {
    name: 'backend',
    doc: `Print which TensorFlow.js backend loads here`,
    options: [],
    load: async () => (await import('./commands')).runBackend,
  },
];
