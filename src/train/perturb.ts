/**
 * What a replica of the stability study (src/settings/replica.ts, STABILITY.md) changes in training: the
 * same seed trained again with one controlled, recorded perturbation, so that what rounding-level
 * chaos does to a result can be measured apart from what the seed does.
 *
 *  - `train.initReplica = r`: the seed's initial weights, each nonzero one moved one unit in the last
 *    place (float32), up or down at random from the stream 'init-replica<r>' (zeros stay zero);
 *  - `train.dataReplica = r`: the seed's initial weights, the training batches drawn from the stream
 *    'train-data-replica<r>' instead of 'train-data' (the data order, reshuffled).
 *
 * Replica 0 is the run itself: the seed's own weights and batches, bit for bit as before these settings.
 */
import type { ExperimentConfig } from '../settings/config';
import { Transformer } from '../model/model';
import { Rng } from '../base/rng';

/** The training batches' stream of a run: the seed's own ('train-data'), or a data replica's. */
export function trainDataRng(cfg: ExperimentConfig, seed: number): Rng {
  const r = cfg.train.dataReplica;
  return new Rng(seed, r > 0 ? `train-data-replica${r}` : 'train-data');
}

/** Each nonzero float32 moved one unit in the last place, up or down in magnitude with one draw each (in place; returns how many moved). */
export function nudgeLastBit(values: Float32Array, rng: Rng): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let moved = 0;
  for (let i = 0; i < bits.length; i++) {
    const up = rng.nextUint32() & 1;
    const magnitude = bits[i] & 0x7fffffff;
    if (magnitude === 0 || magnitude >= 0x7f800000) continue; // zero stays zero; inf and NaN are never initial weights
    bits[i] = up ? bits[i] + 1 : bits[i] - 1; // sign-magnitude: +1 grows |x| by one unit in the last place, -1 shrinks it
    moved++;
  }
  return moved;
}

/** A run's initial model: the seed's weights ('init' stream), nudged at the last bit for an init replica. */
export function initialModel(cfg: ExperimentConfig, seed: number): Transformer {
  const model = Transformer.init(cfg.model, seed);
  const r = cfg.train.initReplica;
  if (r === 0) return model;
  const rng = new Rng(seed, `init-replica${r}`);
  const arrays = model.toArrays();
  model.dispose();
  for (const name of Object.keys(arrays)) nudgeLastBit(arrays[name].data, rng);
  return Transformer.fromArrays(cfg.model, arrays);
}
