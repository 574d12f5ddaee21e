/** Hand-made results records for the report tests (data only: no model is involved). */
import type { ComponentClass } from '../src/analysis/ranks';
import { getConfig } from '../src/settings/validate';
import type { RunRecord } from '../src/records/format';

/** Deterministic distinct scores per component. */
function scores(seed: number, k: number): Record<string, number> {
  return Object.fromEntries(IDS.map((id, i) => [id, ((i + 1) * (seed + k) * 7919) % 97]));
}

export const IDS = ['L0.H0', 'L0.H1', 'L0.MLP', 'L1.H0', 'L1.H1', 'L1.MLP'];

export function record(
  task: 'sort' | 'reverse',
  seed: number,
  rho: number | null,
  classes: ComponentClass[],
  id: [number, number] = [0.9, 0.9],
): RunRecord {
  const heroes = classes.filter((c) => c === 'HiddenHero').length;
  const bloats = classes.filter((c) => c === 'GradientBloat').length;
  const allBloats = IDS.filter((_, i) => classes[i] === 'GradientBloat');
  return {
    format: 1,
    preset: 'paper',
    task,
    seed,
    config: getConfig('paper'),
    provenance: {} as RunRecord['provenance'],
    training: {
      steps: 100 * seed,
      reachedTarget: true,
      stopReason: 'target',
      finalAcc: 0.9,
      wallMs: 1,
      msPerStep: 1,
      losses: [],
      evals: [],
    },
    timingsMs: { train: 1, analysis: 1 },
    analysis:
      rho === null
        ? {
            status: 'skipped',
            ood: { length: null, accuracies: { 8: 0.1 }, samples: 10, range: [0.2, 0.75] },
            components: IDS,
            scores: {},
            timingsMs: {},
          }
        : {
            status: 'analysed',
            ood: { length: 9, accuracies: { 8: 0.8, 9: 0.5 }, samples: 10, range: [0.2, 0.75] },
            components: IDS,
            baseline: 0.5,
            scores: { G: scores(seed, 1), C: scores(seed, 2) },
            timingsMs: {},
            classification: {
              rho,
              rankG: [],
              rankC: [],
              delta: classes.map((c) => (c === 'HiddenHero' ? -7 : c === 'GradientBloat' ? 7 : 0)),
              classes,
              counts: { heroes, bloats },
            },
            pruning: {
              heroes: IDS.filter((_, i) => classes[i] === 'HiddenHero').slice(0, 2),
              bloats: allBloats.slice(0, 2),
              ood: { baseline: 0.5, heroesPruned: heroes ? 0.1 : null, bloatsPruned: bloats ? 0.55 : null },
              id: { baseline: id[0], heroesPruned: null, bloatsPruned: null },
              allBloats: {
                ids: allBloats,
                idBefore: id[0],
                idAfter: allBloats.length ? id[1] : null,
                protocol: 'paper',
              },
              idLength: 5,
            },
          },
  };
}
