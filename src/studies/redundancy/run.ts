/**
 * The redundancy study's records (REDUNDANCY.md): for each analysed run of a results store, its
 * trained model (the checkpoint beside the record, or retrained from the record bit for bit:
 * runner/records-model.ts), on the record's own OOD length, evaluation set and ablation means,
 * through src/analysis/redundancy.ts: the named sets ablated together against their additive
 * prediction, the random-set null, every pair, Shapley values. Every preset's models are scored
 * one way, Eq. 2's as the paper's text reads it: paired on the fixed evaluation set (the record's
 * evalSamples sequences), heads mean-ablated before W_O (STUDY_SCORING); a set and its members are
 * always scored alike. The single effects are checked against the record's C (the same numbers
 * where the record was scored this way, the paper preset's; the authors' preset scored C unpaired
 * after W_O, so its C is not comparable: 'protocol').
 *
 * Each run writes `<out>/<preset>/<task>_seed<seed>.json`. Finished runs (same settings, same
 * format) are skipped; each run is taken under a lock, so several processes can share a store.
 * Runs go seed by seed, both tasks of a seed in turn, so a store cut off part way holds both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImportanceContext } from '../../analysis/context';
import { oodEvalSet } from '../../analysis/pipeline';
import { redundancyAnalysis, RedundancySettings } from '../../analysis/redundancy';
import { formatDuration } from '../../base/progress';
import { makeDir } from '../../io/files';
import { kernelsLabel, RunRecord } from '../../records/format';
import { provenance } from '../../records/provenance';
import { loadRecords, runPaths } from '../../records/store';
import { recordsModel } from '../../runner/records-model';
import { StudyRunsSummary, studyRuns } from '../../runner/study-runs';
import { ConfigError, PresetName } from '../../settings/config';
import type { TaskName } from '../../tasks';
import { REDUNDANCY_FORMAT, RedundancyRecord } from './record';

export interface RedundancyOptions {
  results: string;
  preset: PresetName;
  out: string;
  settings: RedundancySettings;
  /** Only these tasks' runs (default: every task the store holds). */
  tasks?: readonly TaskName[];
  /** Only these seeds' runs (default: every seed). */
  seeds?: readonly number[];
  lockStaleMinutes?: number;
  log?: (line: string) => void;
}

export type RedundancySummary = StudyRunsSummary;

/** The settings of the study record in `file` (null: none there, or not a record of this format, which a run replaces). */
function recordSettings(file: string): RedundancySettings | null {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as RedundancyRecord;
    return r.format === REDUNDANCY_FORMAT ? r.settings : null;
  } catch {
    return null;
  }
}

const sameSettings = (a: RedundancySettings | null, b: RedundancySettings) => JSON.stringify(a) === JSON.stringify(b);

/** The analysed runs of a store, seed by seed (each seed's tasks in turn). */
export function studyOrder(records: readonly RunRecord[]): RunRecord[] {
  const seeds = [...new Set(records.map((r) => r.seed))];
  return [...records].sort(
    (a, b) => seeds.indexOf(a.seed) - seeds.indexOf(b.seed) || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0),
  );
}

export function runRedundancy(opts: RedundancyOptions): RedundancySummary {
  const log = opts.log ?? ((l: string) => console.log(l));
  const sources = studyOrder(
    loadRecords(opts.results, opts.preset).filter(
      (r) =>
        r.analysis.status === 'analysed' &&
        (!opts.tasks || opts.tasks.includes(r.task)) &&
        (!opts.seeds || opts.seeds.includes(r.seed)),
    ),
  );
  if (!sources.length)
    throw new Error(
      `${path.join(opts.results, opts.preset)} holds no analysed run${opts.tasks ? ` of ${opts.tasks.join(', ')}` : ''}${opts.seeds ? ` with seed ${opts.seeds.join(', ')}` : ''}`,
    );
  // Records made with other settings are never replaced: refused before any work, naming them.
  const other = sources
    .map((rec) => runPaths(opts.out, opts.preset, rec.task, rec.seed).results)
    .filter((f) => {
      const had = recordSettings(f);
      return had !== null && !sameSettings(had, opts.settings);
    });
  if (other.length)
    throw new ConfigError(
      `--out: ${other.length} record(s) there were made with other settings (${other[0]}: ${JSON.stringify(recordSettings(other[0]))}; asked ${JSON.stringify(opts.settings)}); nothing was replaced: give the same --draws and --permutations, or another --out`,
    );
  makeDir(path.join(opts.out, opts.preset));
  return studyRuns({
    sources,
    store: opts,
    log,
    summary: { done: [], skipped: [], elsewhere: [], failed: [] } as RedundancySummary,
    skip: (_rec, file) => (sameSettings(recordSettings(file), opts.settings) ? 'skipped' : null),
    make: (rec) => redundancyRecord(rec, opts, log),
    wrote: (record) => {
      const d = record.cDiffering;
      const phases = Object.entries(record.result.timingsMs)
        .map(([k, ms]) => `${k} ${formatDuration(ms)}`)
        .join(', ');
      return `(analysis ${formatDuration(record.timingsMs.analysis)}: ${phases}; single effects ${d === 'protocol' ? "scored otherwise than the record's C" : `differ from the record's C in ${d.length} of ${record.components.length}`})`;
    },
  });
}

/** How the study scores every model, whatever its preset's protocol (the paper's text's Eq. 2). */
export const STUDY_SCORING = { paired: true, headAblation: 'before-WO' } as const;

/** One source record's model through the redundancy analysis. */
function redundancyRecord(rec: RunRecord, opts: RedundancyOptions, log: (line: string) => void): RedundancyRecord {
  const src = runPaths(opts.results, rec.preset, rec.task, rec.seed);
  const { model, checkpoint } = recordsModel(rec, opts.results, opts.lockStaleMinutes, log);
  try {
    const cfg = { ...rec.config.analysis, ...STUDY_SCORING };
    const length = rec.analysis.ood.length!;
    const ctx = new ImportanceContext({
      model,
      task: rec.task,
      length,
      cfg,
      seed: rec.seed,
      evalSet: oodEvalSet(rec.task, length, rec.seed, cfg.evalSamples),
    });
    const t0 = performance.now();
    const result = redundancyAnalysis(ctx, rec.analysis.classification!.classes, opts.settings, (phase) =>
      log(`  ${phase}`),
    );
    const baseline = ctx.baseline();
    ctx.release();
    const ids = rec.analysis.components;
    const C = rec.analysis.scores.C;
    const own = rec.config.analysis;
    const sameProtocol = own.paired === STUDY_SCORING.paired && own.headAblation === STUDY_SCORING.headAblation;
    return {
      format: REDUNDANCY_FORMAT,
      preset: rec.preset,
      task: rec.task,
      seed: rec.seed,
      settings: opts.settings,
      source: {
        file: src.results,
        commit: rec.provenance.gitCommit ?? null,
        trainedOn: kernelsLabel(rec.provenance),
        checkpoint,
      },
      config: rec.config,
      provenance: provenance(),
      scoring: { ...STUDY_SCORING, evalSamples: cfg.evalSamples },
      length,
      baseline,
      components: ids,
      G: rec.analysis.scores.G,
      C,
      classes: rec.analysis.classification!.classes,
      cDiffering: sameProtocol ? ids.filter((id) => result.single[id].acc !== C[id]) : 'protocol',
      result,
      timingsMs: { analysis: performance.now() - t0 },
    };
  } finally {
    model.dispose();
  }
}
