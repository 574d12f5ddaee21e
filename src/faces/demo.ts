/**
 * The main job (`npm run demo`): one seed trained and analysed the paper's way, end to end. It
 * prints G (Eq. 1) and C (Eq. 2) per component, their ranks, Delta and class (Eq. 3), rho, the
 * Hidden Heroes and Gradient Bloats, checks them against the committed run of the same seed when
 * there is one, and writes that seed's Figure 1 (HTML and PNG). Resumable like `run`: a second
 * call reads what the first wrote.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeRho } from '../analysis/ranks';
import { projectRoot } from '../records/provenance';
import { exportFigures } from '../report/export';
import { figure1 } from '../report/figures';
import { formatTable } from '../report/frames';
import { runOne, RunOptions } from '../runner/run';
import { readRecord, runPaths } from '../records/store';
import { kernelsLabel, RunRecord } from '../records/format';

/** The paper's analysis without the extras this project adds (protocol variants, noise-floor redraws): minutes, not ten. */
export const DEMO_OVERRIDES = ['analysis.variants=false', 'analysis.redraws=0'];

export interface DemoResult {
  record: RunRecord;
  files: { results: string; checkpoint: string; figures: string[]; imagesSkipped?: string };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Trains (or reuses) and analyses one seed into `<dir>/<preset>/` (runOne), and exports its Figure 1 to `<dir>/figures/`. */
export async function runDemo(opts: RunOptions): Promise<DemoResult> {
  const { dir: out, task, seed, preset } = opts;
  const { record } = runOne(opts);
  const paths = runPaths(out, preset, task, seed);
  const figDir = path.join(out, 'figures');
  const exported = await exportFigures({ [`figure1_${task}_seed${seed}`]: figure1([record]) }, figDir, {
    formats: ['png'],
  });
  return {
    record,
    files: {
      results: paths.results,
      checkpoint: paths.checkpoint,
      figures: exported.written,
      imagesSkipped: exported.imagesSkipped,
    },
  };
}

/** What the demo prints about its run: the per-component table, rho, the classes, and the check against the committed run. */
export function describeDemo(record: RunRecord): string[] {
  const a = record.analysis;
  if (a.status !== 'analysed') return [`no OOD length: ${a.reason}`];
  const c = a.classification!;
  const delta = c.meanDelta ?? c.delta;
  const label = { HiddenHero: 'Hidden Hero', GradientBloat: 'Gradient Bloat', Aligned: '' } as Record<string, string>;
  const rows = a.components.map((id, i) => ({
    component: id,
    G: a.scores.G[id],
    C: a.scores.C[id],
    'rank G': c.rankG[i],
    'rank C': c.rankC[i],
    Delta: delta[i],
    class: label[c.classes[i]] ?? c.classes[i],
  }));
  const named = (cls: string) => a.components.filter((_, i) => c.classes[i] === cls).join(' ') || 'none';
  const lines = [
    '',
    `G (Eq. 1: gradient norm) and C (Eq. 2: exact-match drop when mean-ablated) per component, at OOD length N=${a.ood.length} (baseline exact match ${pct(a.baseline!)}):`,
    ...formatTable(rows, 120, 1),
    '',
    `rho = ${describeRho(c.rho, a.scores)}: Spearman correlation of G and C (Eq. 3); 1 would mean the gradient ranks components as ablation does`,
    `Hidden Heroes (Delta <= -${record.config.analysis.threshold}: causally important, small gradient): ${named('HiddenHero')}`,
    `Gradient Bloats (Delta >= ${record.config.analysis.threshold}: large gradient, causally unimportant): ${named('GradientBloat')}`,
  ];
  if (a.pruning) {
    const p = a.pruning.ood;
    const fmt = (x: number | null) => (x === null ? '-' : pct(x));
    lines.push(
      `pruning at N=${a.ood.length}: baseline ${fmt(p.baseline)}, without the Heroes ${fmt(p.heroesPruned)}, without the Bloats ${fmt(p.bloatsPruned)}`,
    );
  }
  const committed = readRecord(
    runPaths(path.join(projectRoot(), 'results'), record.preset, record.task, record.seed).results,
  );
  if (committed?.analysis.status === 'analysed') {
    const diff = (m: 'G' | 'C') =>
      Math.max(...a.components.map((id) => Math.abs(committed.analysis.scores[m][id] - a.scores[m][id])));
    const same =
      JSON.stringify([committed.config.model, committed.config.data, committed.config.train]) ===
      JSON.stringify([record.config.model, record.config.data, record.config.train]);
    const where = (r: RunRecord) => `${r.provenance.backend}, ${r.provenance.kernels ?? 'stock'} kernels`;
    if (same) {
      lines.push(
        `against the committed run (results/${record.preset}/${record.task}_seed${record.seed}.json, made on ${where(committed)}; this one on ${where(record)}): ` +
          `max |difference| in G ${diff('G').toExponential(1)}, in C ${diff('C').toExponential(1)}` +
          (kernelsLabel(committed.provenance) === kernelsLabel(record.provenance)
            ? ''
            : kernelsLabel(committed.provenance).startsWith('wasm native')
              ? ' (other kernels round differently: that run was made on the native kernel family retired in issue 42, which this version does not run)'
              : ` (other kernels round differently; GCG_BACKEND=${committed.provenance.backend} reproduces it bit for bit)`),
      );
    }
  }
  return lines;
}

/** Where everything the demo wrote is. */
export function describeDemoFiles(files: DemoResult['files']): string[] {
  const size = (f: string) => (fs.existsSync(f) ? ` (${Math.round(fs.statSync(f).size / 1024)} KB)` : '');
  return [
    '',
    'where everything is:',
    `  results (configuration, provenance, curves, G, C, ranks, classes, pruning): ${files.results}${size(files.results)}`,
    `  the trained model: ${files.checkpoint}${size(files.checkpoint)}`,
    ...files.figures.map((f) => `  Figure 1 for this seed: ${f}`),
    ...(files.imagesSkipped ? [`  (PNG skipped: ${files.imagesSkipped})`] : []),
    'next: every seed of both tasks (hours): node dist/src/cli.js sweep --preset paper --workers 2; the notebooks: npm run notebooks',
  ];
}
