#!/usr/bin/env node
/**
 * Command-line entry point: `gcg <command> [options]` (or `node dist/src/cli.js ...`).
 * Every command prints the backend it runs on; every file it writes records it.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, initBackend } from './backend';
import { saveCheckpoint } from './checkpoint';
import { checkPreset, checkSeed, checkTask, ConfigError, CONFIG_RULES, getConfig, parseOverrides, PRESETS, TASKS } from './config';
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
  config    Print the resolved configuration of a preset (with --set overrides) as JSON
  backend   Print which TensorFlow.js backend loads here
  help      This text

Options (train, demo, config)
  --task T        ${TASKS.join(' | ')}                        (train; default sort)
  --seed N        integer seed                            (train; default 42)
  --preset P      ${PRESETS.join(' | ')}: paper = the paper's text where explicit;
                  authors = the authors' published code, choice for choice  (default paper)
  --set key=val   override one setting, repeatable, e.g. --set model.nLayers=2
  --out DIR       where checkpoints and records go        (default runs)

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
  const outcome = {
    steps: result.steps,
    reachedTarget: result.reachedTarget,
    stopReason: result.stopReason,
    finalAcc: result.evals.length ? result.evals[result.evals.length - 1].acc : null,
    wallMs: result.wallMs,
    msPerStep: result.msPerStep,
  };
  saveCheckpoint(`${base}.ckpt`, result.model, cfg, { task, seed, preset, steps: result.steps, backend: prov.backend, provenance: prov, outcome });
  const record = { preset, task, seed, config: cfg, provenance: prov, ...outcome, checkpoint: `${base}.ckpt`, losses: result.losses, evals: result.evals };
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

export async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  try {
    const { values } = parse(rest);
    if (values.help || command === 'help' || command === '--help' || command === '-h') {
      console.log(HELP);
      return 0;
    }
    const opts = values as { task: string; seed: string; preset: string; set: string[]; out: string };
    switch (command) {
      case 'train':
        (await runTrain(opts)).model.dispose();
        return 0;
      case 'demo':
        await runDemo(opts);
        return 0;
      case 'config':
        console.log(JSON.stringify(getConfig(checkPreset(opts.preset), parseOverrides(opts.set)), null, 2));
        return 0;
      case 'backend':
        console.log(describeBackend(await initBackend()));
        return 0;
      default:
        console.error(`unknown command ${JSON.stringify(command)}; allowed: train, demo, config, backend, help`);
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
