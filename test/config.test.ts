import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { checkPreset, checkSeed, checkTask, ConfigError, DEFAULT_CONFIG, PRESET_CONFIGS } from '../src/settings/config';
import { getConfig, validateConfig } from '../src/settings/validate';
import { checkValue, CONFIG_RULES, parseOverrides } from '../src/settings/rules';
import { SETTINGS } from '../src/settings/config';
import { checkRun, resolveRun, settingsOf } from '../src/settings/run-spec';

test('defaults are the paper model: L=4, H=4, d_model=128, d_ff=512, Adam 1e-3, batch 64, 15k steps, 90%', () => {
  const c = getConfig();
  assert.deepEqual(
    [
      c.model.nLayers,
      c.model.nHeads,
      c.model.dModel,
      c.model.dFF,
      c.train.lr,
      c.train.batchSize,
      c.train.maxSteps,
      c.train.targetAcc,
    ],
    [4, 4, 128, 512, 1e-3, 64, 15000, 0.9],
  );
  assert.equal(c.model.positions, 'none');
  assert.equal(c.model.init, 'pytorch');
});

test('authors preset reproduces their code: separate padding, check every 500 steps on 100 sequences', () => {
  const a = getConfig('authors');
  assert.equal(a.data.layout, 'separate');
  assert.equal(a.train.evalEvery, 500);
  assert.equal(a.train.evalSamples, 100);
  assert.equal(a.model.init, 'pytorch');
  assert.equal(a.model.positions, 'none');
  assert.equal(getConfig('paper').data.layout, 'contiguous');
  // analysis side: their head ablation after W_O, unpaired scoring on 100, average ranks, strict thresholds
  assert.deepEqual(
    [
      a.analysis.headAblation,
      a.analysis.paired,
      a.analysis.evalSamples,
      a.analysis.oodPickSamples,
      a.analysis.rankRule,
      a.analysis.inclusive,
    ],
    ['after-WO-slice', false, 100, 100, 'average', false],
  );
  const p = getConfig('paper').analysis;
  assert.deepEqual(
    [p.headAblation, p.paired, p.rankRule, p.inclusive, p.threshold],
    ['before-WO', true, 'ordinal-random', true, 6],
  );
});

test("each setting is declared once, in its part's table: its default and authors value pass its rule, the presets and rules derive from it", () => {
  const keys = Object.keys(CONFIG_RULES);
  assert.equal(keys.length, 45);
  const src = path.join(__dirname, '..', '..', 'src');
  const sources = fs
    .readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => fs.readFileSync(path.join(src, f), 'utf8'))
    .join('\n');
  for (const [section, table] of Object.entries(SETTINGS)) {
    for (const [field, rule] of Object.entries(table)) {
      const key = `${section}.${field}`;
      assert.equal(CONFIG_RULES[key], rule, key);
      checkValue(key, rule.default);
      if (rule.authors !== undefined) {
        checkValue(key, rule.authors);
        assert.notDeepEqual(rule.authors, rule.default, `${key}: an authors value only where it differs`);
      }
      const sec = section as keyof typeof PRESET_CONFIGS.paper;
      const get = (p: 'paper' | 'authors') => (PRESET_CONFIGS[p][sec] as unknown as Record<string, unknown>)[field];
      assert.deepEqual(get('paper'), rule.default, key);
      assert.deepEqual(get('authors'), rule.authors ?? rule.default, key);
      // its doc written once in the sources (the table), not again in an interface or a second table
      const literal = [JSON.stringify(rule.doc), `'${rule.doc}'`];
      const count = literal.reduce((n, l) => n + sources.split(l).length - 1, 0);
      assert.equal(count, 1, `${key}: its doc appears ${count} times in src/`);
    }
  }
  // the configuration's sections and fields are exactly the tables'
  for (const p of ['paper', 'authors'] as const)
    assert.deepEqual(
      Object.entries(PRESET_CONFIGS[p]).flatMap(([s, fields]) => Object.keys(fields).map((f) => `${s}.${f}`)),
      keys,
    );
});

test('getConfig returns a copy: mutating it does not change the presets', () => {
  const c = getConfig('paper');
  c.model.nLayers = 1;
  assert.equal(PRESET_CONFIGS.paper.model.nLayers, 4);
  assert.equal(DEFAULT_CONFIG.model.nLayers, 4);
});

test('notebook-style partial overrides apply and are validated', () => {
  const c = getConfig('authors', { model: { nLayers: 2 }, train: { lr: 3e-4 } });
  assert.equal(c.model.nLayers, 2);
  assert.equal(c.model.nHeads, 4);
  assert.equal(c.train.lr, 3e-4);
  assert.equal(c.data.layout, 'separate');
});

test('CLI overrides parse numbers and enumerations', () => {
  assert.deepEqual(
    parseOverrides(['model.nLayers=2', 'model.positions=learned', 'train.lr=1e-4', 'analysis.paired=false']),
    {
      model: { nLayers: 2, positions: 'learned' },
      train: { lr: 1e-4 },
      analysis: { paired: false },
    },
  );
});

function throwsNaming(fn: () => unknown, ...fragments: string[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    for (const f of fragments)
      assert.ok(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    return true;
  });
}

test('bad settings are rejected with the key and what is allowed', () => {
  throwsNaming(() => parseOverrides(['model.nLayer=2']), 'model.nLayer', 'unknown key', 'model.nLayers');
  throwsNaming(() => parseOverrides(['model.nLayers=two']), 'model.nLayers', 'an integer in [1, 64]');
  throwsNaming(() => parseOverrides(['model.nLayers=2.5']), 'model.nLayers', 'integer');
  throwsNaming(() => parseOverrides(['model.nLayers=0']), 'model.nLayers', '[1, 64]');
  throwsNaming(() => parseOverrides(['train.lr=0']), 'train.lr', '(0, 10]');
  throwsNaming(() => parseOverrides(['train.targetAcc=1.5']), 'train.targetAcc', '(0, 1]');
  throwsNaming(() => parseOverrides(['model.positions=sinusoidal']), 'model.positions', '"none", "learned"');
  throwsNaming(() => parseOverrides(['model.nLayers']), 'key=value');
  throwsNaming(() => parseOverrides(['analysis.paired=yes']), 'analysis.paired', 'true or false');
  throwsNaming(
    () => parseOverrides(['analysis.rankRule=dense']),
    'analysis.rankRule',
    '"average", "ordinal-random", "ordinal-order"',
  );
  throwsNaming(
    () => getConfig('paper', { analysis: { accLow: 0.8, accHigh: 0.7 } }),
    'analysis.accHigh',
    'analysis.accLow',
  );
  throwsNaming(() => getConfig('paper', { model: { nLayers: '3' as unknown as number } }), 'model.nLayers', 'got "3"');
  throwsNaming(() => getConfig('paper', { modle: {} } as never), 'modle', 'unknown section');
  throwsNaming(() => getConfig('paper', { model: { dModel: 130 } }), 'model.dModel', 'divisible by model.nHeads');
  throwsNaming(() => getConfig('paper', { data: { minLen: 5, maxLen: 4 } }), 'data.maxLen', 'data.minLen');
  throwsNaming(
    () => validateConfig({ ...getConfig(), train: { ...getConfig().train, batchSize: -1 } }),
    'train.batchSize',
  );
});

test('unknown presets, tasks and bad seeds are named', () => {
  throwsNaming(() => checkPreset('author'), 'preset', '"author"', 'paper, authors');
  throwsNaming(() => getConfig('nope'), 'preset', 'paper, authors');
  throwsNaming(() => checkTask('sorting'), 'task', 'reverse, sort');
  throwsNaming(() => checkSeed(-1), 'seed');
  throwsNaming(() => checkSeed(1.5), 'seed');
  assert.equal(checkTask('sort'), 'sort');
  assert.equal(checkSeed(42), 42);
});

test('both presets resolve to exactly the configuration of their committed runs (every setting those runs record)', () => {
  const root = path.join(__dirname, '..', '..', 'results');
  for (const preset of ['paper', 'authors'] as const) {
    const stored = JSON.parse(fs.readFileSync(path.join(root, preset, 'sort_seed42.json'), 'utf8')).config;
    const now = getConfig(preset);
    for (const section of ['model', 'data', 'train', 'analysis'] as const) {
      for (const [key, value] of Object.entries(stored[section])) {
        assert.deepEqual(
          (now[section] as unknown as Record<string, unknown>)[key],
          value,
          `${preset}: ${section}.${key}`,
        );
      }
    }
  }
});

test('resolveRun: one resolution for every face (assignments or an object, a size, the task and seed checked together)', () => {
  const fromCli = resolveRun({
    preset: 'authors',
    task: 'sort',
    seed: 7,
    size: 'l2-d128',
    settings: ['train.lr=0.002', 'analysis.measures=Cpos,taylor'],
  });
  const fromCell = resolveRun({
    preset: 'authors',
    task: 'sort',
    seed: 7,
    size: 'l2-d128',
    settings: { train: { lr: 0.002 }, analysis: { measures: ['Cpos', 'taylor'] } },
  });
  assert.deepEqual(fromCell.cfg, fromCli.cfg);
  assert.deepEqual(
    [
      fromCli.preset,
      fromCli.task,
      fromCli.seed,
      fromCli.size,
      fromCli.cfg.model.nLayers,
      fromCli.cfg.train.lr,
      fromCli.cfg.data.layout,
    ],
    ['authors', 'sort', 7, 'l2-d128', 2, 0.002, 'separate'],
  );
  // Its settings give the same configuration back (what a sweep worker is handed), and settingsOf is their inverse.
  assert.deepEqual(getConfig('authors', parseOverrides(fromCell.settings)), fromCli.cfg);
  assert.deepEqual(settingsOf('authors', fromCli.cfg), [
    'model.nLayers=2',
    'train.lr=0.002',
    'analysis.measures=Cpos,taylor',
  ]);
  assert.deepEqual(settingsOf('paper', getConfig('paper')), []);
  assert.deepEqual(
    resolveRun({ task: 'reverse', seed: 42 }).cfg,
    getConfig('paper'),
    'the default is the paper preset, unchanged',
  );
  // Each part is checked, before any work, with the setting named.
  assert.throws(() => resolveRun({ task: 'sorting', seed: 1 }), /task: unknown task "sorting"; allowed: reverse, sort/);
  assert.throws(() => resolveRun({ task: 'sort', seed: -1 }), /seed: got -1; allowed: an integer in \[0, 4294967295\]/);
  assert.throws(() => resolveRun({ task: 'sort', seed: 1, preset: 'paperr' }), /preset: unknown preset "paperr"/);
  assert.throws(() => resolveRun({ task: 'sort', seed: 1, size: 'l3-d128' }), /--sizes: unknown size "l3-d128"/);
  assert.throws(
    () => resolveRun({ task: 'sort', seed: 1, settings: ['train.lrr=0.1'] }),
    /config train.lrr: unknown key \(did you mean train.lr\?\)/,
  );
  assert.throws(() => resolveRun({ task: 'sort', seed: 1, settings: { train: { lr: -1 } } }), /config train.lr/);
  assert.throws(
    () => resolveRun({ task: 'sort', seed: 1, settings: ['model.vocabSize=50'] }),
    /model.vocabSize: 50 cannot hold task sort's 104 tokens/,
  );
  assert.throws(
    () => resolveRun({ task: 'sort', seed: 1, size: 'l2-d128', settings: ['model.dModel=64'] }),
    /--set model.dModel=64: --sizes sets/,
  );
  // An entry handed a configuration built elsewhere checks it by the same rules.
  const edited = getConfig('paper');
  edited.model.vocabSize = 50;
  assert.throws(() => checkRun('sort', 1, edited), /model.vocabSize: 50 cannot hold task sort's 104 tokens/);
  assert.throws(() => checkRun('sort', 1.5, getConfig('paper')), /seed: got 1.5/);
});

test('one run is validated once: a tiny `gcg run` checks its configuration, its task fit and its measure names once each', () => {
  const root = path.join(__dirname, '..', '..');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-checks-'));
  const tiny = ['model.nLayers=1', 'model.nHeads=2', 'model.dModel=16', 'model.dFF=16', 'train.maxSteps=20'];
  const more = ['train.evalEvery=10', 'train.evalSamples=16', 'analysis.gradBatches=1', 'analysis.meanBatches=1'];
  const small = [
    'analysis.evalSamples=16',
    'analysis.oodPickSamples=16',
    'analysis.idSamples=16',
    'analysis.redraws=0',
  ];
  const sets = [...tiny, ...more, ...small, 'analysis.variants=false'].flatMap((s) => ['--set', s]);
  const r = spawnSync(
    process.execPath,
    [
      '-r',
      path.join(__dirname, 'count-checks.js'),
      'dist/src/cli.js',
      'run',
      '--task',
      'sort',
      '--seed',
      '1',
      ...sets,
      '--ood-lengths',
      '2,3',
      '--allow-id-lengths',
      '--results',
      out,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const line = /checks (\{.*\})/.exec(r.stderr);
  assert.ok(line, r.stderr);
  assert.deepEqual(JSON.parse(line[1]), { config: 1, analysis: 0, task: 1, measures: 1 });
  fs.rmSync(out, { recursive: true, force: true });
});
