/** Helpers over results records shared by tables, figures and reports: which runs, rho, class counts, layers, the recorded protocol variants. */
import type { ProtocolVariant } from '../analysis/pipeline';
import { Classification, classifyMeasures } from '../analysis/ranks';
import { AnalysisConfig } from '../settings/config';
import { TASKS, TaskName } from '../tasks';
import type { RunRecord } from '../records/format';

/** The analysed runs of `task`, by seed. */
export const analysed = (records: readonly RunRecord[], task: TaskName): RunRecord[] =>
  records.filter((r) => r.task === task && r.analysis.status === 'analysed').sort((a, b) => a.seed - b.seed);

/** The registered tasks that have at least one record, in registry order. */
export const tasksIn = (records: readonly RunRecord[]): TaskName[] =>
  TASKS.filter((t) => records.some((r) => r.task === t));

/** Spearman's rho between G and C of an analysed run. */
export const rhoOf = (r: RunRecord): number => r.analysis.classification!.rho;

/** Two recorded measures compared as the paper compares G and C: a cheap score in G's place, a causal one in C's. */
export interface MeasurePair {
  cheap: string;
  causal: string;
}

/** The paper's pair: gradient magnitude G (Eq. 1) against mean ablation C (Eq. 2). */
export const PAPER_PAIR: MeasurePair = { cheap: 'G', causal: 'C' };

/** A run's rho, Delta and classes under a pair: the recorded ones for (G, C), else Eq. 3 on its recorded scores with its own analysis settings. */
export function pairClassification(r: RunRecord, pair: MeasurePair = PAPER_PAIR): Classification {
  if (pair.cheap === PAPER_PAIR.cheap && pair.causal === PAPER_PAIR.causal) return r.analysis.classification!;
  return classifyMeasures(r.analysis.scores, r.analysis.components, pair.cheap, pair.causal, {
    ...r.config.analysis,
    seed: r.seed,
  });
}

export const countsOf = (r: RunRecord) => r.analysis.classification!.counts;
export const layerOf = (id: string) => Number(/^L(\d+)\./.exec(id)?.[1] ?? NaN);
export const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x));

/** The variant equal to the run's own analysis settings (its classes under every rank rule). */
export function ownVariant(r: RunRecord): ProtocolVariant | undefined {
  const c = r.config.analysis;
  return r.analysis.variants?.find(
    (v) => v.headAblation === c.headAblation && v.paired === c.paired && v.evalSamples === c.evalSamples,
  );
}

export function classesOfVariant(
  r: RunRecord,
  v: ProtocolVariant,
  rankRule: AnalysisConfig['rankRule'],
  inclusive: boolean,
): string[] | undefined {
  return v.classifications.find((c) => c.rankRule === rankRule && c.inclusive === inclusive)?.classes;
}

/** Share of a class's occurrences that fall in layers >= half the depth (L2-L3 of 4), pooled over seeds. */
export function lateShare(
  classesPerSeed: { ids: string[]; classes: string[] }[],
  cls: string,
): { late: number; total: number } {
  let late = 0;
  let total = 0;
  for (const s of classesPerSeed) {
    const nLayers = Math.max(...s.ids.map(layerOf)) + 1;
    s.ids.forEach((id, i) => {
      if (s.classes[i] !== cls) return;
      total++;
      if (layerOf(id) >= nLayers / 2) late++;
    });
  }
  return { late, total };
}

/** One analysis-side setting combination: which C (head ablation, pairing, size) and which classes. */
export type VariantKey = {
  headAblation: string;
  paired: boolean;
  evalSamples: number;
  rankRule: string;
  inclusive: boolean;
};

/** The preset's own analysis settings, and each single change from them that the results files record. */
export function singleChanges(base: AnalysisConfig): { name: string; key: VariantKey; own: boolean }[] {
  const baseKey: VariantKey = {
    headAblation: base.headAblation,
    paired: base.paired,
    evalSamples: base.evalSamples,
    rankRule: base.rankRule,
    inclusive: base.inclusive,
  };
  const alt = {
    headAblation: base.headAblation === 'before-WO' ? 'after-WO-slice' : 'before-WO',
    paired: !base.paired,
    evalSamples: base.evalSamples === 100 ? 1000 : 100,
    inclusive: !base.inclusive,
  };
  const label: Record<string, string> = {
    'before-WO': 'ablate heads before W_O (correct)',
    'after-WO-slice': "ablate a d_head slice after W_O (the authors' main experiment)",
  };
  return [
    {
      name: `this preset: ${base.headAblation}, ${base.paired ? 'paired' : 'unpaired'}, ${base.evalSamples} sequences, ${base.rankRule} ranks, ${base.inclusive ? 'inclusive' : 'strict'} threshold`,
      key: baseKey,
      own: true,
    },
    {
      name: `head ablation → ${label[alt.headAblation]}`,
      key: { ...baseKey, headAblation: alt.headAblation },
      own: false,
    },
    {
      name: `scoring → ${alt.paired ? 'paired (one fixed evaluation set)' : 'unpaired (fresh sequences per ablation)'}`,
      key: { ...baseKey, paired: alt.paired },
      own: false,
    },
    {
      name: `evaluation sequences → ${alt.evalSamples}`,
      key: { ...baseKey, evalSamples: alt.evalSamples },
      own: false,
    },
    ...(['average', 'ordinal-random', 'ordinal-order'] as const)
      .filter((r) => r !== base.rankRule)
      .map((r) => ({ name: `rank rule → ${r}`, key: { ...baseKey, rankRule: r }, own: false })),
    {
      name: `threshold → ${alt.inclusive ? 'inclusive (|Delta| >= 6, paper text)' : 'strict (|Delta| > 6, authors)'}`,
      key: { ...baseKey, inclusive: alt.inclusive },
      own: false,
    },
  ];
}

/** rho and class counts of a run under one analysis setting combination. */
export type VariantStat = { rho: number; heroes: number; bloats: number };

/** A run's VariantStat under one analysis setting combination, from its recorded variants. */
export function statOf(r: RunRecord, k: VariantKey): VariantStat | null {
  const v = r.analysis.variants?.find(
    (x) => x.headAblation === k.headAblation && x.paired === k.paired && x.evalSamples === k.evalSamples,
  );
  const c = v?.classifications.find((x) => x.rankRule === k.rankRule && x.inclusive === k.inclusive);
  return v && c ? { rho: v.rho, heroes: c.heroes, bloats: c.bloats } : null;
}

/** The records' presets, `paper` or `authors + paper` ('' for none): every title names them, so that figures of the two presets cannot be mistaken for each other. */
const presetsOf = (records: readonly RunRecord[]) => [...new Set(records.map((r) => r.preset))].join(' + ');

/** ` (preset paper)`: the preset after a title. */
export function presetLabel(records: readonly RunRecord[]): string {
  return presetsOf(records) ? ` (preset ${presetsOf(records)})` : '';
}

/** `, preset paper`: the preset as a title's last clause. */
export function presetClause(records: readonly RunRecord[]): string {
  return presetsOf(records) ? `, preset ${presetsOf(records)}` : '';
}
