/**
 * What every results record is checked for when it is read (src/runner/run.ts inspectRecord), so that
 * no report counts a number that its own record contradicts:
 *
 * - its seal: a record is written with `sha256`, the SHA-256 of its JSON without that field, so a
 *   record edited by hand afterwards (G multiplied by 100, a class changed) is recognised. Records
 *   written before seals existed have none and are checked for everything else;
 * - its shape: every field a report reads is there, of its type, in its range (a seed is an
 *   integer, accuracies lie in [0, 1], G is a non-negative finite number for every component, the
 *   component list is the model's), and its configuration is a valid one;
 * - its consistency: rho, the ranks, Delta and the classes are recomputed from the stored G and C
 *   with the record's own rank rule and seed (Eq. 3) and must equal the stored ones.
 *
 * No tensors here: reading records needs no TensorFlow.
 */
import { createHash } from 'node:crypto';
import { classifyMeasures } from '../analysis/ranks';
import { ExperimentConfig } from '../settings/config';
import { validateConfig } from '../settings/validate';

/** The SHA-256 of a record's JSON without its `sha256` field. */
export function recordHash(rec: object): string {
  const { sha256: _, ...rest } = rec as { sha256?: string };
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** The record with its seal (`sha256`, last). */
export function sealRecord<T extends object>(rec: T): T & { sha256: string } {
  const { sha256: _, ...rest } = rec as T & { sha256?: string };
  return { ...(rest as T), sha256: recordHash(rest) };
}

/** The component ids of a model, in the order records list them: each layer's heads, then its MLP. */
export function componentIds(m: Pick<ExperimentConfig['model'], 'nLayers' | 'nHeads'>): string[] {
  const ids: string[] = [];
  for (let l = 0; l < m.nLayers; l++) {
    for (let h = 0; h < m.nHeads; h++) ids.push(`L${l}.H${h}`);
    ids.push(`L${l}.MLP`);
  }
  return ids;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const inUnit = (x: unknown) => isNum(x) && x >= 0 && x <= 1;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Why a parsed record (its configuration completed) cannot be counted, or null. `raw` is the
 * record as read, for the seal.
 */
export function recordProblem(raw: Record<string, unknown>, cfg: ExperimentConfig): string | null {
  if (raw.sha256 !== undefined && raw.sha256 !== recordHash(raw))
    return 'was edited after it was written (its sha256 seal does not match its content)';
  try {
    validateConfig(cfg);
  } catch (e) {
    return `holds an invalid configuration (${(e as Error).message})`;
  }
  const rec = raw as {
    seed: unknown;
    training: { steps: unknown; reachedTarget: unknown; losses: unknown; evals: unknown };
    analysis: Record<string, unknown>;
  };
  if (!Number.isInteger(rec.seed) || (rec.seed as number) < 0)
    return `has seed ${JSON.stringify(rec.seed)}, not a non-negative integer`;
  const t = rec.training;
  if (!Number.isInteger(t.steps) || (t.steps as number) < 0)
    return `has training.steps ${JSON.stringify(t.steps)}, not a non-negative integer`;
  if (typeof t.reachedTarget !== 'boolean') return 'has no training.reachedTarget (true or false)';
  if (!Array.isArray(t.losses) || !Array.isArray(t.evals))
    return 'has no training curves (training.losses, training.evals)';
  if ((t.evals as { acc: unknown }[]).some((e) => !inUnit(e?.acc)))
    return 'has a training.evals accuracy outside [0, 1]';
  const a = rec.analysis;
  if (a.status === 'skipped') return typeof a.reason === 'string' ? null : 'is skipped without a reason';
  const ids = componentIds(cfg.model);
  if (!same(a.components, ids))
    return `lists components ${JSON.stringify(a.components)}, not the ${ids.length} of its model (${ids[0]} .. ${ids[ids.length - 1]})`;
  const ood = a.ood as { length: unknown; accuracies: Record<string, unknown> } | undefined;
  if (!ood || !Number.isInteger(ood.length) || !ood.accuracies || typeof ood.accuracies !== 'object')
    return 'has no OOD length and accuracies (analysis.ood)';
  if (!(String(ood.length) in ood.accuracies)) return `has OOD length ${ood.length} without its accuracy`;
  for (const [n, acc] of Object.entries(ood.accuracies))
    if (!inUnit(acc)) return `has OOD accuracy ${JSON.stringify(acc)} at length ${n}, outside [0, 1]`;
  if (!inUnit(a.baseline)) return `has baseline ${JSON.stringify(a.baseline)}, outside [0, 1]`;
  const scores = a.scores as Record<string, Record<string, unknown>> | undefined;
  if (!scores || typeof scores !== 'object' || !scores.G || !scores.C) return 'has no scores G and C (analysis.scores)';
  for (const [measure, byId] of Object.entries(scores)) {
    if (!byId || typeof byId !== 'object') return `has no scores for measure ${measure}`;
    for (const id of ids)
      if (!isNum(byId[id])) return `has ${measure} of ${id} = ${JSON.stringify(byId[id])}, not a finite number`;
    if (Object.keys(byId).length !== ids.length)
      return `has ${measure} for ${Object.keys(byId).length} components, not ${ids.length}`;
  }
  for (const id of ids)
    if ((scores.G[id] as number) < 0) return `has G of ${id} = ${scores.G[id]}: a gradient norm is never negative`;
  const stored = a.classification as Record<string, unknown> | undefined;
  if (!stored || typeof stored !== 'object') return 'has no classification (rho, ranks, classes)';
  if (!(stored.rho === null || (isNum(stored.rho) && Math.abs(stored.rho) <= 1)))
    return `has rho = ${JSON.stringify(stored.rho)}: Spearman's rho lies in [-1, 1]`;
  const again = classifyMeasures(scores as Record<string, Record<string, number>>, ids, 'G', 'C', {
    ...cfg.analysis,
    seed: rec.seed as number,
  });
  for (const key of ['rho', 'rankG', 'rankC', 'delta', 'classes'] as const) {
    const want = key === 'rho' && Number.isNaN(again.rho) ? null : again[key];
    if (!same(stored[key], want))
      return `has classification.${key} that its own G and C do not give (Eq. 3 recomputed: ${JSON.stringify(want)})`;
  }
  return null;
}
