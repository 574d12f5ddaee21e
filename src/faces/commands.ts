/**
 * The commands' work (`gcg <command>`): each checks what it was given before any work starts, then
 * trains, analyses, or writes reports. Loaded by src/cli.ts only once a command line has parsed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeRho } from '../analysis/ranks';
import { analyzeModel } from '../analysis/pipeline';
import { describeBackend, initBackend } from '../kernels/backend';
import { CheckpointError, loadCheckpoint, readCheckpointHeader } from '../records/checkpoint';
import { checkPreset, ConfigError } from '../settings/config';
import { parseOverrides } from '../settings/rules';
import { getTask } from '../tasks';
import { checkOutputDir } from '../io/files';
import { checkRunConflicts } from '../runner/conflicts';
import { reanalyze, runOne } from '../runner/run';
import { trainOne } from '../runner/train-run';
import { readRecord, runPaths } from '../records/store';
import { configDiff, TrainingOutcome } from '../records/format';
import { describeEstimate, estimateRun, measureStepMs } from '../runner/estimate';
import { formatDuration } from '../base/progress';
import { DEMO_OVERRIDES, describeDemo, describeDemoFiles, runDemo } from './demo';
import { runBatch } from '../runner/run-batch';
import { verifyStore } from '../runner/verify';
import { resolveRun, resolveSettings } from '../settings/run-spec';
import { oodLengths, Opts, resultsToRead } from '../runner/command';
import { parseIntList, parseLockStale, parseSeed } from '../settings/typed';
import { describeStop, TrainResult } from '../train/train';

async function runTrain(opts: Opts): Promise<TrainResult> {
  // Validate everything, the output folder included, before any work.
  const { task, seed, preset, cfg } = resolveRun({
    preset: opts.preset,
    task: opts.task,
    seed: parseSeed(opts.seed),
    settings: opts.set,
  });
  const out = checkOutputDir('--out', opts.out);
  const info = await initBackend();
  console.log(describeBackend(info));
  console.log(
    `train preset=${preset} task=${task} seed=${seed} model=L${cfg.model.nLayers}xH${cfg.model.nHeads} d=${cfg.model.dModel}`,
  );
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
  console.log(
    `${describeStop(result.stopReason, result.steps, cfg.train.targetAcc)} in ${(result.wallMs / 1000).toFixed(1)} s (${result.msPerStep.toFixed(1)} ms/step on ${info.backend})`,
  );
  console.log(`wrote ${checkpoint} and ${record}`);
  return result;
}

export async function runDemoCommand(opts: Opts): Promise<number> {
  const { task, seed, preset, cfg } = resolveRun({
    preset: opts.preset,
    task: opts.task,
    seed: parseSeed(opts.seed),
    settings: [...DEMO_OVERRIDES, ...opts.set],
  });
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
  console.log(
    done && !configDiff(done.config, cfg).length
      ? 'already computed: reading it (seconds)'
      : `estimated ${describeEstimate(estimateRun({ cfg, preset, task, msPerStep: measureStepMs(cfg, task) }))}`,
  );
  const r = await runDemo({
    dir: out,
    preset,
    task,
    seed,
    cfg,
    oodLengths: lengths,
    allowIdLengths: opts['allow-id-lengths'],
    replace: opts.replace,
    log: (l) => console.log(l),
  });
  for (const l of [...describeDemo(r.record), ...describeDemoFiles(r.files)]) console.log(l);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `took ${formatDuration(Date.now() - t0)} wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU (${info.kernels} kernels, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores)`,
  );
  return 0;
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
    lines.push(
      `pruning (OOD): baseline ${pct(p.baseline)}, Heroes pruned ${pct(p.heroesPruned)}, Bloats pruned ${pct(p.bloatsPruned)}`,
    );
  }
  lines.push(
    `phases: ${Object.entries(a.timingsMs)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
      .join(', ')}`,
  );
  return lines.join('\n');
}

export async function runRun(opts: Opts): Promise<number> {
  if (opts.seeds) return runSeeds(opts);
  const { task, seed, preset, cfg } = resolveRun({
    preset: opts.preset,
    task: opts.task,
    seed: parseSeed(opts.seed),
    settings: opts.set,
  });
  const lengths = oodLengths(opts, cfg, [task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  checkOutputDir('--results', path.join(dir, preset));
  if (!opts.replace) checkRunConflicts(dir, preset, task, seed, cfg);
  console.log(describeBackend(await initBackend()));
  const { record, skipped } = runOne({
    dir,
    preset,
    task,
    seed,
    cfg,
    oodLengths: lengths,
    allowIdLengths: opts['allow-id-lengths'],
    replace: opts.replace,
    lockStaleMinutes,
    log: (l) => console.log(l),
  });
  const paths = runPaths(dir, preset, task, seed);
  console.log(
    skipped
      ? `already finished: ${paths.results}`
      : `${describeAnalysis(record.analysis)}\nwrote ${paths.results} (the trained model: ${paths.checkpoint})`,
  );
  return 0;
}

/** `run --seeds A,B,C`: the seeds trained stacked, then each analysed (src/runner/run-batch.ts). */
async function runSeeds(opts: Opts): Promise<number> {
  const seeds = parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1);
  if (new Set(seeds).size !== seeds.length)
    throw new ConfigError(`--seeds: got ${JSON.stringify(opts.seeds)}, which repeats a seed; allowed: distinct seeds`);
  const runs = seeds.map((seed) => resolveRun({ preset: opts.preset, task: opts.task, seed, settings: opts.set }));
  const { task, preset, cfg } = runs[0];
  const lengths = oodLengths(opts, cfg, [task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  checkOutputDir('--results', path.join(dir, preset));
  if (!opts.replace) for (const seed of seeds) checkRunConflicts(dir, preset, task, seed, cfg);
  console.log(describeBackend(await initBackend()));
  const outcomes = runBatch({
    dir,
    preset,
    task,
    seeds,
    cfg,
    oodLengths: lengths,
    allowIdLengths: opts['allow-id-lengths'],
    replace: opts.replace,
    lockStaleMinutes,
    log: (l) => console.log(l),
  });
  for (const o of outcomes) {
    const file = runPaths(dir, preset, task, o.seed).results;
    if (o.record)
      console.log(
        o.skipped
          ? `seed ${o.seed}: already finished: ${file}`
          : `seed ${o.seed}: ${describeAnalysis(o.record.analysis)}\nwrote ${file}`,
      );
    else if (o.elsewhere) console.log(`seed ${o.seed}: in progress elsewhere (${o.elsewhere}): left to that process`);
    else console.error(`FAILED: ${task} seed ${o.seed}: ${o.error}`);
  }
  return outcomes.some((o) => o.error) ? 1 : 0;
}

export async function runAnalyze(opts: Opts): Promise<number> {
  const sets = parseOverrides(opts.set);
  const training = Object.keys(sets).filter((k) => k !== 'analysis');
  if (training.length)
    throw new ConfigError(
      `--set ${training.join(', ')}.*: analyze changes only analysis.* settings (the models are already trained)`,
    );
  const lockStaleMinutes = parseLockStale(opts);
  if (!opts.checkpoint) {
    const preset = checkPreset(opts.preset);
    const lengths = oodLengths(opts);
    const sub = path.join(resultsToRead(opts.results), preset);
    if (!fs.existsSync(sub))
      throw new ConfigError(
        `--results: ${JSON.stringify(opts.results)} has no folder for preset ${preset}; allowed: a results folder holding ${preset}/<task>_seed<seed>.ckpt`,
      );
    checkOutputDir('--results', sub);
    console.log(describeBackend(await initBackend()));
    const { records, failures } = reanalyze({
      dir: opts.results,
      preset,
      analysis: sets.analysis ?? {},
      oodLengths: lengths,
      allowIdLengths: opts['allow-id-lengths'],
      lockStaleMinutes,
      log: (l) => console.log(l),
    });
    console.log(`re-analysed ${records.length} runs of preset ${preset} in ${opts.results}`);
    if (!records.length && !failures.length)
      throw new ConfigError(
        `--results: ${JSON.stringify(sub)} holds no trained checkpoint (<task>_seed<seed>.ckpt) to re-analyse`,
      );
    for (const f of failures) console.error(`FAILED: ${f.file}: ${f.reason}`);
    if (failures.length)
      console.error(
        `${failures.length} of ${records.length + failures.length} checkpoints could not be re-analysed (listed above); the others were`,
      );
    return failures.length ? 1 : 0;
  }
  if (!fs.existsSync(opts.checkpoint))
    throw new ConfigError(
      `--checkpoint: ${JSON.stringify(opts.checkpoint)} does not exist; allowed: a .ckpt file written by train, run or sweep`,
    );
  try {
    readCheckpointHeader(opts.checkpoint); // a file that is no checkpoint is bad input (exit 2), before any work
  } catch (e) {
    if (e instanceof CheckpointError)
      throw new ConfigError(
        `--checkpoint: ${e.message.replace(/^checkpoint /, '')}; allowed: a .ckpt file written by train, run or sweep`,
      );
    throw e;
  }
  console.log(describeBackend(await initBackend()));
  const ck = loadCheckpoint(opts.checkpoint);
  // The model's own settings, with the analysis settings given: resolved as any run is.
  const { task, cfg } = resolveRun({
    preset: String(ck.meta.preset),
    task: String(ck.meta.task),
    seed: Number(ck.meta.seed),
    settings: { ...ck.config, analysis: { ...ck.config.analysis, ...(sets.analysis ?? {}) } },
  });
  const lengths = oodLengths(opts, cfg, [task]);
  const outcome = ck.meta.training as TrainingOutcome | undefined;
  const untrained =
    outcome && !outcome.reachedTarget
      ? `warning: this model never reached the training target (train.targetAcc=${cfg.train.targetAcc}): it stopped at step ${outcome.steps} (${outcome.stopReason}) with training-distribution exact match ${outcome.finalAcc === null ? 'unknown' : `${(100 * outcome.finalAcc).toFixed(1)}%`}; the paper analyses trained models only, so read rho and the classes below as those of an unfinished model`
      : null;
  if (untrained) console.error(untrained);
  const a = analyzeModel({
    model: ck.model,
    task,
    seed: Number(ck.meta.seed),
    cfg: cfg.analysis,
    oodLengths: lengths,
    onPhase: (p) => console.log(`  ${p}...`),
  });
  if ((lengths ?? getTask(task).oodLengths).some((n) => n <= cfg.data.maxLen)) a.ood.withinTraining = true;
  console.log(describeAnalysis(a));
  if (untrained) console.error(untrained.replace(/; the paper .*$/, '; the numbers above are of an unfinished model'));
  ck.model.dispose();
  return 0;
}

export async function runTrainCommand(opts: Opts): Promise<number> {
  (await runTrain(opts)).model.dispose();
  return 0;
}

export async function runVerify(opts: Opts): Promise<number> {
  const v = verifyStore(resultsToRead(opts.results), { seal: opts.seal });
  for (const p of v.problems) console.error(`PROBLEM: ${p.file}: ${p.problem}`);
  console.log(
    `verified ${v.records} results files and ${v.checkpoints} checkpoints in ${v.folders.length} folders under ${opts.results}: ${v.problems.length} problem(s)` +
      (v.sealed.length
        ? `; sealed ${v.sealed.length} records`
        : v.unsealed
          ? `; ${v.unsealed} valid records carry no seal (--seal adds it)`
          : ''),
  );
  return v.problems.length ? 1 : 0;
}

export async function runConfig(opts: Opts): Promise<number> {
  console.log(JSON.stringify(resolveSettings(opts.preset, opts.set).cfg, null, 2));
  return 0;
}

export async function runBackend(): Promise<number> {
  console.log(describeBackend(await initBackend()));
  return 0;
}
