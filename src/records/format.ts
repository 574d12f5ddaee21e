/**
 * The results record's format, with no Node in it: what one JSON file of the store holds (settings,
 * provenance, training outcome, analysis), its name, how two records' settings are compared, and the
 * kernels a record was made on, in words. Reading and writing the files is src/records/store.ts.
 */
import type { AnalysisResult } from '../analysis/pipeline';
import type { ExperimentConfig, PresetName } from '../settings/config';
import type { TaskName } from '../tasks';
import type { KernelsName } from '../kernels/tf';

export const RESULTS_FORMAT = 1;

export interface TrainingOutcome {
  steps: number;
  reachedTarget: boolean;
  stopReason: string;
  finalAcc: number | null;
  wallMs: number;
  msPerStep: number;
  losses: number[];
  evals: { step: number; acc: number }[];
  /**
   * Trained stacked with other seeds (src/train/trainee.ts; the same weights as alone, bit for bit):
   * the seeds that shared its steps. msPerStep is then its share of a stacked step.
   */
  batched?: { seeds: number[] };
}

export interface RunRecord {
  format: number;
  preset: PresetName;
  task: TaskName;
  seed: number;
  config: ExperimentConfig;
  provenance: Provenance;
  training: TrainingOutcome;
  analysis: AnalysisResult;
  timingsMs: { train: number; analysis: number };
  /** Records of the measures study (src/studies/measures/run.ts): where the model and its record came from, and how G and C compare. */
  remeasured?: Remeasured;
  /** The record's seal: SHA-256 of its JSON without this field (src/records/record-check.ts); absent in records written before seals. */
  sha256?: string;
}

/** How the record was produced: package versions, Node, backend, kernels, machine, commit (src/records/provenance.ts). */
export interface Provenance {
  package: string; // gradient-causal-gap version
  node: string;
  backend: string;
  /** `stock` (tfjs's numbers: every record since issue 42) or `native` (the native kernel family retired in issue 42: CBLAS products on the wasm backend); absent in records made before it existed (stock). */
  kernels?: string;
  versions: Record<string, string | null>;
  gitCommit: string | null;
  platform: string;
  /** The CPU's model name (absent in older records). */
  cpu?: string;
  /** The retired native family's BLAS and its kernel family (they rounded differently per family); null on other kernels; not written since issue 42. */
  blas?: string | null;
  /** The C library whose expf and erff the retired native family called; null on other kernels; not written since issue 42. */
  libm?: string | null;
  /** The retired native family's fused kernels that ran (LayerNorm, GELU, Adam; they rounded otherwise than without); null on other kernels; not written since issue 42. */
  fused?: string[] | null;
  /** What computed the stock kernels on wasm: `native avx512` (avx2, vec4, scalar: the addon's, in their order, the same bits) or `tfjs wasm`; null on other backends and kernels; absent in records made before it (tfjs wasm). */
  stockCode?: string | null;
  cpus: number;
  createdAt: string;
}

/** Records of the measures study (src/studies/measures/run.ts): where the model and its record came from. */
export interface Remeasured {
  source: string; // the source results file
  sourceCommit: string | null;
  trainingKernels: KernelsName; // the kernels the model was trained on (the source record's)
  /** The source record's backend and kernels in words (kernelsLabel, fused or not); absent in records made before it was recorded. */
  trainedOn?: string;
  checkpoint: 'reused' | 'retrained';
  sameOodLength: boolean;
  /** max_i |G_i - G_i(source)| / max_i |G_i(source)|. */
  gMaxRelDiff: number;
  /** Components whose C differs from the source record's. */
  cDiffering: string[];
}

/** `<task>_seed<seed>.json`: the only name a results file may have. */
export const RESULTS_NAME = /^([a-z][a-z0-9-]*)_seed(\d+)\.json$/;

/** What a results file holds: nothing yet, a valid record, or a file that must not be counted (and why). */
export type RecordCheck =
  { status: 'missing' } | { status: 'ok'; record: RunRecord } | { status: 'bad'; reason: string };

/**
 * Reads a results file and checks it against its name and folder: `<dir>/<preset>/<task>_seed<seed>.json`
 * must hold a complete record of that preset, task and seed, in this version's format. The file
 * name and folder are trusted for nothing: a copied, truncated or misplaced file is 'bad'.
 */
/** The settings that shape training (a trained model is the same model only if these agree). */
export const TRAINING_SECTIONS = ['model', 'data', 'train'] as const;

/** The settings (section.key) in which two configurations differ, with both values (`a` first). */
export function configDiffValues(
  a: ExperimentConfig,
  b: ExperimentConfig,
  sections: readonly (keyof ExperimentConfig)[] = ['model', 'data', 'train', 'analysis'],
): { key: string; a: unknown; b: unknown }[] {
  const out: { key: string; a: unknown; b: unknown }[] = [];
  for (const section of sections) {
    const x = (a[section] ?? {}) as unknown as Record<string, unknown>;
    const y = (b[section] ?? {}) as unknown as Record<string, unknown>;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
      if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push({ key: `${section}.${k}`, a: x[k], b: y[k] });
  }
  return out;
}

/** The settings (section.key) in which two configurations differ. */
export function configDiff(a: ExperimentConfig, b: ExperimentConfig): string[] {
  return configDiffValues(a, b).map((d) => d.key);
}

export function describeDiff(diff: ReturnType<typeof configDiffValues>): string {
  return diff.map((d) => `${d.key}: ${JSON.stringify(d.a)} there, ${JSON.stringify(d.b)} asked`).join('; ');
}

/**
 * The backend and kernels a record or checkpoint was made with, in words (`wasm stock`,
 * `tensorflow`, `cpu`, and for the retired native family `wasm native+fused` or `wasm native`:
 * with its fused LayerNorm, GELU and Adam it rounded otherwise than without).
 */
export function kernelsLabel(p: { backend?: unknown; kernels?: unknown; fused?: unknown }): string {
  const backend = String(p.backend ?? 'unknown');
  const fused = Array.isArray(p.fused) && p.fused.length ? '+fused' : '';
  return backend === 'wasm' ? `wasm ${String(p.kernels ?? 'stock')}${p.kernels === 'native' ? fused : ''}` : backend;
}

/**
 * For a report on records of the native kernel family retired in issue 42 (a kernelsLabel): what
 * that means for a reader, in one sentence; null for any other label.
 */
export function retiredFamilyNote(label: string): string | null {
  if (!label.startsWith('wasm native')) return null;
  return `These models were made on the native kernel family retired in issue 42 (${label}: OpenBLAS's matrix products and the C library's expf and erff, whose bits differed by CPU); this version runs only the stock kernels, whose numbers are the same on every machine, so it reads these records as made but cannot remake them bit for bit: a new run of the study goes into a store of its own and gives other runs one by one; the claims, summaries over seeds, are what it checks.`;
}

/**
 * The backend and kernels a record's model was trained on (kernelsLabel): its own provenance's, or,
 * for a record of the measures study (which remeasures trained models; its provenance says where it
 * was measured), its source run's. Older remeasured records name only the source's kernels (their
 * sources are wasm runs made before the fused kernels).
 */
export function trainedOn(r: Pick<RunRecord, 'provenance' | 'remeasured'>): string {
  const m = r.remeasured;
  if (!m) return kernelsLabel(r.provenance);
  return m.trainedOn ?? `wasm ${m.trainingKernels}`;
}

/** The kernel families the records' models were trained on (trainedOn), sorted, each with its run count and the units (`unit` names a run's: its cell, its replica) it holds, sorted. */
export function trainingFamilies(
  records: readonly RunRecord[],
  unit: (r: RunRecord) => string,
): { family: string; units: string[]; runs: number }[] {
  return [...new Set(records.map(trainedOn))].sort().map((family) => {
    const rs = records.filter((r) => trainedOn(r) === family);
    return { family, units: [...new Set(rs.map(unit))].sort(), runs: rs.length };
  });
}

/** The families of records that must share one: how many, and in words (`wasm native: 3 runs (a, b); wasm stock: 1 run (c)`); null when they do share one. */
export function familyMix(
  records: readonly RunRecord[],
  unit: (r: RunRecord) => string,
): { families: number; words: string } | null {
  const fams = trainingFamilies(records, unit);
  if (fams.length <= 1) return null;
  return {
    families: fams.length,
    words: fams.map((f) => `${f.family}: ${f.runs} run${f.runs === 1 ? '' : 's'} (${f.units.join(', ')})`).join('; '),
  };
}

/** A results file that was not counted, and why. */
export interface RejectedFile {
  file: string;
  reason: string;
}
