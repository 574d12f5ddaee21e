/**
 * Helpers for the notebooks (tslab): showing figures and tables, and getting a trained model or a
 * set of results either from the committed results store or by recomputing them.
 *
 * Figures: interactive Plotly in a live Jupyter session; a static PNG when the notebook is
 * executed for committing (GCG_NOTEBOOK_STATIC=1), so that a code host shows the figure and the
 * notebook stays small. The interactive versions of the paper's figures live in figures/*.html.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOodLengths } from '../analysis/ood';
import { describeBackend, initBackend } from '../kernels/backend';
import { committedResultsDir, describeEstimate, estimateRun, measureStepMs } from '../runner/estimate';
import { loadCheckpoint } from '../records/checkpoint';
import { ConfigError, DeepPartial, ExperimentConfig, PresetName } from '../settings/config';
import { getConfig } from '../settings/validate';
import { getTask, PAPER_TASKS, TaskName } from '../tasks';
import { makeDir, writeFileAtomic } from '../io/files';
import { Transformer } from '../model/model';
import { checkRedoable } from '../kernels/native';
import { KernelsName } from '../kernels/tf';
import { formatDuration } from '../base/progress';
import { projectRoot } from '../records/provenance';
import { notRecordsModel } from '../runner/conflicts';
import { runOne, RunOptions } from '../runner/run';
import { trainToCheckpoint } from '../runner/train-run';
import { loadRecords, readRecord, runPaths } from '../records/store';
import { configDiff, configDiffValues, kernelsLabel, RunRecord, TrainingOutcome } from '../records/format';
import { resolveRun, settingsOf } from '../settings/run-spec';
import { sweep } from '../runner/sweep';

/**
 * The small configuration notebooks use under GCG_NOTEBOOK_SMALL=1 (CI): 2 layers, 2 heads,
 * d_model 32, learned positions, sequences of 2-3 digits, 300 steps; its "OOD" candidates are the
 * lengths 2 and 3 (SMALL_OOD_LENGTHS, inside the training lengths: passed with allowIdLengths and
 * recorded as ood.withinTraining), since a model this small and brief does not generalise to
 * longer sequences. It exercises every step of the pipeline in seconds; its numbers mean nothing.
 */
export const SMALL_OVERRIDES: DeepPartial<ExperimentConfig> = {
  model: { nLayers: 2, nHeads: 2, dModel: 32, dFF: 64, positions: 'learned' },
  data: { minLen: 2, maxLen: 3 },
  train: { maxSteps: 300, evalEvery: 50, batchSize: 32, evalSamples: 128 },
  analysis: {
    gradBatches: 4,
    gradBatchSize: 32,
    meanBatches: 4,
    evalSamples: 200,
    oodPickSamples: 200,
    idSamples: 200,
    idLength: 2,
    tieDraws: 200,
    accLow: 0.05,
    accHigh: 1,
    variants: false,
    redraws: 0,
  },
};
export const SMALL_OOD_LENGTHS: readonly number[] = [2, 3];

/** The notebook settings every notebook's first cell reads from the environment. */
export function notebookEnv(): { small: boolean; recomputeForced: boolean; static: boolean } {
  return {
    small: process.env.GCG_NOTEBOOK_SMALL === '1',
    recomputeForced: process.env.GCG_NOTEBOOK_RECOMPUTE === '1',
    static: process.env.GCG_NOTEBOOK_STATIC === '1',
  };
}

/** Where notebooks keep the runs they compute: runs/notebook/ (GCG_NOTEBOOK_RESULTS overrides it). */
export function notebookRunsDir(): string {
  return process.env.GCG_NOTEBOOK_RESULTS || path.join(projectRoot(), 'runs', 'notebook');
}

function merge(
  base: DeepPartial<ExperimentConfig>,
  over: DeepPartial<ExperimentConfig>,
): DeepPartial<ExperimentConfig> {
  const out: Record<string, object> = {};
  for (const k of new Set([...Object.keys(base), ...Object.keys(over)])) {
    out[k] = { ...(base as Record<string, object>)[k], ...(over as Record<string, object>)[k] };
  }
  return out as DeepPartial<ExperimentConfig>;
}

/** A short key for a configuration and its candidate lengths: the name of its folder under runs/notebook/. */
export function settingsKey(cfg: ExperimentConfig, oodLengths?: readonly number[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ cfg, oodLengths: oodLengths ?? null }))
    .digest('hex')
    .slice(0, 10);
}

/**
 * What a notebook works on, set up by its first cell: the settings (a preset, a task, a seed and
 * the reader's overrides), and where their results are. Settings equal to a committed run read
 * results/ (seconds); any other settings train and analyse into runs/notebook/<key>/, a folder
 * keyed by the settings (so going back to the committed settings finds the committed results
 * again, and coming back to changed ones finds their results), after saying how long it will take.
 */
export class NotebookSession {
  constructor(
    readonly preset: PresetName,
    readonly task: TaskName,
    readonly seed: number,
    readonly cfg: ExperimentConfig,
    /** Candidate OOD lengths (undefined: the paper's 8..11). */
    readonly oodLengths: readonly number[] | undefined,
    /** The small CI configuration evaluates inside its training lengths. */
    readonly allowIdLengths: boolean,
    /** Where results are read and written. */
    readonly dir: string,
    /** true: the committed results/ (the settings equal the committed run's). */
    readonly committed: boolean,
    /** The small CI configuration (GCG_NOTEBOOK_SMALL=1): numbers are illustrative only. */
    readonly small: boolean,
  ) {}

  /** The results record of this session's (preset, task, seed), computed first if it is not there (no model is loaded when it is). */
  record(): RunRecord {
    const rec = readRecord(runPaths(this.dir, this.preset, this.task, this.seed).results);
    if (rec) return rec;
    const { model, record } = this.run();
    model.dispose();
    return record;
  }

  /** A trained model and its results record for this session's (preset, task, seed) (see trainedRun). */
  run(): { model: Transformer; record: RunRecord; training: TrainingOutcome } {
    this.announce([this.seed], [this.task]);
    return trainedRun({
      dir: this.dir,
      preset: this.preset,
      task: this.task,
      seed: this.seed,
      cfg: this.cfg,
      oodLengths: this.oodLengths,
      allowIdLengths: this.allowIdLengths,
    });
  }

  /** Every finished run under these settings: the committed sweep, or those computed so far in this session's folder. */
  records(): RunRecord[] {
    return loadRecords(this.dir, this.preset).filter((r) => this.committed || !configDiff(r.config, this.cfg).length);
  }

  /**
   * Trains and analyses (tasks x seeds) under these settings into this session's folder (finished
   * runs are kept), then returns their records. `seedsPerJob` K trains up to K seeds of a task
   * stacked in one pass (each seed's model is the one it gets alone, bit for bit; its record says
   * it was trained batched), `workers` runs that many jobs at once in worker processes (both
   * default 1, as `gcg sweep --seeds-per-job K --workers N`).
   */
  async sweep(
    seeds: readonly number[],
    tasks: readonly TaskName[] = PAPER_TASKS,
    opts: { seedsPerJob?: number; workers?: number } = {},
  ): Promise<RunRecord[]> {
    for (const [name, v] of [
      ['seedsPerJob', opts.seedsPerJob],
      ['workers', opts.workers],
    ] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 1000))
        throw new ConfigError(`sweep: ${name} got ${JSON.stringify(v)}; allowed: an integer in [1, 1000] (default 1)`);
    }
    if (!this.committed) {
      this.announce(seeds, tasks);
      await sweep({
        dir: this.dir,
        preset: this.preset,
        tasks: [...tasks],
        seeds: [...seeds],
        overrides: settingsOf(this.preset, this.cfg),
        workers: opts.workers ?? 1,
        seedsPerJob: opts.seedsPerJob ?? 1,
        oodLengths: this.oodLengths,
        allowIdLengths: this.allowIdLengths,
      });
    }
    return this.records().filter((r) => seeds.includes(r.seed) && tasks.includes(r.task));
  }

  /** Says what is about to be computed and how long it should take (from a few measured steps), before it starts. */
  private announce(seeds: readonly number[], tasks: readonly TaskName[]): void {
    // Each run with its results record when it has one (then only the model is missing).
    const toCompute = tasks
      .flatMap((task) => seeds.map((seed) => ({ task, seed, paths: runPaths(this.dir, this.preset, task, seed) })))
      .map((j) => ({ ...j, rec: readRecord(j.paths.results) }))
      .filter((j) => !j.rec || !fs.existsSync(j.paths.checkpoint));
    if (!toCompute.length) return;
    const ms = measureStepMs(this.cfg, toCompute[0].task);
    const total: [number, number] = [0, 0];
    const lines = toCompute.map(({ task, seed, rec }) => {
      const known = rec ?? readRecord(runPaths(committedResultsDir(), this.preset, task, seed).results);
      const e = estimateRun({ cfg: this.cfg, preset: this.preset, task, msPerStep: ms, known, analysed: !rec });
      total[0] += e.totalMs[0];
      total[1] += e.totalMs[1];
      const what = rec
        ? 'retraining (checkpoints are not committed; same settings give the same weights)'
        : 'training and analysing';
      return `  ${task} seed ${seed}: ${what} ${describeEstimate(e)}`;
    });
    const all =
      formatDuration(total[0]) === formatDuration(total[1])
        ? formatDuration(total[0])
        : `${formatDuration(total[0])}-${formatDuration(total[1])}`;
    console.log(
      `computing ${toCompute.length} run(s) into ${this.dir}, estimated ~${all} in all:\n${lines.join('\n')}`,
    );
  }
}

/**
 * The first cell of every notebook: validates the settings, starts the backend, and says where the
 * results come from. Under GCG_NOTEBOOK_SMALL=1 (CI) the reader's overrides apply on top of the
 * small configuration; under GCG_NOTEBOOK_RECOMPUTE=1 nothing is read from results/.
 */
export async function notebookSession(p: {
  preset: PresetName;
  task: TaskName;
  seed: number;
  overrides?: DeepPartial<ExperimentConfig>;
}): Promise<NotebookSession> {
  // The same checks as the command line's: a seed of -1, 1.5 or "abc" would name files the store then refuses.
  const env = notebookEnv();
  const { cfg } = resolveRun({
    ...p,
    settings: env.small ? merge(SMALL_OVERRIDES, p.overrides ?? {}) : (p.overrides ?? {}),
  });
  const oodLengths = env.small ? SMALL_OOD_LENGTHS : undefined;
  checkOodLengths(oodLengths ?? getTask(p.task).oodLengths, cfg, env.small, 'the OOD lengths');
  const backend = await initBackend();
  console.log(describeBackend(backend));
  console.log(
    `preset=${p.preset} task=${p.task} seed=${p.seed}${env.small ? ' (SMALL configuration for CI: numbers are illustrative only)' : ''}`,
  );
  const committedFile = runPaths(committedResultsDir(), p.preset, p.task, p.seed).results;
  const committedRec = readRecord(committedFile);
  const diff = committedRec ? configDiffValues(committedRec.config, cfg) : [];
  if (committedRec && !diff.length && !env.recomputeForced && !oodLengths) {
    console.log(
      `settings equal the committed run: reading ${path.relative(projectRoot(), committedFile)} (${sameKernelsNote(committedRec, backend)})`,
    );
    return new NotebookSession(
      p.preset,
      p.task,
      p.seed,
      cfg,
      oodLengths,
      env.small,
      committedResultsDir(),
      true,
      env.small,
    );
  }
  const dir = path.join(notebookRunsDir(), `${p.preset}-${settingsKey(cfg, oodLengths)}`);
  makeDir(dir);
  const settings = path.join(dir, 'settings.json');
  if (!fs.existsSync(settings))
    writeFileAtomic(
      settings,
      JSON.stringify(
        {
          preset: p.preset,
          config: cfg,
          oodLengths: oodLengths ?? null,
          differsFromPreset: configDiffValues(getConfig(p.preset), cfg),
        },
        null,
        1,
      ),
    );
  const why = !committedRec
    ? `no committed run of ${p.preset} ${p.task} seed ${p.seed}`
    : diff.length
      ? `settings differ from the committed run in ${diff.map((d) => `${d.key} (${JSON.stringify(d.a)} -> ${JSON.stringify(d.b)})`).join(', ')}`
      : 'recomputing as asked (GCG_NOTEBOOK_RECOMPUTE=1)';
  console.log(`${why}: results go to ${dir} (its settings.json says which settings)`);
  return new NotebookSession(p.preset, p.task, p.seed, cfg, oodLengths, env.small, dir, false, env.small);
}

/**
 * Whether what a notebook recomputes from a record comes out bit for bit the same here, and how to
 * make it so: the same backend and kernels (kernelsLabel, as the folder guard).
 */
export function sameKernelsNote(rec: RunRecord, now: { backend: string; kernels: KernelsName }): string {
  const was = kernelsLabel(rec.provenance);
  const is = kernelsLabel(now);
  const kernels = (label: string) => label.replace(/^wasm /, ''); // stock, or native(+fused): the retired family
  const where = `made on ${rec.provenance.backend}${rec.provenance.backend === 'wasm' ? ` with the ${kernels(was)} kernels` : ''}`;
  if (was === is) return `${where}, as now: what is recomputed here is bit for bit the same`;
  if (was.startsWith('wasm native'))
    return `${where}, the family retired in issue 42; these are ${kernels(is)}: what is recomputed here rounds differently, and this version cannot make it round as then`;
  return `${where}; this is ${is}: what is recomputed here rounds differently, GCG_BACKEND=${rec.provenance.backend} recomputes it bit for bit`;
}

/**
 * A trained model for (preset, task, seed) and its results record in the results store `dir`
 * (trained and analysed first if needed). A committed run's checkpoint may be missing: the model
 * is then retrained with the record's settings (same seed and settings give the same weights on
 * the same backend) and saved beside it.
 */
export function trainedRun(
  opts: Pick<RunOptions, 'dir' | 'preset' | 'task' | 'seed' | 'cfg' | 'oodLengths' | 'allowIdLengths'>,
): { model: Transformer; record: RunRecord; training: TrainingOutcome } {
  const { dir } = opts;
  const paths = runPaths(dir, opts.preset, opts.task, opts.seed);
  const t0 = Date.now();
  const log = (l: string) => console.log(`[${formatDuration(Date.now() - t0)}] ${l}`);
  const { record } = runOne({
    dir,
    preset: opts.preset,
    task: opts.task,
    seed: opts.seed,
    cfg: opts.cfg,
    oodLengths: opts.oodLengths,
    allowIdLengths: opts.allowIdLengths,
    log,
  });
  if (!fs.existsSync(paths.checkpoint)) {
    // The record's kernels too (committed results: stock), so that the weights are the ones it analysed.
    checkRedoable(record.provenance.kernels, `${paths.results}'s model`);
    log(
      `${paths.checkpoint} is not there: retraining ${opts.task} seed ${opts.seed} with the record's settings on stock kernels`,
    );
    const { model } = trainToCheckpoint({
      task: opts.task,
      seed: opts.seed,
      preset: opts.preset,
      cfg: record.config,
      checkpoint: paths.checkpoint,
      partial: paths.partial,
      log,
      onEval: (e) => log(`step ${e.step}: training-distribution exact match ${(100 * e.acc).toFixed(1)}%`),
    });
    return { model, record, training: record.training };
  }
  const ck = loadCheckpoint(paths.checkpoint);
  // The checkpoint must be this record's model, whatever its file name says.
  const problem = notRecordsModel(ck, record, paths.results);
  if (problem) {
    ck.model.dispose();
    throw new Error(
      `${paths.checkpoint} ${problem}; move it away and run this cell again to retrain the record's model`,
    );
  }
  return { model: ck.model, record, training: record.training };
}
