/**
 * What a run must not overwrite or mix with, checked before any work: finished or partial work made
 * with other settings (RunConflictError; `--replace` moves it aside), a checkpoint of another run
 * under this run's name, a folder of work on other kernels or another backend, and a model that is
 * not the one a results file was computed from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  checkpointConfig,
  CheckpointError,
  CheckpointMeta,
  identityProblem,
  LoadedCheckpoint,
  readCheckpointHeader,
  RunIdentity,
} from '../records/checkpoint';
import { ExperimentConfig, PresetName } from '../settings/config';
import { TaskName, TASKS } from '../tasks';
import { provenance } from '../records/provenance';
import {
  configDiffValues,
  describeDiff,
  kernelsLabel,
  Provenance,
  RESULTS_NAME,
  RunRecord,
  TRAINING_SECTIONS,
} from '../records/format';
import { SizeName, sizeOf, SIZES } from '../settings/sizes';
import { checkNoConflict, inspectRecord, readRecord, RunConflictError, runPaths } from '../records/store';
/** The configuration and metadata of a checkpoint at `file`, or null when there is none or it is unreadable. */
export function checkpointTraining(file: string): { cfg: ExperimentConfig; meta: CheckpointMeta } | null {
  if (!fs.existsSync(file)) return null;
  try {
    const { header } = readCheckpointHeader(file);
    return { cfg: checkpointConfig(file, header), meta: header.meta };
  } catch (e) {
    if (e instanceof CheckpointError) return null; // unusable: set aside when the run starts
    throw e;
  }
}

/**
 * Throws RunConflictError if the run's paths hold work made with other settings: a finished results
 * file (any setting), a trained checkpoint or a training checkpoint (training settings). Called
 * before any work starts; `--replace` skips it.
 */
export function checkRunConflicts(
  dir: string,
  preset: PresetName,
  task: TaskName,
  seed: number,
  cfg: ExperimentConfig,
): void {
  const paths = runPaths(dir, preset, task, seed);
  const rec = readRecord(paths.results);
  if (rec) checkNoConflict(paths.results, rec, cfg);
  const want = { preset, task, seed };
  checkCheckpointConflict(paths.checkpoint, cfg, '--results folder', 'retrain and replace it', want);
  checkCheckpointConflict(paths.partial, cfg, '--results folder', 'start training afresh and replace it', want);
}

/**
 * Throws RunConflictError if `file` is a checkpoint of another run (`want`: its metadata says which,
 * whatever its name) or trained with other model, data or training settings.
 */
export function checkCheckpointConflict(
  file: string,
  cfg: ExperimentConfig,
  where: string,
  replaceDoes: string,
  want: RunIdentity,
): void {
  const trained = checkpointTraining(file);
  if (!trained) return;
  const other = identityProblem(trained.meta, want);
  if (other)
    throw new RunConflictError(
      `${file} ${other}; move it away, or add --replace to set it aside (kept, renamed) and ${replaceDoes.replace(/ and replace it$/, '')}`,
    );
  const diff = configDiffValues(trained.cfg, cfg, TRAINING_SECTIONS);
  if (diff.length) {
    throw new RunConflictError(
      `${file} holds a model trained with other settings (differs in ${describeDiff(diff)}); ` +
        `use another ${where}, or add --replace to ${replaceDoes}`,
    );
  }
}

/**
 * The backend and kernels of the work already in a results folder (kernelsLabel), from the first
 * record, checkpoint or training checkpoint that says (records made before kernels were recorded:
 * stock), or null for an empty folder.
 */
export function storeKernels(folder: string): { label: string; file: string } | null {
  if (!fs.existsSync(folder)) return null;
  for (const f of fs.readdirSync(folder).sort()) {
    const file = path.join(folder, f);
    try {
      if (RESULTS_NAME.test(f)) {
        const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (rec?.provenance?.backend) return { label: kernelsLabel(rec.provenance), file };
      } else if (/_seed\d+(\.partial)?\.ckpt$/.test(f)) {
        const { header } = readCheckpointHeader(file);
        const prov = header.meta.provenance as Provenance | undefined;
        if (header.meta.backend) return { label: kernelsLabel({ ...header.meta, fused: prov?.fused }), file };
      }
    } catch {
      /* unreadable files are dealt with by the run that meets them */
    }
  }
  return null;
}

/**
 * Refuses to add work made on another backend's kernels (or work to a folder of the native family
 * retired in issue 42) to a results folder: the same seed trains to a different model on each, so
 * a folder mixing them would measure two things at once.
 */
export function checkStoreKernels(folder: string): void {
  const there = storeKernels(folder);
  if (!there) return;
  const now = kernelsLabel(provenance());
  if (there.label === now) return;
  const retired = there.label.startsWith('wasm native');
  const fix = retired
    ? 'the native kernel family was retired in issue 42 and this version does not run it: use another --results folder'
    : `use another --results folder, or run on ${there.label} (GCG_BACKEND=${there.label.split(' ')[0]})`;
  throw new RunConflictError(
    `${folder} holds work made on ${there.label} (${path.basename(there.file)}), and this process runs on ${now}: ` +
      `the same seed trains to a different model on each, so one folder must not mix them; ${fix}`,
  );
}

/**
 * Why a checkpoint must not be re-analysed into the results file beside it (null: it may): no
 * training record, another run's metadata, another size than its folder's, or other training
 * settings than the results file it would replace.
 */
export function reanalysisProblem(
  ck: LoadedCheckpoint,
  want: RunIdentity,
  resultsFile: string,
  folderSize: SizeName | null,
): string | null {
  if (!ck.meta.training) return 'its metadata has no training record';
  if (!(TASKS as readonly string[]).includes(want.task)) return `unknown task ${JSON.stringify(want.task)}`;
  const other = identityProblem(ck.meta, want);
  if (other) return `it ${other}`;
  const size = sizeOf(ck.config.model);
  if (folderSize && size !== folderSize)
    return `it holds a model of size ${size} but sits in the folder of size ${folderSize}`;
  const existing = inspectRecord(resultsFile);
  const diff = existing.status === 'ok' ? configDiffValues(existing.record.config, ck.config, TRAINING_SECTIONS) : [];
  if (diff.length)
    return `it was trained with other settings than ${resultsFile} (${recordVsCheckpoint(diff)}): not that run's model; its results are left as they are`;
  return null;
}

/** Settings in which a results file (`a`) and a checkpoint (`b`) differ, in words. */
function recordVsCheckpoint(diff: ReturnType<typeof configDiffValues>): string {
  return diff
    .map((d) => `${d.key}: ${JSON.stringify(d.a)} in the results file, ${JSON.stringify(d.b)} in the checkpoint`)
    .join('; ');
}

/**
 * Why a checkpoint is not the model a results record analysed (null: it is): another run's
 * metadata, other training settings, or another step count. `ck` may be a loaded checkpoint or a
 * header with its configuration completed.
 */
export function notRecordsModel(
  ck: { config: ExperimentConfig; meta: CheckpointMeta },
  rec: RunRecord,
  resultsFile: string,
): string | null {
  const other = identityProblem(ck.meta, { preset: rec.preset, task: rec.task, seed: rec.seed });
  if (other) return other;
  const diff = configDiffValues(rec.config, ck.config, TRAINING_SECTIONS);
  if (diff.length) return `was trained with other settings than ${resultsFile} (${recordVsCheckpoint(diff)})`;
  if (ck.meta.steps !== rec.training.steps)
    return `stopped after ${ck.meta.steps} steps, ${resultsFile} after ${rec.training.steps}: not that run's model`;
  return null;
}

/** The model size a results folder names (`<store>/<size>/<preset>/`), or null. */
export function sizeOfFolder(presetDir: string): SizeName | null {
  const name = path.basename(path.dirname(path.resolve(presetDir)));
  return (SIZES as readonly string[]).includes(name) ? (name as SizeName) : null;
}
