/**
 * Pruning by mean ablation (Section 3.3, Tables 2 and 6).
 * Table 2: ablate the two most extreme Hidden Heroes together (most negative Delta), and
 *   separately the two most extreme Gradient Bloats (most positive Delta), or as many as exist;
 *   report OOD accuracy on the evaluation set and in-distribution accuracy. (`pruneSelect:
 *   'name-order'`: the authors' code takes the first two of each class in component order.)
 * Table 6: ablate all Bloats; in-distribution accuracy at length `idLength` before and after.
 */
import type { AnalysisConfig } from '../settings/config';
import type { TaskName } from '../tasks';
import type { Transformer } from '../model/model';
import { Rng } from '../base/rng';
import { Example, sampleExamples } from '../tasks';
import type { ImportanceContext } from './context';
import { accuracyWith } from './patching';
import { getMeasure } from './registry';
import { averageRanks, classify, ComponentClass } from './ranks';

/** Accuracy on `examples` with every listed component replaced by its mean (nothing listed: the baseline). */
export function prunedAccuracy(
  model: Transformer,
  ids: readonly string[],
  means: Record<string, Float32Array>,
  headAblation: AnalysisConfig['headAblation'],
  examples: readonly Example[],
): number {
  return accuracyWith(model, Object.fromEntries(ids.map((id) => [id, means[id]])), headAblation, examples);
}

/**
 * The `k` most extreme members of a class: Heroes by most negative Delta, Bloats by most positive.
 * Equal Delta: the component listed first wins (stated, since average ranks can tie).
 */
export function mostExtreme(
  ids: readonly string[],
  delta: readonly number[],
  classes: readonly ComponentClass[],
  cls: ComponentClass,
  k: number,
): string[] {
  const sign = cls === 'HiddenHero' ? 1 : -1;
  return ids
    .map((id, i) => ({ id, i, d: delta[i] }))
    .filter((x) => classes[x.i] === cls)
    .sort((a, b) => sign * (a.d - b.d) || a.i - b.i)
    .slice(0, k)
    .map((x) => x.id);
}

/**
 * Table 2's pruning targets among a class: the `k` most extreme ('extreme'), or the first `k` in
 * component order ('name-order', the authors' code).
 */
export function pruningTargets(opts: {
  ids: readonly string[];
  delta: readonly number[];
  classes: readonly ComponentClass[];
  /** The class to prune. */
  cls: ComponentClass;
  select: AnalysisConfig['pruneSelect'];
  /** How many (default 2, as Table 2). */
  k?: number;
}): string[] {
  const { ids, delta, classes, cls, select, k = 2 } = opts;
  return select === 'extreme'
    ? mostExtreme(ids, delta, classes, cls, k)
    : ids.filter((_, i) => classes[i] === cls).slice(0, k);
}

export interface PruningResult {
  heroes: string[]; // the ablated Heroes (at most two)
  bloats: string[]; // the ablated Bloats (at most two)
  ood: { baseline: number; heroesPruned: number | null; bloatsPruned: number | null };
  id: { baseline: number; heroesPruned: number | null; bloatsPruned: number | null };
  /** Table 6: every Bloat ablated at once, in-distribution accuracy at idLength. */
  allBloats: {
    ids: string[];
    idBefore: number;
    idAfter: number | null;
    protocol: AnalysisConfig['table6Protocol'];
    /** Under 'authors-last-section': the heads-only G, C and Delta that chose the Bloats. */
    headsOnly?: { G: Record<string, number>; C: Record<string, number>; delta: Record<string, number> };
  };
  idLength: number;
}

/**
 * The Bloats of the authors' last section: heads only (Delta over 1..16), G from the whole layer's
 * W_V gradient (heads of a layer tie), C from mean ablation before W_O on 50 fresh sequences per
 * head against the OOD-pick baseline, average ranks, Bloat at Delta >= threshold.
 */
export function authorsLastSectionBloats(
  ctx: ImportanceContext,
): NonNullable<PruningResult['allBloats']['headsOnly']> & { ids: string[] } {
  const heads = ctx.components.filter((c) => c.kind === 'head');
  const hctx = ctx.withConfig(
    { ...ctx.cfg, headAblation: 'before-WO', paired: false, evalSamples: 50 },
    ctx.evalSet,
    heads,
  );
  const G = getMeasure('G-layerWV').compute(hctx);
  const C = getMeasure('C').compute(hctx);
  const ids = heads.map((c) => c.id);
  const rG = averageRanks(ids.map((id) => G[id]));
  const rC = averageRanks(ids.map((id) => C[id]));
  const delta: Record<string, number> = {};
  ids.forEach((id, i) => (delta[id] = rG[i] - rC[i]));
  return { G, C, delta, ids: ids.filter((id) => classify(delta[id], ctx.cfg.threshold, true) === 'GradientBloat') };
}

export function pruningAnalysis(opts: {
  model: Transformer;
  task: TaskName;
  seed: number;
  cfg: AnalysisConfig;
  evalSet: Example[]; // OOD evaluation set
  means: Record<string, Float32Array>;
  ids: readonly string[];
  delta: readonly number[];
  classes: readonly ComponentClass[];
  /** Needed for table6Protocol 'authors-last-section'. */
  ctx?: ImportanceContext;
}): PruningResult {
  const { model, cfg, means, ids, delta, classes } = opts;
  const idSet = sampleExamples(opts.task, cfg.idSamples, new Rng(opts.seed, 'id-eval'), cfg.idLength);
  const heroes = pruningTargets({ ids, delta, classes, cls: 'HiddenHero', select: cfg.pruneSelect });
  const bloats = pruningTargets({ ids, delta, classes, cls: 'GradientBloat', select: cfg.pruneSelect });
  const acc = (pruned: string[], set: Example[]) => prunedAccuracy(model, pruned, means, cfg.headAblation, set);
  const maybe = (pruned: string[], set: Example[]) => (pruned.length ? acc(pruned, set) : null);
  const idBefore = acc([], idSet);
  let allBloats: PruningResult['allBloats'];
  if (cfg.table6Protocol === 'authors-last-section') {
    if (!opts.ctx)
      throw new Error("pruningAnalysis: table6Protocol 'authors-last-section' needs the importance context");
    const { ids: bl, ...headsOnly } = authorsLastSectionBloats(opts.ctx);
    // Their scoring: baseline on 100 fresh sequences, the pruned model on 50 other fresh ones.
    const before = sampleExamples(opts.task, 100, new Rng(opts.seed, 'id-eval-100'), cfg.idLength);
    const after = sampleExamples(opts.task, 50, new Rng(opts.seed, 'id-eval-50'), cfg.idLength);
    const prune = (set: Example[]) => prunedAccuracy(model, bl, means, 'before-WO', set);
    allBloats = {
      ids: bl,
      idBefore: prunedAccuracy(model, [], means, 'before-WO', before),
      idAfter: bl.length ? prune(after) : null,
      protocol: cfg.table6Protocol,
      headsOnly,
    };
  } else {
    const bl = ids.filter((_, i) => classes[i] === 'GradientBloat');
    allBloats = { ids: bl, idBefore, idAfter: maybe(bl, idSet), protocol: cfg.table6Protocol };
  }
  return {
    heroes,
    bloats,
    ood: {
      baseline: acc([], opts.evalSet),
      heroesPruned: maybe(heroes, opts.evalSet),
      bloatsPruned: maybe(bloats, opts.evalSet),
    },
    id: { baseline: idBefore, heroesPruned: maybe(heroes, idSet), bloatsPruned: maybe(bloats, idSet) },
    allBloats,
    idLength: cfg.idLength,
  };
}
