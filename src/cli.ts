#!/usr/bin/env node
/**
 * Command-line entry point: `gcg <command> [options]` (or `node dist/src/cli.js ...`).
 * Every command prints the backend it runs on; every file it writes records it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { checkMeasures, listMeasures } from './analysis/importance';
import { runStudy } from './study';
import { checkOodLengths } from './analysis/ood';
import { analyzeModel } from './analysis/pipeline';
import { describeBackend, initBackend } from './backend';
import { CheckpointError, loadCheckpoint, readCheckpointHeader } from './checkpoint';
import {
  checkPreset,
  checkSeed,
  checkTask,
  checkTaskConfig,
  ConfigError,
  describeSettings,
  ExperimentConfig,
  getConfig,
  PAPER_SEEDS,
  PAPER_TASKS,
  parseOverrides,
  PresetName,
  PRESETS,
  TaskName,
  TASKS,
} from './config';
import { checkOutputDir, checkOutputFile, checkReadableDir, cleanStaleTemps, WriteBatch, writeFileAtomic } from './files';
import { exitCodeOf, InterruptedError, runCleanups, watchSignals } from './interrupt';
import { DEFAULT_STALE_MINUTES, EXIT_LOCKED, RunLock, RunLockedError } from './lock';
import { provenance } from './provenance';
import { exportFigures } from './report/export';
import { paperFigures } from './report/figures';
import { measuresStudy } from './report/measures';
import { measuresFigures } from './report/measures-figures';
import { measuresReport } from './report/measures-report';
import { printTables } from './report/frames';
import { loadReproductionInput, reproductionReport } from './report/reproduction';
import { allTables } from './report/tables';
import { checkCheckpointConflict, checkOneSettings, checkRunConflicts, reanalyze, RunConflictError, runOne, runPaths, RunRecord, scanRecords, trainingOutcome, trainToCheckpoint, warnRejected } from './results';
import { DEMO_OVERRIDES, describeDemo, describeDemoFiles, runDemo } from './demo';
import { complexityStudy, loadStores } from './report/complexity';
import { complexityFigures } from './report/complexity-figures';
import { complexityReport } from './report/complexity-report';
import { describeJobs, sweep, sweepJob, sweepJobs } from './sweep';
import { verifyStore } from './verify';
import { checkSize, SIZES } from './sizes';
import { getTask } from './tasks';
import { describeStop, TrainingDivergedError, TrainResult } from './train';

const HELP = `gradient-causal-gap: reproduce "The Gradient-Causal Gap" in TypeScript + TensorFlow.js

Usage: gcg <command> [options]      (from a checkout: node dist/src/cli.js <command> ...)

Commands
  train     Train one (task, seed) to a checkpoint and a JSON record
  demo      The main job: one seed (default: reversal, seed 42) trained and analysed the paper's
            way; prints G and C per component, rho, the Hidden Heroes and Gradient Bloats, and
            writes that seed's Figure 1 (<out>/demo/; ~4 min on 2 cores)
  run       Train + analyse one (task, seed) into <results>/<preset>/<task>_seed<seed>.json
  sweep     run over tasks x seeds (x --sizes); skips finished runs, redoes unfinished ones;
            --list numbers the grid's jobs, --index I runs job I (one Slurm array task:
            scripts/slurm/sweep.sbatch)
  analyze   Re-run the analysis on trained models, no retraining: every checkpoint of a preset
            in the results store (rewrites its results files), or one --checkpoint FILE (prints)
  tables    Tables 1-6 from the results store (--results DIR, --preset P); --csv DIR writes CSVs
  figures   Figures 1-4 and training curves from the results store, as HTML, SVG and PNG
            (--fig-dir DIR, default figures/<preset>; SVG/PNG need Chromium, see environment.md)
  measures  The measures study: every cheap and causal measure on the trained model of each
            analysed run of a preset (its checkpoint, or retrained from its record) into
            <out>/<preset>/ (default out: results/measures); start it in several terminals to
            use more cores; --list names the measures
  measures-report  MEASURES.md and figures/measures/ from the study's records (--study DIR)
  complexity-report  COMPLEXITY.md and figures/complexity/: rho against task complexity and model
            size, with trend tests, from the records in --results (comma-separated stores; each
            <store>/<preset>/ and <store>/<size>/<preset>/; default results/complexity,results/measures)
  reproduction  REPRODUCTION.md: the paper's tables, figures and claims beside ours under both
            presets, with bootstrap intervals and verdicts (--results DIR, --report FILE)
  verify    Check every results file and checkpoint under --results (default results) as every
            reader does: name, folder, shape, Eq. 3 recomputed, seal, checkpoint identity;
            --seal adds the seal to valid records written before seals (exit 1 on any problem)
  config    Print the resolved configuration of a preset (with --set overrides) as JSON
  backend   Print which TensorFlow.js backend loads here
  help      This text

Options
  --task T        ${TASKS.join(' | ')}
                  (train, run; default sort; demo: reverse)
  --seed N        integer seed                            (train; default 42)
  --preset P      ${PRESETS.join(' | ')}: paper = the paper's text where explicit;
                  authors = the authors' published code, choice for choice  (default paper)
  --set key=val   override one setting, repeatable, e.g. --set model.nLayers=2 (list below)
  --out DIR       where train/demo write                  (default runs)
  --results DIR   results store for run/sweep             (default results)
  --tasks A,B     sweep: tasks                            (default reverse,sort)
  --seeds A,B     sweep: seeds                            (default the paper's 10)
  --workers N     sweep: parallel worker processes        (default 1)
  --sizes A,B     sweep: model sizes (layers x d_model), each into <results>/<size>/<preset>/:
                  ${SIZES.join(', ')}; l4-d128 is the paper's model  (default: none)
  --index I       sweep: run only job I of the grid (0-based; sizes, then tasks, then seeds)
  --list          sweep: number the grid's jobs with their state and stop; measures: list the measures
  --ood-lengths   candidate OOD lengths, comma-separated, each longer than data.maxLen  (default 8,9,10,11)
  --allow-id-lengths  let --ood-lengths lie inside the training lengths (tiny test models that do
                  not generalise; the run records it and is never called out of distribution)
  --replace       run/sweep/train: redo work in the output folder made with other settings
                  (default: refuse, naming the settings that differ)
  --lock-stale M  run/sweep/analyze/measures: minutes without a heartbeat after which another
                  process's lock on a run may be taken over (this process's setting decides;
                  a holder on this machine that no longer runs is taken over at once)  (default ${DEFAULT_STALE_MINUTES})
  --mix-kernels   run/sweep/demo: add runs to a folder whose work was made on other kernels or another
                  backend (default: refuse; one folder, one kind of kernels)
  --checkpoint F  analyze: the checkpoint to analyse
  --csv DIR       tables: also write table1.csv .. table6.csv there
  --fig-dir DIR   figures: output folder                  (default figures/<preset>)
  --report FILE   reproduction: the report to write       (default REPRODUCTION.md);
                  measures-report: default MEASURES.md; complexity-report: COMPLEXITY.md
  --measures A,B  measures: which measures besides G and C    (default all but G-layerWV)
  --no-retrain    measures: leave runs whose checkpoint is missing (default: retrain them)
  --study DIR     measures-report: the study's store      (default results/measures)
  --seal          verify: add the seal (sha256) to valid records written before seals

Interrupting: Ctrl-C or SIGTERM (scancel) stops at the next forward pass, saves the training state
of that step, releases the run's lock and exits 130 / 143; kill -9 loses at most the steps since the
last stopping check. A full disk leaves every file as it was (exit 1). Run the same command again to
resume (README: "Interrupting and resuming").

Exit status: 0 done, 1 failed, 2 bad input or a refused overwrite (nothing done), 3 the run is
held by another process, 130 / 143 stopped by SIGINT / SIGTERM.

Environment
  GCG_BACKEND=tensorflow|wasm|cpu   force a backend (default, fastest first as measured: wasm with the
                                    native kernels, tensorflow, wasm stock, cpu)
  GCG_KERNELS=native|stock          wasm matrix products on OpenBLAS (default where built) or tfjs's own
  GCG_BLAS_CORE=portable|auto|NAME  OpenBLAS's kernel family: portable (default: Haswell on every x86-64
                                    CPU with AVX2, so machines agree), auto (OpenBLAS's choice per CPU),
                                    or a family; an OPENBLAS_CORETYPE already set is kept
  CI=true                           no progress bars

Settings (--set key=value; the paper preset's default first):
${describeSettings()}
`;


/** The options each command takes (anything else is an error naming the command's options). */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  train: ['task', 'seed', 'preset', 'set', 'out', 'replace'],
  demo: ['task', 'seed', 'preset', 'set', 'out', 'ood-lengths', 'allow-id-lengths', 'replace', 'mix-kernels'],
  run: ['task', 'seed', 'preset', 'set', 'results', 'ood-lengths', 'allow-id-lengths', 'replace', 'lock-stale', 'mix-kernels'],
  sweep: ['preset', 'set', 'results', 'tasks', 'seeds', 'sizes', 'index', 'list', 'workers', 'ood-lengths', 'allow-id-lengths', 'replace', 'lock-stale', 'mix-kernels'],
  analyze: ['preset', 'set', 'results', 'checkpoint', 'ood-lengths', 'allow-id-lengths', 'lock-stale'],
  tables: ['preset', 'results', 'csv'],
  figures: ['preset', 'results', 'fig-dir'],
  reproduction: ['results', 'report'],
  measures: ['preset', 'results', 'out', 'measures', 'no-retrain', 'list', 'lock-stale'],
  'measures-report': ['preset', 'study', 'report', 'fig-dir'],
  'complexity-report': ['preset', 'results', 'report', 'fig-dir'],
  verify: ['results', 'seal'],
  config: ['preset', 'set'],
  backend: [],
  help: [],
};

const OPTIONS = {
  task: { type: 'string' },
  seed: { type: 'string' },
  preset: { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  results: { type: 'string' },
  tasks: { type: 'string' },
  seeds: { type: 'string' },
  sizes: { type: 'string' },
  index: { type: 'string' },
  workers: { type: 'string' },
  'ood-lengths': { type: 'string' },
  'allow-id-lengths': { type: 'boolean' },
  replace: { type: 'boolean' },
  'lock-stale': { type: 'string' },
  'mix-kernels': { type: 'boolean' },
  seal: { type: 'boolean' },
  checkpoint: { type: 'string' },
  csv: { type: 'string' },
  'fig-dir': { type: 'string' },
  report: { type: 'string' },
  measures: { type: 'string' },
  list: { type: 'boolean' },
  'no-retrain': { type: 'boolean' },
  study: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Defaults that differ by command (over DEFAULTS). */
const COMMAND_DEFAULTS: Record<string, Record<string, string>> = {
  demo: { task: 'reverse' },
  measures: { out: path.join('results', 'measures') },
  'measures-report': { report: 'MEASURES.md', study: path.join('results', 'measures') },
  'complexity-report': { report: 'COMPLEXITY.md', results: [path.join('results', 'complexity'), path.join('results', 'measures')].join(',') },
};

const DEFAULTS = { task: 'sort', seed: '42', preset: 'paper', out: 'runs', results: 'results', tasks: PAPER_TASKS.join(','), seeds: PAPER_SEEDS.join(','), workers: '1', report: 'REPRODUCTION.md' };

/**
 * Parses a command's options: unknown options, options the command does not take, and stray words
 * are errors; a value that starts with a dash (`--seed -3`) is taken as the value, so that its own
 * check can say what is allowed.
 */
function parse(command: string, argv: string[]) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    const spec = name && !name.includes('=') ? (OPTIONS as Record<string, { type: string }>)[name] : undefined;
    if (spec?.type === 'string' && i + 1 < argv.length && /^-/.test(argv[i + 1]) && !/^--?[a-z]/i.test(argv[i + 1])) {
      args.push(`--${name}=${argv[++i]}`);
    } else args.push(argv[i]);
  }
  const allowed = COMMAND_OPTIONS[command] ?? [];
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (e) {
    const m = /'(-[^ ']+)/.exec((e as Error).message);
    const flag = m ? m[1].replace(/ .*/, '') : '';
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new ConfigError(`${flag}: unknown option; ${command} takes: ${allowed.map((o) => `--${o}`).join(', ') || 'no options'}`);
    }
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const msg = (e as Error).message;
      if (/does not take an argument/.test(msg)) throw new ConfigError(`${flag}: takes no value; see gcg --help`);
      const next = /ambiguous/.test(msg) ? ` (it is followed by ${JSON.stringify(args[args.indexOf(flag) + 1] ?? '')}, another option)` : '';
      throw new ConfigError(`${flag}: needs a value${next}; see gcg --help`);
    }
    throw new ConfigError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  if (positionals.length) {
    throw new ConfigError(`${command}: unexpected ${positionals.length > 1 ? 'words' : 'word'} ${positionals.map((p) => JSON.stringify(p)).join(' ')}; options are given as --name value (gcg --help)`);
  }
  for (const k of Object.keys(values)) {
    if (!allowed.includes(k)) throw new ConfigError(`--${k}: not an option of ${command}; ${command} takes: ${allowed.map((o) => `--${o}`).join(', ') || 'no options'}`);
  }
  return { help: false as const, opts: { ...DEFAULTS, ...COMMAND_DEFAULTS[command], set: [], ...values } as Opts };
}

function parseSeed(s: string): number {
  if (!/^\d+$/.test(s)) throw new ConfigError(`--seed: got ${JSON.stringify(s)}; allowed: an integer in [0, 4294967295]`);
  return checkSeed(Number(s));
}

function parseLockStale(opts: Opts): number | undefined {
  const s = opts['lock-stale'];
  if (s === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(s) || Number(s) <= 0 || Number(s) > 10_080) {
    throw new ConfigError(`--lock-stale: got ${JSON.stringify(s)}; allowed: minutes, a number in (0, 10080]`);
  }
  return Number(s);
}

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
  const task = checkTask(opts.task);
  const seed = parseSeed(opts.seed);
  const preset = checkPreset(opts.preset);
  const cfg = getConfig(preset, parseOverrides(opts.set));
  checkTaskConfig(task, cfg);
  const out = checkOutputDir('--out', opts.out);
  const base = path.join(out, `${preset}_${task}_seed${seed}`);
  const partial = `${base}.partial.ckpt`;
  if (!opts.replace) {
    checkCheckpointConflict(`${base}.ckpt`, cfg, '--out folder', 'retrain and replace it', { preset, task, seed });
    checkCheckpointConflict(partial, cfg, '--out folder', 'start training afresh and replace it', { preset, task, seed });
  }
  cleanStaleTemps(out);
  const lock = RunLock.acquire(`${base}.lock`);
  try {
    const info = await initBackend();
    console.log(describeBackend(info));
    console.log(`train preset=${preset} task=${task} seed=${seed} model=L${cfg.model.nLayers}xH${cfg.model.nHeads} d=${cfg.model.dModel}`);
    let result;
    try {
      ({ result } = trainToCheckpoint({
        task,
        seed,
        preset,
        cfg,
        checkpoint: `${base}.ckpt`,
        partial,
        log: (l) => console.log(l),
        onEval: (e) => console.log(`  step ${e.step}: training-distribution exact match ${(100 * e.acc).toFixed(1)}%`),
      }));
    } catch (e) {
      if (e instanceof TrainingDivergedError) {
        const rec = { preset, task, seed, config: cfg, provenance: provenance(), error: e.message, losses: e.losses, evals: e.evals };
        writeFileAtomic(`${base}.train.json`, JSON.stringify(rec, null, 1));
        console.error(`${e.message}\nwrote ${base}.train.json`);
      }
      throw e;
    }
    const prov = provenance();
    const record = { preset, task, seed, config: cfg, provenance: prov, ...trainingOutcome(result), checkpoint: `${base}.ckpt` };
    writeFileAtomic(`${base}.train.json`, JSON.stringify(record, null, 1));
    console.log(`${describeStop(result.stopReason, result.steps, cfg)} in ${(result.wallMs / 1000).toFixed(1)} s (${result.msPerStep.toFixed(1)} ms/step on ${prov.backend})`);
    console.log(`wrote ${base}.ckpt and ${base}.train.json`);
    return result;
  } finally {
    lock.release();
  }
}

async function runDemoCommand(opts: Opts): Promise<void> {
  const task = checkTask(opts.task);
  const seed = parseSeed(opts.seed);
  const preset = checkPreset(opts.preset);
  const cfg = getConfig(preset, parseOverrides([...DEMO_OVERRIDES, ...opts.set]));
  const lengths = oodLengths(opts, cfg, [task]);
  const out = checkOutputDir('--out', path.join(opts.out, 'demo'));
  if (!opts.replace) checkRunConflicts(out, preset, task, seed, cfg);
  const info = await initBackend();
  console.log(describeBackend(info));
  // Measured on a fresh clone here (2 cores): reversal 1.5 / 4.5 min, sorting 3 / 8 min on the native / stock kernels.
  const minutes = info.kernels === 'native' ? { reverse: 1.5, sort: 3 } : { reverse: 4.5, sort: 8 };
  const took = task === 'reverse' ? `~${minutes.reverse} min here; --task sort: ~${minutes.sort} min` : task === 'sort' ? `~${minutes.sort} min here` : 'not timed here';
  console.log(
    `demo: the paper's analysis of one model, end to end: preset ${preset}, ${task}, seed ${seed}, ` +
      `a ${cfg.model.nLayers}-layer ${cfg.model.nHeads}-head d_model ${cfg.model.dModel} transformer (${took}, ${info.kernels} kernels)`,
  );
  const r = await runDemo({ dir: out, preset, task, seed, cfg, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], replace: opts.replace, mixKernels: opts['mix-kernels'], log: (l) => console.log(l) });
  for (const l of [...describeDemo(r.record), ...describeDemoFiles(r.files)]) console.log(l);
}

type Opts = {
  task: string;
  seed: string;
  preset: string;
  set: string[];
  out: string;
  results: string;
  tasks: string;
  seeds: string;
  sizes?: string;
  index?: string;
  workers: string;
  'ood-lengths'?: string;
  'allow-id-lengths'?: boolean;
  replace?: boolean;
  'lock-stale'?: string;
  'mix-kernels'?: boolean;
  seal?: boolean;
  checkpoint?: string;
  csv?: string;
  'fig-dir'?: string;
  report: string;
  measures?: string;
  list?: boolean;
  'no-retrain'?: boolean;
  study?: string;
};

function parseIntList(flag: string, s: string, min: number, max: number): number[] {
  const xs = s.split(',').map((x) => x.trim());
  if (!xs.length || xs.some((x) => !/^\d+$/.test(x) || Number(x) < min || Number(x) > max)) {
    throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: comma-separated integers in [${min}, ${max}]`);
  }
  if (new Set(xs.map(Number)).size !== xs.length) throw new ConfigError(`${flag}: got ${JSON.stringify(s)}, which repeats a value; allowed: distinct integers`);
  return xs.map(Number);
}

function parseInt1(flag: string, s: string, min: number, max: number): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) < min || Number(s) > max) throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: one integer in [${min}, ${max}]`);
  return Number(s);
}

function describeAnalysis(a: ReturnType<typeof analyzeModel>): string {
  if (a.status === 'skipped') return `skipped: ${a.reason}`;
  const c = a.classification!;
  const name = (cls: string) => a.components.filter((_, i) => c.classes[i] === cls).join(' ') || '-';
  const lines = [
    `${a.ood.withinTraining ? 'evaluation length (inside the training lengths, not out of distribution)' : 'OOD length'} ${a.ood.length} (accuracy ${(100 * a.ood.accuracies[a.ood.length!]).toFixed(1)}%), baseline ${(100 * a.baseline!).toFixed(1)}%`,
    `rho = ${c.rho == null || Number.isNaN(c.rho) ? "undefined (a score is constant)" : c.rho.toFixed(3)}; Hidden Heroes: ${name('HiddenHero')}; Gradient Bloats: ${name('GradientBloat')}`,
  ];
  if (a.pruning) {
    const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
    const p = a.pruning.ood;
    lines.push(`pruning (OOD): baseline ${pct(p.baseline)}, Heroes pruned ${pct(p.heroesPruned)}, Bloats pruned ${pct(p.bloatsPruned)}`);
  }
  lines.push(`phases: ${Object.entries(a.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
  return lines.join('\n');
}

async function runRun(opts: Opts): Promise<void> {
  const task = checkTask(opts.task);
  const seed = parseSeed(opts.seed);
  const preset = checkPreset(opts.preset);
  const cfg = getConfig(preset, parseOverrides(opts.set));
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

async function runSweep(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const overrides = opts.set;
  const cfg = getConfig(preset, parseOverrides(overrides));
  const tasks = opts.tasks.split(',').map((t) => checkTask(t.trim()));
  if (new Set(tasks).size !== tasks.length) throw new ConfigError(`--tasks: got ${JSON.stringify(opts.tasks)}, which repeats a task; allowed: distinct tasks among ${TASKS.join(', ')}`);
  const seeds = parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1);
  const sizes = opts.sizes === undefined ? undefined : opts.sizes.split(',').map((s) => checkSize(s.trim()));
  if (sizes && new Set(sizes).size !== sizes.length) throw new ConfigError(`--sizes: got ${JSON.stringify(opts.sizes)}, which repeats a size; allowed: distinct sizes among ${SIZES.join(', ')}`);
  const workers = parseInt1('--workers', opts.workers, 1, 64);
  const index = opts.index === undefined ? undefined : parseInt1('--index', opts.index, 0, 1_000_000);
  if (index !== undefined && workers > 1) throw new ConfigError(`--workers: got ${workers} with --index, which runs one job; allowed: 1 (start more array tasks instead)`);
  const grid = { dir: opts.results, preset, tasks, seeds, sizes, cfg, overrides };
  const jobs = sweepJobs(grid); // checks every size's settings
  if (index !== undefined) sweepJob(jobs, index);
  if (opts.list) {
    console.log(`${jobs.length} jobs (sizes x tasks x seeds; a Slurm array: sbatch --array=0-${jobs.length - 1} scripts/slurm/sweep.sbatch <these options>)`);
    console.log(`index  size     task       seed       state in ${opts.results}`);
    for (const line of describeJobs(jobs, preset)) console.log(line);
    return 0;
  }
  // The candidate OOD lengths against every size's settings and every task, before any work.
  const lengths = oodLengths(opts, cfg, tasks);
  for (const j of jobs) oodLengths(opts, j.cfg, [j.task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  for (const d of new Set((index === undefined ? jobs : [jobs[index]]).map((j) => path.join(j.dir, preset)))) checkOutputDir('--results', d);
  console.log(describeBackend(await initBackend()));
  const s = await sweep({ ...grid, dir, index, workers, oodLengths: lengths, allowIdLengths: opts['allow-id-lengths'], replace: opts.replace, lockStaleMinutes, mixKernels: opts['mix-kernels'] });
  console.log(
    `sweep finished: ${s.done} done, ${s.skipped} already there, ${s.elsewhere.length} in progress elsewhere, ${s.failed.length} failed, in ${(s.wallMs / 1000).toFixed(1)} s` +
      (s.elsewhere.length ? '\n(runs in progress elsewhere are left to their process; run the sweep again later to check they finished)' : ''),
  );
  for (const f of s.failed) console.error(`FAILED: ${f.size ? `${f.size} ` : ''}${f.task} seed ${f.seed}: ${f.error}`);
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
  const preset = checkPreset(String(ck.meta.preset));
  const analysis = { ...ck.config.analysis, ...(sets.analysis ?? {}) };
  const cfg = getConfig(preset, { ...ck.config, analysis });
  const task = checkTask(String(ck.meta.task));
  const lengths = oodLengths(opts, cfg, [task]);
  const a = analyzeModel({ model: ck.model, task, seed: Number(ck.meta.seed), cfg: cfg.analysis, oodLengths: lengths, onPhase: (p) => console.log(`  ${p}...`) });
  if ((lengths ?? getTask(task).oodLengths).some((n) => n <= cfg.data.maxLen)) a.ood.withinTraining = true;
  console.log(describeAnalysis(a));
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
  const r = await exportFigures(measuresFigures(records, study), figDir, { batch });
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
  const { records, rejected, duplicates, folders } = loadStores(stores, preset);
  warnRejected(rejected);
  for (const d of duplicates) console.error(`note: ${d} is also in an earlier store: the earlier one is used`);
  if (!records.length) throw new ConfigError(`--results: ${stores.map((s) => JSON.stringify(s)).join(', ')} hold no finished run of preset ${preset} (in <store>/${preset}/ or <store>/<size>/${preset}/); ${file} was not rewritten`);
  await initBackend(); // the measure registry names each measure's kind
  const study = complexityStudy(records);
  const batch = new WriteBatch(); // the report and its figures replace the old ones together
  const r = await exportFigures(complexityFigures(study), figDir, { batch });
  const rel = (f: string) => path.relative(path.dirname(path.resolve(file)), path.resolve(f)).split(path.sep).join('/');
  batch.add(file, complexityReport(study, { figures: r.written.map(rel), sources: folders.map(rel) })).commit();
  console.log(`wrote ${file} from ${records.length} records in ${folders.length} folders and ${r.written.length} figure files to ${figDir}${r.imagesSkipped ? ` (SVG/PNG/PDF skipped: ${r.imagesSkipped})` : ''}`);
  return 0;
}

/** Exit statuses: 0 done, 1 failed, 2 bad input or a refused overwrite (nothing was done), 3 the run is locked by another process, 130 / 143 stopped by SIGINT / SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    if (command === 'help' || command === '--help' || command === '-h') {
      console.log(HELP);
      return 0;
    }
    if (!(command in COMMAND_OPTIONS)) {
      console.error(`error: unknown command ${JSON.stringify(command)}; allowed: ${Object.keys(COMMAND_OPTIONS).join(', ')}`);
      return 2;
    }
    const parsed = parse(command, rest);
    if (parsed.help) {
      console.log(HELP);
      return 0;
    }
    const opts = parsed.opts;
    switch (command) {
      case 'train':
        (await runTrain(opts)).model.dispose();
        return 0;
      case 'demo':
        await runDemoCommand(opts);
        return 0;
      case 'run':
        await runRun(opts);
        return 0;
      case 'sweep':
        return await runSweep(opts);
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
        const r = await exportFigures(paperFigures(records), dir);
        console.log(`wrote ${r.written.length} files to ${dir}${r.imagesSkipped ? `\nSVG/PNG skipped: ${r.imagesSkipped}` : ''}`);
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
        console.log(JSON.stringify(getConfig(checkPreset(opts.preset), parseOverrides(opts.set)), null, 2));
        return 0;
      case 'backend':
        console.log(describeBackend(await initBackend()));
        return 0;
      default:
        return 2;
    }
  } catch (e) {
    if (e instanceof InterruptedError) {
      runCleanups();
      console.error(`stopped (${e.message}); locks released, nothing half-written kept: run the same command again to resume`);
      return exitCodeOf(e.signal);
    }
    if (e instanceof ConfigError || e instanceof RunConflictError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof RunLockedError) {
      console.error(`error: ${e.message}`);
      return EXIT_LOCKED;
    }
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  // SIGINT/SIGTERM stop a command cleanly (src/interrupt.ts): only here, not when main() is called from a test.
  try {
    watchSignals();
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  }
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
