/**
 * The trained model a results record analysed, for a study that measures it again (the measures
 * and redundancy studies): the checkpoint beside the record (checked to be the record's model), or
 * else retrained from the record's settings on the record's kernels (bit for bit the model the
 * record analysed, where those kernels can still run: checkRedoable) and saved beside it.
 */
import * as fs from 'node:fs';
import { loadCheckpoint } from '../records/checkpoint';
import { RunLock } from '../io/lock';
import { checkRedoable } from '../kernels/native';
import { KernelsName } from '../kernels/tf';
import { runPaths } from '../records/store';
import type { RunRecord } from '../records/format';
import type { Transformer } from '../model/model';
import { notRecordsModel } from './conflicts';
import { trainToCheckpoint } from './train-run';

export function recordsModel(
  rec: RunRecord,
  results: string,
  lockStaleMinutes: number | undefined,
  log: (line: string) => void,
): { model: Transformer; checkpoint: 'reused' | 'retrained' } {
  const src = runPaths(results, rec.preset, rec.task, rec.seed);
  const trainingKernels: KernelsName = rec.provenance.kernels === 'native' ? 'native' : 'stock';
  if (fs.existsSync(src.checkpoint)) {
    const ck = loadCheckpoint(src.checkpoint);
    const problem = notRecordsModel(ck, rec, src.results);
    if (problem) {
      ck.model.dispose();
      throw new Error(`${src.checkpoint} ${problem}; move it away to retrain`);
    }
    return { model: ck.model, checkpoint: 'reused' };
  }
  log(
    `${rec.task} seed ${rec.seed}: ${src.checkpoint} is not there: retraining with the record's settings on ${trainingKernels} kernels`,
  );
  checkRedoable(trainingKernels, `${src.results}'s model`);
  const lock = RunLock.acquire(src.lock, { staleMinutes: lockStaleMinutes });
  let model: Transformer;
  try {
    ({ model } = trainToCheckpoint({
      task: rec.task,
      seed: rec.seed,
      preset: rec.preset,
      cfg: rec.config,
      checkpoint: src.checkpoint,
      partial: src.partial,
      log,
    }));
  } finally {
    lock.release();
  }
  const ck = loadCheckpoint(src.checkpoint);
  ck.model.dispose();
  if (ck.meta.steps !== rec.training.steps) {
    model.dispose();
    throw new Error(
      `retrained ${rec.task} seed ${rec.seed} stopped after ${ck.meta.steps} steps, the record after ${rec.training.steps}: not the record's model`,
    );
  }
  return { model, checkpoint: 'retrained' };
}
