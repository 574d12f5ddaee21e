/**
 * The command line's words, with no TensorFlow behind them: the commands and options with their
 * help, parsing and the checks of what was typed. `gcg --help`, `gcg <command> --help` and every
 * error in what was typed answer from here alone (fast); src/commands.ts does the work.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { checkPreset, checkSeed, checkTask, ConfigError, describeSettings, PAPER_SEEDS, PAPER_TASKS, parseOverrides, PRESETS, TASKS } from './config';
import { DEFAULT_STALE_MINUTES } from './lock';
import { SIZES } from './sizes';
import { closest } from './suggest';

export { closest };

const USAGE = `gradient-causal-gap: reproduce "The Gradient-Causal Gap" in TypeScript + TensorFlow.js

Usage: gcg <command> [options]      (from a checkout: node dist/src/cli.js <command> ...)`;

/** What each command does (the help's Commands section). */
const COMMAND_DOCS: Record<string, string> = {
  train: `  train     Train one (task, seed) to a checkpoint and a JSON record`,
  demo: `  demo      The main job: one seed (default: reversal, seed 42) trained and analysed the paper's
            way; prints G and C per component, rho, the Hidden Heroes and Gradient Bloats, and
            writes that seed's Figure 1 (<out>/demo/); says how long it will take before it starts`,
  run: `  run       Train + analyse one (task, seed) into <results>/<preset>/<task>_seed<seed>.json;
            --seeds A,B,C trains those seeds stacked in one pass, then analyses each`,
  sweep: `  sweep     run over tasks x seeds (x --sizes); skips finished runs, redoes unfinished ones;
            --list numbers the grid's jobs, --index I runs job I (one Slurm array task:
            scripts/slurm/sweep.sbatch); --seeds-per-job K trains K seeds per job stacked`,
  stability: `  stability The stability study: for each task and seed, replicas that differ only by the initial
            weights moved at the last bit (init1..R) or the training batches redrawn (data1..R),
            beside the seed's own run (base); each into <results>/<replica>/<preset>/ (default
            results/stability); G, C and the per-position C; takes sweep's options and --replicas R`,
  analyze: `  analyze   Re-run the analysis on trained models, no retraining: every checkpoint of a preset
            in the results store (rewrites its results files), or one --checkpoint FILE (prints)`,
  tables: `  tables    Tables 1-6 from the results store (--results DIR, --preset P); --csv DIR writes CSVs`,
  figures: `  figures   Figures 1-4 and training curves from the results store, as HTML, SVG, PNG and PDF
            (--fig-dir DIR, default figures/<preset>; SVG/PNG/PDF need Chromium, see environment.md)`,
  measures: `  measures  The measures study: every cheap and causal measure on the trained model of each
            analysed run of a preset (its checkpoint, or retrained from its record) into
            <out>/<preset>/ (default out: results/measures); start it in several terminals to
            use more cores; --list names the measures`,
  "measures-report": `  measures-report  MEASURES.md and figures/measures/ from the study's records (--study DIR)`,
  "complexity-report": `  complexity-report  COMPLEXITY.md and figures/complexity/: rho against task complexity, depth
            and width, with trend tests, from the records in --results (comma-separated stores; each
            <store>/<preset>/ and <store>/<size>/<preset>/; default results/complexity); every model
            trained on one kernel family (--mix-kernels to read a mix)`,
  "stability-report": `  stability-report  STABILITY.md and figures/stability/ from the stability study's records (--study DIR,
            default results/stability) and, for the kernels, the same seeds on the other kernel
            family (--kernels DIR, default results/measures: the committed stock-trained models; '' for none)`,
  reproduction: `  reproduction  REPRODUCTION.md: the paper's tables, figures and claims beside ours under both
            presets, with bootstrap intervals and verdicts (--results DIR, --report FILE)`,
  verify: `  verify    Check every results file and checkpoint under --results (default results) as every
            reader does: name, folder, shape, Eq. 3 recomputed, seal, checkpoint identity;
            --seal adds the seal to valid records written before seals (exit 1 on any problem)`,
  config: `  config    Print the resolved configuration of a preset (with --set overrides) as JSON`,
  backend: `  backend   Print which TensorFlow.js backend loads here`,
  help: `  help      This text`,
};

/** What each option means and its default (the help's Options section). */
const OPTION_DOCS: Record<string, string> = {
  task: `  --task T        ${TASKS.join(' | ')}
                  (train, run; default sort; demo: reverse)`,
  seed: `  --seed N        integer seed                            (train; default 42)`,
  preset: `  --preset P      ${PRESETS.join(' | ')}: paper = the paper's text where explicit;
                  authors = the authors' published code, choice for choice  (default paper)`,
  set: `  --set key=val   override one setting, repeatable, e.g. --set model.nLayers=2 (gcg --help lists them)`,
  out: `  --out DIR       where train/demo write                  (default runs)`,
  results: `  --results DIR   results store for run/sweep             (default results)`,
  tasks: `  --tasks A,B     sweep: tasks                            (default reverse,sort)`,
  seeds: `  --seeds A,B     sweep: seeds (default the paper's 10); run: train these seeds stacked in one
                  pass (each gets the model it gets alone, bit for bit), then analyse each`,
  'seeds-per-job': `  --seeds-per-job K  sweep: train up to K seeds of one size and task stacked in one pass
                  (one process, one --index); each seed's model is the one it gets alone; with
                  --workers, an idle worker analyses a running job's trained seeds  (default 1)`,
  replicas: `  --replicas R    stability: perturbed replicas of each kind per seed (default 4)`,
  workers: `  --workers N     sweep: parallel worker processes        (default 1)`,
  sizes: `  --sizes A,B     sweep: model sizes (layers x d_model), each into <results>/<size>/<preset>/:
                  ${SIZES.join(', ')}; l4-d128 is the paper's model  (default: none)`,
  index: `  --index I       sweep: run only job I of the grid (0-based; sizes, then tasks, then seeds)`,
  list: `  --list          sweep: number the grid's jobs with their state and stop; measures: list the measures`,
  "ood-lengths": `  --ood-lengths   candidate OOD lengths, comma-separated, each longer than data.maxLen  (default 8,9,10,11)`,
  "allow-id-lengths": `  --allow-id-lengths  let --ood-lengths lie inside the training lengths (tiny test models that do
                  not generalise; the run records it and is never called out of distribution)`,
  replace: `  --replace       run/sweep/train: redo work in the output folder made with other settings
                  (default: refuse, naming the settings that differ)`,
  "lock-stale": `  --lock-stale M  run/sweep/analyze/measures: minutes without a heartbeat after which another
                  process's lock on a run may be taken over (this process's setting decides;
                  a holder on this machine that no longer runs is taken over at once)  (default ${DEFAULT_STALE_MINUTES})`,
  "mix-kernels": `  --mix-kernels   run/sweep/demo: add runs to a folder whose work was made on other kernels (another
                  OpenBLAS family or C library included) or another backend (default: refuse; one
                  folder, one kind of kernels); complexity-report:
                  read models trained on different kernel families together (default: refuse)`,
  checkpoint: `  --checkpoint F  analyze: the checkpoint to analyse`,
  csv: `  --csv DIR       tables: also write table1.csv .. table6.csv there`,
  "fig-dir": `  --fig-dir DIR   figures: output folder                  (default figures/<preset>)`,
  report: `  --report FILE   reproduction: the report to write       (default REPRODUCTION.md);
                  measures-report: default MEASURES.md; complexity-report: COMPLEXITY.md;
                  stability-report: STABILITY.md`,
  measures: `  --measures A,B  measures: which measures besides G and C    (default all but G-layerWV)`,
  "no-retrain": `  --no-retrain    measures: leave runs whose checkpoint is missing (default: retrain them)`,
  study: `  --study DIR     measures-report: the study's store      (default results/measures);
                  stability-report: default results/stability`,
  kernels: `  --kernels DIR   stability-report: a store of the same seeds trained on the other kernel family (default results/measures)`,
  seal: `  --seal          verify: add the seal (sha256) to valid records written before seals`,
};

const INTERRUPTING = `Interrupting: Ctrl-C or SIGTERM (scancel) stops at the next forward pass, saves the training state
of that step, releases the run's lock and exits 130 / 143; kill -9 loses at most the steps since the
last stopping check. A full disk leaves every file as it was (exit 1). Run the same command again to
resume (README: "Interrupting and resuming").

Exit status: 0 done, 1 failed, 2 bad input or a refused overwrite (nothing done), 3 the run is
held by another process, 130 / 143 stopped by SIGINT / SIGTERM.`;

const ENVIRONMENT = `Environment
  GCG_BACKEND=tensorflow|wasm|cpu   force a backend (default, fastest first as measured: wasm with the
                                    native kernels, tensorflow, wasm stock, cpu)
  GCG_KERNELS=native|stock          wasm matrix products on OpenBLAS (default where built) or tfjs's own
  GCG_BLAS_CORE=portable|auto|NAME  OpenBLAS's kernel family: portable (default: Haswell on every x86-64
                                    CPU with AVX2, so machines agree), auto (OpenBLAS's choice per CPU),
                                    or a family; an OPENBLAS_CORETYPE already set is kept
  CI=true                           no progress bars`;

/** The whole help: every command, every option, every setting. */
export function helpText(): string {
  return [
    USAGE,
    'Commands',
    ...Object.values(COMMAND_DOCS),
    '',
    'Options',
    ...Object.values(OPTION_DOCS),
    '',
    INTERRUPTING,
    '',
    ENVIRONMENT,
    '',
    'Settings (--set key=value; the paper preset\'s default first):',
    describeSettings(),
    '',
  ].join('\n');
}

/** One command's help: what it does and the options it takes (the settings: gcg --help). */
export function commandHelp(command: string): string {
  const takes = COMMAND_OPTIONS[command] ?? [];
  return [
    `Usage: gcg ${command}${takes.length ? ' [options]' : ''}      (from a checkout: node dist/src/cli.js ${command} ...)`,
    '',
    COMMAND_DOCS[command].replace(/^  \S+\s+/, '').replace(/\n {12}/g, '\n'),
    '',
    ...(takes.length ? ['Options', ...takes.map((o) => OPTION_DOCS[o]).filter(Boolean), ''] : []),
    ...(takes.includes('set') ? ['Settings: gcg --help lists every --set key with what it allows; gcg config prints the resolved configuration.', ''] : []),
  ].join('\n');
}

export const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  train: ['task', 'seed', 'preset', 'set', 'out', 'replace'],
  demo: ['task', 'seed', 'preset', 'set', 'out', 'ood-lengths', 'allow-id-lengths', 'replace', 'mix-kernels'],
  run: ['task', 'seed', 'seeds', 'preset', 'set', 'results', 'ood-lengths', 'allow-id-lengths', 'replace', 'lock-stale', 'mix-kernels'],
  sweep: ['preset', 'set', 'results', 'tasks', 'seeds', 'sizes', 'index', 'seeds-per-job', 'list', 'workers', 'ood-lengths', 'allow-id-lengths', 'replace', 'lock-stale', 'mix-kernels'],
  stability: ['preset', 'set', 'results', 'tasks', 'seeds', 'replicas', 'index', 'seeds-per-job', 'list', 'workers', 'ood-lengths', 'allow-id-lengths', 'replace', 'lock-stale', 'mix-kernels'],
  analyze: ['preset', 'set', 'results', 'checkpoint', 'ood-lengths', 'allow-id-lengths', 'lock-stale'],
  tables: ['preset', 'results', 'csv'],
  figures: ['preset', 'results', 'fig-dir'],
  reproduction: ['results', 'report'],
  measures: ['preset', 'results', 'out', 'measures', 'no-retrain', 'list', 'lock-stale'],
  'measures-report': ['preset', 'study', 'report', 'fig-dir'],
  'complexity-report': ['preset', 'results', 'report', 'fig-dir', 'mix-kernels'],
  'stability-report': ['preset', 'study', 'kernels', 'report', 'fig-dir'],
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
  'seeds-per-job': { type: 'string' },
  replicas: { type: 'string' },
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
  kernels: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The stability study's default seeds: the paper's first five. */
const STABILITY_SEEDS = PAPER_SEEDS.slice(0, 5);

/** Defaults that differ by command (over DEFAULTS). */
const COMMAND_DEFAULTS: Record<string, Record<string, string>> = {
  demo: { task: 'reverse' },
  run: { seeds: '' }, // run takes --seed; --seeds only when given
  stability: { results: path.join('results', 'stability'), seeds: STABILITY_SEEDS.join(','), replicas: '4' },
  measures: { out: path.join('results', 'measures') },
  'measures-report': { report: 'MEASURES.md', study: path.join('results', 'measures') },
  'stability-report': { report: 'STABILITY.md', study: path.join('results', 'stability'), kernels: path.join('results', 'measures') },
  'complexity-report': { report: 'COMPLEXITY.md', results: path.join('results', 'complexity') },
};

const DEFAULTS = { task: 'sort', seed: '42', preset: 'paper', out: 'runs', results: 'results', tasks: PAPER_TASKS.join(','), seeds: PAPER_SEEDS.join(','), workers: '1', report: 'REPRODUCTION.md' };

/**
 * Parses a command's options: unknown options, options the command does not take, and stray words
 * are errors; a value that starts with a dash (`--seed -3`) is taken as the value, so that its own
 * check can say what is allowed.
 */
export function parse(command: string, argv: string[]) {
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

export function parseSeed(s: string): number {
  if (!/^\d+$/.test(s)) throw new ConfigError(`--seed: got ${JSON.stringify(s)}; allowed: an integer in [0, 4294967295]`);
  return checkSeed(Number(s));
}

export function parseLockStale(opts: Opts): number | undefined {
  const s = opts['lock-stale'];
  if (s === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(s) || Number(s) <= 0 || Number(s) > 10_080) {
    throw new ConfigError(`--lock-stale: got ${JSON.stringify(s)}; allowed: minutes, a number in (0, 10080]`);
  }
  return Number(s);
}

export function parseIntList(flag: string, s: string, min: number, max: number): number[] {
  const xs = s.split(',').map((x) => x.trim());
  if (!xs.length || xs.some((x) => !/^\d+$/.test(x) || Number(x) < min || Number(x) > max)) {
    throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: comma-separated integers in [${min}, ${max}]`);
  }
  if (new Set(xs.map(Number)).size !== xs.length) throw new ConfigError(`${flag}: got ${JSON.stringify(s)}, which repeats a value; allowed: distinct integers`);
  return xs.map(Number);
}

export function parseInt1(flag: string, s: string, min: number, max: number): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) < min || Number(s) > max) throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: one integer in [${min}, ${max}]`);
  return Number(s);
}

export type Opts = {
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
  'seeds-per-job'?: string;
  replicas?: string;
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
  kernels?: string;
};

/**
 * The checks of what was typed that need no TensorFlow, before the commands load: the preset, the
 * task, the seed and every --set key and value (a mistyped key is answered with the nearest one).
 */
export function preflight(command: string, opts: Opts): void {
  const takes = COMMAND_OPTIONS[command] ?? [];
  if (takes.includes('preset')) checkPreset(opts.preset);
  if (takes.includes('task')) checkTask(opts.task);
  if (takes.includes('seed')) parseSeed(opts.seed);
  if (takes.includes('set')) parseOverrides(opts.set);
}
