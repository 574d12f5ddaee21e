/**
 * The redundancy study's numbers (REDUNDANCY.md) from its records and from the results stores:
 * every claim a mean over seeds with its percentile bootstrap interval and the test of the same
 * resamples (one method, as STABILITY.md), the seeds 80% power would need, and a verdict.
 *  - joint ablation: each named set's joint effect against its additive prediction (the excess,
 *    joint - predicted), and against random sets of its size and of its layer make-up (the excess
 *    beyond the null's mean excess); v3's statistic as the ratio of the seeds' mean joint Bloat
 *    damage to their mean predicted damage;
 *  - pairs: each pair's mean interaction and the layer-by-layer means;
 *  - Shapley: rho(G, Shapley) beside rho(G, C), paired by seed;
 *  - the layer profile (from the results records of each preset, and the stability replicas):
 *    each layer's mean Delta on average ranks (ties shared, so the rank rule's tie-breaks do not
 *    make early Bloats), its share of total G and of total C, and the slope of mean Delta on layer
 *    (v3: early layers over-valued, late under-valued, a negative slope).
 */
import { averageRanks, spearman } from '../../analysis/ranks';
import type { RunRecord } from '../../records/format';
import { BootstrapTest, bootstrapTest, mean, runsForPower } from '../../report/stats';
import type { PresetName } from '../../settings/config';
import { getTask, TaskName } from '../../tasks';
import type { NullDraws } from '../../analysis/redundancy';
import type { RedundancyRecord } from './record';
import { PresetCost, presetCost } from './cost';
import { verdictAbove, type Verdict } from '../../report/claims';

/** A mean over seeds: its interval and two-sided test against 0, runs behind it, runs 80% power needs. */
export interface MeanClaim {
  n: number;
  test: BootstrapTest;
  power: number;
}

export type { Verdict };

/** A mean over the finite values of `xs`, with its interval, test and power. */
export function meanClaim(xs: readonly number[], seed = 43): MeanClaim {
  const v = xs.filter(Number.isFinite);
  const test = bootstrapTest(v, mean, { seed });
  return { n: v.length, test, power: runsForPower(test.interval, v.length) };
}

/** The verdict on a claim that the mean lies on the side `sign` of 0, by its interval. */
export function verdict(c: MeanClaim, sign: 1 | -1): Verdict {
  const { lo, hi } = c.test.interval;
  return verdictAbove(sign > 0 ? { lo, hi } : { lo: -hi, hi: -lo }); // the interval's ends in the claim's direction
}

const layerOf = (id: string) => Number(/^L(\d+)\./.exec(id)![1]);

/** One preset's runs of one task: the study's numbers are each cell's. */
export interface Cell {
  preset: PresetName;
  task: TaskName;
  /** 'Reversal, paper preset'. */
  label: string;
  runs: number;
  /** Its records' Heroes and Bloats were named from a C scored otherwise than this study scores (the authors' preset: unpaired, after W_O), so a set's members' single effects here need not be a Hero's or a Bloat's. */
  classesScoredOtherwise: boolean;
}

export interface SetSummary {
  task: TaskName;
  /** Its cell's label. */
  cell: string;
  name: string;
  /** Seeds with this set of two or more members (Heroes and Bloats: the seeds that have at least two). */
  n: number;
  meanSize: number;
  joint: MeanClaim;
  /** The joint drop as a share of the model's baseline exact match (v3's "-36.4%" for the Heroes reads this way, presumably). */
  relative: MeanClaim;
  predicted: MeanClaim;
  /** joint - predicted: > 0 the set hurts more together than its members alone predict (redundancy). */
  excess: MeanClaim;
  /** The excess beyond the mean excess of random sets of the set's size. */
  beyondSize: MeanClaim;
  /** The excess beyond random sets of the set's layer make-up (Heroes and Bloats only). */
  beyondMakeup?: MeanClaim;
  /** The seeds' mean joint over their mean predicted (v3's "x times" read this way), with the bootstrap over seeds. */
  ratio: BootstrapTest;
  /** Per seed, the share of size-null draws whose excess is at least the set's; averaged over seeds. */
  nullShare: number;
  /** The same on the cross-entropy increase (no ceiling: exact match cannot fall below 0, so large sets saturate it). */
  jointCe: MeanClaim;
  excessCe: MeanClaim;
  beyondSizeCe: MeanClaim;
}

export interface PairSummary {
  task: TaskName;
  cell: string;
  n: number;
  ids: string[];
  /** Mean interaction of components i and j over seeds (symmetric; NaN on the diagonal). */
  matrix: number[][];
  /** Pairs whose interval over seeds excludes 0, below and above. */
  negative: number;
  positive: number;
  pairs: number;
  /** Mean interaction of pairs between layer a and layer b (a <= b), per seed, as a claim. */
  byLayer: { a: number; b: number; claim: MeanClaim }[];
  /** The same three on the cross-entropy increase. */
  ce: { matrix: number[][]; negative: number; positive: number; byLayer: { a: number; b: number; claim: MeanClaim }[] };
}

export interface ShapleySummary {
  task: TaskName;
  cell: string;
  n: number;
  permutations: number;
  rhoGC: MeanClaim;
  rhoGS: MeanClaim;
  rhoCS: MeanClaim;
  /** rho(G, Shapley of the cross-entropy increase) and rho(G, C-CE), the single cross-entropy effect, paired likewise. */
  rhoGSce: MeanClaim;
  rhoGCce: MeanClaim;
  /** rho(G, Shapley) - rho(G, C), paired by seed. */
  diff: MeanClaim;
  /** The mean Monte Carlo standard error of a Shapley value, and the mean |Shapley - C|. */
  meanSe: number;
  meanGap: number;
}

export interface LayerProfile {
  label: string;
  task: TaskName;
  n: number;
  layers: { layer: number; delta: MeanClaim; gShare: MeanClaim; cShare: MeanClaim }[];
  /** The per-seed least-squares slope of mean Delta on layer index. */
  slope: MeanClaim;
}

export interface ReplicaProfile {
  task: TaskName;
  seeds: { seed: number; slopes: number[] }[];
  /** Seeds whose replicas' slopes all have one sign. */
  agree: number;
  /** The mean over seeds of each seed's mean slope over its replicas (replicas nested in seeds). */
  nested: MeanClaim;
}

export interface RedundancyStudy {
  /** Preset by preset (the paper's first), task by task. */
  cells: Cell[];
  presets: string[];
  sets: SetSummary[];
  pairs: PairSummary[];
  shapley: ShapleySummary[];
  profiles: LayerProfile[];
  replicas: ReplicaProfile[];
  /** Per preset (their evaluation sets differ in size), what a model cost. */
  timings: PresetCost[];
  settings: RedundancyRecord['settings'];
  commits: string[];
  machines: string[];
}

const TASK_ORDER: TaskName[] = ['reverse', 'sort', 'copy', 'runmax', 'histogram'];
const byTaskOrder = (ts: TaskName[]) => [...new Set(ts)].sort((a, b) => TASK_ORDER.indexOf(a) - TASK_ORDER.indexOf(b));

/** Excess of each null draw (joint - predicted), on exact match or on cross-entropy. */
const excesses = (d: NullDraws, ce = false) =>
  ce ? d.jointCe.map((j, i) => j - d.predictedCe[i]) : d.joint.map((j, i) => j - d.predicted[i]);

function setSummaries(recs: RedundancyRecord[], { task, label: cell }: Cell): SetSummary[] {
  const names = [...new Set(recs.flatMap((r) => r.result.sets.map((s) => s.name)))];
  return names
    .map((name) => {
      // A set of one is its member's single effect (excess 0 by construction): only seeds whose set has two or more.
      const rows = recs.flatMap((r) => {
        const s = r.result.sets.find((x) => x.name === name);
        return s && s.ids.length >= 2 ? [{ r, s }] : [];
      });
      const excess = rows.map(({ s }) => s.acc - s.predicted);
      const nullMean = (r: RedundancyRecord, key: string, ce = false) => mean(excesses(r.result.null[key], ce));
      const excessCe = rows.map(({ s }) => s.ce - s.predictedCe);
      const beyondSize = rows.map(({ r, s }, i) => excess[i] - nullMean(r, `size ${s.ids.length}`));
      const like = name === 'Heroes' || name === 'Bloats' ? rows.map(({ r }) => nullMean(r, `like ${name}`)) : null;
      const pairsJP = rows.map(({ s }) => [s.acc, s.predicted] as const);
      return {
        task,
        cell,
        name,
        n: rows.length,
        meanSize: mean(rows.map(({ s }) => s.ids.length)),
        joint: meanClaim(rows.map(({ s }) => s.acc)),
        relative: meanClaim(rows.map(({ r, s }) => s.acc / r.baseline)),
        predicted: meanClaim(rows.map(({ s }) => s.predicted)),
        excess: meanClaim(excess),
        beyondSize: meanClaim(beyondSize),
        beyondMakeup: like ? meanClaim(excess.map((e, i) => e - like[i])) : undefined,
        ratio: bootstrapTest(pairsJP, (xs) => mean(xs.map((x) => x[0])) / mean(xs.map((x) => x[1])), {
          seed: 43,
          nullValue: 1,
        }),
        jointCe: meanClaim(rows.map(({ s }) => s.ce)),
        excessCe: meanClaim(excessCe),
        beyondSizeCe: meanClaim(rows.map(({ r, s }, i) => excessCe[i] - nullMean(r, `size ${s.ids.length}`, true))),
        nullShare: mean(
          rows.map(({ r, s }, i) => {
            const e = excesses(r.result.null[`size ${s.ids.length}`]);
            return e.filter((x) => x >= excess[i]).length / e.length;
          }),
        ),
      };
    })
    .filter((x) => x.n > 0);
}

/** Each pair's mean interaction over seeds, the pairs whose interval excludes 0, and the layer-by-layer means, on one score. */
function pairStats(
  recs: RedundancyRecord[],
  ids: string[],
  value: (p: RedundancyRecord['result']['pairs'][number]) => number,
) {
  const idx = new Map(ids.map((id, i) => [id, i]));
  const perSeed = recs.map((r) => {
    const m = ids.map(() => ids.map(() => NaN));
    for (const p of r.result.pairs) m[idx.get(p.a)!][idx.get(p.b)!] = m[idx.get(p.b)!][idx.get(p.a)!] = value(p);
    return m;
  });
  const matrix = ids.map((_, i) => ids.map((_, j) => (i === j ? NaN : mean(perSeed.map((m) => m[i][j])))));
  let negative = 0;
  let positive = 0;
  for (let i = 0; i < ids.length; i++)
    for (let j = i + 1; j < ids.length; j++) {
      const iv = meanClaim(perSeed.map((m) => m[i][j])).test.interval;
      if (iv.hi < 0) negative++;
      if (iv.lo > 0) positive++;
    }
  const layers = [...new Set(ids.map(layerOf))].sort((a, b) => a - b);
  const between = (p: { a: string; b: string }, a: number, b: number) => {
    const [x, y] = [layerOf(p.a), layerOf(p.b)].sort((u, v) => u - v);
    return x === a && y === b;
  };
  const byLayer = layers.flatMap((a) =>
    layers
      .filter((b) => b >= a)
      .map((b) => ({
        a,
        b,
        claim: meanClaim(recs.map((r) => mean(r.result.pairs.filter((p) => between(p, a, b)).map(value)))),
      })),
  );
  return { matrix, negative, positive, byLayer };
}

function pairSummary(recs: RedundancyRecord[], { task, label: cell }: Cell): PairSummary {
  const ids = recs[0].components;
  return {
    task,
    cell,
    n: recs.length,
    ids,
    pairs: (ids.length * (ids.length - 1)) / 2,
    ...pairStats(recs, ids, (p) => p.interaction),
    ce: pairStats(recs, ids, (p) => p.interactionCe),
  };
}

function shapleySummary(recs: RedundancyRecord[], { task, label: cell }: Cell): ShapleySummary {
  const col = (r: RedundancyRecord, m: Record<string, number>) => r.components.map((id) => m[id]);
  // C here is the study's single effect (the record's C where the record was scored the study's way).
  const single = (r: RedundancyRecord) => r.components.map((id) => r.result.single[id].acc);
  const gc = recs.map((r) => spearman(col(r, r.G), single(r)));
  const gs = recs.map((r) => spearman(col(r, r.G), col(r, r.result.shapley.acc)));
  return {
    task,
    cell,
    n: recs.length,
    permutations: recs[0].result.shapley.permutations,
    rhoGC: meanClaim(gc),
    rhoGS: meanClaim(gs),
    rhoCS: meanClaim(recs.map((r) => spearman(single(r), col(r, r.result.shapley.acc)))),
    rhoGSce: meanClaim(recs.map((r) => spearman(col(r, r.G), col(r, r.result.shapley.ce)))),
    rhoGCce: meanClaim(
      recs.map((r) =>
        spearman(
          col(r, r.G),
          r.components.map((id) => r.result.single[id].ce),
        ),
      ),
    ),
    diff: meanClaim(gs.map((x, i) => x - gc[i])),
    meanSe: mean(recs.flatMap((r) => col(r, r.result.shapley.accSe))),
    meanGap: mean(
      recs.flatMap((r) => r.components.map((id) => Math.abs(r.result.shapley.acc[id] - r.result.single[id].acc))),
    ),
  };
}

/** One analysed record's layer profile: per layer, mean Delta on average ranks and its shares of G and C. */
export function recordProfile(rec: RunRecord): { delta: number[]; gShare: number[]; cShare: number[]; slope: number } {
  const ids = rec.analysis.components;
  const G = ids.map((id) => rec.analysis.scores.G[id]);
  const C = ids.map((id) => rec.analysis.scores.C[id]);
  const rg = averageRanks(G);
  const rc = averageRanks(C);
  const layers = [...new Set(ids.map(layerOf))].sort((a, b) => a - b);
  const at = (l: number) => ids.map((id, i) => (layerOf(id) === l ? i : -1)).filter((i) => i >= 0);
  const totG = G.reduce((a, x) => a + x, 0);
  const totC = C.reduce((a, x) => a + x, 0);
  const delta = layers.map((l) => mean(at(l).map((i) => rg[i] - rc[i])));
  const lm = mean(layers);
  const slope =
    layers.reduce((a, l, k) => a + (l - lm) * (delta[k] - mean(delta)), 0) /
    layers.reduce((a, l) => a + (l - lm) ** 2, 0);
  return {
    delta,
    gShare: layers.map((l) => at(l).reduce((a, i) => a + G[i], 0) / totG),
    cShare: layers.map((l) => at(l).reduce((a, i) => a + C[i], 0) / totC),
    slope,
  };
}

/** The layer profile of a store's analysed runs of one task. */
export function layerProfile(label: string, records: readonly RunRecord[], task: TaskName): LayerProfile {
  const rs = records.filter((r) => r.task === task && r.analysis.status === 'analysed');
  const ps = rs.map(recordProfile);
  const L = ps[0]?.delta.length ?? 0;
  return {
    label,
    task,
    n: rs.length,
    layers: Array.from({ length: L }, (_, l) => ({
      layer: l,
      delta: meanClaim(ps.map((p) => p.delta[l])),
      gShare: meanClaim(ps.map((p) => p.gShare[l])),
      cShare: meanClaim(ps.map((p) => p.cShare[l])),
    })),
    slope: meanClaim(ps.map((p) => p.slope)),
  };
}

/** The slope of each stability replica, by seed: does the layer profile's direction survive training chaos? */
export function replicaProfile(replicas: readonly RunRecord[], task: TaskName): ReplicaProfile {
  const rs = replicas.filter((r) => r.task === task && r.analysis.status === 'analysed');
  const seeds = [...new Set(rs.map((r) => r.seed))].map((seed) => ({
    seed,
    slopes: rs.filter((r) => r.seed === seed).map((r) => recordProfile(r).slope),
  }));
  return {
    task,
    seeds,
    agree: seeds.filter((s) => s.slopes.every((x) => x < 0) || s.slopes.every((x) => x > 0)).length,
    nested: meanClaim(seeds.map((s) => mean(s.slopes))),
  };
}

export function redundancyNumbers(
  study: readonly RedundancyRecord[],
  stores: { label: string; records: readonly RunRecord[] }[],
  replicas: readonly RunRecord[],
): RedundancyStudy {
  const presets = (['paper', 'authors'] as PresetName[]).filter((p) => study.some((r) => r.preset === p));
  const of = (c: Cell) => study.filter((r) => r.preset === c.preset && r.task === c.task);
  const cells = presets.flatMap((preset) =>
    byTaskOrder(study.filter((r) => r.preset === preset).map((r) => r.task)).map((task): Cell => ({
      preset,
      task,
      label: `${getTask(task).label}, ${preset} preset`,
      runs: study.filter((r) => r.preset === preset && r.task === task).length,
      classesScoredOtherwise: study.some((r) => r.preset === preset && r.task === task && r.cDiffering === 'protocol'),
    })),
  );
  return {
    cells,
    presets,
    sets: cells.flatMap((c) => setSummaries(of(c), c)),
    pairs: cells.map((c) => pairSummary(of(c), c)),
    shapley: cells.map((c) => shapleySummary(of(c), c)),
    profiles: stores.flatMap((s) =>
      byTaskOrder(s.records.map((r) => r.task))
        .filter((t) => t === 'reverse' || t === 'sort')
        .map((t) => layerProfile(s.label, s.records, t)),
    ),
    replicas: byTaskOrder(replicas.map((r) => r.task)).map((t) => replicaProfile(replicas, t)),
    timings: presets.map((preset) =>
      presetCost(
        preset,
        study.filter((r) => r.preset === preset),
      ),
    ),
    settings: study[0]?.settings,
    commits: [...new Set(study.map((r) => (r.provenance.gitCommit ?? 'unknown').slice(0, 7)))],
    machines: [...new Set(study.map((r) => r.provenance.cpu ?? 'unknown'))],
  };
}
