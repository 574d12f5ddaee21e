/** The findings page (docs/findings.md): its rows come from the right records, with the task gap's one test and verdicts by its interval. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComponentClass } from '../src/analysis/ranks';
import type { ProtocolVariant } from '../src/analysis/pipeline';
import { PAPER } from '../src/report/paper';
import { mean, permutationTest } from '../src/report/stats';
import { findingsClaims, findingsReport } from '../src/studies/findings/report';
import { record } from './records';

const H: ComponentClass = 'HiddenHero';
const B: ComponentClass = 'GradientBloat';
const A: ComponentClass = 'Aligned';

/** A record whose authors'-scoring variant (unpaired, after W_O, 100 sequences) has rho `authorsRho`; other variants are decoys. */
function withVariants(task: 'reverse' | 'sort', seed: number, rho: number, authorsRho: number) {
  const r = record(task, seed, rho, [B, A, A, H, A, A]);
  const v = (headAblation: ProtocolVariant['headAblation'], paired: boolean, evalSamples: number, vr: number) =>
    ({ headAblation, paired, evalSamples, baseline: 0.5, C: {}, rho: vr, classifications: [] }) as ProtocolVariant;
  r.analysis.variants = [
    v('after-WO-slice', true, 100, -0.9), // paired: not the authors' protocol
    v('after-WO-slice', false, 1000, -0.9), // 1000 sequences: not it either
    v('after-WO-slice', false, 100, authorsRho),
    v('before-WO', false, 100, -0.9),
  ];
  return r;
}

test("findings: the task-gap rows (the store's rho; the authors' scoring from its own variant) with the permutation test and verdicts by the interval", () => {
  const rev = PAPER.seeds.reverse.map((s) => s.rho);
  const srt = PAPER.seeds.sort.map((s) => s.rho);
  // The authors' scoring: the same small spread on both tasks, Reversal 0.01 higher: no gap to see.
  const authorsRho = (task: string, i: number) => 0.5 + 0.05 * Math.sin(i + 1) + (task === 'reverse' ? 0.01 : 0);
  const records = [
    ...PAPER.seeds.reverse.map((s, i) => withVariants('reverse', s.seed, s.rho, authorsRho('reverse', i))),
    ...PAPER.seeds.sort.map((s, i) => withVariants('sort', s.seed, s.rho, authorsRho('sort', i))),
    record('sort', 7, null, []), // skipped: counted nowhere
  ];
  const input = {
    stores: [{ label: 'paper preset', preset: 'paper' as const, records }],
    stability: null,
    redundancy: null,
    redundancyStores: [],
    resamples: 500,
  };
  const rows = findingsClaims(input);
  const gap = rows.filter((r) => r.group === 'rho collapses from reversal to sorting');
  assert.equal(gap.length, 2);
  const [store, authors] = gap;
  // The store's row: the means, the observed gap and the exact two-sided permutation p over 184,756 relabellings.
  const p = permutationTest(rev, srt, { alternative: 'two-sided' }).p;
  const m = /^(\d\.\d{3}) -> (\d\.\d{3}); gap (\d\.\d{3}) \[(-?\d\.\d{3}), (-?\d\.\d{3})\], p (\S+)$/.exec(store.ours)!;
  assert.ok(m, store.ours);
  assert.equal(m[1], mean(rev).toFixed(3));
  assert.equal(m[2], mean(srt).toFixed(3));
  assert.equal(m[3], (mean(rev) - mean(srt)).toFixed(3));
  assert.equal(m[6], p < 0.001 ? '<0.001' : p.toFixed(3));
  assert.ok(Number(m[4]) > 0 && Number(m[4]) < Number(m[3]) && Number(m[5]) > Number(m[3]));
  assert.equal(store.verdict, 'holds');
  assert.equal(store.runs, '10 + 10');
  // The authors' scoring row reads the unpaired after-W_O 100-sequence variant only (the decoys at -0.9 would move it).
  const a = /^gap (-?\d\.\d{3}) \[(-?\d\.\d{3}), (-?\d\.\d{3})\], p (\S+)$/.exec(authors.ours)!;
  assert.ok(a, authors.ours);
  assert.equal(a[1], '0.010');
  assert.ok(Number(a[2]) < 0 && Number(a[3]) > 0, 'its interval holds 0');
  assert.equal(authors.verdict, 'not seen');
  assert.equal(authors.runs, '10 + 10');
  // The page: the group's overall verdict, one line per place, the counts of analysed runs.
  const md = findingsReport(input, '..');
  assert.match(md, /\*\*holds on one preset \(the paper preset\)\*\*<br>holds<br>not seen/);
  assert.match(md, /paper preset: Reversal 10, Sorting 10 analysed seeds/);
  assert.match(md, /\[REPRODUCTION\.md\]\(\.\.\/REPRODUCTION\.md\)/);
  // v1's claims ride along from paper/claims.ts, each tagged v1.
  assert.ok(rows.some((r) => r.group !== gap[0].group && r.v3.startsWith('v1 ')));
});

test('findings: under 2 runs a task there is no task-gap row to make', () => {
  const records = [withVariants('reverse', 1, 0.7, 0.5), withVariants('sort', 1, 0.3, 0.5)];
  const rows = findingsClaims({
    stores: [{ label: 'paper preset', preset: 'paper', records }],
    stability: null,
    redundancy: null,
    redundancyStores: [],
    resamples: 200,
  });
  assert.equal(rows.filter((r) => r.group === 'rho collapses from reversal to sorting').length, 0);
});
