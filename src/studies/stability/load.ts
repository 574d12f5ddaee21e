/** The stability study's records, read from its replica folders and the kernels store (Node: files). The numbers are numbers.ts's. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, PresetName } from '../../settings/config';
import { REPLICA_FOLDER, replicaName, replicaOf } from '../../settings/replica';
import { scanRecords } from '../../records/store';
import { familyMix, RejectedFile, RunRecord, trainedOn } from '../../records/format';
import type { StabilityInput } from './types';

/** Analysis settings a replica and the kernels store's run must share to be compared (all but which extra measures, variants and redraws). */
const COMPARED_ANALYSIS = (r: RunRecord) =>
  JSON.stringify({ ...r.config.analysis, measures: undefined, variants: undefined, redraws: undefined });
const TRAINING = (r: RunRecord) =>
  JSON.stringify({
    model: r.config.model,
    data: r.config.data,
    train: { ...r.config.train, initReplica: 0, dataReplica: 0 },
  });

/**
 * The study's records from `<dir>/<replica>/<preset>/` (a record whose settings make it another
 * replica than its folder's is rejected), refused if they mix kernel families; and the kernels
 * store's records of the same seeds (part a), kept only when trained on the other family with the
 * base runs' settings.
 */
export function loadStability(
  dir: string,
  preset: PresetName,
  kernelsDir: string | null,
): { input: StabilityInput; rejected: RejectedFile[]; notes: string[] } {
  const rejected: RejectedFile[] = [];
  const notes: string[] = [];
  const folders = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => REPLICA_FOLDER.test(f) && fs.existsSync(path.join(dir, f, preset)))
        .sort()
    : [];
  const runs: RunRecord[] = [];
  for (const f of folders) {
    const s = scanRecords(path.join(dir, f), preset);
    rejected.push(...s.rejected);
    for (const r of s.records) {
      const { kind, r: n } = replicaOf(r.config);
      if (replicaName(kind, n) !== f)
        rejected.push({
          file: path.join(dir, f, preset, `${r.task}_seed${r.seed}.json`),
          reason: `its settings make it replica ${replicaName(kind, n)}, not ${f}`,
        });
      else runs.push(r);
    }
  }
  const mix = familyMix(runs, (r) => replicaName(replicaOf(r.config).kind, replicaOf(r.config).r));
  if (mix)
    throw new ConfigError(
      `--study: ${JSON.stringify(dir)} mixes kernel families (${mix.words}): one study's replicas must share one family, or the chaos measured is the kernels'; allowed: a study run on one family (rerun the odd replicas into another folder)`,
    );
  const family = runs.length ? trainedOn(runs[0]) : null;
  let kernelRuns: RunRecord[] = [];
  let otherKernels: string | null = null;
  if (kernelsDir) {
    const s = scanRecords(kernelsDir, preset);
    const bases = new Map(
      runs.filter((r) => replicaOf(r.config).kind === 'base').map((r) => [`${r.task}/${r.seed}`, r]),
    );
    kernelRuns = s.records.filter((k) => {
      const base = bases.get(`${k.task}/${k.seed}`);
      if (!base) return false;
      if (trainedOn(k) === family) {
        notes.push(
          `${kernelsDir}: ${k.task} seed ${k.seed} was trained on ${family} kernels, the study's own family: not used for part (a)`,
        );
        return false;
      }
      if (TRAINING(k) !== TRAINING(base) || COMPARED_ANALYSIS(k) !== COMPARED_ANALYSIS(base)) {
        notes.push(
          `${kernelsDir}: ${k.task} seed ${k.seed} was trained or analysed with other settings than the study's base run: not used for part (a)`,
        );
        return false;
      }
      return true;
    });
    otherKernels = [...new Set(kernelRuns.map(trainedOn))].join(', ') || null;
  }
  return { input: { runs, kernelRuns, kernelsLabel: family ?? 'none', otherKernels }, rejected, notes };
}
