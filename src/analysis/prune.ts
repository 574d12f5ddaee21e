/**
 * Pruning by mean ablation (Section 3.3, Tables 2 and 6).
 * Table 2: ablate the two most extreme Hidden Heroes together (most negative Delta), and
 *   separately the two most extreme Gradient Bloats (most positive Delta), or as many as exist;
 *   report OOD accuracy on the evaluation set and in-distribution accuracy. (`pruneSelect:
 *   'name-order'`: the authors' code takes the first two of each class in component order.)
 * Table 6: ablate all Bloats; in-distribution accuracy at length `idLength` before and after.
 */
import type { AnalysisConfig, TaskName } from '../config';
import { accuracy, exactMatch } from '../eval';
import type { Transformer } from '../model';
import { Rng } from '../rng';
import { Example, sampleExamples } from '../tasks';
import { withPatches } from './importance';
import type { ComponentClass } from './ranks';

/** Accuracy on `examples` with every listed component replaced by its mean (nothing listed: the baseline). */
export function prunedAccuracy(
  model: Transformer,
  ids: readonly string[],
  means: Record<string, Float32Array>,
  headAblation: AnalysisConfig['headAblation'],
  examples: readonly Example[],
): number {
  const values = Object.fromEntries(ids.map((id) => [id, means[id]]));
  return withPatches(model, values, headAblation, (patches) => accuracy(exactMatch(model, examples, { patches })));
}

/**
 * The `k` most extreme members of a class: Heroes by most negative Delta, Bloats by most positive.
 * Equal Delta: the component listed first wins (stated, since average ranks can tie).
 */
export function mostExtreme(ids: readonly string[], delta: readonly number[], classes: readonly ComponentClass[], cls: ComponentClass, k: number): string[] {
  const sign = cls === 'HiddenHero' ? 1 : -1;
  return ids
    .map((id, i) => ({ id, i, d: delta[i] }))
    .filter((x) => classes[x.i] === cls)
    .sort((a, b) => sign * (a.d - b.d) || a.i - b.i)
    .slice(0, k)
    .map((x) => x.id);
}

export interface PruningResult {
  heroes: string[]; // the ablated Heroes (at most two)
  bloats: string[]; // the ablated Bloats (at most two)
  ood: { baseline: number; heroesPruned: number | null; bloatsPruned: number | null };
  id: { baseline: number; heroesPruned: number | null; bloatsPruned: number | null };
  /** Table 6: every Bloat ablated at once, in-distribution accuracy at idLength. */
  allBloats: { ids: string[]; idBefore: number; idAfter: number | null };
  idLength: number;
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
}): PruningResult {
  const { model, cfg, means, ids, delta, classes } = opts;
  const idSet = sampleExamples(opts.task, cfg.idSamples, new Rng(opts.seed, 'id-eval'), cfg.idLength);
  const pick = (cls: ComponentClass) =>
    cfg.pruneSelect === 'extreme' ? mostExtreme(ids, delta, classes, cls, 2) : ids.filter((_, i) => classes[i] === cls).slice(0, 2);
  const heroes = pick('HiddenHero');
  const bloats = pick('GradientBloat');
  const allBloats = ids.filter((_, i) => classes[i] === 'GradientBloat');
  const acc = (pruned: string[], set: Example[]) => prunedAccuracy(model, pruned, means, cfg.headAblation, set);
  const maybe = (pruned: string[], set: Example[]) => (pruned.length ? acc(pruned, set) : null);
  const idBefore = acc([], idSet);
  return {
    heroes,
    bloats,
    ood: { baseline: acc([], opts.evalSet), heroesPruned: maybe(heroes, opts.evalSet), bloatsPruned: maybe(bloats, opts.evalSet) },
    id: { baseline: idBefore, heroesPruned: maybe(heroes, idSet), bloatsPruned: maybe(bloats, idSet) },
    allBloats: { ids: allBloats, idBefore, idAfter: maybe(allBloats, idSet) },
    idLength: cfg.idLength,
  };
}
