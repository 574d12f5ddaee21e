/**
 * The stability study's runs (src/settings/replica.ts, src/studies/stability/run.ts): an init replica's weights are the
 * seed's, each nonzero one exactly one unit in the last place away; a data replica keeps the
 * weights and draws other batches; replica 0 is the run itself; the grid's order, settings and
 * refusals; and `gcg stability` end to end, stacked or not, with the noise floor's measures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Transformer } from '../src/model/model';
import { initialModel, nudgeLastBit, trainDataRng } from '../src/train/perturb';
import { readRecord, runPaths } from '../src/records/store';
import { RunRecord } from '../src/records/format';
import { sealRecord } from '../src/records/record-check';
import { Rng } from '../src/base/rng';
import { replicaOf, stabilityReplicas } from '../src/settings/replica';
import { stabilityJobs } from '../src/studies/stability/run';
import { trainRun } from '../src/runner/training';
import { CLI, setupBackend, TINY, tinyCfg, tmp } from './helpers';

const bitsOf = (x: Float32Array) => new Int32Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));

test('nudgeLastBit: hand-computed neighbours of 1, -2.5 and a subnormal; zero stays zero', () => {
  // One draw per value: find a stream whose first draws go up, down, up, down ... is not needed: read the draws.
  const rng = new Rng(7, 'probe');
  const ups = Array.from({ length: 5 }, () => rng.nextUint32() & 1);
  const x = new Float32Array([1, -2.5, 0, 1.401298464324817e-45 * 3, -0]);
  const moved = nudgeLastBit(x, new Rng(7, 'probe'));
  assert.equal(moved, 3);
  // 1 + 2^-23 above 1, 1 - 2^-24 below (the binade below is twice as fine).
  assert.equal(x[0], ups[0] ? 1 + 2 ** -23 : 1 - 2 ** -24);
  // |-2.5| grows by 2^-22 (ulp in [2, 4)) or shrinks by it.
  assert.equal(x[1], ups[1] ? -2.5 - 2 ** -22 : -2.5 + 2 ** -22);
  assert.equal(x[2], 0);
  assert.equal(x[3], 1.401298464324817e-45 * (ups[3] ? 4 : 2));
  assert.ok(Object.is(x[4], -0));
});

test("an init replica: the seed's weights, every nonzero one exactly one unit in the last place away, both ways; replica 0 is the seed's own", async () => {
  await setupBackend();
  const cfg = tinyCfg();
  const seedOwn = Transformer.init(cfg.model, 5).toArrays();
  const zero = initialModel(cfg, 5);
  for (const [k, v] of Object.entries(zero.toArrays())) assert.deepEqual(bitsOf(v.data), bitsOf(seedOwn[k].data), k);
  zero.dispose();
  const patterns: string[] = [];
  for (const r of [1, 2]) {
    const m = initialModel({ ...cfg, train: { ...cfg.train, initReplica: r } }, 5);
    let up = 0;
    let down = 0;
    let zeros = 0;
    const signs: number[] = [];
    for (const [k, v] of Object.entries(m.toArrays())) {
      const a = bitsOf(seedOwn[k].data);
      const b = bitsOf(v.data);
      for (let i = 0; i < a.length; i++) {
        if ((a[i] & 0x7fffffff) === 0) {
          assert.equal(b[i], a[i], `${k}[${i}]: a zero stays zero`);
          zeros++;
          continue;
        }
        const d = b[i] - a[i];
        assert.ok(d === 1 || d === -1, `${k}[${i}] moved by ${d} units`);
        if (d === 1) up++;
        else down++;
        signs.push(d);
      }
    }
    assert.ok(zeros > 0, 'the tiny model has zero biases (LayerNorm)');
    assert.ok(up > 0.4 * (up + down) && down > 0.4 * (up + down), `up ${up}, down ${down}`);
    patterns.push(signs.join(','));
    m.dispose();
  }
  assert.notEqual(patterns[0], patterns[1], 'replicas 1 and 2 move the weights differently');
});

test("a data replica: the same initial weights, other batches; training diverges from the seed's run", async () => {
  await setupBackend();
  const cfg = tinyCfg(['train.maxSteps=3', 'train.evalEvery=100']);
  const data1 = { ...cfg, train: { ...cfg.train, dataReplica: 1 } };
  assert.deepEqual(trainDataRng(cfg, 9).state(), new Rng(9, 'train-data').state());
  assert.deepEqual(trainDataRng(data1, 9).state(), new Rng(9, 'train-data-replica1').state());
  const own = trainRun({ task: 'sort', seed: 9, cfg, progress: false });
  const d = trainRun({ task: 'sort', seed: 9, cfg: data1, progress: false });
  const i = trainRun({
    task: 'sort',
    seed: 9,
    cfg: { ...cfg, train: { ...cfg.train, initReplica: 1 } },
    progress: false,
  });
  assert.notEqual(d.losses[0], own.losses[0], 'the first batch differs');
  assert.notDeepEqual(
    i.model.toArrays()['blocks.0.attn.W_q.weight'].data,
    own.model.toArrays()['blocks.0.attn.W_q.weight'].data,
  );
  // The seed's own run again: bit for bit (replica 0 changes nothing).
  const again = trainRun({
    task: 'sort',
    seed: 9,
    cfg: { ...cfg, train: { ...cfg.train, initReplica: 0, dataReplica: 0 } },
    progress: false,
  });
  assert.deepEqual(again.losses, own.losses);
  for (const r of [own, d, i, again]) r.model.dispose();
});

test("the grid: replicas outermost (base, init1, data1, ...), each replica its settings and folder; the study's own keys refused", () => {
  assert.deepEqual(
    stabilityReplicas(2).map((r) => r.name),
    ['base', 'init1', 'data1', 'init2', 'data2'],
  );
  assert.throws(() => stabilityReplicas(0), /--replicas: got 0; allowed: an integer in \[1, 1000\]/);
  const jobs = stabilityJobs({
    dir: 'S',
    preset: 'paper',
    tasks: ['reverse', 'sort'],
    seeds: [1, 2],
    replicas: 2,
    overrides: ['model.nLayers=2'],
  });
  assert.equal(jobs.length, 5 * 2 * 2);
  assert.deepEqual(
    jobs.slice(0, 5).map((j) => `${j.group}/${j.task}/${j.seed}`),
    ['base/reverse/1', 'base/reverse/2', 'base/sort/1', 'base/sort/2', 'init1/reverse/1'],
  );
  assert.deepEqual(
    jobs.map((j) => j.index),
    jobs.map((_, i) => i),
  );
  const of = (name: string) => jobs.find((j) => j.group === name)!;
  assert.equal(of('base').dir, path.join('S', 'base'));
  assert.deepEqual(
    [of('base').cfg.train.initReplica, of('base').cfg.train.dataReplica, of('base').cfg.analysis.redraws],
    [0, 0, 2],
  );
  assert.deepEqual(
    [of('init2').cfg.train.initReplica, of('init2').cfg.train.dataReplica, of('init2').cfg.analysis.redraws],
    [2, 0, 0],
  );
  assert.deepEqual([of('data1').cfg.train.initReplica, of('data1').cfg.train.dataReplica], [0, 1]);
  for (const j of jobs) {
    assert.equal(j.cfg.model.nLayers, 2);
    assert.deepEqual(j.cfg.analysis.measures, ['Cpos', 'Cpos-CE']);
    assert.equal(j.cfg.analysis.variants, false);
    assert.deepEqual(replicaOf(j.cfg), {
      kind: j.group!.replace(/\d+$/, ''),
      r: Number(j.group!.replace(/^\D+/, '') || 0),
    });
  }
  for (const s of ['train.initReplica=1', 'train.dataReplica=2', 'analysis.measures=C-CE', 'analysis.variants=true']) {
    assert.throws(
      () => stabilityJobs({ dir: 'S', preset: 'paper', tasks: ['sort'], seeds: [1], replicas: 1, overrides: [s] }),
      new RegExp(
        `--set ${s.replace('.', '\\.')}: the stability study sets ${s.split('=')[0].replace('.', '\\.')} itself`,
      ),
    );
  }
  assert.equal(
    stabilityJobs({
      dir: 'S',
      preset: 'paper',
      tasks: ['sort'],
      seeds: [1],
      replicas: 1,
      overrides: ['analysis.variants=false', 'analysis.redraws=0'],
    })[0].cfg.analysis.redraws,
    0,
  );
});

const env = { ...process.env, CI: 'true' };
const ROOT = path.join(__dirname, '..', '..');
const gcg = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });

/** A record without what differs between two processes (times, provenance, the seal) and without the batch note. */
function comparable(r: RunRecord) {
  const { losses, evals, steps, stopReason, finalAcc } = r.training;
  return {
    losses,
    evals,
    steps,
    stopReason,
    finalAcc,
    config: r.config,
    analysis: { ...r.analysis, timingsMs: undefined },
  };
}

test("gcg stability: every replica a run of its own folder, stacked or not the same records; the base run's redraws carry the per-position C", async () => {
  await setupBackend();
  const args = [
    ...TINY.filter((s) => s !== 'analysis.redraws=0').flatMap((s) => ['--set', s]),
    '--set',
    'analysis.redraws=1',
    '--ood-lengths',
    '3',
    '--allow-id-lengths',
    '--tasks',
    'sort',
    '--seeds',
    '1,2',
    '--replicas',
    '1',
  ];
  const a = tmp('stab-a');
  const r1 = gcg('stability', '--results', a, ...args);
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout, /6 runs, 0 already finished, 6 to do/);
  assert.match(r1.stdout, /init1 sort seed 2 analysed/);
  const b = tmp('stab-b');
  const r2 = gcg('stability', '--results', b, '--seeds-per-job', '2', '--workers', '2', ...args);
  assert.equal(r2.status, 0, r2.stderr);
  const losses: Record<string, number[]> = {};
  for (const rep of ['base', 'init1', 'data1']) {
    for (const seed of [1, 2]) {
      const ra = readRecord(runPaths(path.join(a, rep), 'paper', 'sort', seed).results)!;
      const rb = readRecord(runPaths(path.join(b, rep), 'paper', 'sort', seed).results)!;
      assert.ok(ra && rb, `${rep} seed ${seed}`);
      assert.deepEqual(comparable(rb), comparable(ra), `${rep} seed ${seed}: stacked = alone`);
      assert.deepEqual(rb.training.batched, { seeds: [1, 2] });
      assert.deepEqual(replicaOf(ra.config), { kind: rep.replace(/\d$/, ''), r: rep === 'base' ? 0 : 1 });
      assert.ok(ra.analysis.scores.Cpos && ra.analysis.scores['Cpos-CE'], 'the per-position C recorded');
      losses[`${rep}${seed}`] = ra.training.losses;
      if (rep === 'base') {
        assert.equal(ra.analysis.redraws!.length, 1);
        assert.deepEqual(Object.keys(ra.analysis.redraws![0].scores!), ['Cpos', 'Cpos-CE']);
      } else assert.equal(ra.analysis.redraws, undefined);
    }
  }
  assert.notDeepEqual(losses.init11, losses.base1);
  assert.notDeepEqual(losses.data11, losses.base1);
  assert.ok(fs.existsSync(path.join(a, 'data1', 'paper')));
  const again = gcg('stability', '--results', a, ...args);
  assert.match(again.stdout, /6 runs, 6 already finished, 0 to do/);

  // One Slurm array task of the study's grid, as Slurm runs scripts/slurm/sweep.sbatch: task 2 of (base, init1, data1) x seed 1 is data1.
  const slurm = tmp('stab-slurm');
  const sbatch = path.join(ROOT, 'scripts', 'slurm', 'sweep.sbatch');
  const one = args.slice(0, args.indexOf('--seeds')).concat(['--seeds', '1', '--replicas', '1']);
  const senv = {
    ...env,
    SLURM_SUBMIT_DIR: ROOT,
    SLURM_ARRAY_JOB_ID: '9',
    SLURM_ARRAY_TASK_ID: '2',
    GCG_COMMAND: 'stability',
  };
  const task = spawnSync('bash', [sbatch, '--results', slurm, ...one], { encoding: 'utf8', env: senv });
  assert.equal(task.status, 0, task.stderr);
  assert.match(task.stdout, /array task 2 of job 9 on .*: gcg stability /);
  assert.deepEqual(replicaOf(readRecord(runPaths(path.join(slurm, 'data1'), 'paper', 'sort', 1).results)!.config), {
    kind: 'data',
    r: 1,
  });
  assert.equal(
    fs.existsSync(runPaths(path.join(slurm, 'base'), 'paper', 'sort', 1).results),
    false,
    'only its own job',
  );
  const bogus = spawnSync('bash', [sbatch, '--results', slurm, ...one], {
    encoding: 'utf8',
    env: { ...senv, GCG_COMMAND: 'analyze' },
  });
  assert.equal(bogus.status, 2);
  assert.match(bogus.stderr, /GCG_COMMAND=analyze; allowed: sweep, stability/);

  // The report: every run read by its folder (HTML figures only here: no Chromium asked for).
  const report = (study: string, ...more: string[]) =>
    spawnSync(
      process.execPath,
      [
        CLI,
        'stability-report',
        '--study',
        study,
        '--kernels',
        '',
        '--report',
        path.join(study, 'S.md'),
        '--fig-dir',
        path.join(study, 'figs'),
        ...more,
      ],
      { encoding: 'utf8', env: { ...env, CI: '', GCG_CHROMIUM: '/nonexistent' } },
    ); // CI='': a missing browser is no error (HTML only)
  const rep = report(a);
  assert.equal(rep.status, 0, rep.stderr);
  assert.match(rep.stdout, /wrote .*S\.md from 6 records/);
  const md = fs.readFileSync(path.join(a, 'S.md'), 'utf8');
  assert.match(md, /^# The stability study/);
  assert.match(md, /### Sorting, \(G, Cpos\)/);
  assert.match(md, /\| seed \| other kernels \| base \| init1 \| data1 \| range over replicas \| base, redrawn \|/);
  assert.ok(fs.existsSync(path.join(a, 'figs', 'stability_rho_C.html')));
  // A record in another replica's folder is not counted as that replica.
  fs.copyFileSync(
    runPaths(path.join(a, 'init1'), 'paper', 'sort', 1).results,
    runPaths(path.join(a, 'data1'), 'paper', 'sort', 1).results,
  );
  const moved = report(a);
  assert.equal(moved.status, 0, moved.stderr);
  assert.match(moved.stderr, /data1.paper.sort_seed1\.json.*its settings make it replica init1, not data1/);
  assert.match(moved.stdout, /from 5 records/);
  // One study, one kernel family: a store holding replicas of the native family retired in issue 42
  // is refused by the study (a replica folder outside the grid asked for too), and by the report if mixed in.
  const retire = (folder: string) => {
    for (const f of fs.readdirSync(folder)) {
      const file = path.join(folder, f);
      if (f.endsWith('.ckpt')) fs.rmSync(file);
      else if (f.endsWith('.json')) {
        const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
        Object.assign(rec.provenance, { backend: 'wasm', kernels: 'native', fused: null });
        fs.writeFileSync(file, JSON.stringify(sealRecord(rec)));
      }
    }
  };
  const c = tmp('stab-c');
  fs.cpSync(a, c, { recursive: true });
  retire(path.join(c, 'base', 'paper'));
  const refusedRun = gcg('stability', '--results', c, ...args);
  assert.equal(refusedRun.status, 2, refusedRun.stdout + refusedRun.stderr);
  assert.match(refusedRun.stderr, /base.paper holds work made on wasm native .*retired in issue 42/);
  const d = tmp('stab-d');
  fs.cpSync(path.join(a, 'init1'), path.join(d, 'init2'), { recursive: true });
  retire(path.join(d, 'init2', 'paper'));
  const outside = gcg('stability', '--results', d, ...args);
  assert.equal(outside.status, 2, outside.stdout + outside.stderr);
  assert.match(outside.stderr, /init2.paper holds work made on wasm native/);
  const e = tmp('stab-e');
  fs.cpSync(a, e, { recursive: true });
  retire(path.join(e, 'data1', 'paper'));
  const refused = report(e);
  assert.equal(refused.status, 2);
  assert.match(
    refused.stderr,
    /mixes kernel families \(wasm native: \d runs? \(data1\); [^:]+: 4 runs \(base, init1\)\)/,
  );
  assert.match(report(tmp('stab-empty')).stderr, /--study: .* holds no record of the stability study/);
});
