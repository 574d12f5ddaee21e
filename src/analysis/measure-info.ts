/**
 * What each importance measure is, with no tensors: its name, kind, one-line description and the
 * flags that reports and studies go by. The computations register against these names
 * (registry.ts registerMeasure); reports, the CLI's help and record checks read them here
 * without loading TensorFlow. A new measure declares itself when it registers.
 */

/** `cheap`: from gradients, in G's place; `causal`: from an intervention's effect, in C's place. */
export type MeasureKind = 'cheap' | 'causal';

export interface MeasureInfo {
  name: string;
  kind: MeasureKind;
  /** One line a reader of the paper recognises. */
  description: string;
  /** The paper's pair (G, C): every analysis computes them; the others are chosen by analysis.measures. */
  paper?: boolean;
  /** The authors' last-section variant of G (a head's G is its layer's): off in the measures study by default. */
  authorsVariant?: boolean;
  /** The pooled-mean ablation of Eq. 2 (C, and C as a cross-entropy increase): what the others' cost is set against. */
  eq2Ablation?: boolean;
  /** A causal measure's ablation and score: which value replaces the component, and exact match (`acc`) or cross-entropy (`ce`). */
  ablation?: Ablation;
  score?: 'acc' | 'ce';
}

type Ablation = 'mean' | 'positionMean' | 'zero' | 'resample';
const ABLATION: Record<Ablation, string> = {
  mean: 'mean ablation (pooled mean over batch and positions)',
  positionMean: 'mean ablation per position (one mean vector per position)',
  zero: 'zero ablation',
  resample: 'resample ablation (the activation on another OOD sequence of the same length, averaged over draws)',
};

/** A causal measure of ablations.ts: an ablation scored by exact match (`acc`) or by cross-entropy (`ce`). */
function ablationInfo(
  name: string,
  ablation: Ablation,
  score: 'acc' | 'ce',
  flags: Partial<MeasureInfo> = {},
): MeasureInfo {
  const what = score === 'acc' ? 'exact-match accuracy drop' : 'mean cross-entropy increase';
  return {
    name,
    kind: 'causal',
    description: `${what} under ${ABLATION[ablation]}; heads before W_O, on the fixed evaluation set`,
    ablation,
    score,
    ...flags,
  };
}

/** The built-in measures, in registry order (the order tables and figures list them in). */
const BUILT_IN: readonly MeasureInfo[] = [
  {
    name: 'G',
    kind: 'cheap',
    description: 'Eq. 1: mean Frobenius norm of the loss gradient w.r.t. the component weights',
    paper: true,
  },
  {
    name: 'G-layerWV',
    kind: 'cheap',
    description: "Eq. 1 as the authors' last section computes it: a head's G is its whole layer's W_V gradient norm",
    authorsVariant: true,
  },
  {
    name: 'C',
    kind: 'causal',
    description: 'Eq. 2: exact-match accuracy drop under mean ablation (pooled mean over batch and positions)',
    paper: true,
    eq2Ablation: true,
    ablation: 'mean',
    score: 'acc',
  },
  {
    name: 'weightGradNorm',
    kind: 'cheap',
    description:
      "Frobenius norm of the loss gradient over all of the component's weights (Eq. 1 over W_Q, W_K, W_V, W_O or both MLP matrices)",
  },
  {
    name: 'taylor',
    kind: 'cheap',
    description:
      "first-order Taylor estimate of removing the component's weights, |sum w . dL/dw| (Molchanov et al. 2017, 2019)",
  },
  {
    name: 'maskGradient',
    kind: 'cheap',
    description: "|dL/dm| at m = 1 for a multiplier m on the component's output (Michel et al. 2019)",
  },
  {
    name: 'attributionPatching',
    kind: 'cheap',
    description:
      'first-order estimate of the loss change under mean ablation, sum (mu - a) . dL/da (Nanda 2022; Kramar et al. 2024)',
  },
  {
    name: 'integratedGradients',
    kind: 'cheap',
    description:
      'integrated gradients from the output to its mean, k steps: the loss change of mean ablation, attributed (Sundararajan et al. 2017)',
  },
  ablationInfo('C-CE', 'mean', 'ce', { eq2Ablation: true }),
  ablationInfo('Cpos', 'positionMean', 'acc'),
  ablationInfo('Cpos-CE', 'positionMean', 'ce'),
  ablationInfo('Czero', 'zero', 'acc'),
  ablationInfo('Czero-CE', 'zero', 'ce'),
  ablationInfo('Cresample', 'resample', 'acc'),
  ablationInfo('Cresample-CE', 'resample', 'ce'),
];

const INFO = new Map<string, MeasureInfo>(BUILT_IN.map((m) => [m.name, m]));

/** A built-in measure's info (for its computation to register against), or a new measure declared. */
export function declareMeasure(info: MeasureInfo): MeasureInfo {
  const known = INFO.get(info.name);
  if (known) {
    if (known.kind !== info.kind || known.description !== info.description)
      throw new Error(`importance measure ${info.name} is declared differently in analysis/measure-info.ts`);
    return known;
  }
  INFO.set(info.name, info);
  return info;
}

/** The info of a measure by name; an unknown name is an error listing the known ones. */
export function measureInfo(name: string): MeasureInfo {
  const m = INFO.get(name);
  if (!m) throw new Error(`unknown importance measure ${JSON.stringify(name)}; known: ${[...INFO.keys()].join(', ')}`);
  return m;
}

/** Every known measure, built-in first in registry order. */
export function allMeasureInfo(): MeasureInfo[] {
  return [...INFO.values()];
}
