/**
 * The measures study (MEASURES.md): every registered cheap and causal measure on the trained model
 * of each finished run of a results store, on that run's own OOD length and data. Nothing is
 * retrained that is already trained: a run's checkpoint beside its record is used, else the model
 * is retrained from the record's settings on the record's kernels (bit for bit the model the
 * record analysed) and saved there. The measures run on the kernels of this process (recorded).
 *
 * Each run writes `<out>/<preset>/<task>_seed<seed>.json`, a results record (readable by every
 * report) with `remeasured` saying where it came from and how its G and C compare with the
 * record's. Finished runs are skipped; each run is taken under a lock, so any number of processes
 * (terminals, Slurm array tasks) can work through one store together.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkMeasures, listMeasures } from '../../analysis/registry';
import { analyzeModel } from '../../analysis/pipeline';
import { ExperimentConfig, PresetName } from '../../settings/config';
import { makeDir } from '../../io/files';
import { sealRecord } from '../../records/record-check';
import { KernelsName } from '../../kernels/tf';
import { formatDuration } from '../../base/progress';
import { provenance } from '../../records/provenance';
import { recordsModel } from '../../runner/records-model';
import { studyRuns } from '../../runner/study-runs';
import { inspectRecord, loadRecords, runPaths } from '../../records/store';
import { configDiffValues, kernelsLabel, Remeasured, RESULTS_FORMAT, RunRecord } from '../../records/format';

/** The measures the study computes besides the paper's pair (G, C): every registered one but the authors' variant of G (whose heads tie by layer). */
export function studyMeasures(): string[] {
  return listMeasures()
    .filter((m) => !m.paper && !m.authorsVariant)
    .map((m) => m.name);
}

/** Where a remeasured record came from, and how its G and C compare with the source record's. */
/** The analysis settings of the study for one source record: the record's own, every study measure, no variants, redraws or pruning. */
export function studyConfig(rec: RunRecord, measures: readonly string[]): ExperimentConfig {
  return { ...rec.config, analysis: { ...rec.config.analysis, measures: [...measures], variants: false, redraws: 0 } };
}

export interface StudyOptions {
  results: string; // the results store holding the source records (and checkpoints)
  preset: PresetName;
  out: string; // the study's store
  measures?: string[];
  /** Leave runs whose checkpoint is missing (default: retrain them from their records). */
  noRetrain?: boolean;
  lockStaleMinutes?: number;
  log?: (line: string) => void;
}

export interface StudySummary {
  done: string[];
  skipped: string[];
  elsewhere: string[];
  /** Runs left because their checkpoint is missing (noRetrain). */
  untrained: string[];
  failed: { file: string; error: string }[];
}

export function runStudy(opts: StudyOptions): StudySummary {
  const log = opts.log ?? ((l: string) => console.log(l));
  const measures = opts.measures ?? studyMeasures();
  checkMeasures(measures, '--measures');
  const sources = loadRecords(opts.results, opts.preset).filter((r) => r.analysis.status === 'analysed');
  if (!sources.length) throw new Error(`${path.join(opts.results, opts.preset)} holds no analysed run to remeasure`);
  makeDir(path.join(opts.out, opts.preset));
  return studyRuns({
    sources,
    store: opts,
    log,
    summary: { done: [], skipped: [], elsewhere: [], untrained: [], failed: [] } as StudySummary,
    skip: (rec, file) => {
      const existing = inspectRecord(file);
      if (existing.status === 'ok' && !configDiffValues(existing.record.config, studyConfig(rec, measures)).length)
        return 'skipped';
      if (opts.noRetrain && !fs.existsSync(runPaths(opts.results, rec.preset, rec.task, rec.seed).checkpoint))
        return 'untrained';
      return null;
    },
    starting: ': measuring',
    make: (rec) => remeasure(rec, studyConfig(rec, measures), opts, log),
    wrote: (record) => {
      const r = record.remeasured!;
      return `in ${formatDuration(record.timingsMs.analysis)} (G within ${r.gMaxRelDiff.toExponential(1)} of the record's, C differs in ${r.cDiffering.length} of ${record.analysis.components.length})`;
    },
  });
}

/** One source record remeasured: its trained model (reused or retrained), every measure, compared with the record. */
function remeasure(rec: RunRecord, cfg: ExperimentConfig, opts: StudyOptions, log: (line: string) => void): RunRecord {
  const src = runPaths(opts.results, rec.preset, rec.task, rec.seed);
  const trainingKernels: KernelsName = rec.provenance.kernels === 'native' ? 'native' : 'stock';
  const { model, checkpoint } = recordsModel(rec, opts.results, opts.lockStaleMinutes, log);
  const t0 = performance.now();
  // The record's own candidate lengths, in the order tried (one random stream runs through them).
  const oodLengths = Object.keys(rec.analysis.ood.accuracies).map(Number);
  const analysis = analyzeModel({
    model,
    task: rec.task,
    seed: rec.seed,
    cfg: cfg.analysis,
    oodLengths,
    noPruning: true,
    onPhase: (p) => log(`  ${p}`),
  });
  if (rec.analysis.ood.withinTraining) analysis.ood.withinTraining = true;
  model.dispose();
  const ids = analysis.components;
  const G0 = rec.analysis.scores.G;
  const scale = Math.max(...ids.map((id) => Math.abs(G0[id])));
  const remeasured: Remeasured = {
    source: src.results,
    sourceCommit: rec.provenance.gitCommit ?? null,
    trainingKernels,
    trainedOn: kernelsLabel(rec.provenance),
    checkpoint,
    sameOodLength: analysis.ood.length === rec.analysis.ood.length,
    gMaxRelDiff: Math.max(...ids.map((id) => Math.abs((analysis.scores.G?.[id] ?? NaN) - G0[id]))) / scale,
    cDiffering: ids.filter((id) => analysis.scores.C?.[id] !== rec.analysis.scores.C[id]),
  };
  return sealRecord({
    format: RESULTS_FORMAT,
    preset: rec.preset,
    task: rec.task,
    seed: rec.seed,
    config: cfg,
    provenance: provenance(),
    training: rec.training,
    analysis,
    timingsMs: { train: 0, analysis: performance.now() - t0 },
    remeasured,
  });
}
