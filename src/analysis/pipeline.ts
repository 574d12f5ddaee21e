/**
 * The paper's analysis of one trained model: OOD length -> G (Eq. 1) and C (Eq. 2) -> rho, Delta
 * and classes (Eq. 3) -> pruning (Tables 2 and 6). Returns plain numbers (no tensors), with the
 * wall time of each phase. Knows nothing of files.
 */
import { AnalysisConfig, checkSeed, checkTask } from '../settings/config';
import { validateAnalysisConfig } from '../settings/validate';
import { sampleExamples, TaskName } from '../tasks';
import type { Transformer } from '../model/model';
import { Rng } from '../base/rng';
import { ImportanceContext } from './context';
import './measures'; // registers every measure
import { checkMeasuresOf, getMeasure } from './registry';
import { checkOodLengthList, OodPick, pickOodLength } from './ood';
import { pruningAnalysis, PruningResult } from './prune';
import { Classification, classifyComponents, classifyMeasures } from './ranks';

export interface AnalysisResult {
  status: 'analysed' | 'skipped';
  ood: OodPick;
  /** Why a run was skipped (no OOD length in range). */
  reason?: string;
  components: string[];
  baseline?: number; // OOD exact match the C values are measured against
  /** One score per component for every measure computed, keyed by measure name (G, C, ...). */
  scores: Record<string, Record<string, number>>;
  /** Each component's 95% interval, for the measures that have one (the causal measures: over evaluation sequences). */
  intervals?: Record<string, Record<string, [number, number]>>;
  classification?: Classification;
  pruning?: PruningResult;
  /** The same model under every analysis-side protocol variant (when analysis.variants). */
  variants?: ProtocolVariant[];
  /** The noise floor: G, C, rho and classes of the same model on redrawn sequences (analysis.redraws). */
  redraws?: Redraw[];
  timingsMs: Record<string, number>;
}

export interface AnalyzeOptions {
  model: Transformer;
  task: TaskName;
  seed: number;
  cfg: AnalysisConfig;
  /** Candidate OOD lengths, in order (default: the paper's 8, 9, 10, 11). */
  oodLengths?: readonly number[];
  /** Skip the pruning phase. */
  noPruning?: boolean;
  /** Called when a phase starts (for progress output). */
  onPhase?: (phase: string) => void;
}

function timed<T>(timings: Record<string, number>, phase: string, onPhase: AnalyzeOptions['onPhase'], fn: () => T): T {
  onPhase?.(phase);
  const t0 = performance.now();
  const out = fn();
  timings[phase] = performance.now() - t0;
  return out;
}

/** The fixed OOD evaluation set of a run (Eq. 2's paired scoring): `samples` sequences of length N from the seed's 'ood-eval' stream. */
export function oodEvalSet(task: TaskName, length: number, seed: number, samples: number) {
  return sampleExamples(task, samples, new Rng(seed, 'ood-eval'), length);
}

export function analyzeModel(opts: AnalyzeOptions): AnalysisResult {
  const { model, task, seed, cfg } = opts;
  // The same checks as the command line's, at this entry too (a notebook may hand it anything).
  checkTask(task);
  checkSeed(seed);
  validateAnalysisConfig(cfg);
  if (opts.oodLengths !== undefined) checkOodLengthList(opts.oodLengths);
  checkMeasuresOf(cfg);
  const timingsMs: Record<string, number> = {};
  const components = model.components().map((c) => c.id);
  const ood = timed(timingsMs, 'oodPick', opts.onPhase, () => pickOodLength(model, task, cfg, seed, opts.oodLengths));
  if (ood.length === null) {
    const seen = Object.entries(ood.accuracies)
      .map(([n, a]) => `N=${n}: ${(100 * a).toFixed(1)}%`)
      .join(', ');
    return {
      status: 'skipped',
      ood,
      reason: `no OOD length with accuracy in [${cfg.accLow}, ${cfg.accHigh}] (${seen})`,
      components,
      scores: {},
      timingsMs,
    };
  }
  const evalSet = oodEvalSet(task, ood.length, seed, cfg.evalSamples);
  const ctx = new ImportanceContext({
    model,
    task,
    length: ood.length,
    cfg,
    seed,
    evalSet,
    pickAccuracy: ood.accuracies[ood.length],
  });
  const scores: Record<string, Record<string, number>> = {};
  const intervals: Record<string, Record<string, [number, number]>> = {};
  const measure = (name: string) =>
    timed(timingsMs, name, opts.onPhase, () => {
      const m = getMeasure(name);
      scores[name] = m.compute(ctx);
      const iv = m.intervals?.(ctx);
      if (iv) intervals[name] = iv;
    });
  measure('G');
  timed(timingsMs, 'means', opts.onPhase, () => ctx.means());
  measure('C');
  for (const name of cfg.measures) measure(name);
  const G = components.map((id) => scores.G[id]);
  const classification = classifyMeasures(scores, components, 'G', 'C', { ...cfg, seed });
  const pruning = opts.noPruning
    ? undefined
    : timed(timingsMs, 'pruning', opts.onPhase, () =>
        pruningAnalysis({
          model,
          task,
          seed,
          cfg,
          evalSet,
          means: ctx.means(),
          ids: components,
          delta: classification.meanDelta ?? classification.delta,
          classes: classification.classes,
          ctx,
        }),
      );
  const variants = cfg.variants
    ? timed(timingsMs, 'variants', opts.onPhase, () => protocolVariants(ctx, G, components, scores.C))
    : undefined;
  const redraws =
    cfg.redraws > 0 ? timed(timingsMs, 'redraws', opts.onPhase, () => redrawNoise(ctx, components)) : undefined;
  const baseline = ctx.baseline();
  ctx.release();
  return {
    status: 'analysed',
    ood,
    components,
    baseline,
    scores,
    intervals,
    classification,
    pruning,
    variants,
    redraws,
    timingsMs,
  };
}

/** One redraw of the noise floor: the run's analysis settings, every sequence drawn afresh. */
export interface Redraw {
  redraw: number;
  baseline: number;
  G: Record<string, number>;
  C: Record<string, number>;
  rho: number;
  heroes: number;
  bloats: number;
  expectedHeroes?: number;
  expectedBloats?: number;
  classes: string[];
  /** The measures of analysis.measures on the same redrawn sequences (absent when it names none). */
  scores?: Record<string, Record<string, number>>;
}

/**
 * The noise floor of one model: G, the ablation means, C and every measure of analysis.measures
 * recomputed `cfg.redraws` times with every sequence drawn afresh (the gradient batches, the
 * means' batches, the evaluation set; random streams '<name>-redraw<k>'), under the run's own
 * settings. The spread of rho and of the classes across redraws is what evaluation sampling alone
 * does to them.
 */
export function redrawNoise(ctxBase: ImportanceContext, components: readonly string[]): Redraw[] {
  const { model, task, length, cfg, seed } = ctxBase;
  const out: Redraw[] = [];
  for (let k = 1; k <= cfg.redraws; k++) {
    const evalSet = sampleExamples(task, cfg.evalSamples, new Rng(seed, `ood-eval-redraw${k}`), length);
    const ctx = new ImportanceContext({
      model,
      task,
      length,
      cfg,
      seed,
      evalSet,
      pickAccuracy: ctxBase.pickAccuracy,
      components: ctxBase.components,
      redraw: k,
    });
    const Gmap = getMeasure('G').compute(ctx);
    const Cmap = getMeasure('C').compute(ctx);
    const cl = classifyComponents(
      components.map((id) => Gmap[id]),
      components.map((id) => Cmap[id]),
      { ...cfg, seed },
    );
    const scores = cfg.measures.length
      ? Object.fromEntries(cfg.measures.map((name) => [name, getMeasure(name).compute(ctx)]))
      : undefined;
    out.push({
      redraw: k,
      baseline: ctx.baseline(),
      G: Gmap,
      C: Cmap,
      rho: cl.rho,
      ...cl.counts,
      classes: cl.classes,
      ...(scores ? { scores } : {}),
    });
    ctx.release();
  }
  return out;
}

/** One analysis-side protocol variant of C on the same model, with its rho and classes under every rank rule. */
export interface ProtocolVariant {
  headAblation: AnalysisConfig['headAblation'];
  paired: boolean;
  evalSamples: number;
  baseline: number;
  C: Record<string, number>;
  rho: number;
  classifications: {
    rankRule: AnalysisConfig['rankRule'];
    inclusive: boolean;
    heroes: number;
    bloats: number;
    expectedHeroes?: number;
    expectedBloats?: number;
    classes: string[];
  }[];
}

/** The evaluation sizes variants are scored at: both presets' (100 and 1000) and the run's own. */
export const VARIANT_EVAL_SAMPLES: readonly number[] = [100, 1000];

/**
 * C, rho and classes of the same model under every combination of the analysis-side differences
 * between the paper's text and the authors' code: head ablation before/after W_O, paired or
 * unpaired scoring, evaluation size; each classified under every rank rule and both threshold
 * forms. G and the means are shared (they do not depend on these settings).
 */
export function protocolVariants(
  ctxBase: ImportanceContext,
  G: readonly number[],
  components: readonly string[],
  /** The run's own C (reused for the variant that equals the run's settings). */
  ownC?: Record<string, number>,
): ProtocolVariant[] {
  const cfg = ctxBase.cfg;
  const sizes = [...new Set([...VARIANT_EVAL_SAMPLES, cfg.evalSamples])].sort((a, b) => a - b);
  const out: ProtocolVariant[] = [];
  for (const headAblation of ['before-WO', 'after-WO-slice'] as const) {
    for (const paired of [true, false]) {
      for (const evalSamples of sizes) {
        const vcfg = { ...cfg, headAblation, paired, evalSamples };
        const evalSet =
          evalSamples === cfg.evalSamples
            ? ctxBase.evalSet
            : sampleExamples(
                ctxBase.task,
                evalSamples,
                new Rng(ctxBase.seed, `ood-eval-${evalSamples}`),
                ctxBase.length,
              );
        const ctx = ctxBase.withConfig(vcfg, evalSet);
        const own = headAblation === cfg.headAblation && paired === cfg.paired && evalSamples === cfg.evalSamples;
        const Cmap = own && ownC ? ownC : getMeasure('C').compute(ctx);
        const C = components.map((id) => Cmap[id]);
        const classifications: ProtocolVariant['classifications'] = [];
        for (const rankRule of ['average', 'ordinal-random', 'ordinal-order'] as const) {
          for (const inclusive of [true, false]) {
            const cl = classifyComponents(G, C, { ...vcfg, rankRule, inclusive, seed: ctxBase.seed });
            classifications.push({ rankRule, inclusive, ...cl.counts, classes: cl.classes });
          }
        }
        out.push({
          headAblation,
          paired,
          evalSamples,
          baseline: ctx.baseline(),
          C: Cmap,
          rho: classifyComponents(G, C, { ...vcfg, seed: 0, rankRule: 'average' }).rho,
          classifications,
        });
        if (evalSet !== ctxBase.evalSet) ctx.release();
      }
    }
  }
  return out;
}
