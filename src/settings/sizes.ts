/**
 * Named model sizes: the size axis of the complexity study (COMPLEXITY.md). A size is the model's
 * depth and width (layers, heads, d_model, d_ff); every other setting stays the preset's. The
 * names say depth and width (`l4-d128`: 4 layers, d_model 128, the paper's model); the MLP is
 * 4 x d_model wide and every size has 4 heads, as the paper's. `gcg sweep --sizes A,B` runs each
 * size into `<results>/<size>/<preset>/`; a record's size is read back from its configuration.
 */
import { ConfigError, ModelConfig } from './config';

export type ModelSize = Pick<ModelConfig, 'nLayers' | 'nHeads' | 'dModel' | 'dFF'>;

/** The model settings a size sets (any of them in --set alongside --sizes is refused). */
export const SIZE_KEYS: readonly (keyof ModelSize)[] = ['nLayers', 'nHeads', 'dModel', 'dFF'];

export const MODEL_SIZES = {
  'l2-d128': { nLayers: 2, nHeads: 4, dModel: 128, dFF: 512 }, // half the paper's depth
  'l4-d128': { nLayers: 4, nHeads: 4, dModel: 128, dFF: 512 }, // the paper's model
  'l6-d128': { nLayers: 6, nHeads: 4, dModel: 128, dFF: 512 }, // 1.5 x the depth
  'l4-d64': { nLayers: 4, nHeads: 4, dModel: 64, dFF: 256 }, // half the width
  'l4-d256': { nLayers: 4, nHeads: 4, dModel: 256, dFF: 1024 }, // twice the width
} as const satisfies Record<string, ModelSize>;

export type SizeName = keyof typeof MODEL_SIZES;
export const SIZES: readonly SizeName[] = Object.keys(MODEL_SIZES) as SizeName[];

export function checkSize(name: string): SizeName {
  if (!Object.prototype.hasOwnProperty.call(MODEL_SIZES, name)) {
    throw new ConfigError(
      `--sizes: unknown size ${JSON.stringify(name)}; allowed: ${SIZES.join(', ')} (layers x d_model)`,
    );
  }
  return name as SizeName;
}

/** A size as `--set` assignments (what a sweep worker process is given). */
export function sizeOverrides(size: SizeName): string[] {
  return SIZE_KEYS.map((k) => `model.${k}=${MODEL_SIZES[size][k]}`);
}

/** The registered size a model configuration has, or a description of its own when it has none. */
export function sizeOf(m: ModelSize): string {
  const hit = SIZES.find((s) => SIZE_KEYS.every((k) => MODEL_SIZES[s][k] === m[k]));
  return hit ?? `l${m.nLayers}-d${m.dModel}-h${m.nHeads}-ff${m.dFF}`;
}

/** Components of a model of this size: every head and every MLP (what C ablates one at a time). */
export function componentCount(m: Pick<ModelSize, 'nLayers' | 'nHeads'>): number {
  return m.nLayers * (m.nHeads + 1);
}

/** The --set assignments of one size of a sweep: the user's, then the size's; the user's may not set the size. */
export function sizedSettings(overrides: readonly string[], size: SizeName): string[] {
  const clash = overrides.find((s) => SIZE_KEYS.some((k) => s.trim().startsWith(`model.${k}=`)));
  if (clash)
    throw new ConfigError(
      `--set ${clash}: --sizes sets ${SIZE_KEYS.map((k) => `model.${k}`).join(', ')}; allowed: one or the other (a size of its own: --set without --sizes)`,
    );
  return [...overrides, ...sizeOverrides(size)];
}
