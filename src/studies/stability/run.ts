/**
 * The stability study's grid (STABILITY.md): for each (task, seed), replicas that differ from the
 * seed's own run by one controlled, recorded perturbation (src/train/perturb.ts; names: src/settings/replica.ts):
 *
 *  - `base`: the seed's run itself, with the noise floor of evaluation (analysis.redraws, every
 *    measure recomputed on redrawn sequences: part d of the study);
 *  - `init<r>`: the initial weights moved at the last bit (train.initReplica = r: part b);
 *  - `data<r>`: the training batches drawn from another stream, the weights unchanged
 *    (train.dataReplica = r: part c).
 *
 * Every replica is analysed for G, C and the per-position C (Cpos, Cpos-CE), without the protocol
 * variants. Each replica is a results store of its own, `<dir>/<replica>/<preset>/`, so a replica
 * is an ordinary run: resumable, locked, checked against its settings, on one kernel family (the
 * study refuses to mix: every replica folder is checked against this process's kernels). Part (a),
 * the kernels, is the other family's run of the same seed, read by the report from another store.
 *
 * The grid runs replicas outermost (base, init1, data1, init2, data2, ...), so a study cut off
 * part way has every seed at the same number of replicas.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, PresetName } from '../../settings/config';
import { TaskName } from '../../tasks';
import { checkStoreKernels } from '../../runner/conflicts';
import { resolveSettings } from '../../settings/run-spec';
import { Replica, REPLICA_FOLDER, stabilityReplicas } from '../../settings/replica';
import { SweepJob } from '../../runner/sweep';

/** The measures every replica records besides G and C: the per-position ablation (MEASURES.md: it moves reversal's rho from ~0.6 to ~0). */
export const STABILITY_MEASURES: readonly string[] = ['Cpos', 'Cpos-CE'];

/** The settings every replica shares (over the user's): no protocol variants, the per-position measures. */
const STUDY_SETTINGS: readonly string[] = [
  'analysis.variants=false',
  `analysis.measures=${STABILITY_MEASURES.join(',')}`,
];

/** The keys the study sets itself (a user's --set of one is refused; analysis.variants=false is the study's own value). */
const STUDY_KEYS: readonly string[] = [
  'train.initReplica',
  'train.dataReplica',
  'analysis.measures',
  'analysis.variants',
];

/** A replica's own settings: its perturbation; the noise floor's redraws (analysis.redraws, the preset's 2 unless set) on the base run only. */
function replicaSettings(rep: Replica): string[] {
  if (rep.kind === 'base') return [];
  return [rep.kind === 'init' ? `train.initReplica=${rep.r}` : `train.dataReplica=${rep.r}`, 'analysis.redraws=0'];
}

export interface StabilityGrid {
  dir: string;
  preset: PresetName;
  tasks: TaskName[];
  seeds: number[];
  replicas: number;
  /** The user's `--set` assignments (the model, the training), under the study's own. */
  overrides: readonly string[];
}

/** The study's runs as a sweep's jobs, numbered from 0: replicas outermost, then tasks, then seeds. */
export function stabilityJobs(g: StabilityGrid): SweepJob[] {
  for (const s of g.overrides) {
    const key = s.slice(0, s.indexOf('=')).trim();
    if (STUDY_KEYS.includes(key) && s.trim() !== 'analysis.variants=false')
      throw new ConfigError(
        `--set ${s}: the stability study sets ${key} itself (train.initReplica and train.dataReplica per replica, ${STUDY_SETTINGS.join(', ')}); allowed: any other setting`,
      );
  }
  const jobs = stabilityReplicas(g.replicas).flatMap((rep) => {
    const r = resolveSettings(g.preset, [...g.overrides, ...STUDY_SETTINGS, ...replicaSettings(rep)]);
    const dir = path.join(g.dir, rep.name);
    return g.tasks.flatMap((task) =>
      g.seeds.map((seed) => ({ size: null, group: rep.name, task, seed, dir, cfg: r.cfg, overrides: r.settings })),
    );
  });
  return jobs.map((j, index) => ({ index, ...j }));
}

/** Every replica folder of the study (the grid's and any other already in its store) against this process's kernels: one study, one kernel family (before any work). */
export function checkStudyKernels(jobs: readonly SweepJob[], preset: PresetName): void {
  const folders = new Set(jobs.map((j) => path.join(j.dir, preset)));
  for (const root of new Set(jobs.map((j) => path.dirname(j.dir)))) {
    if (fs.existsSync(root))
      for (const f of fs.readdirSync(root).sort()) if (REPLICA_FOLDER.test(f)) folders.add(path.join(root, f, preset));
  }
  for (const d of folders) checkStoreKernels(d);
}
