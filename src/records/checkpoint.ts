/**
 * Checkpoints: weights + config + metadata in one file, written atomically, verified on load.
 *
 * Layout: the 8 bytes "GCGCKPT\n", a uint32 (little-endian) header length, the header (JSON:
 * format version, config, metadata, and each tensor's name/shape/offset), the float32
 * (little-endian) tensor data, and a SHA-256 of everything before it. A truncated file, an edited
 * header or edited weights all fail the check with an error that says so.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { ExperimentConfig, PresetName } from '../settings/config';
import { completeConfig, validateConfig } from '../settings/validate';
import { Transformer } from '../model/model';
import type { TrainState } from '../train/train';
import { writeFileAtomic } from '../io/files';

export const CHECKPOINT_FORMAT = 1;
const MAGIC = Buffer.from('GCGCKPT\n', 'latin1');
const HASH_BYTES = 32;

export interface CheckpointMeta {
  task: string;
  seed: number;
  preset: string;
  steps: number;
  backend: string;
  [key: string]: unknown; // provenance, training outcome, ...
}

interface Header {
  format: number;
  config: ExperimentConfig;
  meta: CheckpointMeta;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

/** Which run a checkpoint belongs to: what every reader checks before using it (never its file name). */
export interface RunIdentity {
  task: string;
  seed: number;
  preset: string;
}

/**
 * Why a checkpoint's metadata is not the run `want` (null: it is): a checkpoint copied or renamed
 * from another run, another task or another preset.
 */
export function identityProblem(
  meta: Pick<CheckpointMeta, 'task' | 'seed' | 'preset'>,
  want: RunIdentity,
): string | null {
  const got = `preset ${meta.preset}, task ${meta.task}, seed ${meta.seed}`;
  if (meta.task !== want.task || Number(meta.seed) !== want.seed || meta.preset !== want.preset) {
    return `holds ${got}, not this run (preset ${want.preset}, task ${want.task}, seed ${want.seed}): a file copied or renamed from another run`;
  }
  return null;
}

export class CheckpointError extends Error {
  constructor(file: string, problem: string) {
    super(`checkpoint ${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

/** Tensors saved beside the weights (e.g. optimizer moments): names start with this prefix. */
export const EXTRA_PREFIX = 'extra/';
type Arrays = Record<string, { shape: number[]; data: Float32Array }>;

export function saveCheckpoint(
  file: string,
  model: Transformer,
  config: ExperimentConfig,
  meta: CheckpointMeta,
  extra: Arrays = {},
): void {
  const arrays: Arrays = { ...model.toArrays() };
  for (const [name, a] of Object.entries(extra)) arrays[EXTRA_PREFIX + name] = a;
  const tensors: Header['tensors'] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    tensors.push({ name, shape: a.shape, offset, length: a.data.length });
    offset += a.data.length;
  }
  const header: Header = { format: CHECKPOINT_FORMAT, config, meta, tensors };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const payload = Buffer.alloc(offset * 4);
  for (const t of tensors) {
    const data = arrays[t.name].data;
    for (let i = 0; i < data.length; i++) payload.writeFloatLE(data[i], (t.offset + i) * 4);
  }
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBytes.length, 0);
  const body = Buffer.concat([MAGIC, len, headerBytes, payload]);
  const hash = createHash('sha256').update(body).digest();
  writeFileAtomic(file, Buffer.concat([body, hash]));
}

export interface LoadedCheckpoint {
  model: Transformer;
  config: ExperimentConfig;
  meta: CheckpointMeta;
  /** The extra tensors saved with the weights (names without the prefix). */
  extra: Arrays;
}

/** Reads only the header (config and metadata), after verifying the whole file. */
export function readCheckpointHeader(file: string): { header: Header; buf: Buffer; dataStart: number } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new CheckpointError(file, `cannot be read (${(e as Error).message})`);
  }
  if (buf.length < MAGIC.length + 4 + HASH_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CheckpointError(file, 'is not a gradient-causal-gap checkpoint (bad magic bytes or too short)');
  }
  const headerLen = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLen;
  if (dataStart + HASH_BYTES > buf.length)
    throw new CheckpointError(file, 'is truncated (header runs past the end of the file)');
  const body = buf.subarray(0, buf.length - HASH_BYTES);
  const stored = buf.subarray(buf.length - HASH_BYTES);
  const actual = createHash('sha256').update(body).digest();
  if (!actual.equals(stored)) {
    throw new CheckpointError(file, 'failed its SHA-256 integrity check: the file is truncated, edited or corrupted');
  }
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(MAGIC.length + 4, dataStart).toString('utf8'));
  } catch {
    throw new CheckpointError(file, 'has an unreadable header');
  }
  if (header.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      file,
      `has format version ${header.format}; this version of gradient-causal-gap reads format ${CHECKPOINT_FORMAT}`,
    );
  }
  return { header, buf, dataStart };
}

/**
 * The configuration a checkpoint was made with. Settings added after it was written take their
 * preset's value (each new setting's preset value reproduces the earlier behaviour).
 */
export function checkpointConfig(file: string, header: Pick<Header, 'config' | 'meta'>): ExperimentConfig {
  try {
    return validateConfig(completeConfig(header.config, String(header.meta.preset) as PresetName));
  } catch (e) {
    throw new CheckpointError(file, `holds an invalid configuration: ${(e as Error).message}`);
  }
}

export function loadCheckpoint(file: string): LoadedCheckpoint {
  const { header, buf, dataStart } = readCheckpointHeader(file);
  const config = checkpointConfig(file, header);
  const payloadFloats = (buf.length - HASH_BYTES - dataStart) / 4;
  const arrays: Arrays = {};
  const extra: Arrays = {};
  for (const t of header.tensors) {
    if (t.offset + t.length > payloadFloats)
      throw new CheckpointError(file, `tensor ${t.name} runs past the end of the data`);
    const data = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) data[i] = buf.readFloatLE(dataStart + (t.offset + i) * 4);
    if (t.name.startsWith(EXTRA_PREFIX)) extra[t.name.slice(EXTRA_PREFIX.length)] = { shape: t.shape, data };
    else arrays[t.name] = { shape: t.shape, data };
  }
  let model: Transformer;
  try {
    model = Transformer.fromArrays(config.model, arrays);
  } catch (e) {
    throw new CheckpointError(file, (e as Error).message);
  }
  return { model, config, meta: header.meta, extra };
}

/**
 * A training checkpoint: the weights plus the TrainState a resume needs (Adam's moments as extra
 * tensors, the rest in the metadata as `trainState`).
 */
export function saveTrainingCheckpoint(
  file: string,
  model: Transformer,
  config: ExperimentConfig,
  meta: CheckpointMeta,
  state: TrainState,
): void {
  const extra: Arrays = {};
  const shapes = Object.fromEntries(Object.entries(model.params).map(([k, p]) => [k, p.shape]));
  if (state.adam) {
    for (const [k, d] of Object.entries(state.adam.m)) extra[`adam/m/${k}`] = { shape: shapes[k], data: d };
    for (const [k, d] of Object.entries(state.adam.v)) extra[`adam/v/${k}`] = { shape: shapes[k], data: d };
  }
  const { adam, ...rest } = state;
  const trainState = { ...rest, adam: adam ? { accBeta1: adam.accBeta1, accBeta2: adam.accBeta2 } : null };
  saveCheckpoint(file, model, config, { ...meta, steps: state.step, trainState }, extra);
}

/** The TrainState of a training checkpoint (CheckpointError if it holds none). */
export function trainStateOf(file: string, ck: LoadedCheckpoint): TrainState {
  const ts = ck.meta.trainState as
    (Omit<TrainState, 'adam'> & { adam: { accBeta1: number; accBeta2: number } | null }) | undefined;
  if (!ts || typeof ts.step !== 'number') throw new CheckpointError(file, 'holds no training state to resume from');
  let adam: TrainState['adam'] = null;
  if (ts.adam) {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, a] of Object.entries(ck.extra)) {
      if (name.startsWith('adam/m/')) m[name.slice(7)] = a.data;
      else if (name.startsWith('adam/v/')) v[name.slice(7)] = a.data;
    }
    adam = { accBeta1: ts.adam.accBeta1, accBeta2: ts.adam.accBeta2, m, v };
  }
  return { ...ts, adam };
}
