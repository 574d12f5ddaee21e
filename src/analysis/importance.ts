/**
 * Importance measures, one interface: (model + OOD data) -> one score per component.
 * G (Eq. 1, gradient magnitude) is here, with Eq. 2's mean ablation; C and the measures study's
 * other measures are in measures/, one file each. A new measure is one `registerMeasure` call; the
 * pipeline looks measures up by name (analysis.measures) and needs no other change.
 */
import { tf } from '../backend';
import { AnalysisConfig, ConfigError, setMeasureNameCheck, TaskName } from '../config';
import { declareMeasure, MeasureInfo, measureInfo } from './measure-info';
import { accuracy, batchLoss, exactMatch, ResidCache, tokensTensor } from '../eval';
import { componentGradNorms } from '../grads';
import { Component, componentHook, componentPatch, hooks, Patch, Transformer, weightGradsFor } from '../model';
import { Rng } from '../rng';
import { Batch, Example, makeBatch, sampleExamples } from '../tasks';

/** What an ImportanceContext is made from. */
export interface ImportanceContextOptions {
  model: Transformer;
  task: TaskName;
  /** The chosen OOD length N. */
  length: number;
  cfg: AnalysisConfig;
  seed: number;
  /** The fixed OOD evaluation set (baseline and every paired ablation are scored on it); needed by paired ablations. */
  evalSet?: Example[];
  /** Baseline accuracy from the OOD pick; needed by unpaired scoring (the authors'). */
  pickAccuracy?: number;
  /** The components scored (default: all of the model's). */
  components?: Component[];
  /** 0 (default): the run's own random streams; k > 0: the k-th redraw (every sequence drawn afresh). */
  redraw?: number;
}

/** What a measure sees: the model, the chosen OOD length, the settings and shared, lazily computed data. */
export class ImportanceContext {
  readonly model: Transformer;
  readonly task: TaskName;
  readonly length: number;
  readonly cfg: AnalysisConfig;
  readonly seed: number;
  readonly evalSet: Example[];
  readonly pickAccuracy: number | undefined;
  readonly components: Component[];
  readonly redraw: number;
  private meansCache: Record<string, Float32Array> | null = null;
  private baselineCache: number | null = null;
  private memos = new Map<string, unknown>();
  /** Per-batch gradient norms of Eq. 1, by batch set (shared with contexts made by withConfig). */
  private gradNormsCache = new Map<string, Record<string, number>[]>();
  /** The evaluation set's residual stream per block (paired scoring), shared while the set is. */
  private residCache: ResidCache | null = null;

  constructor(opts: ImportanceContextOptions) {
    this.model = opts.model;
    this.task = opts.task;
    this.length = opts.length;
    this.cfg = opts.cfg;
    this.seed = opts.seed;
    this.evalSet = opts.evalSet ?? [];
    this.pickAccuracy = opts.pickAccuracy;
    this.components = opts.components ?? opts.model.components();
    this.redraw = opts.redraw ?? 0;
  }

  /** The name of a random stream under this context's redraw (unchanged for redraw 0). */
  stream(name: string): string {
    return this.redraw ? `${name}-redraw${this.redraw}` : name;
  }

  /** The same model, length and means under other analysis settings (and evaluation set). */
  withConfig(cfg: AnalysisConfig, evalSet: Example[] = this.evalSet, components: Component[] = this.components, redraw = this.redraw): ImportanceContext {
    const ctx = new ImportanceContext({ model: this.model, task: this.task, length: this.length, cfg, seed: this.seed, evalSet, pickAccuracy: this.pickAccuracy, components, redraw });
    ctx.meansCache = this.means();
    if (redraw === this.redraw) ctx.gradNormsCache = this.gradNormsCache;
    if (evalSet === this.evalSet && evalSet.length) ctx.residCache = this.evalResiduals();
    return ctx;
  }

  /** Each component's mean output over the OOD distribution (heads: [d_head] before W_O; MLPs: [d_model]). */
  means(): Record<string, Float32Array> {
    this.meansCache ??= componentMeans(this.model, { task: this.task, length: this.length, batches: this.cfg.meanBatches, batchSize: this.cfg.gradBatchSize, rng: new Rng(this.seed, this.stream('means')) });
    return this.meansCache;
  }

  /** Each component's mean output per position, on the same sequences as means() (heads: [pos, d_head]; MLPs: [pos, d_model]). */
  positionMeans(): Record<string, Float32Array> {
    return this.memo('positionMeans', () =>
      componentMeans(this.model, { task: this.task, length: this.length, batches: this.cfg.meanBatches, batchSize: this.cfg.gradBatchSize, rng: new Rng(this.seed, this.stream('means')), perPosition: true }),
    );
  }

  /** A value computed once per context and kept (e.g. passes several measures share). */
  memo<T>(key: string, make: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, make());
    return this.memos.get(key) as T;
  }

  /** Exact match of the unablated model on the evaluation set (paired) or from the OOD pick (unpaired). */
  baseline(): number {
    if (this.baselineCache === null) {
      if (!this.cfg.paired && this.pickAccuracy === undefined) throw new Error('ImportanceContext: unpaired scoring (analysis.paired=false) needs pickAccuracy, the OOD pick\'s accuracy');
      this.baselineCache = this.cfg.paired ? accuracy(exactMatch(this.model, this.pairedSet())) : this.pickAccuracy!;
    }
    return this.baselineCache;
  }

  /** The evaluation set's residual streams (computed on first use; freed by release()). */
  evalResiduals(): ResidCache {
    this.residCache ??= new ResidCache(this.model, this.pairedSet());
    return this.residCache;
  }

  private pairedSet(): Example[] {
    if (!this.evalSet.length) throw new Error('ImportanceContext: paired scoring (analysis.paired=true) needs evalSet, the fixed OOD evaluation set');
    return this.evalSet;
  }

  /**
   * Each batch's gradient norms for `ids` (Eq. 1's summands), on the B batches of this context's
   * random stream: computed once per batch set and kept (contexts made by withConfig share them).
   */
  gradNorms(ids: readonly string[]): Record<string, number>[] {
    const done = this.cachedGradNorms(ids);
    if (done) return done;
    const key = this.gradBatchKey();
    const cached = this.gradNormsCache.get(key);
    const wanted = this.components.filter((c) => ids.includes(c.id));
    const perBatch = this.gradBatches().map((batch) => componentGradNorms(this.model, batch, wanted).norms);
    this.gradNormsCache.set(key, cached ? cached.map((nb, i) => ({ ...nb, ...perBatch[i] })) : perBatch);
    return this.gradNormsCache.get(key)!;
  }

  /** The first `count` of the B batches Eq. 1 is computed on (this context's 'G' stream), drawn afresh; every gradient measure scores these. */
  gradBatches(count = this.cfg.gradBatches): Batch[] {
    const rng = new Rng(this.seed, this.stream('G'));
    return Array.from({ length: count }, () => makeBatch(sampleExamples(this.task, this.cfg.gradBatchSize, rng, this.length)));
  }

  /** The per-batch norms of `ids` if Eq. 1 was already computed for them on this context's batches (else null). */
  cachedGradNorms(ids: readonly string[]): Record<string, number>[] | null {
    const c = this.gradNormsCache.get(this.gradBatchKey());
    return c && c.length === this.cfg.gradBatches && c.every((nb) => ids.every((id) => id in nb)) ? c : null;
  }

  /** Which batches Eq. 1 is computed on: the random stream, the batch count and size, the length. */
  private gradBatchKey(): string {
    return `${this.stream('G')}|${this.cfg.gradBatches}x${this.cfg.gradBatchSize}|N=${this.length}`;
  }

  /** Accuracy with the given components replaced by the given values (paired: the fixed set; else fresh sequences). */
  ablatedAccuracy(values: Record<string, Float32Array>, rng: Rng): number {
    if (this.cfg.paired) return accuracyWith(this.model, values, this.cfg.headAblation, this.evalSet, this.evalResiduals());
    return accuracyWith(this.model, values, this.cfg.headAblation, sampleExamples(this.task, this.cfg.evalSamples, rng, this.length));
  }

  /** Frees the tensors this context holds (the evaluation set's residual streams). */
  release(): void {
    this.residCache?.dispose();
    this.residCache = null;
  }
}

/**
 * Builds the patches that replace each listed component's output with its value, runs `fn`, and
 * disposes them. Heads follow `headAblation` (see HeadAblation in config.ts).
 */
export function withPatches<T>(
  model: Transformer,
  values: Record<string, Float32Array>,
  headAblation: AnalysisConfig['headAblation'],
  fn: (patches: Patch[]) => T,
): T {
  const byId = new Map(model.components().map((c) => [c.id, c]));
  const tensors: tf.Tensor[] = [];
  const patches = Object.entries(values).map(([id, v]) => {
    const c = byId.get(id);
    if (!c) throw new Error(`unknown component ${id}`);
    const t = tf.tensor1d(v);
    tensors.push(t);
    if (c.kind === 'head' && headAblation === 'after-WO-slice') {
      const dh = model.dHead;
      return { hook: hooks.attnOut(c.layer), cols: [c.head! * dh, (c.head! + 1) * dh] as [number, number], value: t };
    }
    return componentPatch(c, t);
  });
  try {
    return fn(patches);
  } finally {
    for (const t of tensors) t.dispose();
  }
}

/**
 * Exact-match accuracy on `examples` with the listed components' outputs replaced by the given
 * values. With `residuals` (computed for these same examples) the pass starts at the first
 * patched block, which gives the same result.
 */
export function accuracyWith(
  model: Transformer,
  values: Record<string, Float32Array>,
  headAblation: AnalysisConfig['headAblation'],
  examples: readonly Example[],
  residuals?: ResidCache,
): number {
  if (residuals && residuals.examples !== examples) throw new Error('accuracyWith: the residual cache was computed for other examples');
  const ids = Object.keys(values);
  const byId = new Map(model.components().map((c) => [c.id, c]));
  const first = Math.min(...ids.map((id) => byId.get(id)?.layer ?? 0));
  return withPatches(model, values, headAblation, (patches) =>
    accuracy(residuals && ids.length ? residuals.exactMatchFrom(first, patches) : exactMatch(model, examples, { patches })),
  );
}

/**
 * Mean of each component's output over `batches` batches of OOD sequences of one length: over batch
 * and positions (heads: [d_head]; MLPs: [d_model]), or with `perPosition` over the batch only, one
 * vector per position (heads: [pos, d_head]; MLPs: [pos, d_model], flattened row by row).
 */
export function componentMeans(
  model: Transformer,
  opts: {
    task: TaskName;
    /** The sequence length N of every batch. */
    length: number;
    batches: number;
    batchSize: number;
    rng: Rng;
    /** Default: every component of the model. */
    components?: readonly Component[];
    /** One mean vector per position instead of one over positions. */
    perPosition?: boolean;
  },
): Record<string, Float32Array> {
  const { task, length, batches, batchSize, rng, components = model.components(), perPosition = false } = opts;
  const hookNames = [...new Set(components.map(componentHook))];
  const sums: Record<string, Float64Array> = {};
  let count = 0;
  let T = -1;
  for (let b = 0; b < batches; b++) {
    const batch = makeBatch(sampleExamples(task, batchSize, rng, length));
    if (T >= 0 && batch.T !== T) throw new Error(`componentMeans: batches of ${T} and ${batch.T} positions; per-position means need one sequence length`);
    T = batch.T;
    const perHook = tf.tidy(() => {
      const { cache } = model.forward(tokensTensor(batch), { cache: hookNames });
      // sum over batch and positions: heads [head, d_head], MLPs [d_model]; per position: [pos, head, d_head], [pos, d_model]
      return hookNames.map((h) => tf.sum(cache[h], perPosition ? [0] : [0, 1]));
    });
    hookNames.forEach((h, i) => {
      const v = perHook[i].dataSync();
      sums[h] ??= new Float64Array(v.length);
      for (let j = 0; j < v.length; j++) sums[h][j] += v[j];
      perHook[i].dispose();
    });
    count += perPosition ? batch.B : batch.B * batch.T;
  }
  const out: Record<string, Float32Array> = {};
  const { nHeads: H } = model.cfg;
  const dh = model.dHead;
  for (const c of components) {
    const s = sums[componentHook(c)];
    if (c.kind !== 'head') out[c.id] = Float32Array.from(s, (x) => x / count);
    else if (!perPosition) out[c.id] = Float32Array.from(s.subarray(c.head! * dh, (c.head! + 1) * dh), (x) => x / count);
    else out[c.id] = Float32Array.from({ length: T * dh }, (_, i) => s[Math.floor(i / dh) * H * dh + c.head! * dh + (i % dh)] / count);
  }
  return out;
}

/** A measure's computation, on its info (name, kind, description, flags: analysis/measure-info.ts, no tensors). */
export interface ImportanceMeasure extends MeasureInfo {
  compute(ctx: ImportanceContext): Record<string, number>;
  /** Each component's 95% interval, where the measure has one (null: not under these settings); shares compute's passes. */
  intervals?(ctx: ImportanceContext): Record<string, [number, number]> | null;
}

/** Every registered measure named, else an error listing the unknown ones and what is registered (before any work). */
export function checkMeasures(names: readonly string[], setting = 'analysis.measures'): void {
  const unknown = names.filter((n) => !REGISTRY.has(n));
  if (unknown.length) throw new ConfigError(`config ${setting}: unknown measure${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; registered: ${[...REGISTRY.keys()].join(', ')}`);
}

const REGISTRY = new Map<string, ImportanceMeasure>();
setMeasureNameCheck((names) => checkMeasures(names));

/** Registers a measure's computation; a built-in one takes its info from measure-info.ts, a new one declares it there. */
export function registerMeasure(m: ImportanceMeasure): ImportanceMeasure {
  if (REGISTRY.has(m.name)) throw new Error(`importance measure ${m.name} is already registered`);
  const { compute: _c, intervals: _i, ...info } = m;
  declareMeasure(info);
  REGISTRY.set(m.name, m);
  return m;
}

export function getMeasure(name: string): ImportanceMeasure {
  const m = REGISTRY.get(name);
  if (!m) throw new Error(`unknown importance measure ${JSON.stringify(name)}; registered: ${[...REGISTRY.keys()].join(', ')}`);
  return m;
}

export function listMeasures(): ImportanceMeasure[] {
  return [...REGISTRY.values()];
}

/**
 * Eq. 1 from its summands: G_i = (1/B) sum_b ||grad_{W_i} L_b||_F, given each of the B batches'
 * gradient norms per component.
 */
export function eq1Mean(perBatch: readonly Record<string, number>[], ids: readonly string[]): Record<string, number> {
  const sums: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (const nb of perBatch) for (const id of ids) sums[id] += nb[id];
  return Object.fromEntries(ids.map((id) => [id, sums[id] / perBatch.length]));
}

/**
 * Eq. 1: G_i = (1/B) sum_b ||grad_{W_i} L_b||_F over B batches at the OOD length.
 * Heads: the head's d_model x d_head slice of W_V; MLPs: the second linear layer's weight.
 */
export function gradientMagnitude(ctx: ImportanceContext): Record<string, number> {
  const ids = ctx.components.map((c) => c.id);
  return eq1Mean(ctx.gradNorms(ids), ids);
}

/**
 * The variant of Eq. 1 in the authors' last section: a head's G is the norm of the gradient of its
 * whole layer's W_V (so the heads of a layer tie); MLPs as in Eq. 1.
 */
export function gradientMagnitudeLayerWV(ctx: ImportanceContext): Record<string, number> {
  const rng = new Rng(ctx.seed, ctx.stream('G'));
  const layers = [...new Set(ctx.components.filter((c) => c.kind === 'head').map((c) => c.layer))];
  const mlps = ctx.components.filter((c) => c.kind === 'mlp');
  const names = layers.map((l) => `blocks.${l}.attn.W_v.weight`);
  const sums = new Map<string, number>();
  // Eq. 1 on the same batches already gave each head's slice norm per batch; the whole layer's
  // Frobenius norm is the root of the sum of its heads' squared slice norms (the slices partition W_V).
  const headsOf = (l: number) => ctx.model.components().filter((c) => c.kind === 'head' && c.layer === l).map((c) => c.id);
  const cached = ctx.cachedGradNorms(layers.flatMap(headsOf));
  if (cached) {
    for (const nb of cached) for (const l of layers) sums.set(`L${l}`, (sums.get(`L${l}`) ?? 0) + Math.hypot(...headsOf(l).map((id) => nb[id])));
  }
  for (let b = 0; b < ctx.cfg.gradBatches && !cached; b++) {
    const batch = makeBatch(sampleExamples(ctx.task, ctx.cfg.gradBatchSize, rng, ctx.length));
    const norms = tf.tidy(() => {
      const vars = names.map((n) => ctx.model.params[n]);
      const { grads } = tf.variableGrads(() => batchLoss(ctx.model, batch, undefined, weightGradsFor(vars)), vars);
      return tf.stack(vars.map((v) => tf.norm(grads[v.name]))).dataSync();
    });
    layers.forEach((l, i) => sums.set(`L${l}`, (sums.get(`L${l}`) ?? 0) + norms[i]));
  }
  const out: Record<string, number> = {};
  for (const c of ctx.components) if (c.kind === 'head') out[c.id] = sums.get(`L${c.layer}`)! / ctx.cfg.gradBatches;
  if (mlps.length) Object.assign(out, gradientMagnitude(ctx.withConfig(ctx.cfg, ctx.evalSet, mlps)));
  return out;
}

/**
 * Eq. 2: C_i = Acc_base - Acc_ablated(i -> mu_i), mu_i the component's mean output at the OOD length,
 * under the context's scoring (paired or not) and head ablation (before or after W_O). The registered
 * measure C (measures/ablations.ts) gives the same numbers with an interval when it can.
 */
export function meanAblation(ctx: ImportanceContext): Record<string, number> {
  const means = ctx.means();
  const base = ctx.baseline();
  const rng = new Rng(ctx.seed, ctx.stream('C'));
  const out: Record<string, number> = {};
  for (const c of ctx.components) out[c.id] = base - ctx.ablatedAccuracy({ [c.id]: means[c.id] }, rng);
  return out;
}

registerMeasure({ ...measureInfo('G'), compute: gradientMagnitude });
registerMeasure({ ...measureInfo('G-layerWV'), compute: gradientMagnitudeLayerWV });
// C and the other causal measures: measures/ablations.ts.
