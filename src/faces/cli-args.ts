/**
 * The command line's words, with no TensorFlow behind them: the commands and options with their
 * help, parsing and the checks of what was typed. `gcg --help`, `gcg <command> --help` and every
 * error in what was typed answer from here alone (fast); src/faces/commands.ts does the work.
 */
import { parseArgs } from 'node:util';
import { checkPreset, checkTask, ConfigError, PAPER_SEEDS, PRESETS } from '../settings/config';
import { describeSettings, parseOverrides } from '../settings/rules';
import { PAPER_TASKS, TASKS } from '../tasks';
import { DEFAULT_STALE_MINUTES } from '../io/lock';
import { SIZES } from '../settings/sizes';
import { closest } from '../base/suggest';
import { CHECK_COMMANDS, RUN_COMMANDS } from './command-list';
import type { Command, OptionSpec, Opts } from '../runner/command';
import { parseSeed } from '../settings/typed';
import { STUDIES } from './studies';

export { closest };

const USAGE = `gradient-causal-gap: reproduce "The Gradient-Causal Gap" in TypeScript + TensorFlow.js

Usage: gcg <command> [options]      (from a checkout: node dist/src/cli.js <command> ...)`;

/** What each option means and its default (the help's Options section). */
const CORE_OPTION_DOCS: Record<string, string> = {
  task: `  --task T        ${TASKS.join(' | ')}
                  (train, run; default sort; demo: reverse)`,
  seed: `  --seed N        integer seed                            (train; default 42)`,
  preset: `  --preset P      ${PRESETS.join(' | ')}: paper = the paper's text where explicit;
                  authors = the authors' published code, choice for choice  (default paper)`,
  set: `  --set key=val   override one setting, repeatable, e.g. --set model.nLayers=2 (gcg --help lists them)`,
  out: `  --out DIR       where train/demo write                  (default runs)`,
  results: `  --results DIR   results store for run/sweep             (default results)`,
  tasks: `  --tasks A,B     sweep, redundancy: tasks                (default reverse,sort)`,
  seeds: `  --seeds A,B     sweep: seeds (default the paper's 10); run: train these seeds stacked in one
                  pass (each gets the model it gets alone, bit for bit), then analyse each;
                  redundancy: only these seeds' runs (default every seed)`,
  'seeds-per-job': `  --seeds-per-job K  sweep: train up to K seeds of one size and task stacked in one pass
                  (one process, one --index); each seed's model is the one it gets alone; with
                  --workers, an idle worker analyses a running job's trained seeds  (default 1)`,
  workers: `  --workers N     sweep: parallel worker processes        (default 1)`,
  sizes: `  --sizes A,B     sweep: model sizes (layers x d_model), each into <results>/<size>/<preset>/:
                  ${SIZES.join(', ')}; l4-d128 is the paper's model  (default: none)`,
  index: `  --index I       sweep: run only job I of the grid (0-based; sizes, then tasks, then seeds)`,
  list: `  --list          sweep: number the grid's jobs with their state and stop; measures: list the measures`,
  'ood-lengths': `  --ood-lengths   candidate OOD lengths, comma-separated, each longer than data.maxLen  (default 8,9,10,11)`,
  'allow-id-lengths': `  --allow-id-lengths  let --ood-lengths lie inside the training lengths (tiny test models that do
                  not generalise; the run records it and is never called out of distribution)`,
  replace: `  --replace       run/sweep/train: redo work in the output folder made with other settings
                  (default: refuse, naming the settings that differ)`,
  'lock-stale': `  --lock-stale M  run/sweep/analyze/measures: minutes without a heartbeat after which another
                  process's lock on a run may be taken over (this process's setting decides;
                  a holder on this machine that no longer runs is taken over at once)  (default ${DEFAULT_STALE_MINUTES})`,
  checkpoint: `  --checkpoint F  analyze: the checkpoint to analyse`,
  'fig-dir': `  --fig-dir DIR   figures: output folder                  (default figures/<preset>)`,
  report: `  --report FILE   reproduction: the report to write       (default REPRODUCTION.md);
                  measures-report: default MEASURES.md; complexity-report: COMPLEXITY.md;
                  stability-report: STABILITY.md`,
  seal: `  --seal          verify: add the seal (sha256) to valid records written before seals`,
};

const INTERRUPTING = `Interrupting: Ctrl-C or SIGTERM (scancel) stops at the next forward pass, saves the training state
of that step, releases the run's lock and exits 130 / 143; kill -9 loses at most the steps since the
last stopping check. A full disk leaves every file as it was (exit 1). Run the same command again to
resume (docs/running.md: "Interrupting and resuming").

Exit status: 0 done, 1 failed, 2 bad input or a refused overwrite (nothing done), 3 the run is
held by another process, 130 / 143 stopped by SIGINT / SIGTERM.`;

const ENVIRONMENT = `Environment
  GCG_BACKEND=tensorflow|wasm|cpu   force a backend (default, fastest first as measured: wasm with the
                                    native kernels, tensorflow, wasm on tfjs's own code, cpu)
  GCG_SIMD=avx512|avx2|vec4|scalar|wasm  the wasm kernels' code: the native kernels on that SIMD path
                                    (default: the widest this CPU runs) or tfjs's own (wasm); the same
                                    numbers on every path and every CPU
  GCG_KERNELS=stock                 ask for the wasm backend's numbers first (the only kernels since
                                    issue 42; native, the retired family, is refused)
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
    "Settings (--set key=value; the paper preset's default first):",
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
    ...(takes.includes('set')
      ? [
          'Settings: gcg --help lists every --set key with what it allows; gcg config prints the resolved configuration.',
          '',
        ]
      : []),
  ].join('\n');
}

const CORE_OPTIONS = {
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
  workers: { type: 'string' },
  'ood-lengths': { type: 'string' },
  'allow-id-lengths': { type: 'boolean' },
  replace: { type: 'boolean' },
  'lock-stale': { type: 'string' },
  seal: { type: 'boolean' },
  checkpoint: { type: 'string' },
  'fig-dir': { type: 'string' },
  report: { type: 'string' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every command: the core's, then each study's (src/faces/studies.ts), then the checks. */
export const COMMANDS: readonly Command[] = [...RUN_COMMANDS, ...STUDIES.flatMap((s) => s.commands), ...CHECK_COMMANDS];

/** The options each command takes, by command. */
export const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = Object.fromEntries([
  ...COMMANDS.map((c) => [c.name, c.options]),
  ['help', []],
]);

/** Defaults that differ by command (over DEFAULTS). */
const COMMAND_DEFAULTS: Record<string, Readonly<Record<string, string>>> = Object.fromEntries(
  COMMANDS.map((c) => [c.name, c.defaults ?? {}]),
);

/** The options the studies declare for their own commands, once each. */
const STUDY_OPTIONS: Record<string, OptionSpec> = {};
for (const s of STUDIES) {
  for (const [name, spec] of Object.entries(s.options ?? {})) {
    if (name in CORE_OPTIONS || name in STUDY_OPTIONS)
      throw new Error(`study ${s.name} declares the option --${name}, which another part declares already`);
    STUDY_OPTIONS[name] = spec;
  }
}

const OPTIONS: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
  ...CORE_OPTIONS,
  ...Object.fromEntries(Object.entries(STUDY_OPTIONS).map(([n, o]) => [n, { type: o.type }])),
};
const OPTION_DOCS: Record<string, string> = {
  ...CORE_OPTION_DOCS,
  ...Object.fromEntries(Object.entries(STUDY_OPTIONS).map(([n, o]) => [n, o.doc])),
};

/** A command's lines in the help's Commands section: its name, then what it does. */
const commandLine = (name: string, doc: string) => `  ${name.length < 10 ? name.padEnd(10) : `${name}  `}${doc}`;
const COMMAND_DOCS: Record<string, string> = Object.fromEntries([
  ...COMMANDS.map((c) => [c.name, commandLine(c.name, c.doc)]),
  ['help', commandLine('help', 'This text')],
]);

const DEFAULTS = {
  task: 'sort',
  seed: '42',
  preset: 'paper',
  out: 'runs',
  results: 'results',
  tasks: PAPER_TASKS.join(','),
  seeds: PAPER_SEEDS.join(','),
  workers: '1',
};

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
      throw new ConfigError(
        `${flag}: unknown option; ${command} takes: ${allowed.map((o) => `--${o}`).join(', ') || 'no options'}`,
      );
    }
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const msg = (e as Error).message;
      if (/does not take an argument/.test(msg)) throw new ConfigError(`${flag}: takes no value; see gcg --help`);
      const next = /ambiguous/.test(msg)
        ? ` (it is followed by ${JSON.stringify(args[args.indexOf(flag) + 1] ?? '')}, another option)`
        : '';
      throw new ConfigError(`${flag}: needs a value${next}; see gcg --help`);
    }
    throw new ConfigError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  if (positionals.length) {
    throw new ConfigError(
      `${command}: unexpected ${positionals.length > 1 ? 'words' : 'word'} ${positionals.map((p) => JSON.stringify(p)).join(' ')}; options are given as --name value (gcg --help)`,
    );
  }
  for (const k of Object.keys(values)) {
    if (!allowed.includes(k))
      throw new ConfigError(
        `--${k}: not an option of ${command}; ${command} takes: ${allowed.map((o) => `--${o}`).join(', ') || 'no options'}`,
      );
  }
  return { help: false as const, opts: { ...DEFAULTS, ...COMMAND_DEFAULTS[command], set: [], ...values } as Opts };
}

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
