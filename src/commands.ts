/**
 * The commands' work (`gcg <command>`): each checks what it was given before any work starts, then
 * trains, analyses, or writes reports. Loaded by src/cli.ts only once a command line has parsed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeRho } from './analysis/ranks';
import { checkMeasures, listMeasures } from './analysis/registry';
import { runStudy } from './study';
import { checkOodLengths } from './analysis/ood';
import { analyzeModel } from './analysis/pipeline';
import { describeBackend, initBackend } from './backend';
import { CheckpointError, loadCheckpoint, readCheckpointHeader } from './checkpoint';
import {
  checkPreset,
  checkTask,
  checkTaskConfig,
  ConfigError,
  ExperimentConfig,
  parseOverrides,
  PresetName,
  PRESETS,
  TaskName,
  TASKS,
} from './config';
import { checkOutputDir, checkOutputFile, checkReadableDir, WriteBatch, writeFileAtomic } from './files';
import { exportFigures } from './report/export';
import { paperFigures } from './report/figures';
import { measuresStudy } from './report/measures';
import { measuresFigures } from './report/measures-figures';
import { measuresReport } from './report/measures-report';
import { printTables } from './report/frames';
import { loadReproductionInput, reproductionReport } from './report/reproduction';
import { allTables } from './report/tables';
import { checkRunConflicts } from './conflicts';
import { checkOneSettings, configDiff, readRecord, reanalyze, runOne, runPaths, RunRecord, scanRecords, trainOne, TrainingOutcome, warnRejected } from './results';
import { describeEstimate, estimateRun, measureStepMs } from './estimate';
import { formatDuration } from './progress';
import { DEMO_OVERRIDES, describeDemo, describeDemoFiles, runDemo } from './demo';
import { complexityStudy, loadStores } from './report/complexity';
import { complexityFigures } from './report/complexity-figures';
import { complexityReport } from './report/complexity-report';
import { describeJobs, sweep, sweepBatches, sweepJob, sweepJobs } from './sweep';
import { runBatch } from './run-batch';
import { checkStudyKernels, stabilityJobs } from './stability';
import { loadStability, stabilityStudy } from './report/stability';
import { stabilityFigures } from './report/stability-figures';
import { stabilityReport } from './report/stability-report';
import { verifyStore } from './verify';
import { resolveRun, resolveSettings } from './run-spec';
import { checkSize, SIZES } from './sizes';
import { Opts, parseInt1, parseIntList, parseLockStale, parseSeed } from './cli-args';
import { getTask } from './tasks';
import { describeStop, TrainResult } from './train';

/** The candidate OOD lengths (undefined: each task's own), checked against the run's configuration and tasks before any work. */
function oodLengths(opts: Opts, cfg?: ExperimentConfig, tasks: readonly TaskName[] = []): number[] | undefined {
  const given = opts['ood-lengths'] === undefined ? undefined : parseIntList('--ood-lengths', opts['ood-lengths'], 1, 99);
  if (cfg) {
    for (const task of tasks) checkTaskConfig(task, cfg);
    checkMeasures(cfg.analysis.measures);
    for (const lengths of given ? [given] : tasks.map((t) => getTask(t).oodLengths)) checkOodLengths(lengths, cfg, !!opts['allow-id-lengths']);
  }
  return given;
}

/** An existing folder to read results from: an error naming --results if it is missing or not a folder. */
function resultsToRead(dir: string): string {
  checkReadableDir('--results', dir);
  if (!fs.existsSync(dir)) throw new ConfigError(`--results: ${JSON.stringify(dir)} does not exist; allowed: a results folder (made by run or sweep)`);
  if (!fs.statSync(dir).isDirectory()) throw new ConfigError(`--results: ${JSON.stringify(dir)} is a file; allowed: a results folder (made by run or sweep)`);
  return dir;
}

/** The finished runs of a preset in a results folder; an error naming --results when there are none. Files not counted are named. */
function finishedRuns(dir: string, preset: PresetName): RunRecord[] {
  checkReadableDir('--results', path.join(resultsToRead(dir), preset));
  const { records, rejected } = scanRecords(dir, preset);
  warnRejected(rejected);
  checkOneSettings(path.join(dir, preset), records);
  if (!records.length) {
    throw new ConfigError(`--results: ${JSON.stringify(dir)} holds no finished run of preset ${preset}${rejected.length ? ` (${rejected.length} file(s) not counted, named above)` : ''}; allowed: a folder with <preset>/<task>_seed<seed>.json files (run a sweep first)`);
  }
  return records;
}

async function runTrain(opts: Opts): Promise<TrainResult> {
  // Validate everything, the output folder included, before any work.
  const { task, seed, preset, cfg } = resolveRun({ preset: opts.preset, task: opts.task, seed: parseSeed(opts.seed), settings: opts.set });
  const out = checkOutputDir('--out', opts.out);
  const info = await initBackend();
  console.log(describeBackend(info));
  console.log(`train preset=${preset} task=${task} seed=${seed} model=L${cfg.model.nLayers}xH${cfg.model.nHeads} d=${cfg.model.dModel}`);
  const { result, checkpoint, record } = trainOne({
    out,
    preset,
    task,
    seed,
    cfg,
    replace: opts.replace,
    log: (l) => console.log(l),
    onEval: (e) => console.log(`  step ${e.step}: training-distribution exact match ${(100 * e.acc).toFixed(1)}%`),
  });
  console.log(`${describeStop(result.stopReason, result.steps, cfg)} in ${(result.wallMs / 1000).toFixed(1)} s (${result.msPerStep.toFixed(1)} ms/step on ${info.backend})`);
  console.log(`wrote ${checkpoint} and ${record}`);
  return result;
}

async function runDemoCommand(opts: Opts): Promise<void> {
  const { task, seed, preset, cfg } = resolveRun({ preset: opts.preset, task: opts.task, seed: parseSeed(opts.seed), settings: [...DEMO_OVERRIDES, ...opts.set] });
  const lengths = oodLengths(opts, cfg, [task]);
  const out = checkOutputDir('--out', path.join(opts.out, 'demo'));
  if (!opts.replace) checkRunConflicts(out, preset, task, seed, cfg);
  const info = await initBackend();
  console.log(describeBackend(info));
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  console.log(
    `demo: the paper's analysis of one model, end to end: preset ${preset}, ${task}, seed ${seed}, ` +
      `a ${cfg.model.nLayers}-layer ${cfg.model.nHeads}-head d_model ${cfg.model.dModel} transformer, ${info.kernels} kernels`,
  );
  // The time it will take, measured now (a few training steps) rather than asserted.
  const done = readRecord(runPaths(out, preset, task, seed).results);
  console.log(done && !configDiff(done.config, cfg).length ? 'already computed: reading it (seconds)' : `estimated ${describeEstimate(estimateRun({ cfg, preset, task, msPerStep: measureStepMs(cfg, task) }))}`);
  const r = await runDemo({ dir: out, preset, task, seed, cfg, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], replace: opts.replace, mixKernels: opts['mix-kernels'], log: (l) => console.log(l) });
  for (const l of [...describeDemo(r.record), ...describeDemoFiles(r.files)]) console.log(l);
  const cpu = process.cpuUsage(cpu0);
  console.log(`took ${formatDuration(Date.now() - t0)} wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU (${info.kernels} kernels, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores)`);
}

function describeAnalysis(a: ReturnType<typeof analyzeModel>): string {
  if (a.status === 'skipped') return `skipped: ${a.reason}`;
  const c = a.classification!;
  const name = (cls: string) => a.components.filter((_, i) => c.classes[i] === cls).join(' ') || '-';
  const lines = [
    `${a.ood.withinTraining ? 'evaluation length (inside the training lengths, not out of distribution)' : 'OOD length'} ${a.ood.length} (accuracy ${(100 * a.ood.accuracies[a.ood.length!]).toFixed(1)}%), baseline ${(100 * a.baseline!).toFixed(1)}%`,
    `rho = ${describeRho(c.rho, a.scores)}; Hidden Heroes: ${name('HiddenHero')}; Gradient Bloats: ${name('GradientBloat')}`,
  ];
  if (a.pruning) {
    const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
    const p = a.pruning.ood;
    lines.push(`pruning (OOD): baseline ${pct(p.baseline)}, Heroes pruned ${pct(p.heroesPruned)}, Bloats pruned ${pct(p.bloatsPruned)}`);
  }
  lines.push(`phases: ${Object.entries(a.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
  return lines.join('\n');
}

async function runRun(opts: Opts): Promise<number | void> {
  if (opts.seeds) return runSeeds(opts);
  const { task, seed, preset, cfg } = resolveRun({ preset: opts.preset, task: opts.task, seed: parseSeed(opts.seed), settings: opts.set });
  const lengths = oodLengths(opts, cfg, [task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  checkOutputDir('--results', path.join(dir, preset));
  if (!opts.replace) checkRunConflicts(dir, preset, task, seed, cfg);
  console.log(describeBackend(await initBackend()));
  const { record, skipped } = runOne({
    dir, preset, task, seed, cfg, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], replace: opts.replace, lockStaleMinutes, mixKernels: opts['mix-kernels'], log: (l) => console.log(l),
  });
  const paths = runPaths(dir, preset, task, seed);
  console.log(skipped ? `already finished: ${paths.results}` : `${describeAnalysis(record.analysis)}\nwrote ${paths.results} (the trained model: ${paths.checkpoint})`);
}

/** `run --seeds A,B,C`: the seeds trained stacked, then each analysed (src/run-batch.ts). */
async function runSeeds(opts: Opts): Promise<number> {
  const seeds = parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1);
  if (new Set(seeds).size !== seeds.length) throw new ConfigError(`--seeds: got ${JSON.stringify(opts.seeds)}, which repeats a seed; allowed: distinct seeds`);
  const runs = seeds.map((seed) => resolveRun({ preset: opts.preset, task: opts.task, seed, settings: opts.set }));
  const { task, preset, cfg } = runs[0];
  const lengths = oodLengths(opts, cfg, [task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  checkOutputDir('--results', path.join(dir, preset));
  if (!opts.replace) for (const seed of seeds) checkRunConflicts(dir, preset, task, seed, cfg);
  console.log(describeBackend(await initBackend()));
  const outcomes = runBatch({
    dir, preset, task, seeds, cfg, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], replace: opts.replace, lockStaleMinutes, mixKernels: opts['mix-kernels'], log: (l) => console.log(l),
  });
  for (const o of outcomes) {
    const file = runPaths(dir, preset, task, o.seed).results;
    if (o.record) console.log(o.skipped ? `seed ${o.seed}: already finished: ${file}` : `seed ${o.seed}: ${describeAnalysis(o.record.analysis)}\nwrote ${file}`);
    else if (o.elsewhere) console.log(`seed ${o.seed}: in progress elsewhere (${o.elsewhere}): left to that process`);
    else console.error(`FAILED: ${task} seed ${o.seed}: ${o.error}`);
  }
  return outcomes.some((o) => o.error) ? 1 : 0;
}

/** `sweep`, and `stability` (the stability study's grid of replicas: src/stability.ts), which is run as a sweep. */
async function runSweep(opts: Opts, study: 'stability' | null = null): Promise<number> {
  const { preset, cfg } = resolveSettings(opts.preset, opts.set);
  const tasks = opts.tasks.split(',').map((t) => checkTask(t.trim()));
  if (new Set(tasks).size !== tasks.length) throw new ConfigError(`--tasks: got ${JSON.stringify(opts.tasks)}, which repeats a task; allowed: distinct tasks among ${TASKS.join(', ')}`);
  const seeds = parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1);
  const sizes = opts.sizes === undefined ? undefined : opts.sizes.split(',').map((s) => checkSize(s.trim()));
  if (sizes && new Set(sizes).size !== sizes.length) throw new ConfigError(`--sizes: got ${JSON.stringify(opts.sizes)}, which repeats a size; allowed: distinct sizes among ${SIZES.join(', ')}`);
  const workers = parseInt1('--workers', opts.workers, 1, 64);
  const index = opts.index === undefined ? undefined : parseInt1('--index', opts.index, 0, 1_000_000);
  const seedsPerJob = opts['seeds-per-job'] === undefined ? 1 : parseInt1('--seeds-per-job', opts['seeds-per-job'], 1, 1000);
  if (index !== undefined && workers > 1) throw new ConfigError(`--workers: got ${workers} with --index, which runs one job; allowed: 1 (start more array tasks instead)`);
  const grid = { dir: opts.results, preset, tasks, seeds, sizes, overrides: opts.set };
  const replicas = study ? parseInt1('--replicas', opts.replicas ?? '', 1, 1000) : 0;
  // Checks every size's (every replica's) settings.
  const jobs = study ? stabilityJobs({ ...grid, replicas }) : sweepJobs(grid);
  const units = sweepBatches(jobs, seedsPerJob);
  const gridName = study ? 'replicas x tasks x seeds' : 'sizes x tasks x seeds';
  const chosen = index === undefined ? jobs : sweepJob(units, index, seedsPerJob > 1 ? `batches of up to ${seedsPerJob} seeds of one ${study ? 'replica' : 'size'} and task` : gridName);
  if (opts.list) {
    const what = seedsPerJob > 1 ? `jobs of up to ${seedsPerJob} seeds trained stacked (${jobs.length} runs)` : `jobs (${gridName})`;
    console.log(`${units.length} ${what}; a Slurm array: ${study ? 'GCG_COMMAND=stability ' : ''}sbatch --array=0-${units.length - 1} scripts/slurm/sweep.sbatch <these options>`);
    console.log(`index  ${study ? 'replica' : 'size   '}  task       seed       state in ${opts.results}`);
    for (const line of describeJobs(units, preset)) console.log(line);
    return 0;
  }
  // The candidate OOD lengths against every size's settings and every task, before any work.
  const lengths = oodLengths(opts, cfg, tasks);
  for (const j of jobs) oodLengths(opts, j.cfg, [j.task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  for (const d of new Set(chosen.map((j) => path.join(j.dir, preset)))) checkOutputDir('--results', d);
  console.log(describeBackend(await initBackend()));
  if (study) checkStudyKernels(jobs, preset, opts['mix-kernels']);
  const s = await sweep({ ...grid, ...(study ? { jobs } : {}), dir, index, seedsPerJob, workers, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], replace: opts.replace, lockStaleMinutes, mixKernels: opts['mix-kernels'] });
  console.log(
    `sweep finished: ${s.done} done, ${s.skipped} already there, ${s.elsewhere.length} in progress elsewhere, ${s.failed.length} failed, in ${(s.wallMs / 1000).toFixed(1)} s` +
      (s.elsewhere.length ? '\n(runs in progress elsewhere are left to their process; run the sweep again later to check they finished)' : ''),
  );
  for (const f of s.failed) console.error(`FAILED: ${f.size ? `${f.size} ` : ''}${f.group ? `${f.group} ` : ''}${f.task} seed ${f.seed}: ${f.error}`);
  return s.failed.length ? 1 : 0;
}

async function runAnalyze(opts: Opts): Promise<number> {
  const sets = parseOverrides(opts.set);
  const training = Object.keys(sets).filter((k) => k !== 'analysis');
  if (training.length) throw new ConfigError(`--set ${training.join(', ')}.*: analyze changes only analysis.* settings (the models are already trained)`);
  const lockStaleMinutes = parseLockStale(opts);
  if (!opts.checkpoint) {
    const preset = checkPreset(opts.preset);
    const lengths = oodLengths(opts);
    const sub = path.join(resultsToRead(opts.results), preset);
    if (!fs.existsSync(sub)) throw new ConfigError(`--results: ${JSON.stringify(opts.results)} has no folder for preset ${preset}; allowed: a results folder holding ${preset}/<task>_seed<seed>.ckpt`);
    checkOutputDir('--results', sub);
    console.log(describeBackend(await initBackend()));
    const { records, failures } = reanalyze({
      dir: opts.results, preset, analysis: sets.analysis ?? {}, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], lockStaleMinutes, log: (l) => console.log(l),
    });
    console.log(`re-analysed ${records.length} runs of preset ${preset} in ${opts.results}`);
    if (!records.length && !failures.length) throw new ConfigError(`--results: ${JSON.stringify(sub)} holds no trained checkpoint (<task>_seed<seed>.ckpt) to re-analyse`);
    for (const f of failures) console.error(`FAILED: ${f.file}: ${f.reason}`);
    if (failures.length) console.error(`${failures.length} of ${records.length + failures.length} checkpoints could not be re-analysed (listed above); the others were`);
    return failures.length ? 1 : 0;
  }
  if (!fs.existsSync(opts.checkpoint)) throw new ConfigError(`--checkpoint: ${JSON.stringify(opts.checkpoint)} does not exist; allowed: a .ckpt file written by train, run or sweep`);
  try {
    readCheckpointHeader(opts.checkpoint); // a file that is no checkpoint is bad input (exit 2), before any work
  } catch (e) {
    if (e instanceof CheckpointError) throw new ConfigError(`--checkpoint: ${e.message.replace(/^checkpoint /, '')}; allowed: a .ckpt file written by train, run or sweep`);
    throw e;
  }
  console.log(describeBackend(await initBackend()));
  const ck = loadCheckpoint(opts.checkpoint);
  // The model's own settings, with the analysis settings given: resolved as any run is.
  const { task, cfg } = resolveRun({
    preset: String(ck.meta.preset), task: String(ck.meta.task), seed: Number(ck.meta.seed),
    settings: { ...ck.config, analysis: { ...ck.config.analysis, ...(sets.analysis ?? {}) } },
  });
  const lengths = oodLengths(opts, cfg, [task]);
  const outcome = ck.meta.training as TrainingOutcome | undefined;
  const untrained = outcome && !outcome.reachedTarget
    ? `warning: this model never reached the training target (train.targetAcc=${cfg.train.targetAcc}): it stopped at step ${outcome.steps} (${outcome.stopReason}) with training-distribution exact match ${outcome.finalAcc === null ? 'unknown' : `${(100 * outcome.finalAcc).toFixed(1)}%`}; the paper analyses trained models only, so read rho and the classes below as those of an unfinished model`
    : null;
  if (untrained) console.error(untrained);
  const a = analyzeModel({ model: ck.model, task, seed: Number(ck.meta.seed), cfg: cfg.analysis, oodLengths: lengths, onPhase: (p) => console.log(`  ${p}...`) });
  if ((lengths ?? getTask(task).oodLengths).some((n) => n <= cfg.data.maxLen)) a.ood.withinTraining = true;
  console.log(describeAnalysis(a));
  if (untrained) console.error(untrained.replace(/; the paper .*$/, '; the numbers above are of an unfinished model'));
  ck.model.dispose();
  return 0;
}

/** The measures study over a preset's analysed runs (src/study.ts). */
async function runMeasures(opts: Opts): Promise<number> {
  if (opts.list) {
    await initBackend();
    for (const m of listMeasures()) console.log(`${m.name.padEnd(22)}${m.kind.padEnd(8)}${m.description}`);
    return 0;
  }
  const preset = checkPreset(opts.preset);
  const measures = opts.measures === undefined ? undefined : opts.measures.split(',').map((x) => x.trim()).filter(Boolean);
  if (measures) checkMeasures(measures, '--measures');
  const out = checkOutputDir('--out', opts.out);
  const lockStaleMinutes = parseLockStale(opts);
  console.log(describeBackend(await initBackend()));
  const s = runStudy({ results: opts.results, preset, out, measures, noRetrain: opts['no-retrain'], lockStaleMinutes });
  console.log(`measures study, preset ${preset}: ${s.done.length} measured, ${s.skipped.length} already done, ${s.elsewhere.length} in progress elsewhere, ${s.untrained.length} left untrained (--no-retrain), ${s.failed.length} failed`);
  for (const f of s.failed) console.error(`FAILED: ${f.file}: ${f.error}`);
  return s.failed.length ? 1 : 0;
}

/** MEASURES.md and its figures from the study's records. */
async function runMeasuresReport(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const file = checkOutputFile('--report', opts.report);
  const figDir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'measures'));
  const { records, rejected } = scanRecords(opts.study!, preset);
  warnRejected(rejected);
  checkOneSettings(path.join(opts.study!, preset), records);
  if (!records.length) throw new ConfigError(`--study: ${JSON.stringify(path.join(opts.study!, preset))} holds no record of the measures study (run gcg measures first); ${file} was not rewritten`);
  await initBackend();
  const study = measuresStudy(records);
  const batch = new WriteBatch(); // the report and its figures replace the old ones together
  const r = await exportFigures(measuresFigures(records, study), figDir, { batch, log: (l) => console.log(l) });
  const rel = (f: string) => path.relative(path.dirname(path.resolve(file)), path.resolve(f)).split(path.sep).join('/');
  batch.add(file, measuresReport(study, { figures: r.written.map(rel), source: opts.study })).commit();
  console.log(`wrote ${file} from ${records.length} records in ${opts.study} and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`);
  return 0;
}

/** COMPLEXITY.md and its figures from the records of one or more stores. */
async function runComplexityReport(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const file = checkOutputFile('--report', opts.report);
  const figDir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'complexity'));
  const stores = opts.results.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of stores) resultsToRead(s);
  const { records, rejected, duplicates, folders } = loadStores(stores, preset, { mixKernels: opts['mix-kernels'] });
  warnRejected(rejected);
  for (const d of duplicates) console.error(`note: ${d} is also in an earlier store: the earlier one is used`);
  if (!records.length) throw new ConfigError(`--results: ${stores.map((s) => JSON.stringify(s)).join(', ')} hold no finished run of preset ${preset} (in <store>/${preset}/ or <store>/<size>/${preset}/); ${file} was not rewritten`);
  await initBackend(); // the measure registry names each measure's kind
  const study = complexityStudy(records);
  const batch = new WriteBatch(); // the report and its figures replace the old ones together
  const r = await exportFigures(complexityFigures(study), figDir, { batch, log: (l) => console.log(l) });
  const rel = (f: string) => path.relative(path.dirname(path.resolve(file)), path.resolve(f)).split(path.sep).join('/');
  batch.add(file, complexityReport(study, { figures: r.written.map(rel), sources: folders.map((f) => f.split(path.sep).join('/')) })).commit(); // the folders as --results named them
  console.log(`wrote ${file} from ${records.length} records in ${folders.length} folders and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`);
  return 0;
}

/** STABILITY.md and its figures from the stability study's records (and the kernels store's, part a). */
async function runStabilityReport(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const file = checkOutputFile('--report', opts.report);
  const figDir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', 'stability'));
  const study = opts.study!;
  checkReadableDir('--study', study);
  const kernels = opts.kernels === '' || opts.kernels === undefined ? null : opts.kernels;
  if (kernels) checkReadableDir('--kernels', kernels);
  const { input, rejected, notes } = loadStability(study, preset, kernels);
  warnRejected(rejected);
  for (const n of notes) console.error(`note: ${n}`);
  if (!input.runs.length) throw new ConfigError(`--study: ${JSON.stringify(study)} holds no record of the stability study (in <study>/<replica>/${preset}/; run gcg stability first); ${file} was not rewritten`);
  await initBackend();
  const s = stabilityStudy(input);
  const batch = new WriteBatch(); // the report and its figures replace the old ones together
  const r = await exportFigures(stabilityFigures(s), figDir, { batch, log: (l) => console.log(l) });
  const rel = (f: string) => path.relative(path.dirname(path.resolve(file)), path.resolve(f)).split(path.sep).join('/');
  batch.add(file, stabilityReport(s, { figures: r.written.map(rel), source: study.split(path.sep).join('/'), kernelsSource: kernels && input.kernelRuns.length ? kernels.split(path.sep).join('/') : null })).commit();
  console.log(`wrote ${file} from ${input.runs.length} records in ${study}${input.kernelRuns.length ? ` and ${input.kernelRuns.length} in ${kernels}` : ''}, and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`);
  return 0;
}

/** Runs one parsed command; its exit status. */
export async function runCommand(command: string, opts: Opts): Promise<number> {
  switch (command) {
    case 'train':
      (await runTrain(opts)).model.dispose();
      return 0;
    case 'demo':
      await runDemoCommand(opts);
      return 0;
    case 'run':
      return (await runRun(opts)) ?? 0;
    case 'sweep':
      return await runSweep(opts);
    case 'stability':
      return await runSweep(opts, 'stability');
    case 'analyze':
      return await runAnalyze(opts);
    case 'tables': {
      const preset = checkPreset(opts.preset);
      if (opts.csv !== undefined) checkOutputDir('--csv', opts.csv);
      const records = finishedRuns(opts.results, preset);
      console.log(`${records.length} results for preset ${preset} in ${opts.results}`);
      const files = printTables(allTables(records), opts.csv);
      if (files.length) console.log(`\nwrote ${files.join(', ')}`);
      return 0;
    }
    case 'figures': {
      const preset = checkPreset(opts.preset);
      const dir = checkOutputDir('--fig-dir', opts['fig-dir'] ?? path.join('figures', preset));
      const records = finishedRuns(opts.results, preset);
      const r = await exportFigures(paperFigures(records), dir, { log: (l) => console.log(l) });
      console.log(`wrote ${r.written.length} files to ${dir}${r.imagesSkipped ? `\nSVG/PNG/PDF skipped: ${r.imagesSkipped}` : ''}`);
      return 0;
    }
    case 'reproduction': {
      const file = checkOutputFile('--report', opts.report);
      const input = loadReproductionInput(resultsToRead(opts.results), 'figures', path.dirname(file));
      warnRejected(input.rejected ?? []);
      const n = Object.values(input.presets).reduce((a, r) => a + (r?.length ?? 0), 0);
      if (!n) throw new ConfigError(`--results: ${JSON.stringify(opts.results)} holds no finished run of any preset (${PRESETS.join(', ')}); ${file} was not rewritten`);
      writeFileAtomic(file, reproductionReport(input) + '\n');
      console.log(`wrote ${file} from ${n} results in ${opts.results} (${input.ablations?.length ?? 0} ablation sweeps)`);
      return 0;
    }
    case 'measures':
      return await runMeasures(opts);
    case 'measures-report':
      return await runMeasuresReport(opts);
    case 'complexity-report':
      return await runComplexityReport(opts);
    case 'stability-report':
      return await runStabilityReport(opts);
    case 'verify': {
      const v = verifyStore(resultsToRead(opts.results), { seal: opts.seal });
      for (const p of v.problems) console.error(`PROBLEM: ${p.file}: ${p.problem}`);
      console.log(
        `verified ${v.records} results files and ${v.checkpoints} checkpoints in ${v.folders.length} folders under ${opts.results}: ${v.problems.length} problem(s)` +
          (v.sealed.length ? `; sealed ${v.sealed.length} records` : v.unsealed ? `; ${v.unsealed} valid records carry no seal (--seal adds it)` : ''),
      );
      return v.problems.length ? 1 : 0;
    }
    case 'config':
      console.log(JSON.stringify(resolveSettings(opts.preset, opts.set).cfg, null, 2));
      return 0;
    case 'backend':
      console.log(describeBackend(await initBackend()));
      return 0;
    default:
      return 2;
  }
}
