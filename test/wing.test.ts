/**
 * How much a new study touches. A copy of the sources gets a throwaway study (a folder,
 * src/studies/toy/, and one line in src/faces/studies.ts, nothing else): its command is in the
 * help with its own option, dispatches, checks its option before any work, and writes its report
 * from the committed records; the shape rules hold for it as for every wing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadRecords } from '../src/records/store';
import { sourcesCopy } from './helpers';

const root = path.join(__dirname, '..', '..');

const TOY = {
  'index.ts': `/** The toy study (a throwaway for test/wing.test.ts): mean rho per task. */
import type { Study } from '../../runner/command';

export const toyStudy: Study = {
  name: 'toy',
  summary: 'mean rho per task',
  report: 'TOY.md',
  figures: 'figures/toy',
  commands: [
    {
      name: 'toy-report',
      doc: 'TOY.md: the mean rho of each task, over the seeds in --results',
      options: ['preset', 'results', 'report', 'top'],
      defaults: { report: 'TOY.md', top: '2' },
      load: async () => (await import('./commands')).runToyReport,
    },
  ],
  options: { top: { type: 'string', doc: '  --top K         toy-report: the K tasks of highest mean rho (default 2)' } },
};
`,
  'numbers.ts': `import type { RunRecord } from '../../records/format';

/** Mean rho per task, highest first. */
export function meanRhos(records: readonly RunRecord[]): { task: string; rho: number; runs: number }[] {
  const tasks = [...new Set(records.map((r) => r.task))];
  return tasks
    .map((task) => {
      const rs = records.filter((r) => r.task === task && r.analysis.status === 'analysed');
      return { task, rho: rs.reduce((s, r) => s + r.analysis.classification!.rho, 0) / rs.length, runs: rs.length };
    })
    .sort((a, b) => b.rho - a.rho);
}
`,
  'commands.ts': `import { writeFileAtomic } from '../../io/files';
import { loadRecords } from '../../records/store';
import type { Opts } from '../../runner/command';
import { parseInt1 } from '../../settings/typed';
import { checkPreset } from '../../settings/config';
import { meanRhos } from './numbers';

export async function runToyReport(opts: Opts): Promise<number> {
  const top = parseInt1('--top', String(opts.top), 1, 10);
  const rows = meanRhos(loadRecords(opts.results, checkPreset(opts.preset))).slice(0, top);
  writeFileAtomic(opts.report!, rows.map((r) => \`\${r.task} \${r.rho.toFixed(6)} \${r.runs}\`).join('\\n') + '\\n');
  console.log(\`wrote \${opts.report}\`);
  return 0;
}
`,
};

test('a new study is one folder and one registry line: its command, option, help and report come from its descriptor', () => {
  const copy = sourcesCopy('newstudy');
  const tmp = copy.dir;
  try {
    // The two edits a new study takes: its folder, and its line in the list.
    fs.mkdirSync(path.join(tmp, 'src', 'studies', 'toy'));
    for (const [f, text] of Object.entries(TOY)) fs.writeFileSync(path.join(tmp, 'src', 'studies', 'toy', f), text);
    const list = path.join(tmp, 'src', 'faces', 'studies.ts');
    const before = fs.readFileSync(list, 'utf8');
    const after = before
      .replace(
        "import { stabilityStudy } from '../studies/stability';",
        "import { stabilityStudy } from '../studies/stability';\nimport { toyStudy } from '../studies/toy';",
      )
      .replace(/findingsStudy,?(\s*)\]/, 'findingsStudy, toyStudy$1]');
    assert.notEqual(after, before);
    fs.writeFileSync(list, after);

    // The shape rules hold for the new wing (scripts/imports.js on the copy).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const shape = require(path.join(root, 'scripts', 'imports.js'));
    const p = shape.problems(path.join(tmp, 'src'));
    assert.deepEqual([...p.cycles, ...p.unplaced, ...p.upward, ...p.acrossWings, ...p.coreToNode], []);
    assert.ok(p.modules.includes('studies/toy/numbers.ts') && shape.isCore('studies/toy/numbers.ts'));

    const tsc = copy.build();
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const cli = copy.cli;

    assert.match(cli('--help').stdout, /\n  toy-report  TOY\.md: the mean rho of each task/);
    assert.match(cli('--help').stdout, /\n  --top K +toy-report: the K tasks of highest mean rho/);
    const own = cli('toy-report', '--help');
    assert.equal(own.status, 0);
    assert.match(own.stdout, /--top K/);
    assert.doesNotMatch(own.stdout, /--replicas/, 'only its own options');
    const bad = cli('toy-report', '--top', 'many', '--results', path.join(root, 'results'));
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--top: got "many"; allowed: one integer in \[1, 10\]/);
    assert.match(cli('run', '--top', '3').stderr, /--top: not an option of run/);

    const out = path.join(tmp, 'TOY.md');
    const r = cli('toy-report', '--results', path.join(root, 'results'), '--report', out, '--top', '1');
    assert.equal(r.status, 0, r.stderr);
    // The report's number, recomputed here from the committed records.
    const recs = loadRecords(path.join(root, 'results'), 'paper').filter((x) => x.analysis.status === 'analysed');
    const means = [...new Set(recs.map((x) => x.task))].map((task) => {
      const rs = recs.filter((x) => x.task === task);
      return { task, rho: rs.reduce((s, x) => s + x.analysis.classification!.rho, 0) / rs.length, runs: rs.length };
    });
    const best = means.sort((a, b) => b.rho - a.rho)[0];
    assert.equal(fs.readFileSync(out, 'utf8'), `${best.task} ${best.rho.toFixed(6)} ${best.runs}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
