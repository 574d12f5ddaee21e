/**
 * The stability study's replicas by name, with no tensors (reports read it): a replica is the
 * seed's own run (`base`) or that run with one perturbation (src/train/perturb.ts): the initial weights
 * moved at the last bit (`init<r>`, train.initReplica = r) or the training batches drawn from another
 * stream (`data<r>`, train.dataReplica = r). A replica's settings say which it is.
 */
import { ConfigError } from './config';

export type ReplicaKind = 'base' | 'init' | 'data';

export interface Replica {
  name: string; // its folder: base, init1, data1, ...
  kind: ReplicaKind;
  r: number; // 0 for base
}

/** A replica's name (and its folder in a study): base, init1, data2. */
export const replicaName = (kind: ReplicaKind, r: number) => (kind === 'base' ? 'base' : `${kind}${r}`);

/** A replica folder's name (base, init<r>, data<r>; r >= 1). */
export const REPLICA_FOLDER = /^(base|init[1-9]\d*|data[1-9]\d*)$/;

/** base, then init1, data1, init2, data2, ... up to `replicas` of each kind. */
export function stabilityReplicas(replicas: number): Replica[] {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 1000)
    throw new ConfigError(
      `--replicas: got ${replicas}; allowed: an integer in [1, 1000] (perturbed replicas of each kind per seed; default 4)`,
    );
  const out: Replica[] = [{ name: 'base', kind: 'base', r: 0 }];
  for (let r = 1; r <= replicas; r++)
    out.push({ name: `init${r}`, kind: 'init', r }, { name: `data${r}`, kind: 'data', r });
  return out;
}

/** Which replica a run is, from its settings (a run with neither setting is a base run). */
export function replicaOf(cfg: { train: { initReplica?: number; dataReplica?: number } }): Pick<Replica, 'kind' | 'r'> {
  const i = cfg.train.initReplica ?? 0;
  const d = cfg.train.dataReplica ?? 0;
  if (i && d)
    throw new Error(`a run with both train.initReplica=${i} and train.dataReplica=${d} is no replica of the study`);
  return i ? { kind: 'init', r: i } : d ? { kind: 'data', r: d } : { kind: 'base', r: 0 };
}
