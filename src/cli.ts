#!/usr/bin/env node
/**
 * Command-line entry point: `gcg <command> [options]` (or `node dist/src/cli.js ...`).
 * Every command prints the backend it runs on; every file it writes records it.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend } from './backend';
import { saveCheckpoint } from './checkpoint';
import { analyzeModel } from './analysis/pipeline';
import { loadCheckpoint } from './checkpoint';
import {
  checkPreset,
  checkSeed,
  checkTask,
  ConfigError,
  CONFIG_RULES,
  getConfig,
  PAPER_SEEDS,
  parseOverrides,
  PRESETS,
  TASKS,
} from './config';
import { allTables } from './report/tables';
import { printTables } from './report/frames';
import { exportFigures } from './report/export';
import { paperFigures } from './report/figures';
import { loadReproductionInput, reproductionReport } from './report/reproduction';
import { loadRecords, reanalyze, runOne, trainingOutcome } from './results';
import { sweep } from './sweep';
import { provenance, writeFileAtomic } from './provenance';
import { sampleAccuracy } from './eval';
import { Rng } from './rng';
import { OOD_LENGTHS } from './tasks';
import { train, TrainingDivergedError, TrainResult } from './train';

const HELP = `gradient-causal-gap: reproduce "The Gradient-Causal Gap" in TypeScript + TensorFlow.js

Usage: gcg <command> [options]      (from a checkout: node dist/src/cli.js <command> ...)

Commands
  train     Train one (task, seed) to a checkpoint and a JSON record
  demo      The quick main job: train sorting, seed 42, on a small model (a few minutes on
            2 cores), save it, and print its exact match at the OOD lengths 8..11
  run       Train + analyse one (task, seed) into <results>/<preset>/<task>_seed<seed>.json
  sweep     run over tasks x seeds; skips finished runs, redoes unfinished ones
  analyze   Re-run the analysis on trained models, no retraining: every checkpoint of a preset
            in the results store (rewrites its results files), or one --checkpoint FILE (prints)
  tables    Tables 1-6 from the results store (--results DIR, --preset P); --csv DIR writes CSVs
  figures   Figures 1-4 and training curves from the results store, as HTML, SVG and PNG
            (--fig-dir DIR, default figures/<preset>; SVG/PNG need Chromium, see environment.md)
  reproduction  REPRODUCTION.md: the paper's tables, figures and claims beside ours under both
            presets, with bootstrap intervals and verdicts (--results DIR, --report FILE)
  config    Print the resolved configuration of a preset (with --set overrides) as JSON
  backend   Print which TensorFlow.js backend loads here
  help      This text

Options
  --task T        ${TASKS.join(' | ')}                        (train; default sort)
  --seed N        integer seed                            (train; default 42)
  --preset P      ${PRESETS.join(' | ')}: paper = the paper's text where explicit;
                  authors = the authors' published code, choice for choice  (default paper)
  --set key=val   override one setting, repeatable, e.g. --set model.nLayers=2 (list below)
  --out DIR       where train/demo write                  (default runs)
  --results DIR   results store for run/sweep             (default results)
  --tasks A,B     sweep: tasks                            (default reverse,sort)
  --seeds A,B     sweep: seeds                            (default the paper's 10)
  --workers N     sweep: parallel worker processes        (default 1)
  --ood-lengths   candidate OOD lengths, comma-separated  (default 8,9,10,11)
  --checkpoint F  analyze: the checkpoint to analyse
  --csv DIR       tables: also write table1.csv .. table6.csv there
  --fig-dir DIR   figures: output folder                  (default figures/<preset>)
  --report FILE   reproduction: the report to write       (default REPRODUCTION.md)

Environment
  GCG_BACKEND=tensorflow|wasm|cpu   force a backend (default: the first that loads, in that order)
  CI=true                           no progress bars

Settings (--set):
${Object.keys(CONFIG_RULES)
  .map((k) => `  ${k}`)
  .join('\n')}
`;

/** The demo's small model: 2 layers, 2 heads, d_model 64, d_ff 256 (the paper's is 4/4/128/512). */
const DEMO_OVERRIDES = ['model.nLayers=2', 'model.nHeads=2', 'model.dModel=64', 'model.dFF=256', 'train.maxSteps=4000'];
const DEMO_OOD_SAMPLES = 500;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      task: { type: 'string', default: 'sort' },
      seed: { type: 'string', default: '42' },
      preset: { type: 'string', default: 'paper' },
      set: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: 'runs' },
      results: { type: 'string', default: 'results' },
      tasks: { type: 'string', default: TASKS.join(',') },
      seeds: { type: 'string', default: PAPER_SEEDS.join(',') },
      workers: { type: 'string', default: '1' },
      'ood-lengths': { type: 'string' },
      checkpoint: { type: 'string' },
      csv: { type: 'string' },
      'fig-dir': { type: 'string' },
      report: { type: 'string', default: 'REPRODUCTION.md' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function parseSeed(s: string): number {
  if (!/^\d+$/.test(s)) throw new ConfigError(`--seed: got ${JSON.stringify(s)}; allowed: an integer in [0, 4294967295]`);
  return checkSeed(Number(s));
}

async function runTrain(opts: { task: string; seed: string; preset: string; set: string[]; out: string }): Promise<TrainResult> {
  // Validate everything before any work.
  const task = checkTask(opts.task);
  const seed = parseSeed(opts.seed);
  const preset = checkPreset(opts.preset);
  const cfg = getConfig(preset, parseOverrides(opts.set));
  const info = await initBackend();
  console.log(describeBackend(info));
  console.log(`train preset=${preset} task=${task} seed=${seed} model=L${cfg.model.nLayers}xH${cfg.model.nHeads} d=${cfg.model.dModel}`);
  const base = path.join(opts.out, `${preset}_${task}_seed${seed}`);
  let result;
  try {
    result = train({
      task,
      seed,
      cfg,
      onEval: (e) => console.log(`  step ${e.step}: training-distribution exact match ${(100 * e.acc).toFixed(1)}%`),
    });
  } catch (e) {
    if (e instanceof TrainingDivergedError) {
      const rec = { preset, task, seed, config: cfg, provenance: provenance(), error: e.message, losses: e.losses, evals: e.evals };
      writeFileAtomic(`${base}.train.json`, JSON.stringify(rec, null, 1));
      console.error(`${e.message}\nwrote ${base}.train.json`);
    }
    throw e;
  }
  const prov = provenance();
  const training = trainingOutcome(result);
  saveCheckpoint(`${base}.ckpt`, result.model, cfg, { task, seed, preset, steps: result.steps, backend: prov.backend, provenance: prov, training });
  const record = { preset, task, seed, config: cfg, provenance: prov, ...training, checkpoint: `${base}.ckpt` };
  writeFileAtomic(`${base}.train.json`, JSON.stringify(record, null, 1));
  console.log(
    `${result.stopReason === 'target' ? 'reached' : 'did not reach'} ${(100 * cfg.train.targetAcc).toFixed(0)}% after ${result.steps} steps ` +
      `in ${(result.wallMs / 1000).toFixed(1)} s (${result.msPerStep.toFixed(1)} ms/step on ${prov.backend})`,
  );
  console.log(`wrote ${base}.ckpt and ${base}.train.json`);
  return result;
}

async function runDemo(opts: { task: string; seed: string; preset: string; set: string[]; out: string }): Promise<void> {
  const task = checkTask(opts.task);
  const result = await runTrain({ ...opts, set: [...DEMO_OVERRIDES, ...opts.set] });
  const rng = new Rng(checkSeed(Number(opts.seed)), 'demo-ood');
  const accs = OOD_LENGTHS.map((n) => `N=${n}: ${(100 * sampleAccuracy(result.model, task, rng, DEMO_OOD_SAMPLES, n)).toFixed(1)}%`);
  console.log(`exact match out of distribution (${DEMO_OOD_SAMPLES} sequences each): ${accs.join(', ')}`);
  result.model.dispose();
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
  workers: string;
  'ood-lengths'?: string;
  checkpoint?: string;
  csv?: string;
  'fig-dir'?: string;
  report: string;
};

function parseIntList(flag: string, s: string, min: number, max: number): number[] {
  const xs = s.split(',').map((x) => x.trim());
  if (!xs.length || xs.some((x) => !/^\d+$/.test(x) || Number(x) < min || Number(x) > max)) {
    throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: comma-separated integers in [${min}, ${max}]`);
  }
  return xs.map(Number);
}

function oodLengths(opts: Opts): number[] | undefined {
  return opts['ood-lengths'] === undefined ? undefined : parseIntList('--ood-lengths', opts['ood-lengths'], 1, 99);
}

function describeAnalysis(a: ReturnType<typeof analyzeModel>): string {
  if (a.status === 'skipped') return `skipped: ${a.reason}`;
  const c = a.classification!;
  const name = (cls: string) => a.components.filter((_, i) => c.classes[i] === cls).join(' ') || '-';
  const lines = [
    `OOD length ${a.ood.length} (accuracy ${(100 * a.ood.accuracies[a.ood.length!]).toFixed(1)}%), baseline ${(100 * a.baseline!).toFixed(1)}%`,
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
  const lengths = oodLengths(opts);
  console.log(describeBackend(await initBackend()));
  const { record, skipped } = runOne({ dir: opts.results, preset, task, seed, cfg, oodLengths: lengths, log: (l) => console.log(l) });
  console.log(skipped ? 'already finished; nothing to do' : describeAnalysis(record.analysis));
}

async function runSweep(opts: Opts): Promise<number> {
  const preset = checkPreset(opts.preset);
  const overrides = opts.set;
  const cfg = getConfig(preset, parseOverrides(overrides));
  const tasks = opts.tasks.split(',').map((t) => checkTask(t.trim()));
  const seeds = parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1);
  const [workers] = parseIntList('--workers', opts.workers, 1, 64);
  const lengths = oodLengths(opts);
  console.log(describeBackend(await initBackend()));
  const s = await sweep({ dir: opts.results, preset, tasks, seeds, cfg, overrides, workers, oodLengths: lengths });
  console.log(`sweep finished: ${s.done} done, ${s.skipped} already there, ${s.failed.length} failed, in ${(s.wallMs / 1000).toFixed(1)} s`);
  return s.failed.length ? 1 : 0;
}

async function runAnalyze(opts: Opts): Promise<void> {
  const sets = parseOverrides(opts.set);
  const training = Object.keys(sets).filter((k) => k !== 'analysis');
  if (training.length) throw new ConfigError(`--set ${training.join(', ')}.*: analyze changes only analysis.* settings (the models are already trained)`);
  if (!opts.checkpoint) {
    const preset = checkPreset(opts.preset);
    console.log(describeBackend(await initBackend()));
    const recs = reanalyze({ dir: opts.results, preset, analysis: sets.analysis ?? {}, oodLengths: oodLengths(opts), log: (l) => console.log(l) });
    console.log(`re-analysed ${recs.length} runs of preset ${preset} in ${opts.results}`);
    return;
  }
  const lengths = oodLengths(opts);
  console.log(describeBackend(await initBackend()));
  const ck = loadCheckpoint(opts.checkpoint);
  const preset = checkPreset(String(ck.meta.preset));
  const analysis = { ...ck.config.analysis, ...(sets.analysis ?? {}) };
  const cfg = getConfig(preset, { ...ck.config, analysis });
  const a = analyzeModel({ model: ck.model, task: checkTask(String(ck.meta.task)), seed: Number(ck.meta.seed), cfg: cfg.analysis, oodLengths: lengths, onPhase: (p) => console.log(`  ${p}...`) });
  console.log(describeAnalysis(a));
  ck.model.dispose();
}

export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    const { values } = parse(rest);
    if (values.help || command === 'help' || command === '--help' || command === '-h') {
      console.log(HELP);
      return 0;
    }
    const opts = values as Opts;
    switch (command) {
      case 'train':
        (await runTrain(opts)).model.dispose();
        return 0;
      case 'demo':
        await runDemo(opts);
        return 0;
      case 'run':
        await runRun(opts);
        return 0;
      case 'sweep':
        return await runSweep(opts);
      case 'analyze':
        await runAnalyze(opts);
        return 0;
      case 'tables': {
        const preset = checkPreset(opts.preset);
        const records = loadRecords(opts.results, preset);
        console.log(`${records.length} results for preset ${preset} in ${opts.results}`);
        const files = printTables(allTables(records), opts.csv);
        if (files.length) console.log(`\nwrote ${files.join(', ')}`);
        return 0;
      }
      case 'figures': {
        const preset = checkPreset(opts.preset);
        const records = loadRecords(opts.results, preset);
        if (!records.length) throw new ConfigError(`--results: no finished runs for preset ${preset} in ${opts.results}; run a sweep first`);
        const dir = opts['fig-dir'] ?? path.join('figures', preset);
        const r = await exportFigures(paperFigures(records), dir);
        console.log(`wrote ${r.written.length} files to ${dir}${r.imagesSkipped ? `\nSVG/PNG skipped: ${r.imagesSkipped}` : ''}`);
        return 0;
      }
      case 'reproduction': {
        const file = opts.report;
        const input = loadReproductionInput(opts.results, 'figures', path.dirname(file));
        const n = Object.values(input.presets).reduce((a, r) => a + (r?.length ?? 0), 0);
        writeFileAtomic(file, reproductionReport(input) + '\n');
        console.log(`wrote ${file} from ${n} results in ${opts.results} (${input.ablations?.length ?? 0} ablation sweeps)`);
        return 0;
      }
      case 'config':
        console.log(JSON.stringify(getConfig(checkPreset(opts.preset), parseOverrides(opts.set)), null, 2));
        return 0;
      case 'backend':
        console.log(describeBackend(await initBackend()));
        return 0;
      default:
        console.error(`unknown command ${JSON.stringify(command)}; allowed: train, demo, run, sweep, analyze, tables, figures, reproduction, config, backend, help`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${(e as Error).message}`);
      return 2;
    }
    console.error(e instanceof Error ? e.message : e);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
